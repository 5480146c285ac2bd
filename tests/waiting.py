"""Helpers the integration and reliability tests share: the console profile for an in-process
emulator, and polling for a condition on the running loop (never a blocking wait)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from console.config import Profile
from console.emulator.server import Emulator

WAIT = 10.0  # seconds any single expected thing may take


def local(emu: Emulator, **kw: Any) -> Profile:
    """The console's local profile for this emulator (its clock speed included)."""
    return Profile.local(emu.info(), speed=emu.config.speed, **kw)


async def until(predicate: Callable[[], Any], timeout: float = WAIT, what: str = "") -> None:
    """Poll ``predicate`` every 20 ms until it holds; AssertionError after ``timeout`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or 'the condition'}")
        await asyncio.sleep(0.02)
