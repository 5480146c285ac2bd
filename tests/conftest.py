"""Shared test setup: Qt offscreen, no real keyring, quiet and strict."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Headless machines have no keyring backend; tests that need one install tests.memory_keyring.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "tests.memory_keyring.MemoryKeyring")


# --- shared fixtures: an in-process emulator and a console runtime ---------------------------
# (imported here, after the environment is set, because they pull in the console and the SDK)

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from console.config import Profile
from console.emulator.server import Emulator, EmulatorConfig
from console.runtime import ConsoleRuntime


@pytest.fixture
def emulator_defaults() -> dict[str, Any]:
    """EmulatorConfig values ``make_emulator`` starts from; a test folder may override this."""
    return {"speed": 20.0, "answer_delay": 0.5}


@pytest.fixture
async def make_emulator(
    tmp_path: Path, emulator_defaults: dict[str, Any]
) -> AsyncIterator[Callable[..., Awaitable[Emulator]]]:
    """``await make_emulator(**config)``: a started in-process emulator, stopped at teardown."""
    started: list[Emulator] = []

    async def make(**overrides: Any) -> Emulator:
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": tmp_path / f"emulator{len(started)}",
            **emulator_defaults,
            **overrides,
        }
        emu = Emulator(EmulatorConfig(**settings))
        await emu.start()
        started.append(emu)
        return emu

    try:
        yield make
    finally:
        for emu in reversed(started):
            await emu.stop()


@pytest.fixture
async def make_runtime(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[ConsoleRuntime]]]:
    """``await make_runtime(profile, **kw)``: a started ConsoleRuntime in its own data dir."""
    runtimes: list[ConsoleRuntime] = []

    async def make(profile: Profile, **kwargs: Any) -> ConsoleRuntime:
        data = tmp_path / f"console{len(runtimes)}"
        data.mkdir()
        rt = ConsoleRuntime(profile, data_dir=data, **kwargs)
        await rt.start()
        runtimes.append(rt)
        return rt

    try:
        yield make
    finally:
        for rt in runtimes:
            await rt.stop()


# --- a failure is printed the moment it happens ------------------------------------------------
# A crash later in the run (a segfault in a native library) would otherwise take every
# failure message with it, since pytest prints them only at the end.

_config: pytest.Config | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _config
    _config = config


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    reporter = _config.pluginmanager.get_plugin("terminalreporter") if _config else None
    if report.failed and reporter is not None:
        reporter.write_line("")
        reporter.write_sep("!", f"{report.nodeid} failed ({report.when})", red=True)
        reporter.write_line(report.longreprtext)
        for title, text in report.sections:
            reporter.write_sep("-", title)
            reporter.write_line(text)
