"""Locale changes mid-call: picks arriving close together collapse into one update request, and
a request superseded before it was sent is cancelled (the operator scrolling a dropdown)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

# Locale picks arriving closer together than this collapse into one update request.
LOCALE_DEBOUNCE_S = 0.25


class LocaleSwitcher:
    """``request(locale)`` schedules ``send(locale)`` after the debounce; a newer request
    cancels an older one that has not been sent."""

    def __init__(self, send: Callable[[str], Awaitable[None]]) -> None:
        self._send = send
        self._task: asyncio.Task[None] | None = None
        self._latest: str | None = None

    def request(self, locale: str) -> None:
        self.cancel()
        self._latest = locale
        self._task = asyncio.get_running_loop().create_task(self._debounced(locale))

    async def wait(self) -> None:
        """Until the latest request was sent (or superseded)."""
        task = self._task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _debounced(self, locale: str) -> None:
        await asyncio.sleep(LOCALE_DEBOUNCE_S)
        if locale == self._latest:
            await self._send(locale)
