"""The calls the window holds: every session from placing (or answering, or joining) until the
operator closes it, which one is in view, each one's event log and whether it has news.

A call out of view costs no painting: only its notices are kept, and a new Final, a warning or
a failure (the call ending, its transcription failing) just sets its unread mark. The window
binds the call in view to its widgets (``current_changed``) and repaints a row of the call list
when ``entry_changed`` says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from console.acs.identifiers import short_label
from console.call.state import CallState, Notice, SessionState, TranscriptionState
from console.session import CallSession
from console.transcript.alerts import Alert
from console.ui.formatting import clock

MAX_NOTICES = 2000  # per call: an all-day call must not grow without limit


@dataclass(eq=False)
class CallEntry:
    session: CallSession
    number: int  # 1, 2, …: the order calls were made in (Alt+N jumps to it)
    created_at: float  # wall time the operator placed, answered or joined it
    notices: list[Notice] = field(default_factory=list)
    unread: bool = False  # new Finals or a failure while out of view
    undo: Callable[[], None] = lambda: None

    @property
    def state(self) -> SessionState:
        return self.session.state

    @property
    def label(self) -> str:
        """Who the call is with."""
        state = self.session.state
        if not state.target:
            return f"Call {self.number}"
        if state.joined:  # "server call <id>", "group call <id>", "room <id>"
            kind, _, ident = state.target.rpartition(" ")
            return f"{kind.capitalize()} …{ident[-6:]}" if len(ident) > 8 else state.target
        return short_label(state.target)

    @property
    def started_at(self) -> float:
        """Call start (connected), else when it was made: what file names use."""
        return self.session.transcript.call_started_at or self.created_at


def _went_wrong(before: SessionState, after: SessionState) -> bool:
    """A change an operator looking at another call must hear of: the call ended or failed (the
    other party hung up, it was lost), or its transcription failed."""
    ended = before.call.live and after.call in (CallState.DISCONNECTED, CallState.FAILED)
    failed = TranscriptionState.FAILED
    return ended or (after.transcription is failed and before.transcription is not failed)


def alert_notice(session: CallSession, alert: Alert) -> Notice:
    """An alert for the event log: what was said, by whom, when (only ever on screen: notices
    made here are not logged, and logs never hold transcript text)."""
    who = session.transcript.participant(alert.raw_id)
    name = who.display_name if who is not None else alert.raw_id
    text = f"{name} at {clock(alert.at)}: “{alert.text}”"
    return Notice(time.time(), "warning", f"Alert: {alert.rule}", text)


class CallBook(QObject):
    current_changed = Signal(object)  # the CallEntry in view, or None
    entry_changed = Signal(object)  # a CallEntry whose row (state, unread mark) changed
    entries_changed = Signal()  # a call was added or removed
    notice_shown = Signal(object)  # a Notice for the event log (the call in view's, or global)
    alert_raised = Signal(object, object)  # CallEntry, Alert (before its Final is painted)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entries: list[CallEntry] = []
        self.current: CallEntry | None = None
        self.global_notices: list[Notice] = []  # not about one call: incoming calls, settings
        self._numbers = 0

    def add(self, session: CallSession) -> CallEntry:
        self._numbers += 1
        entry = CallEntry(session, self._numbers, time.time())

        last = [session.state]

        def on_state(state: SessionState) -> None:
            before, last[0] = last[0], state
            if entry is not self.current and _went_wrong(before, state):
                self._mark(entry)
            self.entry_changed.emit(entry)

        def on_notice(notice: Notice) -> None:
            entry.notices.append(notice)
            del entry.notices[:-MAX_NOTICES]
            if entry is self.current:
                self.notice_shown.emit(notice)
            elif notice.level in ("warning", "error"):
                self._mark(entry)

        def on_final(_packet: object) -> None:
            if entry is not self.current:
                self._mark(entry)

        def on_alert(alert: Alert) -> None:
            on_notice(alert_notice(session, alert))
            self.alert_raised.emit(entry, alert)

        undo_alerts = session.alerts.connect(on_alert)
        undo_rest = session.subscribe(on_state, on_notice, on_final)

        def undo() -> None:
            undo_alerts()
            undo_rest()

        entry.undo = undo
        self.entries.append(entry)
        self.entries_changed.emit()
        return entry

    def _mark(self, entry: CallEntry) -> None:
        if not entry.unread:
            entry.unread = True
            self.entry_changed.emit(entry)

    def select(self, entry: CallEntry | None) -> None:
        if entry is self.current:
            return
        self.current = entry
        if entry is not None and entry.unread:
            entry.unread = False
            self.entry_changed.emit(entry)
        self.current_changed.emit(entry)

    def step(self, delta: int) -> None:
        """The next (1) or previous (-1) call, round the list."""
        if not self.entries:
            return
        index = self.entries.index(self.current) if self.current in self.entries else -1
        self.select(self.entries[(index + delta) % len(self.entries)])

    def select_number(self, position: int) -> None:
        """The N-th call in the list (1-based), if there is one."""
        if 1 <= position <= len(self.entries):
            self.select(self.entries[position - 1])

    def remove(self, entry: CallEntry) -> None:
        entry.undo()
        index = self.entries.index(entry)
        self.entries.remove(entry)
        self.entries_changed.emit()
        if entry is self.current:
            rest = self.entries[min(index, len(self.entries) - 1)] if self.entries else None
            self.select(rest)

    def entry_of(self, session: CallSession | None) -> CallEntry | None:
        return next((e for e in self.entries if e.session is session), None)

    def live(self) -> list[CallEntry]:
        return [e for e in self.entries if e.state.call.live]

    def connected(self) -> list[CallEntry]:
        return [e for e in self.entries if e.state.call is CallState.CONNECTED]

    def add_global(self, notice: Notice) -> None:
        self.global_notices.append(notice)
        del self.global_notices[:-MAX_NOTICES]
        self.notice_shown.emit(notice)

    def log_for(self, entry: CallEntry | None) -> list[Notice]:
        """What the event log shows with ``entry`` in view: its notices and the global ones."""
        own = entry.notices if entry is not None else []
        return sorted([*self.global_notices, *own], key=lambda n: n.at)

    def shutdown(self) -> None:
        for entry in self.entries:
            entry.undo()
