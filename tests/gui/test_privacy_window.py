"""Privacy in the real window: Save with "Redact personal data" (remembered, and fixed on by
Settings), the Privacy settings page, "Delete this call's data", and recovery of journals kept
redacted or whose key is gone."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest

from console.call.state import CallState
from console.config import JournalKeyStore, Preferences
from console.privacy import unfinished_journals
from console.transcript.journal import Journal
from console.transcript.model import Transcript
from console.ui.files import RecoveryDialog
from console.ui.main_window import MainWindow
from console.ui.settings_dialog import SettingsDialog
from tests.gui.conftest import Console, place_and_transcribe, running_console, wait_until
from tests.gui.dialogs import Step, click, from_the_loop, type_name

SPELLED = "W H I T F I E L D"
TARGET = "+14255550100"


async def _call_until_spelled(console: Console, qtbot) -> None:
    session = await place_and_transcribe(console, qtbot, TARGET)
    await wait_until(
        lambda: any(SPELLED in p.text for p in session.transcript.finals), what="the spelling"
    )


async def _save_as(w: MainWindow, step: Step) -> None:
    await from_the_loop(w.acts.save_as.trigger, step, what="the save dialog")


async def test_save_with_redact_personal_data_masks_the_file_and_is_remembered(
    app, qtbot, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    async with running_console(tmp_path) as console:
        w = console.window
        await _call_until_spelled(console, qtbot)
        seen: list[tuple[bool, bool]] = []
        await _save_as(w, type_name(str(out / "masked.txt"), redact=True, seen_redact=seen))
        await wait_until(lambda: (out / "masked.txt").exists(), what="the redacted file")
        masked = (out / "masked.txt").read_text(encoding="utf-8")
        assert SPELLED not in masked
        assert "[SPELLED]" in masked
        assert "Redacted by the console" in masked
        assert "[ACCOUNT]" in masked  # "four four seven two, nine one zero, eight three"
        assert SPELLED in " ".join(p.text for p in w.session.transcript.finals), "copy only"
        assert any("[SPELLED]" in row[2] for row in w.event_log.rows())

        # The choice is remembered: the next Save As opens with it ticked.
        await _save_as(w, type_name(str(out / "plain.txt"), redact=False, seen_redact=seen))
        await wait_until(lambda: (out / "plain.txt").exists(), what="the plain file")
        assert SPELLED in (out / "plain.txt").read_text(encoding="utf-8")
        assert seen == [(False, True), (True, True)]

        # Settings ▸ Always redact: ticked and fixed, and the file is masked.
        w.settings.apply(_with(w.prefs, always_redact_saved=True))
        await _save_as(w, type_name(str(out / "always.txt"), seen_redact=seen))
        await wait_until(lambda: (out / "always.txt").exists(), what="the always-redacted file")
        assert seen[-1] == (True, False)
        assert SPELLED not in (out / "always.txt").read_text(encoding="utf-8")


def _with(prefs: Preferences, **changes: object) -> Preferences:
    return dataclasses.replace(prefs, **changes)


async def test_privacy_settings_turn_the_journal_off_from_the_next_call(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        w = console.window
        dialog = SettingsDialog(w.prefs, w.secrets, w)
        page = dialog.privacy
        assert page.journaling.isChecked()
        assert page.retention.value() == 7
        page.journaling.click()
        assert not page.retention.isEnabled(), "no journal, nothing to keep"
        page.always_redact.click()
        prefs = dialog._form_prefs()
        assert (prefs.journaling, prefs.always_redact_saved) == (False, True)
        dialog.deleteLater()
        w.settings.apply(prefs)
        assert not console.runtime.journal_options.enabled
        assert Preferences.load(tmp_path).journaling is False  # saved

        await _call_until_spelled(console, qtbot)
        assert w.session.journal is None
        assert not list((tmp_path / "journals").glob("*.jsonl"))


async def test_delete_this_calls_data_removes_its_journal_and_recent_target(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        w = console.window
        await _call_until_spelled(console, qtbot)
        session = w.session
        journal = session.journal.path
        assert journal.exists()
        assert TARGET in w.prefs.recent_targets
        assert not w.acts.delete_call.isEnabled(), "not while the call goes on"
        qtbot.mouseClick(w.call_controls.hang_up_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: session.state.call is CallState.DISCONNECTED, what="ended")
        assert w.acts.delete_call.isEnabled()
        yes = click("Yes", title="Delete this call's data")
        await from_the_loop(w.acts.delete_call.trigger, yes, what="the question")
        await wait_until(lambda: not journal.exists(), what="the journal deleted")
        assert TARGET not in w.prefs.recent_targets
        assert TARGET not in Preferences.load(tmp_path).recent_targets
        assert w.calls.entries == []
        assert w.event_log.rows()[-1][1] == "Call data deleted"


def _unfinished_journal(data_dir: Path, text: str, key: bytes | None) -> Path:
    """A call's journal left open (as by a crash), sealed with ``key``."""
    journal = Journal.create(data_dir, {"direction": "outbound", "target": "4:" + TARGET}, key=key)
    t = Transcript()
    unfollow = journal.follow(t)
    t.add_marker("note", 1.0, text)
    unfollow()
    journal.close(clean=False)
    return journal.path


def _journal_sealed_elsewhere(data_dir: Path) -> Path:
    """A journal another console sealed with a key no keyring holds any more."""
    script = (
        "import os, sys; from pathlib import Path; from console.transcript.journal import Journal;"
        "j = Journal.create(Path(sys.argv[1]), {'target': '4:+14255550199'}, key=os.urandom(32));"
        "j.close(clean=False); print(j.path)"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(data_dir)], capture_output=True, text=True, check=True
    )
    return Path(run.stdout.strip())


async def test_recovery_says_how_long_journals_are_kept_and_refuses_one_whose_key_is_gone(
    app, qtbot, tmp_path: Path
) -> None:
    prefs = Preferences(retention_days=3)
    gone = _journal_sealed_elsewhere(tmp_path)
    key = JournalKeyStore(tmp_path).load().value
    assert key is not None
    _unfinished_journal(tmp_path, "readable", key)
    journals = unfinished_journals(tmp_path, prefs)
    assert len(journals) == 2
    dialog = RecoveryDialog(journals)
    assert "deleted after 3 days" in dialog.kept_note.text()
    kept = {dialog.list.topLevelItem(i).text(4) for i in range(2)}
    assert "cannot be read: its key is gone" in kept
    dialog.list.clearSelection()
    row = next(i for i, info in enumerate(journals) if info.path == gone)
    dialog.list.topLevelItem(row).setSelected(True)
    assert not dialog.recover_button.isEnabled()
    assert dialog.discard_button.isEnabled()
    dialog.deleteLater()


async def test_a_journal_kept_redacted_recovers_redacted_and_the_window_says_so(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        w = console.window
        w.settings.apply(_with(w.prefs, redact_at_rest=True))
        await _call_until_spelled(console, qtbot)
        session = w.session
        journal = session.journal.path
        # The operator closes the unsaved call, keeping it for recovery.
        qtbot.mouseClick(w.call_controls.hang_up_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: session.state.call is CallState.DISCONNECTED, what="ended")
        close = click("Close without saving", says="not been saved")
        await from_the_loop(w.acts.close_call.trigger, close, what="the question")
        assert SPELLED not in journal.read_text(encoding="utf-8", errors="replace")
        dialog = w.files.offer_recovery()
        assert dialog is not None
        assert "redacted" in {dialog.list.topLevelItem(i).text(4) for i in range(1)}.pop()
        dialog.recover_button.click()
        await wait_until(lambda: w.files.review_windows, what="the review window")
        review = w.files.review_windows[0]
        assert "redacted" in review.windowTitle()
        texts = " ".join(p.text for p in review.transcript.finals)
        assert "[SPELLED]" in texts
        assert SPELLED not in texts
        review.close()


async def test_redacted_view_masks_the_screen_and_the_copy_not_the_transcript(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        w = console.window
        await _call_until_spelled(console, qtbot)
        view = w.transcript_view

        def shown() -> str:
            view.flush()
            return "\n".join(v.toPlainText() for v in view.views())

        assert SPELLED in shown()
        assert not view.redacted_button.isChecked()  # off by default
        QTest.keySequence(w, w.acts.redacted.shortcut())
        assert view.redacted_button.isChecked()
        assert w.acts.redacted.isChecked()
        assert SPELLED not in shown()
        assert "[SPELLED]" in shown()
        assert "[ACCOUNT]" in shown()
        assert "four four seven two" not in shown()
        assert any(SPELLED in p.text for p in w.session.transcript.finals), "the model keeps it"
        w.acts.copy.trigger()
        copied = QGuiApplication.clipboard().text()
        assert "[SPELLED]" in copied
        assert SPELLED not in copied
        assert Preferences.load(tmp_path).redacted_view is True  # remembered

        qtbot.mouseClick(view.redacted_button, Qt.MouseButton.LeftButton)  # and back
        assert SPELLED in shown()
        assert not w.acts.redacted.isChecked()
