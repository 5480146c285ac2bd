"""Call intelligence, chosen by the operator: the languages the service identifies among, its
sentiment per Final and its own redaction (Settings ▸ Call intelligence, and the transcription
panel's menu for the call in view), and the console's alerts (Settings only)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from console.acs import locales as loc
from console.acs.intelligence import MAX_LOCALES, IntelligenceSettings
from console.config import Preferences
from console.transcript.alerts import AlertRuleError, compile_rule
from console.ui.locale_combo import LocaleCombo
from console.ui.theme import current_scheme

DETECT_NOTE = (
    f"The service identifies each phrase's language among 2 to {MAX_LOCALES} locales (its "
    "preview api-version). While it does, the language list is not used; changing the set "
    "mid-call stops and restarts transcription."
)
SERVICE_REDACTION_NOTE = (
    "The service masks card, account and phone numbers and e-mail addresses with * before it "
    "sends the text: the console never receives them. Saving redacted (Privacy) still applies."
)


class LanguagePicker(QWidget):
    """Up to MAX_LOCALES locales, chosen from the searchable list."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.combo = LocaleCombo(self)
        self.combo.setAccessibleName("Language to add")
        self.add_button = QPushButton("&Add", self)
        self.add_button.clicked.connect(self._add)
        row.addWidget(self.combo, 1)
        row.addWidget(self.add_button)
        layout.addLayout(row)
        self.list = QListWidget(self)
        self.list.setAccessibleName("Languages to identify among")
        self.list.setMaximumHeight(96)
        layout.addWidget(self.list)
        self.remove_button = QPushButton("&Remove", self)
        self.remove_button.clicked.connect(self._remove)
        layout.addWidget(self.remove_button)
        self._codes: list[str] = []
        self._sync()

    def codes(self) -> tuple[str, ...]:
        return tuple(self._codes)

    def set_codes(self, codes: tuple[str, ...] | list[str]) -> None:
        self._codes = list(codes)[:MAX_LOCALES]
        self._sync()

    def _add(self) -> None:
        code = self.combo.locale()
        if code and code not in self._codes and len(self._codes) < MAX_LOCALES:
            self._codes.append(code)
            self._sync()
            self.changed.emit()

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self._codes):
            del self._codes[row]
            self._sync()
            self.changed.emit()

    def _sync(self) -> None:
        self.list.clear()
        for code in self._codes:
            self.list.addItem(f"{loc.display_name(code)} — {code}")
        full = len(self._codes) >= MAX_LOCALES
        self.add_button.setEnabled(not full)
        self.add_button.setToolTip(f"At most {MAX_LOCALES} languages" if full else "")
        self.remove_button.setEnabled(bool(self._codes))


def problem(codes: tuple[str, ...]) -> str:
    """Why a set of languages to identify among cannot be used ("" when it can)."""
    if len(codes) == 1:
        return "Choose at least two languages to identify among (or none for one language)."
    return ""


def _note(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setStyleSheet(f"color: {current_scheme().muted};")
    return label


class IntelligencePage(QWidget):
    """Settings ▸ Call intelligence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        service = QGroupBox("By the service (for new calls)", self)
        sl = QVBoxLayout(service)
        self.detect = QCheckBox("&Detect the language among…", service)
        self.languages = LanguagePicker(service)
        self.sentiment = QCheckBox("&Sentiment of each phrase", service)
        self.service_redaction = QCheckBox("&Redact personal data (by the service)", service)
        sl.addWidget(self.detect)
        sl.addWidget(self.languages)
        sl.addWidget(_note(DETECT_NOTE, service))
        sl.addWidget(self.sentiment)
        sl.addWidget(self.service_redaction)
        sl.addWidget(_note(SERVICE_REDACTION_NOTE, service))
        layout.addWidget(service)
        alerts = QGroupBox("Alerts (by the console)", self)
        al = QFormLayout(alerts)
        self.phrases = QPlainTextEdit(alerts)
        self.phrases.setAccessibleName("Alert phrases, one per line")
        self.phrases.setPlaceholderText(
            "one per line: cancel my account, supervisor, re:refund(s)?"
        )
        self.phrases.setMaximumHeight(96)
        al.addRow("&Phrases:", self.phrases)
        al.addRow(
            "",
            _note(
                "Any case, whole words; * stands for any letters; re: starts a regular expression.",
                alerts,
            ),
        )
        self.streak = QSpinBox(alerts)
        self.streak.setRange(0, 20)
        self.streak.setSpecialValueText("never")
        self.streak.setSuffix(" turns in a row")
        self.streak.setAccessibleName("Negative sentiment streak that raises an alert")
        al.addRow("Alert on &negative sentiment:", self.streak)
        self.sound = QCheckBox("Play the system's alert &sound", alerts)
        al.addRow("", self.sound)
        layout.addWidget(alerts)
        layout.addStretch(1)
        self.detect.toggled.connect(self.languages.setEnabled)

    def load(self, prefs: Preferences) -> None:
        self.languages.set_codes(prefs.detect_languages)
        self.detect.setChecked(bool(prefs.detect_languages))
        self.languages.setEnabled(bool(prefs.detect_languages))
        self.sentiment.setChecked(prefs.sentiment_analysis)
        self.service_redaction.setChecked(prefs.service_redaction)
        self.phrases.setPlainText("\n".join(prefs.alert_phrases))
        self.streak.setValue(max(0, prefs.negative_streak))
        self.sound.setChecked(prefs.alert_sound)

    def check(self) -> str:
        """What is wrong with the form ("" when nothing)."""
        codes = self.languages.codes()
        if self.detect.isChecked():
            if not codes:
                return "Add the languages to identify among, or clear Detect the language."
            if why := problem(codes):
                return why
        for line in self._phrase_lines():
            try:
                compile_rule(line)
            except AlertRuleError as exc:
                return f"Alert phrase: {exc}"
        return ""

    def _phrase_lines(self) -> list[str]:
        return [line.strip() for line in self.phrases.toPlainText().splitlines() if line.strip()]

    def apply(self, prefs: Preferences) -> None:
        prefs.detect_languages = list(self.languages.codes()) if self.detect.isChecked() else []
        prefs.sentiment_analysis = self.sentiment.isChecked()
        prefs.service_redaction = self.service_redaction.isChecked()
        prefs.alert_phrases = self._phrase_lines()
        prefs.negative_streak = self.streak.value()
        prefs.alert_sound = self.sound.isChecked()


class DetectLanguagesDialog(QDialog):
    """The call in view's languages to identify among (the transcription panel's menu)."""

    def __init__(self, parent: QWidget | None, settings: IntelligenceSettings) -> None:
        super().__init__(parent)
        self.setObjectName("DetectLanguagesDialog")
        self.setWindowTitle("Detect the language")
        layout = QVBoxLayout(self)
        layout.addWidget(_note(DETECT_NOTE, self))
        self.picker = LanguagePicker(self)
        self.picker.set_codes(settings.locales)
        layout.addWidget(self.picker)
        self.error = QLabel("", self)
        self.error.setStyleSheet(f"color: {current_scheme().bad};")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def accept(self) -> None:
        why = problem(self.picker.codes())
        if why:
            self.error.setText(why)
            return
        super().accept()
