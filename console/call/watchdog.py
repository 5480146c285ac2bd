"""Liveness: a connected call is looked up on the service now and then, so a service that
vanished shows as a lost call, not a call that stays "connected" forever."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from console.acs.calls import CallInfo, CallServiceError

log = logging.getLogger(__name__)

# A connected call is looked up this often (None: only when asked, e.g. its transcript stream
# closed unexpectedly).
CALL_CHECK_INTERVAL_S: float | None = 10.0
# How long one look may take, how soon a failed look is repeated, and how many failures in a
# row mean the service is gone: refused connections are decisive sooner than slow answers.
CALL_CHECK_TIMEOUT_S = 3.0
_RECHECK_S = 0.5
_LOST_AFTER = {"network": 2, "timeout": 3}

Probe = Callable[[str], Awaitable[CallInfo]]


class CallWatchdog:
    """Looks the call up while ``connected()`` says it is connected.

    ``on_ended(why)`` is called when the service says the call is over (or forgot it),
    ``on_lost(why)`` when the service cannot be reached; at most one of them, once.
    """

    def __init__(
        self,
        probe: Probe,
        call_id: Callable[[], str | None],
        connected: Callable[[], bool],
        *,
        on_ended: Callable[[str], Awaitable[None]],
        on_lost: Callable[[str], None],
        interval: float | None = CALL_CHECK_INTERVAL_S,
    ) -> None:
        self._probe = probe
        self._call_id = call_id
        self._connected = connected
        self._on_ended = on_ended
        self._on_lost = on_lost
        self._interval = interval
        self._now = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._now.clear()
            self._task = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def check_now(self) -> None:
        """Look the call up at once (e.g. its transcript stream broke)."""
        self._now.set()

    async def _watch(self) -> None:
        failures = 0
        wait = self._interval
        while self._connected():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._now.wait(), wait)
            self._now.clear()
            ccid = self._call_id()
            if not self._connected() or ccid is None:
                return
            try:
                info = await self._probe(ccid)
            except CallServiceError as exc:
                if not self._connected():
                    return
                if exc.kind == "not_found":
                    await self._on_ended("the service no longer knows this call")
                    return
                if exc.kind in _LOST_AFTER:
                    failures += 1
                    if failures >= _LOST_AFTER[exc.kind]:
                        log.info("call lost: %s", exc)
                        self._on_lost("the Call Automation service cannot be reached")
                        return
                    wait = _RECHECK_S
                    continue
                log.info("call check inconclusive: %s", exc)
                wait = self._interval
                continue
            failures = 0
            wait = self._interval
            if (info.state or "").lower().endswith("disconnected"):
                await self._on_ended("the service ended the call without a notice")
                return
