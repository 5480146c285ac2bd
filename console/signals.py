"""One Qt-free signal type for every publisher in the console (session, transcript, audio levels,
runtime, the emulator's recogniser tracks).

A listener that raises is logged with its traceback and counted, and delivery goes on to the
others: one broken view must never stop a transcript from taking packets or a session from
reporting its state. Listeners run synchronously, in the order they connected, on the thread
that emits (the asyncio loop, for everything but the emulator's recogniser).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

Listener = Callable[[T], object]


class Signal(Generic[T]):
    """``connect`` a listener (returns its disconnect function); ``emit`` a value to all."""

    __slots__ = ("_listeners", "failures", "name")

    # Failures across every signal of the process (diagnostics and tests).
    total_failures = 0

    def __init__(self, name: str) -> None:
        self.name = name
        # A tuple, rebuilt on (dis)connect: emitting iterates it without copying (hot path).
        self._listeners: tuple[Listener[T], ...] = ()
        self.failures = 0

    def connect(self, listener: Listener[T]) -> Callable[[], None]:
        self._listeners = (*self._listeners, listener)
        return lambda: self.disconnect(listener)

    def disconnect(self, listener: Listener[T]) -> None:
        """Remove one connection of ``listener``; unknown listeners are ignored."""
        listeners = list(self._listeners)
        for i, fn in enumerate(listeners):
            if fn is listener or fn == listener:
                del listeners[i]
                self._listeners = tuple(listeners)
                return

    def __len__(self) -> int:
        return len(self._listeners)

    def emit(self, value: T) -> None:
        for listener in self._listeners:
            try:
                listener(value)
            except Exception:
                self.failures += 1
                Signal.total_failures += 1
                log.exception("a listener of %s failed", self.name)
