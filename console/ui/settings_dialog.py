"""Settings: profile, Azure resource details, default locale, confidence thresholds, theme,
and whether calls stream their audio (for the level meters).

Plain preferences go to :class:`console.config.Preferences` (settings.json in the data dir). The
Azure connection string goes to the system keyring through :class:`console.config.SecretStore`;
it is never put in the preferences, a log or a tooltip. Without a keyring the operator is told
so and can keep the string for this session only.

Given a :class:`ConnectionTester` (the running console's, ``console.doctor.live.LiveDoctor``),
the dialog also shows the Event Grid URL (Copy, Rotate) and runs **Test connection**: the
checks of ``acs-console doctor`` on the values in the form, shown as the same
``PASS|WARN|FAIL`` lines.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.config import Preferences, SecretStore, SecretStoreError
from console.doctor.live import EventGridView
from console.doctor.result import DoctorReport
from console.ui.connection_check import ConnectionCheckPage, ConnectionTester
from console.ui.icons import themed
from console.ui.intelligence_settings import IntelligencePage
from console.ui.locale_combo import LocaleCombo
from console.ui.privacy_settings import PrivacyPage
from console.ui.theme import current_scheme

log = logging.getLogger(__name__)

TUNNEL_NOTE = (
    "Azure must reach this console over the internet: forward the two ports below with an "
    "anonymous dev tunnel (devtunnel create --allow-anonymous; devtunnel port create -p 8080, "
    "and -p 8081; devtunnel host) and paste its https:// address for the callback port and its "
    "wss:// address for the WebSocket port."
)
EVENTGRID_NOTE = (
    "For incoming calls, subscribe the resource's IncomingCall event (Event Grid, webhook, "
    "either schema) to this URL."
)
ROTATED_NOTE = (
    "A new Event Grid URL: update the Event Grid subscription to it. The old URL is refused "
    "from now on."
)


AUDIO_NOTE = (
    "Each speaker's pane then shows a live audio level. With Azure, audio streaming is billed "
    "per minute and takes about 350 kbit/s of the tunnel's bandwidth per speaker. Applies from "
    "the next call."
)


def _buddy(text: str, field: QWidget) -> QLabel:
    """A form label whose mnemonic focuses ``field`` (a row given as a layout gets none)."""
    label = QLabel(text)
    label.setBuddy(field)
    return label


def _fill_width(label: QLabel) -> None:
    """A wrapped note in a form's field column takes the column's width (a label's own size
    hint is narrow, and the row would then be too short for the wrapped lines)."""
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)


def _note(text: str, parent: QWidget) -> QLabel:
    """A wrapped note for a form row (wrapping set before the text, so its height follows)."""
    label = QLabel(parent)
    label.setWordWrap(True)
    _fill_width(label)
    label.setText(text)
    return label


class SettingsDialog(QDialog):
    def __init__(
        self,
        prefs: Preferences,
        secrets: SecretStore,
        parent: QWidget | None = None,
        *,
        locales: list[str] | None = None,
        tester: ConnectionTester | None = None,
        encryption_note: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self.setMinimumWidth(680)
        self._prefs = prefs
        self._secrets = secrets
        self._tester = tester
        self.result_prefs: Preferences | None = None
        s = current_scheme()
        layout = QVBoxLayout(self)
        # Pages keep the dialog short enough for a laptop screen.
        self.tabs = QTabWidget(self)
        layout.addWidget(self.tabs)
        connection_page = QWidget(self.tabs)
        connection = QVBoxLayout(connection_page)
        check_page = QWidget(self.tabs)
        checking = QVBoxLayout(check_page)
        transcript_page = QWidget(self.tabs)
        transcript = QVBoxLayout(transcript_page)

        # --- profile ---
        profile_box = QGroupBox("Where calls go", self)
        pl = QHBoxLayout(profile_box)
        self.local_radio = QRadioButton("&Local emulator (no Azure account needed)", profile_box)
        self.azure_radio = QRadioButton("&Azure Communication Services", profile_box)
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.azure_radio)
        pl.addWidget(self.local_radio)
        pl.addWidget(self.azure_radio)
        pl.addStretch(1)
        connection.addWidget(profile_box)

        # --- azure ---
        self.azure_box = QGroupBox("Azure resource", self)
        form = QFormLayout(self.azure_box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.connection_string = QLineEdit(self.azure_box)
        self.connection_string.setEchoMode(QLineEdit.EchoMode.Password)
        self.connection_string.setPlaceholderText(
            "endpoint=https://….communication.azure.com/;accesskey=…"
        )
        self.connection_string.setAccessibleName("ACS connection string")
        self.connection_string.setToolTip("Stored in the system keyring, never in settings files.")
        self.show_secret = QCheckBox("Show", self.azure_box)
        self.show_secret.toggled.connect(
            lambda on: self.connection_string.setEchoMode(
                QLineEdit.EchoMode.Normal if on else QLineEdit.EchoMode.Password
            )
        )
        cs_row = QHBoxLayout()
        cs_row.addWidget(self.connection_string, 1)
        cs_row.addWidget(self.show_secret)
        form.addRow(_buddy("&Connection string:", self.connection_string), cs_row)
        self.keyring_note = QLabel("", self.azure_box)
        self.keyring_note.setWordWrap(True)
        _fill_width(self.keyring_note)
        self.session_only = QCheckBox("Keep it for this session only (not stored)", self.azure_box)
        form.addRow("", self.keyring_note)
        form.addRow("", self.session_only)

        self.cognitive = QLineEdit(self.azure_box)
        self.cognitive.setPlaceholderText("https://my-speech.cognitiveservices.azure.com/")
        self.cognitive.setAccessibleName("Cognitive Services endpoint")
        form.addRow("Cognitive &Services endpoint:", self.cognitive)
        self.speech_model = QLineEdit(self.azure_box)
        self.speech_model.setPlaceholderText("optional: a Custom Speech model's endpoint id")
        self.speech_model.setAccessibleName("Custom Speech model endpoint id")
        self.speech_model.setToolTip(
            "Sent with every transcription request, from the next call on (empty: the base model)."
        )
        form.addRow("Custom Speech &model:", self.speech_model)
        self.caller_id = QLineEdit(self.azure_box)
        self.caller_id.setPlaceholderText("+14255550199 (needed to call phone numbers)")
        self.caller_id.setAccessibleName("Caller id")
        form.addRow("Caller &id:", self.caller_id)
        self.callback_base = QLineEdit(self.azure_box)
        self.callback_base.setPlaceholderText("https://abc123-8080.euw.devtunnels.ms")
        self.callback_base.setAccessibleName("Public callback base URL")
        form.addRow("Public call&back URL:", self._with_copy(self.callback_base))
        self.ws_base = QLineEdit(self.azure_box)
        self.ws_base.setPlaceholderText("wss://abc123-8081.euw.devtunnels.ms")
        self.ws_base.setAccessibleName("Public WebSocket base URL")
        form.addRow("Public &WebSocket URL:", self._with_copy(self.ws_base))
        note = _note(TUNNEL_NOTE, self.azure_box)
        note.setStyleSheet(f"color: {s.muted};")
        form.addRow("", note)
        ports = QHBoxLayout()
        self.callback_port = QSpinBox(self.azure_box)
        self.ws_port = QSpinBox(self.azure_box)
        for spin, name in ((self.callback_port, "Callback port"), (self.ws_port, "WebSocket port")):
            spin.setRange(0, 65535)
            spin.setSpecialValueText("any free port")
            spin.setAccessibleName(name)
        ports.addWidget(QLabel("callbacks", self.azure_box))
        ports.addWidget(self.callback_port)
        ports.addSpacing(12)
        ports.addWidget(QLabel("WebSocket", self.azure_box))
        ports.addWidget(self.ws_port)
        ports.addStretch(1)
        form.addRow(_buddy("Listener &ports:", self.callback_port), ports)
        self.resource_id = QLineEdit(self.azure_box)
        self.resource_id.setPlaceholderText("00000000-0000-0000-0000-000000000000")
        self.resource_id.setAccessibleName("ACS immutable resource id")
        self.resource_id.setToolTip(
            "The ACS resource's immutable id (Azure portal, resource JSON view). ACS puts it in "
            "the audience of the tokens it signs; the console rejects tokens for anything else."
        )
        form.addRow("ACS immutable &resource id:", self.resource_id)
        self.ca_cert = QLineEdit(self.azure_box)
        self.ca_cert.setPlaceholderText("optional: a TLS-inspecting proxy's CA (PEM file)")
        self.ca_cert.setAccessibleName("Trusted CA certificate")
        self.ca_cert.setToolTip(
            "Only behind a proxy that re-signs HTTPS: the ACS endpoint and the keys of the tokens "
            "ACS signs are then checked against this CA instead of the system's."
        )
        browse = QToolButton(self.azure_box)
        browse.setText("Browse…")
        browse.setAccessibleName("Choose the trusted CA certificate file")
        browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_cert, 1)
        ca_row.addWidget(browse)
        form.addRow(_buddy("Trusted C&A certificate:", self.ca_cert), ca_row)

        self.eventgrid_url = QLineEdit(self.azure_box)
        self.eventgrid_url.setReadOnly(True)
        self.eventgrid_url.setAccessibleName("Event Grid URL")
        self.eventgrid_url.setPlaceholderText("set the public callback URL first")
        eg_row = QHBoxLayout()
        eg_row.setSpacing(4)
        eg_row.addWidget(self.eventgrid_url, 1)
        self.copy_eventgrid = QToolButton(self.azure_box)
        themed(self.copy_eventgrid, "copy")
        self.copy_eventgrid.setToolTip("Copy")
        self.copy_eventgrid.setAccessibleName("Copy Event Grid URL")
        self.copy_eventgrid.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.eventgrid_url.text())
        )
        self.rotate_eventgrid = QToolButton(self.azure_box)
        self.rotate_eventgrid.setText("Rotate")
        self.rotate_eventgrid.setAccessibleName("Rotate the Event Grid URL")
        self.rotate_eventgrid.setToolTip(
            "Make a new Event Grid URL (the old one is refused from then on); the Event Grid "
            "subscription must then be updated."
        )
        self.rotate_eventgrid.clicked.connect(self._rotate_eventgrid)
        eg_row.addWidget(self.copy_eventgrid)
        eg_row.addWidget(self.rotate_eventgrid)
        form.addRow(_buddy("&Event Grid URL:", self.eventgrid_url), eg_row)
        self.eventgrid_note = _note(EVENTGRID_NOTE, self.azure_box)
        self.eventgrid_note.setStyleSheet(f"color: {s.muted};")
        form.addRow("", self.eventgrid_note)
        connection.addWidget(self.azure_box)
        connection.addStretch(1)

        # --- connection check ---
        self.check = ConnectionCheckPage(
            check_page, tester, lambda: (self._form_prefs(), self.connection_string.text())
        )
        self.test_button, self.test_status = self.check.test_button, self.check.test_status
        self.test_results = self.check.test_results
        checking.addWidget(self.check, 1)

        # --- transcript ---
        tbox = QGroupBox("Transcript", self)
        tf = QFormLayout(tbox)
        self.locale = LocaleCombo(tbox, locales=locales)
        self.locale.setAccessibleName("Default transcription language")
        tf.addRow("Default &language:", self.locale)
        self.warn = QDoubleSpinBox(tbox)
        self.crit = QDoubleSpinBox(tbox)
        for spin, name in ((self.warn, "Warning threshold"), (self.crit, "Critical threshold")):
            spin.setRange(0.0, 1.0)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setAccessibleName(name)
        tf.addRow("Highlight confidence below (&amber):", self.warn)
        tf.addRow("Highlight confidence below (&red):", self.crit)
        self.theme = QComboBox(tbox)
        self.theme.addItem("Follow system", "system")
        self.theme.addItem("Light", "light")
        self.theme.addItem("Dark", "dark")
        self.theme.setAccessibleName("Theme")
        tf.addRow("&Theme:", self.theme)
        transcript.addWidget(tbox)

        # --- call audio ---
        abox = QGroupBox("Call audio", self)
        al = QVBoxLayout(abox)
        self.stream_audio_local = QCheckBox(
            "Stream call audio from the local &emulator (live level meters)", abox
        )
        self.stream_audio_local.setAccessibleName("Stream call audio with the local emulator")
        self.stream_audio_azure = QCheckBox("Stream call audio from A&zure", abox)
        self.stream_audio_azure.setAccessibleName("Stream call audio with Azure")
        audio_note = QLabel(AUDIO_NOTE, abox)
        audio_note.setWordWrap(True)
        audio_note.setStyleSheet(f"color: {s.muted};")
        self.stream_audio_azure.setToolTip(AUDIO_NOTE)
        al.addWidget(self.stream_audio_local)
        al.addWidget(self.stream_audio_azure)
        al.addWidget(audio_note)
        transcript.addWidget(abox)
        transcript.addStretch(1)
        self.tabs.addTab(connection_page, "Connection")
        self.tabs.addTab(check_page, "Test connection")
        self.tabs.addTab(transcript_page, "Transcript and audio")
        self.intelligence = IntelligencePage(self.tabs)
        self.tabs.addTab(self.intelligence, "Call intelligence")
        self.privacy = PrivacyPage(self.tabs, encryption_note=encryption_note)
        self.tabs.addTab(self.privacy, "Privacy")

        self.error = QLabel("", self)
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {s.bad};")
        self.error.setAccessibleName("Settings problem")
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

        self.local_radio.toggled.connect(self._sync_enabled)
        self.callback_base.textChanged.connect(self._show_eventgrid)
        self.warn.valueChanged.connect(self._check_thresholds)
        self.crit.valueChanged.connect(self._check_thresholds)
        self._load()
        # Its natural size: a first show would otherwise squeeze it to two thirds of the
        # screen's height, cutting wrapped notes short.
        self.resize(self.sizeHint())

    def _with_copy(self, edit: QLineEdit) -> QWidget:
        box = QWidget(self)
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(edit, 1)
        btn = QToolButton(box)
        themed(btn, "copy")
        btn.setToolTip("Copy")
        btn.setAccessibleName(f"Copy {edit.accessibleName()}")
        btn.clicked.connect(lambda: QGuiApplication.clipboard().setText(edit.text().strip()))
        row.addWidget(btn)
        return box

    def _load(self) -> None:
        p = self._prefs
        (self.azure_radio if p.profile == "azure" else self.local_radio).setChecked(True)
        self.cognitive.setText(p.cognitive_services_endpoint)
        self.speech_model.setText(p.speech_model_endpoint_id)
        self.caller_id.setText(p.caller_id)
        self.callback_base.setText(p.public_callback_base)
        self.ws_base.setText(p.public_websocket_base)
        self.resource_id.setText(p.acs_resource_id)
        self.callback_port.setValue(p.callback_port)
        self.ws_port.setValue(p.ws_port)
        self.locale.set_locale(p.default_locale)
        self.warn.setValue(p.warn_confidence)
        self.crit.setValue(p.critical_confidence)
        self.theme.setCurrentIndex(max(0, self.theme.findData(p.theme)))
        self.stream_audio_local.setChecked(p.stream_audio_local)
        self.stream_audio_azure.setChecked(p.stream_audio_azure)
        self.ca_cert.setText(p.ca_cert)
        self.privacy.load(p)
        self.intelligence.load(p)
        self._show_eventgrid()
        ok, why = self._secrets.available()
        if ok:
            self.keyring_note.setText(
                "Stored in the system keyring; never written to files or logs."
            )
            self.session_only.setChecked(False)
        else:
            self.keyring_note.setText(why)
            self.keyring_note.setStyleSheet(f"color: {current_scheme().warn_line};")
            self.session_only.setChecked(True)
            self.session_only.setEnabled(False)
        try:
            has_secret = bool(self._secrets.get())
        except SecretStoreError as exc:
            has_secret = False
            self.keyring_note.setText(str(exc))
        if has_secret:
            self.connection_string.setPlaceholderText("(stored — leave empty to keep it)")
        self._sync_enabled()

    def _sync_enabled(self) -> None:
        self.azure_box.setEnabled(self.azure_radio.isChecked())

    # --- the Event Grid URL --------------------------------------------------------------------

    def _show_eventgrid(self, *_args: object, view: EventGridView | None = None) -> None:
        if self._tester is None:
            self.eventgrid_url.setPlaceholderText("shown while the console is running")
            self.rotate_eventgrid.setEnabled(False)
            self.copy_eventgrid.setEnabled(False)
            return
        base = self.callback_base.text()
        view = view or self._tester.eventgrid(base)
        self.eventgrid_url.setText(view.url)
        self.eventgrid_url.setCursorPosition(0)
        self.copy_eventgrid.setEnabled(bool(view.url))
        if view.persistent:
            self._set_eventgrid_note(EVENTGRID_NOTE, "muted")
        else:
            self._set_eventgrid_note(f"{EVENTGRID_NOTE} {view.note}", "warn_line")

    def _set_eventgrid_note(self, text: str, role: str) -> None:
        self.eventgrid_note.setText(text)
        self.eventgrid_note.setStyleSheet(f"color: {getattr(current_scheme(), role)};")

    def _rotate_eventgrid(self) -> None:
        if self._tester is None:
            return
        view = self._tester.rotate_eventgrid(self.callback_base.text())
        self._show_eventgrid(view=view)
        note = ROTATED_NOTE if view.persistent else f"{ROTATED_NOTE} {view.note}"
        self._set_eventgrid_note(note, "warn_line")

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trusted CA certificate", self.ca_cert.text(), "Certificates (*.pem *.crt *.cer)"
        )
        if path:
            self.ca_cert.setText(path)

    # --- Test connection -----------------------------------------------------------------------

    def test_connection(self) -> asyncio.Task[None] | None:
        """Run the checks on the form's values (the task, for callers that wait for it)."""
        return self.check.test_connection()

    @property
    def last_report(self) -> DoctorReport | None:
        return self.check.last_report

    def done(self, result: int) -> None:
        self.check.cancel()  # a check still running must not write into the closed dialog
        super().done(result)

    def _check_thresholds(self) -> bool:
        if self.crit.value() > self.warn.value():
            self.error.setText("The red threshold must not be above the amber threshold.")
            return False
        self.error.setText("")
        return True

    def _form_prefs(self) -> Preferences:
        """The preferences as the form holds them now (unchecked)."""
        prefs = copy.deepcopy(self._prefs)
        prefs.profile = "azure" if self.azure_radio.isChecked() else "local"
        prefs.cognitive_services_endpoint = self.cognitive.text().strip()
        prefs.speech_model_endpoint_id = self.speech_model.text().strip()
        prefs.caller_id = self.caller_id.text().strip()
        prefs.public_callback_base = self.callback_base.text().strip().rstrip("/")
        prefs.public_websocket_base = self.ws_base.text().strip().rstrip("/")
        prefs.acs_resource_id = self.resource_id.text().strip()
        prefs.callback_port = self.callback_port.value()
        prefs.ws_port = self.ws_port.value()
        prefs.default_locale = self.locale.locale() or prefs.default_locale
        prefs.warn_confidence = round(self.warn.value(), 2)
        prefs.critical_confidence = round(self.crit.value(), 2)
        prefs.theme = self.theme.currentData() or "system"
        prefs.stream_audio_local = self.stream_audio_local.isChecked()
        prefs.stream_audio_azure = self.stream_audio_azure.isChecked()
        prefs.ca_cert = self.ca_cert.text().strip()
        self.privacy.apply(prefs)
        self.intelligence.apply(prefs)
        return prefs

    def accept(self) -> None:
        if not self._check_thresholds():
            return
        if why := self.intelligence.check():
            self.tabs.setCurrentWidget(self.intelligence)
            self.error.setText(why)
            return
        prefs = self._form_prefs()
        if prefs.ca_cert and not Path(prefs.ca_cert).expanduser().is_file():
            self.error.setText(f"The trusted CA certificate {prefs.ca_cert} is not a file.")
            return
        for url, scheme_ok, label in (
            (prefs.public_callback_base, ("https://",), "callback URL"),
            (prefs.public_websocket_base, ("wss://",), "WebSocket URL"),
        ):
            if prefs.profile == "azure" and url and not url.startswith(scheme_ok):
                self.error.setText(f"The public {label} must start with {scheme_ok[0]}")
                return
        secret = self.connection_string.text().strip()
        if secret:
            if "endpoint=" not in secret.lower() or "accesskey=" not in secret.lower():
                self.error.setText(
                    "That is not an ACS connection string: it needs endpoint=… and accesskey=… "
                    "(Azure portal → your Communication Services resource → Keys)."
                )
                return
            try:
                self._secrets.set(secret, session_only=self.session_only.isChecked())
            except SecretStoreError as exc:
                self.error.setText(str(exc))
                self.session_only.setChecked(True)
                return
        self.result_prefs = prefs
        super().accept()
