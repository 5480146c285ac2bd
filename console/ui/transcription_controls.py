"""Transcription controls: one Start/Stop toggle and the language (locale) picker."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.acs import locales as loc
from console.acs.intelligence import IntelligenceSettings
from console.call.state import TranscriptionState
from console.ui.icons import icon
from console.ui.locale_combo import LocaleCombo
from console.ui.theme import current_scheme

TRANSCRIPTION_TEXT = {
    TranscriptionState.STOPPED: "Off",
    TranscriptionState.STARTING: "Starting…",
    TranscriptionState.ACTIVE: "Live",
    TranscriptionState.STOPPING: "Stopping…",
    TranscriptionState.FAILED: "Failed",
}


LOCALE_TIP = (
    "Transcription language (Ctrl+Shift+L). Type to search; changing it during transcription "
    "switches the language live."
)


class TranscriptionControls(QFrame):
    start_requested = Signal()
    stop_requested = Signal()
    locale_chosen = Signal(str)
    intelligence_changed = Signal(object)  # IntelligenceSettings chosen in the menu
    detect_requested = Signal()  # "Detect the language among…"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TranscriptionBar")
        s = current_scheme()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(12, 8, 12, 8)
        outer.setSpacing(4)
        title = QLabel("TRANSCRIPTION", self)
        title.setObjectName("SectionLabel")
        outer.addWidget(title)
        row = QHBoxLayout()
        row.setSpacing(8)
        outer.addLayout(row)
        self.toggle = QPushButton("Start transcription", self)
        self.toggle.setObjectName("TranscribeButton")
        self.toggle.setCheckable(True)
        self.toggle.setIconSize(QSize(18, 18))
        self.toggle.setAccessibleName("Start or stop transcription")
        self.toggle.clicked.connect(self._clicked)
        row.addWidget(self.toggle)
        self._icon_start = icon("transcribe", s.text, s.muted)
        self._icon_stop = icon("stop", s.base, s.muted)
        self.toggle.setIcon(self._icon_start)
        # Wide enough for either label, so the bar does not jump when the state flips.
        self.toggle.setText("Stop transcription")
        self.toggle.setMinimumWidth(self.toggle.sizeHint().width() + 32)  # + bold when checked
        self.toggle.setText("Start transcription")
        self.locale = LocaleCombo(self)
        self.locale.setAccessibleName("Transcription language")
        self.locale.setToolTip(LOCALE_TIP)
        self.locale.locale_chosen.connect(self.locale_chosen)
        row.addWidget(self.locale, 1)
        # Call intelligence for the call in view (or, with none, for new calls).
        self.intelligence = QToolButton(self)
        self.intelligence.setText("Intelligence")
        self.intelligence.setObjectName("IntelligenceButton")
        self.intelligence.setAccessibleName("Call intelligence")
        self.intelligence.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.intelligence)
        self.sentiment_action = menu.addAction("&Sentiment of each phrase")
        self.sentiment_action.setCheckable(True)
        self.redaction_action = menu.addAction("&Redact personal data (by the service)")
        self.redaction_action.setCheckable(True)
        self.detect_action = menu.addAction("&Detect the language among…")
        self.sentiment_action.triggered.connect(self._toggled)
        self.redaction_action.triggered.connect(self._toggled)
        self.detect_action.triggered.connect(self.detect_requested)
        self.intelligence.setMenu(menu)
        self.intelligence.setAutoRaise(True)
        self._intelligence = IntelligenceSettings()
        self.status = QLabel("", self)
        self.status.setObjectName("ConfirmedLocale")
        self.status.setAccessibleName("Transcription status")
        status_row = QHBoxLayout()
        status_row.setSpacing(8)
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.intelligence)
        outer.addLayout(status_row)
        self._active = False
        self._allowed_start = (False, "Place or answer a call first.")
        self._allowed_stop = (False, "")
        self._apply()

    def set_intelligence(self, settings: IntelligenceSettings, *, for_call: bool) -> None:
        """What the call in view asks the service for (``for_call``), else what new calls
        will."""
        self._intelligence = settings
        self.sentiment_action.setChecked(settings.sentiment)
        self.redaction_action.setChecked(settings.service_redaction)
        languages = ", ".join(settings.locales)
        self.detect_action.setText(
            f"&Detect the language among… ({languages})"
            if languages
            else "&Detect the language among…"
        )
        on = [
            name
            for name, flag in (
                ("language detection", bool(settings.locales)),
                ("sentiment", settings.sentiment),
                ("service redaction", settings.service_redaction),
            )
            if flag
        ]
        whose = "this call" if for_call else "new calls"
        self.intelligence.setToolTip(
            f"Call intelligence for {whose}: {', '.join(on) if on else 'off'}"
        )
        self.intelligence.setText(f"Intelligence ({len(on)})" if on else "Intelligence")

    def _toggled(self) -> None:
        s = self._intelligence
        self.intelligence_changed.emit(
            IntelligenceSettings(
                s.locales,
                self.sentiment_action.isChecked(),
                self.redaction_action.isChecked(),
                s.end_call_summary,
            )
        )

    def retheme(self) -> None:
        s = current_scheme()
        self._icon_start = icon("transcribe", s.text, s.muted)
        self._icon_stop = icon("stop", s.base, s.muted)
        self._apply()

    def _clicked(self) -> None:
        # The button reflects state, not clicks: the state update re-checks it.
        self.toggle.setChecked(self._active)
        if self._active:
            self.stop_requested.emit()
        else:
            self.start_requested.emit()

    def set_state(
        self,
        transcription: TranscriptionState,
        *,
        can_start: tuple[bool, str],
        can_stop: tuple[bool, str],
        requested_locale: str | None,
        confirmed_locale: str | None,
        failed: bool = False,
    ) -> None:
        self._active = transcription.running
        self._allowed_start = can_start
        self._allowed_stop = can_stop
        if requested_locale and self.locale.locale() is None:
            self.locale.set_locale(requested_locale)
        state = TRANSCRIPTION_TEXT[transcription]
        if confirmed_locale:
            text = f"{state} · confirmed {loc.display_name(confirmed_locale)} ({confirmed_locale})"
            if requested_locale and requested_locale != confirmed_locale and self._active:
                if failed:
                    text += f" · {requested_locale} was not applied (see the event log)"
                else:
                    text += f" · switching to {requested_locale}…"
        elif self._active and requested_locale:
            text = f"{state} · waiting for the service to confirm {requested_locale}"
        else:
            text = state
        self.status.setText(text)
        colour = {
            TranscriptionState.ACTIVE: current_scheme().ok,
            TranscriptionState.FAILED: current_scheme().bad,
        }.get(transcription)
        self.status.setStyleSheet(f"color: {colour};" if colour else "")
        self._apply()

    def set_locale_allowed(self, allowed: bool, why: str) -> None:
        """A joined call's language cannot change: the list says so instead of failing."""
        self.locale.setEnabled(allowed)
        self.locale.setToolTip(LOCALE_TIP if allowed else why)

    def _apply(self) -> None:
        if self._active:
            ok, why = self._allowed_stop
            self.toggle.setText("Stop transcription")
            self.toggle.setIcon(self._icon_stop)
            self.toggle.setChecked(True)
            self.toggle.setToolTip("Stop transcription (Ctrl+T)" if ok else why)
        else:
            ok, why = self._allowed_start
            self.toggle.setText("Start transcription")
            self.toggle.setIcon(self._icon_start)
            self.toggle.setChecked(False)
            self.toggle.setToolTip("Start transcription (Ctrl+T)" if ok else why)
        self.toggle.setEnabled(ok)

    @property
    def reason(self) -> str:
        """Why the toggle is disabled (empty when enabled)."""
        ok, why = self._allowed_stop if self._active else self._allowed_start
        return "" if ok else why
