"""Starting the console: application identity, the runtime's listeners, and crash recovery."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console import APP_ID
from console.transcript.journal import Journal, find_unfinished
from console.ui.application import make_application, run_gui
from console.ui.main_window import MainWindow
from tests.gui.conftest import wait_until
from tests.gui.dialogs import operate, type_name

CALLER = "4:+15550100142"


def _frame(text: str, offset_s: float, status: str, confidence: float | None = 0.9) -> str:
    body = {
        "text": text,
        "format": "display",
        "offset": int(offset_s * 10_000_000),
        "duration": 15_000_000,
        "participantRawID": CALLER,
        "resultStatus": status,
    }
    if confidence is not None:
        body["confidence"] = confidence
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": body})


def _crashed_journal(data_dir: Path) -> Path:
    """A call journal as a killed console leaves it: no "closed" line, the last line cut."""
    journal = Journal.create(data_dir, {"direction": "outbound", "target": CALLER})
    t = 1_795_000_000.0
    journal.append_packet(
        _frame("I need to change", 1.0, "Intermediate", None), received_at=t, final=False
    )
    journal.append_packet(
        _frame("I need to change my booking.", 1.0, "Final"), received_at=t + 1, final=True
    )
    journal.append_packet(
        _frame("It is for Friday.", 4.0, "Final", 0.45), received_at=t + 3, final=True
    )
    path = journal.path
    journal.close(clean=False)
    with path.open("ab") as fh:
        fh.write(b'{"t":1795000005.0,"type":"packet","packet":{"kind":"Transcr')
    return path


def _args(data_dir: Path) -> argparse.Namespace:
    return argparse.Namespace(
        data_dir=data_dir,
        profile="local",
        scenario=None,
        speed=8.0,
        listen_host=None,
        callback_port=None,
        ws_port=None,
        allow_non_loopback=False,
    )


def test_application_identity(app: QApplication) -> None:
    made = make_application()
    assert made is app
    assert app.desktopFileName() == APP_ID
    assert app.applicationName() == "ACS Transcription Console"
    assert not app.quitOnLastWindowClosed()
    assert not app.windowIcon().isNull()


async def test_start_offers_to_recover_a_crashed_call(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    journal = _crashed_journal(tmp_path)
    assert [i.path for i in find_unfinished(tmp_path)] == [journal]
    close = asyncio.Event()
    windows: list[MainWindow] = []
    run = asyncio.ensure_future(
        run_gui(_args(tmp_path), close_event=close, on_window=windows.append)
    )
    try:
        await wait_until(
            lambda: windows and windows[0].files.recovery_dialog, what="recovery offer"
        )
        window = windows[0]
        # The runtime is up: the status bar shows its listeners and the profile.
        assert window.status.profile.text() == "Profile: Local emulator"
        assert "Callbacks 127.0.0.1:" in window.status.listeners.text()
        dialog = window.files.recovery_dialog
        assert dialog is not None
        await wait_until(dialog.isVisible, what="the dialog")
        assert dialog.list.topLevelItem(0).text(2) == "2"  # finals that survived
        # The start time is shown whole, not cut ("2026-12-03 0…").
        started = dialog.list.topLevelItem(0).text(0)
        metrics = dialog.list.fontMetrics()
        assert dialog.list.header().sectionSize(0) >= metrics.horizontalAdvance(started)
        qtbot.mouseClick(dialog.recover_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: window.files.review_windows, what="the review window")
        review = window.files.review_windows[0]
        assert review.isVisible()
        # It says which call it is: with whom, when, how long.
        title = review.windowTitle()
        assert title.startswith("Recovered call with +15550100142 · ")
        assert " s — review (read-only)" in title
        text = review.view.panes[CALLER].view.toPlainText()
        assert "I need to change my booking." in text
        assert "It is for Friday." in text
        assert review.view.panes[CALLER].name_edit.isReadOnly()
        assert find_unfinished(tmp_path) == []  # not offered again
    finally:
        close.set()
        assert await asyncio.wait_for(run, 15) == 0
    for shown in [*windows, *(r for w in windows for r in w.files.review_windows)]:
        shown.hide()
        shown.deleteLater()


def test_open_a_saved_json_transcript_for_review(
    app: QApplication, qtbot, tmp_path: Path, monkeypatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from console.config import Preferences
    from console.transcript.export import export
    from console.transcript.journal import replay

    path = _crashed_journal(tmp_path)
    saved = export(replay(path), tmp_path / "call.json", "json")
    window = MainWindow(None, prefs=Preferences(), data_dir=tmp_path)
    qtbot.addWidget(window)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(saved), ""))
    window.acts.open.trigger()
    (review,) = window.files.review_windows
    qtbot.addWidget(review)
    assert "call.json" in review.windowTitle()
    assert "read-only" in review.windowTitle()
    pane = review.view.panes[CALLER]
    assert "It is for Friday." in pane.view.toPlainText()
    assert pane.name_edit.isReadOnly()
    assert pane.view.isReadOnly()
    # Saving from the review exports to another format.
    out = tmp_path / "again.srt"
    with operate(type_name(str(out))):  # the typed suffix chooses the format
        assert review.save_as() == out
    assert "It is for Friday." in out.read_text(encoding="utf-8")
