"""Settings: Azure details, the connection string in the keyring only, thresholds, theme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QToolButton

from console.config import (
    KEYRING_CONNECTION_STRING,
    KEYRING_SERVICE,
    Preferences,
    SecretStore,
    keyring_username,
)
from console.ui.main_window import MainWindow
from console.ui.settings_dialog import SettingsDialog
from console.ui.theme import apply_theme
from tests.memory_keyring import MemoryKeyring

SECRET = "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0LWtleS1mb3ItdGVzdHM="


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _fill_azure(dialog: SettingsDialog) -> None:
    dialog.azure_radio.setChecked(True)
    dialog.connection_string.setText(SECRET)
    dialog.cognitive.setText("https://contoso-speech.cognitiveservices.azure.com/")
    dialog.caller_id.setText("+14255550199")
    dialog.callback_base.setText("https://abc123-8080.euw.devtunnels.ms/")
    dialog.ws_base.setText("wss://abc123-8081.euw.devtunnels.ms")
    dialog.resource_id.setText("8d0a7c59-5b4e-4a57-9a0c-2f1f0e3b6c11")
    dialog.callback_port.setValue(8080)
    dialog.ws_port.setValue(8081)
    dialog.speech_model.setText(" 7f6e5d4c-3b2a-4918-8d7c-6b5a49382716 ")


def test_azure_settings_keep_the_connection_string_in_the_keyring_only(
    app: QApplication, qtbot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    window = MainWindow(None, prefs=Preferences(), data_dir=tmp_path)
    qtbot.addWidget(window)
    dialog = SettingsDialog(window.prefs, window.secrets, window)
    assert not dialog.azure_box.isEnabled()  # local emulator needs none of it
    _fill_azure(dialog)
    assert dialog.azure_box.isEnabled()
    assert dialog.keyring_note.text().startswith("Stored in the system keyring")
    dialog.accept()
    prefs = dialog.result_prefs
    assert prefs is not None
    window.settings.apply(prefs)
    # Kept per data folder: --data-dir isolates the keyring entry too.
    entry = keyring_username(KEYRING_CONNECTION_STRING, tmp_path)
    assert memory_keyring.get_password(KEYRING_SERVICE, entry) == SECRET
    assert memory_keyring.get_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING) is None
    saved = (tmp_path / "settings.json").read_text(encoding="utf-8")
    assert "accesskey" not in saved
    assert "c2VjcmV0" not in saved
    reloaded = Preferences.load(tmp_path)
    assert reloaded.profile == "azure"
    assert reloaded.public_callback_base == "https://abc123-8080.euw.devtunnels.ms"
    assert reloaded.acs_resource_id == "8d0a7c59-5b4e-4a57-9a0c-2f1f0e3b6c11"
    assert (reloaded.callback_port, reloaded.ws_port) == (8080, 8081)
    assert reloaded.speech_model_endpoint_id == "7f6e5d4c-3b2a-4918-8d7c-6b5a49382716"
    assert window.event_log.rows()[-1][1] == "Settings saved"
    # Reopened, the dialog never shows the secret back.
    again = SettingsDialog(reloaded, window.secrets, window)
    assert again.connection_string.text() == ""
    assert "stored" in again.connection_string.placeholderText()
    assert again.speech_model.text() == "7f6e5d4c-3b2a-4918-8d7c-6b5a49382716"


def test_copy_buttons_put_the_public_urls_on_the_clipboard(
    app: QApplication, qtbot, memory_keyring: MemoryKeyring
) -> None:
    dialog = SettingsDialog(Preferences(), SecretStore())
    qtbot.addWidget(dialog)
    _fill_azure(dialog)
    buttons = {b.accessibleName(): b for b in dialog.findChildren(QToolButton)}
    buttons["Copy Public WebSocket base URL"].click()
    assert QGuiApplication.clipboard().text() == "wss://abc123-8081.euw.devtunnels.ms"
    buttons["Copy Public callback base URL"].click()
    assert QGuiApplication.clipboard().text() == "https://abc123-8080.euw.devtunnels.ms/"
    assert any("devtunnel host" in label.text() for label in dialog.findChildren(QLabel))


def test_without_a_keyring_the_string_is_kept_for_this_session_only(
    app: QApplication, qtbot, no_keyring: None
) -> None:
    secrets = SecretStore()
    dialog = SettingsDialog(Preferences(), secrets)
    qtbot.addWidget(dialog)
    assert "No system keyring" in dialog.keyring_note.text()
    assert dialog.session_only.isChecked()
    assert not dialog.session_only.isEnabled()
    _fill_azure(dialog)
    dialog.accept()
    assert dialog.result_prefs is not None
    assert secrets.get() == SECRET


def test_bad_input_is_explained_and_not_saved(
    app: QApplication, qtbot, memory_keyring: MemoryKeyring
) -> None:
    dialog = SettingsDialog(Preferences(), SecretStore())
    qtbot.addWidget(dialog)
    dialog.warn.setValue(0.4)
    dialog.crit.setValue(0.6)
    dialog.accept()
    assert dialog.result_prefs is None
    assert "red threshold" in dialog.error.text()
    dialog.crit.setValue(0.3)
    _fill_azure(dialog)
    dialog.connection_string.setText("not a connection string")
    dialog.accept()
    assert dialog.result_prefs is None
    assert "endpoint=" in dialog.error.text()
    assert memory_keyring.get_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING) is None


def test_theme_and_thresholds_apply_at_once(
    app: QApplication, qtbot, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    window = MainWindow(None, prefs=Preferences(), data_dir=tmp_path)
    qtbot.addWidget(window)
    light = app.palette().color(QPalette.ColorRole.Base).lightness()
    prefs = Preferences(theme="dark", warn_confidence=0.9, critical_confidence=0.6)
    try:
        window.settings.apply(prefs)
        assert app.palette().color(QPalette.ColorRole.Base).lightness() < light
        assert "90%" in window.transcript_view.legend_label.text()
        assert "60%" in window.transcript_view.legend_label.text()
    finally:
        apply_theme(app, "light")
