"""The window cannot start: the operator is told in a box, and the process exits cleanly while
everything else on the loop goes on running (the box's own loop must not strand other tasks)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication

from console.ui.application import make_application, run_gui
from tests.gui.dialogs import click, operate


async def test_listener_ports_in_use_are_said_in_a_box_and_the_console_exits_1(
    app: QApplication, tmp_path: Path
) -> None:
    @contextlib.asynccontextmanager
    async def ports_taken(*_args: Any, **_kwargs: Any) -> AsyncIterator[None]:
        raise OSError(errno.EADDRINUSE, "Address already in use")
        yield  # pragma: no cover

    make_application()  # as the console sets it up: closing the box does not quit
    ticks = 0

    async def elsewhere_on_the_loop() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    other = asyncio.create_task(elsewhere_on_the_loop())
    args = argparse.Namespace(data_dir=str(tmp_path))
    said: list[str] = []

    def ok_after_a_while() -> Any:
        step = click("OK", says="could not start its listeners")
        deadline = time.monotonic() + 5

        def wait_then_press(modal: Any) -> bool:
            # Pressed once the other task has run a few times (or, if it is stuck, after 5 s).
            if ticks < 5 and time.monotonic() < deadline:
                return False
            said.append(modal.text())
            return step(modal)

        return wait_then_press

    with operate(ok_after_a_while()):
        code = await run_gui(args, close_event=asyncio.Event(), runtime_factory=ports_taken)
    assert code == 1
    [text] = said
    assert ticks >= 5, "the other task stopped while the box was open"
    assert "Address already in use" in text
    assert "choose others in Settings" in text
    before = ticks
    await asyncio.sleep(0.05)
    assert ticks > before, "the other task stopped waking after the box closed"
    other.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await other
