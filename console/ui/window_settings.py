"""The main window's preferences: the Settings dialog and what its changes do at once (theme,
confidence colours, default locale), the window layout kept per data folder, and Help."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt
from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import QApplication, QMessageBox

from console.call.state import Notice
from console.config import Preferences
from console.doctor.live import LiveDoctor
from console.launch import alert_rules_from, intelligence_from
from console.privacy import journal_options
from console.ui.about import AboutDialog
from console.ui.icons import retint
from console.ui.privacy_settings import encryption_note
from console.ui.settings_dialog import SettingsDialog
from console.ui.theme import apply_theme

if TYPE_CHECKING:
    from console.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# Settings that take effect only when the console starts again.
_CONNECTION_PREFS = (
    "profile",
    "cognitive_services_endpoint",
    "caller_id",
    "public_callback_base",
    "public_websocket_base",
    "acs_resource_id",
    "callback_port",
    "ws_port",
    "ca_cert",
)
# Settings of the autosave journal: they apply from the next call.
_JOURNAL_PREFS = ("journaling", "redact_at_rest", "retention_days")


class WindowSettings(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._w = window
        hints = QGuiApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._system_scheme_changed)

    def open_dialog(self) -> None:
        w = self._w
        # Test connection runs the doctor's checks on this console's own listeners.
        tester = LiveDoctor(w.runtime, w.secrets) if w.runtime is not None else None
        note = ""
        if w.runtime is not None:
            options = w.runtime.journal_options
            note = encryption_note(options.key is not None, options.unencrypted_note or "")
        dialog = SettingsDialog(w.prefs, w.secrets, w, tester=tester, encryption_note=note)
        if dialog.exec() and dialog.result_prefs is not None:
            self.apply(dialog.result_prefs)

    def apply(self, prefs: Preferences) -> None:
        w = self._w
        old, w.prefs = w.prefs, prefs
        self.save_prefs()
        app = QApplication.instance()
        if prefs.theme != old.theme and isinstance(app, QApplication):
            apply_theme(app, prefs.theme)
            self.retheme()
        w.transcript_view.set_thresholds(prefs.warn_confidence, prefs.critical_confidence)
        if w.session is None or not w.session.state.call.live:
            w.transcription.locale.set_locale(prefs.default_locale)
        if w.runtime is not None:  # from the next call on
            w.runtime.speech_model_endpoint_id = prefs.speech_model_endpoint_id or None
            if any(getattr(old, k) != getattr(prefs, k) for k in _JOURNAL_PREFS):
                w.runtime.journal_options = journal_options(prefs, w.data_dir)
            # Call intelligence and alert rules: for new calls (the menu changes the one in
            # view); the alert rules apply to every call from its next Final.
            w.runtime.intelligence = intelligence_from(prefs)
            rules = alert_rules_from(prefs)
            w.runtime.alert_rules = rules
            for entry in w.calls.entries:
                entry.session.set_alert_rules(rules)
            w.rerender()  # the panel's menu shows what new calls ask for
        if any(getattr(old, k) != getattr(prefs, k) for k in _CONNECTION_PREFS):
            text = "Connection settings take effect the next time the console starts."
            w.add_notice(Notice(time.time(), "info", "Settings saved", text))

    def save_prefs(self) -> None:
        try:
            self._w.prefs.save(self._w.data_dir)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def _system_scheme_changed(self, *_args: object) -> None:
        app = QApplication.instance()
        if self._w.prefs.theme == "system" and isinstance(app, QApplication):
            apply_theme(app, "system")
            self.retheme()

    def retheme(self) -> None:
        """Repaint everything that holds theme colours of its own."""
        w = self._w
        retint()
        w.transcription.retheme()
        w.transcript_view.restyle()
        for win in w.files.review_windows:
            win.view.restyle()
        w.rerender()

    # --- the window's layout, per data folder (--data-dir isolates it too) ----------------------
    def _layout(self) -> QSettings:
        return QSettings(str(self._w.data_dir / "window.ini"), QSettings.Format.IniFormat)

    def restore_layout(self) -> None:
        if not (self._w.data_dir / "window.ini").exists():
            return
        qs = self._layout()
        geometry, state = qs.value("geometry"), qs.value("state")
        if isinstance(geometry, QByteArray):
            self._w.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self._w.restoreState(state)

    def save_layout(self) -> None:
        qs = self._layout()
        qs.setValue("geometry", self._w.saveGeometry())
        qs.setValue("state", self._w.saveState())
        qs.sync()

    # --- help ---------------------------------------------------------------------------------
    def about(self) -> AboutDialog:
        w = self._w
        folders = {
            "Data folder": w.data_dir,
            "Transcripts": w.files.save_dir or w.data_dir / "transcripts",
            "Log file": w.log_path,
        }
        dialog = AboutDialog(folders, w)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_shortcuts(self) -> None:
        native = QKeySequence.SequenceFormat.NativeText
        rows: list[str] = []
        for act in self._w.actions():
            if act.shortcut().isEmpty():
                continue
            keys, text = act.shortcut().toString(native), act.text().replace("&", "")
            group = act.property("shortcut_group")
            if group:  # a numbered family (Alt+1 … Alt+9) is one row
                if any(r.endswith(group) for r in rows):
                    continue
                keys, text = keys.rstrip("0123456789") + "1…9", group
            rows.append(f"{keys:<18} {text}")
        box = QMessageBox(QMessageBox.Icon.NoIcon, "Keyboard shortcuts", "\n".join(rows), self._w)
        box.setStyleSheet("QLabel { font-family: 'DejaVu Sans Mono', monospace; }")
        box.exec()
