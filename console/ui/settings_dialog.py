"""Settings: profile, Azure resource details, default locale, confidence thresholds, theme,
and whether calls stream their audio (for the level meters).

Plain preferences go to :class:`console.config.Preferences` (settings.json in the data dir). The
Azure connection string goes to the system keyring through :class:`console.config.SecretStore`;
it is never put in the preferences, a log or a tooltip. Without a keyring the operator is told
so and can keep the string for this session only.
"""

from __future__ import annotations

import copy
import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.config import Preferences, SecretStore, SecretStoreError
from console.ui.icons import themed
from console.ui.locale_combo import LocaleCombo
from console.ui.theme import current_scheme

log = logging.getLogger(__name__)

TUNNEL_NOTE = (
    "Azure must reach this console over the internet. With a dev tunnel, forward the callback "
    "and WebSocket ports (for example <code>devtunnel host -p 8080 -p 8081 "
    "--allow-anonymous</code>) and paste the tunnel's https:// address for the callback port and "
    "its wss:// address for the WebSocket port. Fix the two ports below so the tunnel keeps "
    "pointing at them."
)


AUDIO_NOTE = (
    "Each speaker's pane then shows a live audio level. With Azure, audio streaming is billed "
    "per minute and takes about 350 kbit/s of the tunnel's bandwidth per speaker. Applies from "
    "the next call."
)


class SettingsDialog(QDialog):
    def __init__(
        self,
        prefs: Preferences,
        secrets: SecretStore,
        parent: QWidget | None = None,
        *,
        locales: list[str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setObjectName("SettingsDialog")
        self.setMinimumWidth(620)
        self._prefs = prefs
        self._secrets = secrets
        self.result_prefs: Preferences | None = None
        s = current_scheme()
        layout = QVBoxLayout(self)

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
        layout.addWidget(profile_box)

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
        form.addRow("&Connection string:", cs_row)
        self.keyring_note = QLabel("", self.azure_box)
        self.keyring_note.setWordWrap(True)
        self.session_only = QCheckBox("Keep it for this session only (not stored)", self.azure_box)
        form.addRow("", self.keyring_note)
        form.addRow("", self.session_only)

        self.cognitive = QLineEdit(self.azure_box)
        self.cognitive.setPlaceholderText("https://my-speech.cognitiveservices.azure.com/")
        self.cognitive.setAccessibleName("Cognitive Services endpoint")
        form.addRow("Cognitive &Services endpoint:", self.cognitive)
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
        note = QLabel(TUNNEL_NOTE, self.azure_box)
        note.setWordWrap(True)
        note.setTextFormat(Qt.TextFormat.RichText)
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
        form.addRow("Listener &ports:", ports)
        self.resource_id = QLineEdit(self.azure_box)
        self.resource_id.setPlaceholderText("00000000-0000-0000-0000-000000000000")
        self.resource_id.setAccessibleName("ACS immutable resource id")
        self.resource_id.setToolTip(
            "The ACS resource's immutable id (Azure portal, resource JSON view). ACS puts it in "
            "the audience of the tokens it signs; the console rejects tokens for anything else."
        )
        form.addRow("ACS immutable &resource id:", self.resource_id)
        layout.addWidget(self.azure_box)

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
        layout.addWidget(tbox)

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
        layout.addWidget(abox)

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
        self.warn.valueChanged.connect(self._check_thresholds)
        self.crit.valueChanged.connect(self._check_thresholds)
        self._load()

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

    def _check_thresholds(self) -> bool:
        if self.crit.value() > self.warn.value():
            self.error.setText("The red threshold must not be above the amber threshold.")
            return False
        self.error.setText("")
        return True

    def accept(self) -> None:
        if not self._check_thresholds():
            return
        prefs = copy.deepcopy(self._prefs)
        prefs.profile = "azure" if self.azure_radio.isChecked() else "local"
        prefs.cognitive_services_endpoint = self.cognitive.text().strip()
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
