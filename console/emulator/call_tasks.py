"""A call's background tasks (timers, scripted faults, deliveries): named after the call, kept
referenced while they run, their failures logged, and cancelled together when the call ends."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from console.emulator.transcription import settle

log = logging.getLogger(__name__)


class CallTasks:
    def __init__(self, call_tag: str) -> None:
        self._tag = call_tag  # the tail of the call's id, in each task's name
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"{name}-{self._tag}")
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Call task %s failed", task.get_name(), exc_info=task.exception())

    async def cancel_all(self) -> None:
        """Cancel every task but the one calling, and wait for them to finish."""
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await settle(*tasks)
