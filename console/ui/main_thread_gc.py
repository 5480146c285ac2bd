"""Python's cycle collector, run on the GUI thread only.

CPython starts an automatic collection in whichever thread happens to allocate past its
threshold. In this application that is often not the GUI thread: the recogniser, the audio
sources and the loop's executor threads allocate all the time. A QObject caught in a reference
cycle is then destroyed on the wrong thread ("QObject::~QObject: Timers cannot be stopped from
another thread"), which corrupts Qt's state and crashes the process some time later, far from
the cause.

So automatic collection is switched off while the window runs, and the same thresholds are
checked from a timer on the GUI thread instead (the remedy long used by PyQt applications such
as calibre). Reference counting still frees everything that is not in a cycle at once; only
cycles wait for the next tick.
"""

from __future__ import annotations

import gc
import logging

from PySide6.QtCore import QCoreApplication, QObject, QTimer

log = logging.getLogger(__name__)

INTERVAL_MS = 500


class MainThreadCollector(QObject):
    """Runs ``gc`` from a timer on the thread that owns it (the GUI thread)."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.setObjectName("main-thread-gc")
        self._threshold = gc.get_threshold()
        self._restore = False
        self.collections = [0, 0, 0]  # per generation, for tests and diagnostics
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.check)

    @classmethod
    def install(cls, app: QCoreApplication) -> MainThreadCollector:
        """The application's collector, started (one per application, however often asked)."""
        found = app.findChild(cls, "main-thread-gc")
        collector = found if isinstance(found, cls) else cls(app)
        collector.start()
        return collector

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        if self.running:
            return
        self._restore = gc.isenabled()
        gc.disable()
        self._timer.start()
        log.debug("garbage collection moved to the GUI thread (thresholds %s)", self._threshold)

    def stop(self) -> None:
        """Hand collection back to Python, after one full collection here."""
        if not self.running:
            return
        self._timer.stop()
        gc.collect()
        if self._restore:
            gc.enable()

    def check(self) -> int | None:
        """Collect the generation CPython would have collected by now; which one, or None."""
        counts = gc.get_count()
        if counts[0] <= self._threshold[0]:
            return None
        generation = 0
        if counts[1] > self._threshold[1]:
            generation = 2 if counts[2] > self._threshold[2] else 1
        gc.collect(generation)
        self.collections[generation] += 1
        return generation
