"""Settings → Test connection: the doctor's checks on the form's values, through the running
console's own listeners (a real runtime on a real emulator), shown as PASS/WARN/FAIL lines;
and the Event Grid URL with Copy and Rotate."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

from console.config import Preferences, Profile, SecretStore
from console.doctor.live import LiveDoctor
from console.doctor.result import CHECK_NAMES
from console.emulator.server import Emulator, EmulatorConfig
from console.runtime import ConsoleRuntime
from console.ui.settings_dialog import SettingsDialog
from tests.gui.conftest import wait_until

# Where the screenshot goes when a person wants to look at it (else the test's tmp folder).
SCREENSHOT_DIR = os.environ.get("ACS_CONSOLE_SCREENSHOTS")


async def _run(dialog: SettingsDialog, qtbot: object) -> str:
    before = dialog.last_report
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert not dialog.test_button.isEnabled()  # one check at a time
    await wait_until(lambda: dialog.last_report is not before, 60, "the connection check")
    assert dialog.test_button.isEnabled()
    assert dialog.test_results.isVisible()
    return dialog.test_results.toPlainText()


def _shoot(dialog: SettingsDialog, tmp_path: Path, name: str) -> None:
    """Save the dialog as an operator sees it (for a person to look at)."""
    shots = Path(SCREENSHOT_DIR) if SCREENSHOT_DIR else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(shots / f"{name}.png"))


async def test_test_connection_shows_the_same_checks_as_the_doctor(
    app: QApplication, qtbot: object, tmp_path: Path
) -> None:
    # Closing the dialog must not end the loop under the runtime (as in the application).
    quits = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    try:
        await _check_in_dialog(qtbot, tmp_path)
    finally:
        app.setQuitOnLastWindowClosed(quits)


async def _check_in_dialog(qtbot: object, tmp_path: Path) -> None:
    config = EmulatorConfig(data_dir=tmp_path / "emulator", speed=8.0, answer_delay=0.5)
    async with Emulator(config) as emu:
        info = emu.info()
        async with ConsoleRuntime(Profile.local(info), data_dir=tmp_path) as runtime:
            secrets = SecretStore(tmp_path)
            dialog = SettingsDialog(Preferences(), secrets, tester=LiveDoctor(runtime, secrets))
            dialog.show()
            try:
                # The local profile, as the console runs it.
                dialog.tabs.setCurrentIndex(1)
                text = await _run(dialog, qtbot)
                lines = text.splitlines()
                assert [line.split(" ", 1)[0] for line in lines] == ["PASS"] * 9, text
                assert lines[0].startswith("PASS connection_string: endpoint https://127.0.0.1:")
                assert "Every check passed" in dialog.test_status.text()

                # The Azure profile typed in the form, aimed at the emulator through loopback
                # bases on the running listeners: passes, the bases are warnings.
                dialog.azure_radio.setChecked(True)
                dialog.connection_string.setText(info["connection_string"])
                dialog.ca_cert.setText(info["cert_path"])
                dialog.cognitive.setText("https://contoso-speech.cognitiveservices.azure.com/")
                dialog.caller_id.setText("+15550199")
                dialog.resource_id.setText(info["audience"])
                callback_base = f"http://127.0.0.1:{runtime.callbacks.port}"
                dialog.callback_base.setText(callback_base)
                dialog.ws_base.setText(f"ws://127.0.0.1:{runtime.transcripts.port}")
                text = await _run(dialog, qtbot)
                statuses = {
                    line.split(":", 1)[0].split(" ")[1]: line.split(" ", 1)[0]
                    for line in text.splitlines()
                }
                assert list(statuses) == list(CHECK_NAMES)
                assert statuses == {
                    **dict.fromkeys(CHECK_NAMES, "PASS"),
                    "callback_base": "WARN",
                    "websocket_base": "WARN",
                }, text
                assert info["connection_string"].split("accesskey=")[1] not in text

                # The Event Grid URL follows the callback base, and can be copied and rotated.
                url = dialog.eventgrid_url.text()
                assert url.startswith(f"{callback_base}/api/eventgrid/")
                assert url in text  # the same URL the check reports
                dialog.copy_eventgrid.click()
                assert QGuiApplication.clipboard().text() == url
                dialog.rotate_eventgrid.click()
                assert dialog.eventgrid_url.text() != url
                assert "update the Event Grid subscription" in dialog.eventgrid_note.text()

                _shoot(dialog, tmp_path, "settings-test-connection")
                dialog.tabs.setCurrentIndex(0)
                _shoot(dialog, tmp_path, "settings-connection")
                dialog.tabs.setCurrentIndex(1)

                # A base that reaches nothing: FAIL, and the fix under it.
                dialog.ws_base.setText(f"ws://127.0.0.1:{emu.port}")
                text = await _run(dialog, qtbot)
                assert "FAIL websocket_reachable: another server answered" in text
                assert "fix: Point the tunnel" in text
                assert "1 check(s) failed" in dialog.test_status.text()
            finally:
                dialog.done(0)
                dialog.deleteLater()


def test_without_a_running_console_the_check_is_unavailable(
    app: QApplication, qtbot: object
) -> None:
    dialog = SettingsDialog(Preferences(), SecretStore())
    qtbot.addWidget(dialog)  # type: ignore[attr-defined]
    assert not dialog.test_button.isEnabled()
    assert "while the console is running" in dialog.test_status.text()
    assert not dialog.rotate_eventgrid.isEnabled()
    assert dialog.test_connection() is None
