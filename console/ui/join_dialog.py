"""Join a call already in progress (Connect): by server call id, group call id or room id, so a
supervisor can transcribe a call someone else placed."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from console.acs.calls import CallLocator
from console.ui.locale_combo import LocaleCombo
from console.ui.theme import current_scheme

KINDS = (
    ("Server call id", "server_call_id"),
    ("Group call id", "group_call_id"),
    ("Room id", "room_id"),
)


class JoinDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, *, locale: str = "en-US") -> None:
        super().__init__(parent)
        self.setObjectName("JoinDialog")
        self.setWindowTitle("Join a call in progress")
        self.setMinimumWidth(520)
        self.locator: CallLocator | None = None
        self.start_transcription = True
        self.chosen_locale = locale
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Join a call someone else placed, to transcribe it. The service will not change the "
            "language of a joined call: choose it before you join.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.kind = QComboBox(self)
        for label, kind in KINDS:
            self.kind.addItem(label, kind)
        self.kind.setAccessibleName("What identifies the call")
        form.addRow("&Identify it by:", self.kind)
        self.call_id = QLineEdit(self)
        self.call_id.setAccessibleName("Call id")
        self.call_id.setPlaceholderText("as the call's owner or the Event Grid event gives it")
        form.addRow("Call &id:", self.call_id)
        self.locale = LocaleCombo(self)
        self.locale.set_locale(locale)
        self.locale.setAccessibleName("Transcription language for the joined call")
        form.addRow("&Language:", self.locale)
        self.transcribe = QCheckBox("Start &transcription when joined", self)
        self.transcribe.setChecked(True)
        form.addRow("", self.transcribe)
        layout.addLayout(form)
        self.error = QLabel("", self)
        self.error.setStyleSheet(f"color: {current_scheme().bad};")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        if ok is not None:
            ok.setText("&Join")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.call_id.setFocus()

    def accept(self) -> None:
        try:
            self.locator = CallLocator(str(self.kind.currentData()), self.call_id.text().strip())
        except ValueError as exc:
            text = str(exc)
            self.error.setText(text[:1].upper() + text[1:] + ".")
            self.call_id.setFocus()
            return
        chosen = self.locale.locale()
        if chosen is None:
            self.error.setText("Choose the language to transcribe in (it cannot change later).")
            self.locale.setFocus()
            return
        self.chosen_locale = chosen
        self.start_transcription = self.transcribe.isChecked()
        super().accept()
