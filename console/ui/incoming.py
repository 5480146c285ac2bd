"""The ringing notice for an incoming call: who calls, Answer / Decline, transcribe at answer."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from console.acs.identifiers import short_label
from console.ui.icons import icon
from console.ui.theme import current_scheme


def caller_text(incoming: Any) -> str:
    raw = getattr(incoming, "from_raw_id", None) or ""
    name = getattr(incoming, "caller_display_name", None) or ""
    label = short_label(raw) if raw else "an unknown caller"
    if name and name != label:
        return f"{name} ({label})"
    return label


class IncomingCallBanner(QFrame):
    answer_requested = Signal(object, bool)  # incoming call, start transcription at answer
    decline_requested = Signal(object)
    missed = Signal(object)

    # ACS stops ringing an unanswered call after about 30 s; the notice goes soon after.
    RING_TIMEOUT_MS = 45_000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("IncomingBanner")
        self.setAccessibleName("Incoming call")
        s = current_scheme()
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 8, 12, 8)
        row.setSpacing(10)
        bell = QLabel(self)
        bell.setPixmap(icon("incoming", "#009E73").pixmap(QSize(24, 24)))
        row.addWidget(bell)
        self.label = QLabel("", self)
        self.label.setAccessibleName("Caller")
        font = self.label.font()
        font.setBold(True)
        self.label.setFont(font)
        row.addWidget(self.label, 1)
        self.transcribe = QCheckBox("Start transcription when answered", self)
        self.transcribe.setChecked(True)
        self.transcribe.setAccessibleName("Start transcription when answered")
        row.addWidget(self.transcribe)
        self.answer_button = QPushButton("Answer", self)
        self.answer_button.setObjectName("CallButton")
        self.answer_button.setIcon(icon("call", "#FFFFFF", s.muted))
        self.answer_button.setAccessibleName("Answer incoming call")
        self.answer_button.setToolTip("Answer (Ctrl+Shift+A)")
        row.addWidget(self.answer_button)
        self.decline_button = QPushButton("Decline", self)
        self.decline_button.setObjectName("HangUpButton")
        self.decline_button.setIcon(icon("hangup", "#FFFFFF", s.muted))
        self.decline_button.setAccessibleName("Decline incoming call")
        self.decline_button.setToolTip("Decline (Ctrl+Shift+D)")
        row.addWidget(self.decline_button)
        self.answer_button.clicked.connect(self.answer)
        self.decline_button.clicked.connect(self.decline)
        self._incoming: Any = None
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self._give_up)
        self.hide()

    @property
    def incoming(self) -> Any:
        return self._incoming

    def ring(self, incoming: Any, *, busy_with: str | None = None) -> None:
        """Show the call; ``busy_with`` names the call the operator is on, if any."""
        self._incoming = incoming
        text = f"Incoming call from {caller_text(incoming)}"
        if busy_with:
            text += f" — you are on a call with {busy_with}; answering keeps it in the call list"
        self.label.setText(text)
        self.answer_button.setEnabled(True)
        self.decline_button.setEnabled(True)
        self.show()
        self.answer_button.setFocus()
        self._timeout.start(self.RING_TIMEOUT_MS)

    def clear(self) -> None:
        self._timeout.stop()
        self._incoming = None
        self.hide()

    def _give_up(self) -> None:
        if self._incoming is not None:
            incoming = self._incoming
            self.clear()
            self.missed.emit(incoming)

    def answer(self) -> None:
        if self._incoming is not None:
            incoming = self._incoming
            self.clear()
            self.answer_requested.emit(incoming, self.transcribe.isChecked())

    def decline(self) -> None:
        if self._incoming is not None:
            incoming = self._incoming
            self.clear()
            self.decline_requested.emit(incoming)
