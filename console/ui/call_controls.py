"""Call controls: target field with validation, dial pad, recent targets, Call / Hang up, state."""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from console.acs.identifiers import InvalidTargetError, validate_target
from console.call.state import CallState
from console.ui.icons import icon, themed
from console.ui.theme import current_scheme

_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#")

STATE_TEXT = {
    CallState.IDLE: "No call",
    CallState.CONNECTING: "Connecting…",
    CallState.CONNECTED: "Connected",
    CallState.DISCONNECTING: "Hanging up…",
    CallState.DISCONNECTED: "Call ended",
    CallState.FAILED: "Call failed",
}


def format_duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class DialPad(QWidget):
    """A 3×4 keypad plus "+"; each press inserts its character into the target field."""

    pressed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setSpacing(4)
        grid.setContentsMargins(6, 6, 6, 6)
        for i, key in enumerate(_KEYS):
            btn = QPushButton(key, self)
            btn.setFixedSize(QSize(44, 36))
            btn.setAccessibleName(f"Dial {key}")
            btn.clicked.connect(lambda _=False, k=key: self.pressed.emit(k))
            grid.addWidget(btn, i // 3, i % 3)
        plus = QPushButton("+", self)
        plus.setFixedSize(QSize(44, 36))
        plus.setAccessibleName("Dial plus (international prefix)")
        plus.clicked.connect(lambda: self.pressed.emit("+"))
        grid.addWidget(plus, 4, 1)


class CallControls(QFrame):
    call_requested = Signal(str)  # validated raw id
    hang_up_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CallBar")
        s = current_scheme()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 8)
        outer.setSpacing(4)
        title = QLabel("CALL", self)
        title.setObjectName("SectionLabel")
        outer.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(8)
        outer.addLayout(row)

        self.target = QComboBox(self)
        self.target.setEditable(True)
        self.target.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.target.setMinimumWidth(260)
        self.target.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.target.lineEdit().setPlaceholderText("+14255550100, 8:acs:… or 8:orgid:…")
        self.target.lineEdit().setClearButtonEnabled(True)
        self.target.setAccessibleName("Call target")
        self.target.setAccessibleDescription(
            "Phone number in international format, ACS user id or Teams user id. "
            "Recent targets are in the list."
        )
        self.target.setToolTip("Who to call. Press Enter to call. Recent targets are in the list.")
        row.addWidget(self.target, 1)

        self.dial_button = QToolButton(self)
        themed(self.dial_button, "dialpad")
        self.dial_button.setIconSize(QSize(20, 20))
        self.dial_button.setToolTip("Dial pad")
        self.dial_button.setAccessibleName("Dial pad")
        self.dial_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.dial_button)
        self.dial_pad = DialPad(menu)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.dial_pad)
        menu.addAction(action)
        self.dial_button.setMenu(menu)
        self.dial_pad.pressed.connect(self._dial)
        row.addWidget(self.dial_button)

        self.call_button = QPushButton("Call", self)
        self.call_button.setObjectName("CallButton")
        self.call_button.setIcon(icon("call", "#FFFFFF", s.muted))
        self.call_button.setAccessibleName("Call")
        self.call_button.setToolTip("Place the call (Enter in the target field, or Ctrl+Return)")
        self.call_button.clicked.connect(self._on_call)
        row.addWidget(self.call_button)

        self.hang_up_button = QPushButton("Hang up", self)
        self.hang_up_button.setObjectName("HangUpButton")
        self.hang_up_button.setIcon(icon("hangup", "#FFFFFF", s.muted))
        self.hang_up_button.setAccessibleName("Hang up")
        self.hang_up_button.setToolTip("End the call for everyone (Ctrl+Shift+H)")
        self.hang_up_button.clicked.connect(self.hang_up_requested)
        self.hang_up_button.setEnabled(False)
        row.addWidget(self.hang_up_button)

        row.addSpacing(12)
        self.state_label = QLabel(STATE_TEXT[CallState.IDLE], self)
        self.state_label.setObjectName("CallState")
        self.state_label.setAccessibleName("Call state")
        self.state_label.setMinimumWidth(110)
        row.addWidget(self.state_label)
        self.duration_label = QLabel("", self)
        self.duration_label.setObjectName("CallDuration")
        self.duration_label.setAccessibleName("Call duration")
        self.duration_label.setMinimumWidth(64)
        row.addWidget(self.duration_label)

        self.hint = QLabel("", self)
        self.hint.setObjectName("TargetHint")
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("Target check")
        outer.addWidget(self.hint)

        self.target.lineEdit().textChanged.connect(self._validate)
        self.target.lineEdit().returnPressed.connect(self._on_call)
        self._call_state = CallState.IDLE
        self._connected_at: float | None = None
        self._validate(self.target.currentText())

    # --- input -------------------------------------------------------------------------
    def _dial(self, key: str) -> None:
        edit = self.target.lineEdit()
        edit.insert(key)
        edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def validated_target(self) -> str | None:
        try:
            return validate_target(self.target.currentText())
        except InvalidTargetError:
            return None

    def _validate(self, text: str) -> None:
        if not text.strip():
            self._set_hint("", error=False)
        else:
            try:
                raw = validate_target(text)
            except InvalidTargetError as exc:
                self._set_hint(str(exc), error=True)
            else:
                self._set_hint(f"Will call {_describe(raw)}", error=False)
        self._update_buttons()

    def _set_hint(self, text: str, *, error: bool) -> None:
        self.hint.setText(text)
        self.hint.setProperty("error", "true" if error else "false")
        self.hint.style().unpolish(self.hint)
        self.hint.style().polish(self.hint)

    def _on_call(self) -> None:
        if not self.call_button.isEnabled():
            if self.target.currentText().strip() and self.validated_target() is None:
                self.hint.setFocus()
            return
        raw = self.validated_target()
        if raw is not None:
            self.call_requested.emit(raw)

    # --- state -------------------------------------------------------------------------
    def set_recent(self, targets: list[str]) -> None:
        text = self.target.currentText()
        self.target.blockSignals(True)
        self.target.clear()
        self.target.addItems(targets)
        self.target.blockSignals(False)
        self.target.setEditText(text)

    def set_call_state(
        self, state: CallState, connected_at: float | None, *, joined: bool = False
    ) -> None:
        self._call_state = state
        # A joined call is someone else's: hanging up leaves it, and it goes on for the others.
        self.hang_up_button.setText("Leave" if joined else "Hang up")
        self.hang_up_button.setToolTip(
            "Leave the call; it goes on for the others (Ctrl+Shift+H)"
            if joined
            else "End the call for everyone (Ctrl+Shift+H)"
        )
        self._connected_at = connected_at
        self.state_label.setText(STATE_TEXT[state])
        colour = {
            CallState.CONNECTED: current_scheme().ok,
            CallState.FAILED: current_scheme().bad,
        }.get(state)
        self.state_label.setStyleSheet(f"color: {colour};" if colour else "")
        self.tick()
        self._update_buttons()

    def tick(self, now: float | None = None) -> None:
        if self._connected_at is not None and self._call_state in (
            CallState.CONNECTED,
            CallState.DISCONNECTING,
        ):
            self.duration_label.setText(format_duration((now or time.time()) - self._connected_at))
        elif self._call_state is CallState.IDLE:
            self.duration_label.setText("")

    def _update_buttons(self) -> None:
        # Another call can be placed while one is going on (a consult, a second line): the
        # Call button only needs a target; Hang up ends the call in view.
        valid = self.validated_target() is not None
        self.call_button.setEnabled(valid)
        self.hang_up_button.setEnabled(
            self._call_state in (CallState.CONNECTING, CallState.CONNECTED)
        )
        if not valid and self.target.currentText().strip():
            self.call_button.setToolTip("Enter a valid target first: " + self.hint.text())
        elif self._call_state.live:
            self.call_button.setToolTip("Place another call; this one stays in the call list")
        else:
            self.call_button.setToolTip("Place the call (Enter in the target field)")


def _describe(raw: str) -> str:
    if raw.startswith("4:"):
        return f"phone number {raw[2:]}"
    if raw.startswith("8:acs:"):
        return f"ACS user {raw}"
    if raw.startswith("8:orgid:"):
        return f"Teams user {raw}"
    return raw


__all__ = ["STATE_TEXT", "CallControls", "DialPad", "format_duration"]
