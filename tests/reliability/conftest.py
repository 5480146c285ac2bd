"""Reliability fixtures: emulators in-process or as killable child processes, and runtimes.

- ``make_emulator(**config)`` and ``make_runtime(profile, **kw)`` (tests/conftest.py): an
  in-process emulator (fast clock here) and a started ConsoleRuntime.
- ``emulator_process``: ``python -m console emulator`` as a real child process on a fixed port
  (:class:`reliability_kit.EmulatorProcess`), so a test can SIGKILL it and start it again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from reliability_kit import SPEED, EmulatorProcess, free_port


@pytest.fixture
async def emulator_process(tmp_path: Path) -> AsyncIterator[EmulatorProcess]:
    emu = EmulatorProcess(tmp_path / "emulator", free_port())
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def emulator_defaults() -> dict[str, Any]:
    """What ``make_emulator`` (tests/conftest.py) starts from in these tests."""
    return {"speed": SPEED, "answer_delay": 0.5}
