"""Reliability fixtures: emulators in-process or as killable child processes, and runtimes.

- ``make_emulator(**config)``: an in-process :class:`Emulator` in a tmp data dir (fast clock),
  stopped at teardown.
- ``emulator_process``: ``python -m console emulator`` as a real child process on a fixed port
  (:class:`reliability_kit.EmulatorProcess`), so a test can SIGKILL it and start it again.
- ``make_runtime(profile, **kw)``: a started :class:`ConsoleRuntime` in its own data dir.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_kit import SPEED, EmulatorProcess, free_port

from console.config import Profile
from console.emulator.server import Emulator, EmulatorConfig
from console.runtime import ConsoleRuntime


@pytest.fixture
async def emulator_process(tmp_path: Path) -> AsyncIterator[EmulatorProcess]:
    emu = EmulatorProcess(tmp_path / "emulator", free_port())
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
async def make_emulator(tmp_path: Path) -> AsyncIterator[Callable[..., Awaitable[Emulator]]]:
    started: list[Emulator] = []

    async def make(**overrides: Any) -> Emulator:
        settings: dict[str, Any] = {
            "host": "127.0.0.1",
            "port": 0,
            "data_dir": tmp_path / f"emulator{len(started)}",
            "speed": SPEED,
            "answer_delay": 0.5,
        }
        settings.update(overrides)
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
async def make_runtime(
    tmp_path: Path,
) -> AsyncIterator[Callable[..., Awaitable[ConsoleRuntime]]]:
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
