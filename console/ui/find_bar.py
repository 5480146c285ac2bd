"""Find in transcript: highlights every match across panes; Enter / F3 walks through them."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLineEdit, QToolButton, QWidget

from console.ui.icons import icon
from console.ui.phrase_view import PhraseView
from console.ui.theme import current_scheme
from console.ui.transcript_view import TranscriptView


class FindBar(QFrame):
    closed = Signal()

    def __init__(self, view: TranscriptView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FindBar")
        self._view = view
        s = current_scheme()
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        lens = QLabel(self)
        lens.setPixmap(icon("search", s.muted).pixmap(18, 18))
        row.addWidget(lens)
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText("Find in transcript")
        self.edit.setAccessibleName("Find in transcript")
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self._schedule)
        self.edit.returnPressed.connect(self.next)
        self.edit.installEventFilter(self)
        row.addWidget(self.edit, 1)
        self.prev_button = QToolButton(self)
        self.prev_button.setText("↑")
        self.prev_button.setToolTip("Previous match (Shift+F3)")
        self.prev_button.setAccessibleName("Previous match")
        self.prev_button.clicked.connect(self.previous)
        self.next_button = QToolButton(self)
        self.next_button.setText("↓")
        self.next_button.setToolTip("Next match (F3 or Enter)")
        self.next_button.setAccessibleName("Next match")
        self.next_button.clicked.connect(self.next)
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        self.count_label = QLabel("", self)
        self.count_label.setMinimumWidth(110)
        self.count_label.setAccessibleName("Matches")
        row.addWidget(self.count_label)
        close = QToolButton(self)
        close.setText("✕")
        close.setToolTip("Close (Esc)")
        close.setAccessibleName("Close find")
        close.clicked.connect(self.close_bar)
        row.addWidget(close)
        self._matches: list[tuple[PhraseView, int]] = []
        self._index = -1
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.refresh)
        self.hide()

    def eventFilter(self, obj, event) -> bool:
        if (
            obj is self.edit
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Escape
        ):
            self.close_bar()
            return True
        return super().eventFilter(obj, event)

    def open_bar(self) -> None:
        self.show()
        self.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.edit.selectAll()
        if self.edit.text():
            self.refresh()

    def close_bar(self) -> None:
        self._view.clear_highlights()
        self._matches = []
        self._index = -1
        self.hide()
        self.closed.emit()

    def _schedule(self) -> None:
        self._timer.start()

    def transcript_changed(self) -> None:
        """New text arrived: re-run the search soon (debounced), keeping the position."""
        if self.isVisible() and self.edit.text():
            self._timer.start(400)

    @property
    def match_count(self) -> int:
        return len(self._matches)

    def refresh(self) -> None:
        needle = self.edit.text()
        self._matches = self._view.highlight(needle) if needle else []
        if not needle:
            self._view.clear_highlights()
        self._index = min(self._index, len(self._matches) - 1)
        self._update_label()

    def _update_label(self) -> None:
        n = len(self._matches)
        if not self.edit.text():
            self.count_label.setText("")
        elif n == 0:
            self.count_label.setText("No matches")
        elif self._index >= 0:
            self.count_label.setText(f"{self._index + 1} of {n}")
        else:
            self.count_label.setText(f"{n} match" + ("es" if n != 1 else ""))

    def next(self) -> None:
        self._step(1)

    def previous(self) -> None:
        self._step(-1)

    def _step(self, delta: int) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.refresh()
        if not self._matches:
            return
        self._index = (self._index + delta) % len(self._matches)
        view, _pos = self._matches[self._index]
        same_view_before = sum(1 for v, _ in self._matches[: self._index] if v is view)
        view.show_match(same_view_before, QColor(current_scheme().accent).lighter(150))
        self._update_label()
