"""The call list: every call the console holds, with whom, its state and duration, its
transcription and locale, and a mark when one out of view has news. Selecting a row brings that
call into view."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.call.state import CallState, TranscriptionState
from console.ui.call_book import CallEntry
from console.ui.call_controls import STATE_TEXT, format_duration
from console.ui.theme import current_scheme
from console.ui.transcription_controls import TRANSCRIPTION_TEXT


def describe(entry: CallEntry, now: float | None = None) -> tuple[str, str]:
    """(state line, transcription line) of a call, as its row shows them."""
    s = entry.state
    state = STATE_TEXT[s.call]
    if s.connected_at is not None and s.call in (CallState.CONNECTED, CallState.DISCONNECTING):
        state += f" · {format_duration((now or time.time()) - s.connected_at)}"
    if s.joined:
        state += " · joined"
    if s.held:
        state += " · on hold" if len(s.held) == 1 else f" · {len(s.held)} on hold"
    words = TRANSCRIPTION_TEXT[s.transcription]
    locale = s.confirmed_locale or s.requested_locale
    transcription = f"Transcription: {words}" + (f" · {locale}" if locale else "")
    return state, transcription


class CallRow(QWidget):
    def __init__(self, entry: CallEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        outer = QHBoxLayout(self)
        outer.setContentsMargins(8, 5, 8, 5)
        outer.setSpacing(8)
        self.mark = QLabel("", self)
        self.mark.setFixedWidth(12)
        self.mark.setAccessibleName("New in this call")
        outer.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        lines = QVBoxLayout()
        lines.setSpacing(1)
        self.title = QLabel("", self)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.state_line = QLabel("", self)
        self.transcription_line = QLabel("", self)
        for label in (self.title, self.state_line, self.transcription_line):
            lines.addWidget(label)
        outer.addLayout(lines, 1)
        self.refresh()

    def refresh(self, now: float | None = None) -> None:
        # Every second for every row: only what changed is set (a style sheet set again, even
        # unchanged, restyles and repaints its label).
        e = self.entry
        s = current_scheme()
        state, transcription = describe(e, now)
        colour = {
            CallState.CONNECTED: s.ok,
            CallState.FAILED: s.bad,
        }.get(e.state.call, s.muted)
        failed = e.state.transcription is TranscriptionState.FAILED
        _set(self.title, f"{e.number} · {e.label}")
        _set(self.state_line, state, f"color: {colour};")
        _set(self.transcription_line, transcription, f"color: {s.bad if failed else s.muted};")
        _set(self.mark, "●" if e.unread else "", f"color: {s.accent}; font-size: 12pt;")
        tip = "New lines or a problem in this call" if e.unread else ""
        if self.mark.toolTip() != tip:
            self.mark.setToolTip(tip)
        name = f"Call {e.number} with {e.label}: {state}. {transcription}."
        if self.accessibleName() != name:
            self.setAccessibleName(name)


def _set(label: QLabel, text: str, style: str | None = None) -> None:
    if label.text() != text:
        label.setText(text)
    if style is not None and label.styleSheet() != style:
        label.setStyleSheet(style)


class CallList(QListWidget):
    """The rows; selecting one asks for that call to be shown."""

    call_chosen = Signal(object)  # CallEntry

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CallList")
        self.setAccessibleName("Calls")
        self.rows: dict[int, tuple[QListWidgetItem, CallRow]] = {}
        self._style = ""
        self.currentItemChanged.connect(self._chosen)
        self._restyle()

    def _restyle(self) -> None:
        """A soft selection with an accent edge, so each row's coloured lines stay readable."""
        s = current_scheme()
        chosen = "#24384A" if s.dark else "#DCEBF7"
        style = (
            f"QListWidget#CallList::item {{ border-bottom: 1px solid {s.border}; }}"
            f"QListWidget#CallList::item:selected {{ background: {chosen};"
            f" border-left: 3px solid {s.accent}; }}"
        )
        if style != self._style:
            self._style = style
            self.setStyleSheet(style)

    def set_entries(self, entries: list[CallEntry], current: CallEntry | None) -> None:
        self.blockSignals(True)
        self.clear()
        self.rows.clear()
        for entry in entries:
            item = QListWidgetItem(self)
            row = CallRow(entry, self)
            item.setSizeHint(row.sizeHint())
            item.setData(Qt.ItemDataRole.UserRole, id(entry))
            self.setItemWidget(item, row)
            self.rows[id(entry)] = (item, row)
        self.blockSignals(False)
        self.show_current(current)

    def show_current(self, current: CallEntry | None) -> None:
        found = self.rows.get(id(current)) if current is not None else None
        self.blockSignals(True)
        self.setCurrentItem(found[0] if found else None)
        self.blockSignals(False)

    def refresh(self, entry: CallEntry | None = None) -> None:
        now = time.time()
        if entry is None:
            self._restyle()  # the theme may have changed
        rows = [self.rows[id(entry)]] if entry is not None and id(entry) in self.rows else None
        for _item, row in rows if rows is not None else self.rows.values():
            row.refresh(now)

    def _chosen(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is None:
            return
        key = item.data(Qt.ItemDataRole.UserRole)
        row = next((r for i, r in self.rows.values() if id(r.entry) == key), None)
        if row is not None:
            self.call_chosen.emit(row.entry)


class CallListDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Calls", parent)
        self.setObjectName("CallListDock")
        self.list = CallList(self)
        self.empty = QLabel(
            "No calls yet.\n\nPlace a call, answer one, or join a call in progress "
            "(Call ▸ Join, Ctrl+Shift+J). Each call gets a row here.",
            self,
        )
        self.empty.setObjectName("CallListEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.empty.setMargin(10)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.list)
        self.setWidget(self.pages)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.setMinimumWidth(210)

    def set_entries(self, entries: list[CallEntry], current: CallEntry | None) -> None:
        self.list.set_entries(entries, current)
        self.pages.setCurrentWidget(self.list if entries else self.empty)
