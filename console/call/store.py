"""The publishing half of a call session: its current state, the three signals subscribers
connect to (state, notices, finals), and waiting for a state."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from console.acs.streaming import TranscriptionData
from console.call.state import Notice, SessionError, SessionState
from console.signals import Signal

log = logging.getLogger("console.session")

_LEVELS = {"error": logging.ERROR, "warning": logging.WARNING}


class SessionStore:
    def __init__(self, state: SessionState, clock: Callable[[], float] = time.time) -> None:
        self.state = state
        self._clock = clock
        self.state_changed: Signal[SessionState] = Signal("session state")
        self.notices: Signal[Notice] = Signal("session notices")
        self.finals: Signal[TranscriptionData] = Signal("session finals")

    def subscribe(
        self,
        on_state: Callable[[SessionState], object] | None = None,
        on_notice: Callable[[Notice], object] | None = None,
        on_final: Callable[[TranscriptionData], object] | None = None,
    ) -> Callable[[], None]:
        """Connect any of the three listeners; returns a function that disconnects them."""
        undo: list[Callable[[], None]] = []
        if on_state is not None:
            undo.append(self.state_changed.connect(on_state))
        if on_notice is not None:
            undo.append(self.notices.connect(on_notice))
        if on_final is not None:
            undo.append(self.finals.connect(on_final))

        def disconnect() -> None:
            for fn in undo:
                fn()

        return disconnect

    async def wait_for(
        self, predicate: Callable[[SessionState], bool], timeout: float = 10.0
    ) -> SessionState:
        """Wait until the state satisfies ``predicate``; raise TimeoutError otherwise."""
        if predicate(self.state):
            return self.state
        done: asyncio.Future[SessionState] = asyncio.get_running_loop().create_future()

        def check(state: SessionState) -> None:
            if not done.done() and predicate(state):
                done.set_result(state)

        disconnect = self.state_changed.connect(check)
        try:
            return await asyncio.wait_for(done, timeout)
        finally:
            disconnect()

    def _set(self, **changes: Any) -> None:
        self._publish(replace(self.state, **changes))

    def _publish(self, new: SessionState) -> None:
        if new != self.state:
            self.state = new
            self.state_changed.emit(new)

    def _notice(self, level: str, title: str, text: str, detail: str = "") -> Notice:
        notice = Notice(self._clock(), level, title, text, detail)
        log.log(_LEVELS.get(level, logging.INFO), "%s: %s", title, text)
        self.notices.emit(notice)
        return notice

    def _fail(self, title: str, text: str, detail: str = "") -> SessionError:
        self._notice("error", title, text, detail)
        return SessionError(text)
