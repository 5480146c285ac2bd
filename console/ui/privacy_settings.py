"""Settings ▸ Privacy: redacting saved transcripts, and what the autosave journal keeps, how,
and for how long (README "Privacy")."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.config import Preferences
from console.ui.theme import current_scheme

ALWAYS_NOTE = (
    "Save, Save all and <code>acs-console run</code> then write only redacted copies: card, "
    "account and phone numbers, e-mail addresses and spelled-out names become [CARD], [ACCOUNT], "
    "[PHONE], [EMAIL], [SPELLED]. The engine can miss one (README, Privacy): check before you "
    "share."
)
JOURNAL_NOTE = (
    "The journal records each call as it happens, so a crash loses nothing: the next start "
    "offers it for recovery. Changes apply from the next call."
)
NEVER_KEEP = "Never keep (delete at save or close)"


class PrivacyPage(QWidget):
    def __init__(self, parent: QWidget | None = None, *, encryption_note: str = "") -> None:
        super().__init__(parent)
        s = current_scheme()
        layout = QVBoxLayout(self)
        saved = QGroupBox("Saved transcripts", self)
        sl = QVBoxLayout(saved)
        self.always_redact = QCheckBox("&Always redact saved transcripts", saved)
        sl.addWidget(self.always_redact)
        sl.addWidget(_note(ALWAYS_NOTE, saved, s.muted))
        layout.addWidget(saved)

        journal = QGroupBox("Autosave journal", self)
        jl = QVBoxLayout(journal)
        self.journaling = QCheckBox("&Keep an autosave journal of each call", journal)
        self.redact_at_rest = QCheckBox(
            "&Redact the journal at rest (recovery then gives the redacted transcript)", journal
        )
        form = QFormLayout()
        self.retention = QSpinBox(journal)
        self.retention.setRange(0, 3650)
        self.retention.setSuffix(" days")
        self.retention.setSpecialValueText(NEVER_KEEP)
        self.retention.setMaximumWidth(300)
        self.retention.setAccessibleName("Days to keep a saved or closed call's journal")
        form.addRow("Keep a saved or closed call's journal &for:", self.retention)
        jl.addWidget(self.journaling)
        jl.addWidget(self.redact_at_rest)
        jl.addLayout(form)
        jl.addWidget(
            _note(
                "Unsaved journals left by a crash are kept until you recover or discard them.",
                journal,
                s.muted,
            )
        )
        if encryption_note:
            jl.addWidget(_note(encryption_note, journal, s.muted))
        jl.addWidget(_note(JOURNAL_NOTE, journal, s.muted))
        layout.addWidget(journal)
        layout.addStretch(1)
        self.journaling.toggled.connect(self._sync)

    def _sync(self) -> None:
        on = self.journaling.isChecked()
        self.redact_at_rest.setEnabled(on)
        self.retention.setEnabled(on)

    def load(self, prefs: Preferences) -> None:
        self.always_redact.setChecked(prefs.always_redact_saved)
        self.journaling.setChecked(prefs.journaling)
        self.redact_at_rest.setChecked(prefs.redact_at_rest)
        self.retention.setValue(max(0, prefs.retention_days))
        self._sync()

    def apply(self, prefs: Preferences) -> None:
        prefs.always_redact_saved = self.always_redact.isChecked()
        prefs.journaling = self.journaling.isChecked()
        prefs.redact_at_rest = self.redact_at_rest.isChecked()
        prefs.retention_days = self.retention.value()


def _note(text: str, parent: QWidget, colour: str) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {colour};")
    return label


def encryption_note(key_present: bool, why_not: str) -> str:
    """What the page says about encryption at rest."""
    if key_present:
        return "Journals are encrypted, record by record, with a key kept in the system keyring."
    return why_not or "Journals are stored unencrypted: there is no system keyring."
