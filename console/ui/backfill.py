"""Older text of a transcript brought into view, written in the background, newest first.

Switching the view to a long call shows each view's last :data:`TAIL` blocks at once (what is
on screen), then prepends the rest a chunk per event-loop turn, so a call with thousands of
Finals comes into view in a few milliseconds and live packets keep flowing meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal

from console.ui.phrase_view import Entry, PhraseView

T = TypeVar("T")

TAIL = 120  # blocks per view written when a transcript comes into view
CHUNK = 250  # older blocks styled and written per event-loop turn, over all views


def split_tail(items: Sequence[T]) -> tuple[list[T], list[T]]:
    """(older items, the newest ``TAIL``)."""
    cut = max(0, len(items) - TAIL)
    return list(items[:cut]), list(items[cut:])


@dataclass(eq=False)
class _Job(Generic[T]):
    view: PhraseView
    items: list[T]  # oldest first; the newest of them go in next
    entry: Callable[[T], Entry]


class Backfill(QObject):
    done = Signal()  # every view holds its whole transcript again

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs: list[_Job[Any]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.step)

    @property
    def pending(self) -> bool:
        return bool(self._jobs)

    def add(self, view: PhraseView, items: list[T], entry: Callable[[T], Entry]) -> None:
        """Prepend ``items`` (oldest first, all older than what ``view`` shows) to ``view``."""
        self.cancel(view)
        if items:
            self._jobs.append(_Job(view, items, entry))
            self._timer.start()

    def cancel(self, view: PhraseView) -> None:
        self._jobs = [j for j in self._jobs if j.view is not view]

    def clear(self) -> None:
        self._jobs.clear()
        self._timer.stop()

    def step(self) -> None:
        budget = CHUNK
        for job in list(self._jobs):
            take = job.items[-budget:]
            del job.items[-len(take) :]
            job.view.prepend([job.entry(item) for item in take])
            budget -= len(take)
            if not job.items:
                self._jobs.remove(job)
            if budget <= 0:
                break
        if self._jobs:
            self._timer.start()
        else:
            self.done.emit()

    def finish(self) -> None:
        """Write everything still to come now."""
        while self._jobs:
            self.step()
