"""The window's rough edges an operator tripped over: shortcuts that must work wherever focus
is (popups included), long names in narrow panes, a balanced grid, an open hypothesis when
transcription stops."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pysrt
import pytest
import webvtt
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget

from console.acs.streaming import parse_packet
from console.config import Preferences
from console.session import CallState, TranscriptionState
from console.transcript.export import FORMATS, load_json, to_text
from console.transcript.model import Transcript
from console.ui.main_window import MainWindow
from console.ui.pane import ParticipantPane
from console.ui.save_dialog import SaveDialog
from tests.gui.conftest import running_console, wait_until
from tests.gui.dialogs import answer, operate, type_name

# Shortcuts that work without a call (the others are disabled until there is one).
_ALWAYS = ("quit", "save", "open", "copy", "settings", "find", "live", "combined", "by_speaker",
           "target", "locale", "focus_transcript", "keys")  # fmt: skip


@pytest.fixture
def window(app: QApplication, qtbot, tmp_path: Path) -> MainWindow:
    w = MainWindow(None, prefs=Preferences(), data_dir=tmp_path)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    return w


def _spy(w: MainWindow) -> list[str]:
    """Replace each action's effect by a note of its name (no dialogs, no quitting)."""
    hits: list[str] = []
    for name in _ALWAYS:
        act = getattr(w.acts, name)
        act.triggered.disconnect()
        act.triggered.connect(lambda *_a, n=name: hits.append(n))
    return hits


def test_every_window_shortcut_works_from_every_focusable_control(window: MainWindow) -> None:
    hits = _spy(window)
    controls = [
        c
        for c in window.findChildren(QWidget)
        if c.isVisibleTo(window) and c.focusPolicy() & Qt.FocusPolicy.TabFocus
    ]
    assert len(controls) >= 8
    missed = []
    for control in controls:
        for name in _ALWAYS:
            control.setFocus()
            focus = QApplication.focusWidget() or control
            hits.clear()
            QTest.keySequence(focus, getattr(window.acts, name).shortcut())
            if hits != [name]:
                missed.append((control.accessibleName() or type(control).__name__, name))
    assert missed == []


# QTest on the offscreen platform: popups cannot grab the keyboard there, and a typed letter the
# list has no entry for is reported as not accepted.
_POPUP_NOISE = r"does not support|Keyboard event not accepted"


@pytest.mark.qt_log_ignore(_POPUP_NOISE)
@pytest.mark.parametrize("combo", ["locale", "target"])
def test_shortcuts_work_while_a_dropdown_list_is_open(window: MainWindow, combo: str) -> None:
    hits = _spy(window)
    window.call_controls.set_recent(["+14255550100", "+14255550199"])
    box = window.transcription.locale if combo == "locale" else window.call_controls.target
    box.setFocus()
    box.showPopup()
    popup = box.view()
    assert popup.isVisible()
    QTest.keySequence(popup, window.acts.quit.shortcut())
    assert hits == ["quit"]
    assert not popup.isVisible()  # the list closed, the action ran
    # Typing in the list still searches it: only chords and function keys are taken.
    box.showPopup()
    QTest.keyClick(box.view(), Qt.Key.Key_S)
    assert hits == ["quit"]


@pytest.mark.qt_log_ignore(_POPUP_NOISE)
def test_shortcuts_work_while_the_locale_search_suggests(window: MainWindow) -> None:
    hits = _spy(window)
    locale = window.transcription.locale
    locale.setFocus()
    locale.lineEdit().selectAll()
    QTest.keyClicks(locale.lineEdit(), "fren")
    popup = locale.completer().popup()
    assert popup.isVisible()
    QTest.keySequence(popup, window.acts.save.shortcut())
    assert hits == ["save"]


def test_a_long_name_in_a_narrow_pane_keeps_its_start_and_shows_whole_in_a_tooltip(
    app: QApplication, qtbot
) -> None:
    name = "Teams user 3f2a9c8e-1111-2222-3333-4f5a6b"
    pane = ParticipantPane("8:orgid:3f2a9c8e-1111-2222-3333-444444f5a6b", name, 0)
    qtbot.addWidget(pane)
    pane.resize(220, 300)
    pane.show()
    qtbot.waitExposed(pane)
    pane.activateWindow()
    shown = pane.name_edit.text()
    assert shown.startswith("Teams")  # the first letters are never clipped
    assert shown.endswith("4f5a6b")  # nor the end that tells two users apart
    assert "…" in shown
    assert name in pane.name_edit.toolTip()
    assert pane.name == name
    # Editing shows the whole name; wider, the whole name fits again.
    qtbot.mouseClick(pane.name_edit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: pane.name_edit.text() == name)
    pane.name_edit.clearFocus()
    pane.resize(900, 300)
    qtbot.waitUntil(lambda: pane.name_edit.text() == name)


# --- saving -------------------------------------------------------------------------------------


def _with_transcript(window: MainWindow) -> Transcript:
    t = Transcript(call_started_at=1_800_000_000.0)
    for i, text in enumerate(["Hello, this is Dana.", "Thanks for calling."]):
        body = {
            "text": text,
            "format": "display",
            "offset": (1 + 3 * i) * 10_000_000,
            "duration": 20_000_000,
            "participantRawID": "4:+15550100",
            "resultStatus": "Final",
            "confidence": 0.9,
        }
        packet = parse_packet(json.dumps({"kind": "TranscriptionData", "transcriptionData": body}))
        t.apply(packet, received_at=1_800_000_003.0 + 3 * i)
    window.transcript_view.set_transcript(t)
    return t


def test_the_typed_suffix_chooses_the_format_and_nothing_is_overwritten_unasked(
    window: MainWindow, tmp_path: Path
) -> None:
    _with_transcript(window)
    out = tmp_path / "exports"
    out.mkdir()
    # "call.vtt" typed with the plain-text filter in force: WebVTT, named as typed.
    with operate(type_name(str(out / "call.vtt"), file_type="Plain text (*.txt)")):
        window.acts.save_as.trigger()
    cues = webvtt.read(str(out / "call.vtt"))
    assert [c.text for c in cues] == ["Hello, this is Dana.", "Thanks for calling."]
    assert [c.voice for c in cues] == ["+15550100", "+15550100"]
    assert not (out / "call.txt").exists()
    # "call.json" next: a new JSON file; the WebVTT one is untouched.
    vtt = (out / "call.vtt").read_bytes()
    with operate(type_name(str(out / "call.json"))):
        window.acts.save_as.trigger()
    assert json.loads((out / "call.json").read_text(encoding="utf-8"))["format"] == 2
    assert (out / "call.vtt").read_bytes() == vtt
    # An unknown suffix gets the filter's: call.notes -> call.notes.srt, as SubRip.
    with operate(type_name(str(out / "call.notes"), file_type="SubRip subtitles (*.srt)")):
        window.acts.save_as.trigger()
    assert next(s.text for s in pysrt.open(str(out / "call.notes.srt"))).endswith("Dana.")
    # An existing file: asked first; "No" goes back to the dialog, and nothing is replaced.
    asked: list[str] = []
    with operate(
        type_name(str(out / "call.vtt")),
        answer(QMessageBox.StandardButton.No, asked),
        type_name(str(out / "call-2.vtt")),
    ):
        window.acts.save_as.trigger()
    assert asked == [f"call.vtt already exists in {out}. Replace it?"]
    assert (out / "call.vtt").read_bytes() == vtt
    assert (out / "call-2.vtt").exists()
    # And "Yes" replaces it.
    with operate(type_name(str(out / "call.vtt")), answer(QMessageBox.StandardButton.Yes)):
        window.acts.save_as.trigger()
    assert window.files.saved_to == (out / "call.vtt", "vtt")


def test_save_again_and_save_as_remember_the_file_folder_and_format(
    window: MainWindow, tmp_path: Path
) -> None:
    t = _with_transcript(window)
    out = tmp_path / "exports"
    out.mkdir()
    with operate(type_name(str(out / "call.json"))):
        QTest.keySequence(window, window.acts.save.shortcut())  # first Save asks
    first = json.loads((out / "call.json").read_text(encoding="utf-8"))
    # Ctrl+S again: no dialog, the same file and format, and the event log says so.
    t.rename("4:+15550100", "Dana Whitfield")
    window.activateWindow()  # the keyboard is the window's again once the dialog is gone
    QTest.qWaitForWindowActive(window)
    QTest.keySequence(window, window.acts.save.shortcut())
    again = json.loads((out / "call.json").read_text(encoding="utf-8"))
    assert [p["name"] for p in again["participants"]] == ["Dana Whitfield"]
    assert again["finals"] == first["finals"]
    _level, title, text = window.event_log.rows()[-1]
    assert (title, text) == ("Transcript saved", f"Saved again to {out / 'call.json'} (JSON).")
    # The row links to its folder.
    log = window.event_log
    link = log.itemWidget(log.topLevelItem(log.topLevelItemCount() - 1), 2)
    assert isinstance(link, QLabel)
    assert "Open folder" in link.text()
    opened: list[str] = []
    log.open_folder_requested.connect(opened.append)
    link.linkActivated.emit(str(out / "call.json"))
    assert opened == [str(out / "call.json")]
    # Ctrl+Shift+S asks again, in the folder and format used last (kept in the settings).
    seen: list[tuple[str, str]] = []

    def look(modal: QWidget) -> bool:
        if not isinstance(modal, SaveDialog):
            return False
        seen.append((modal.directory().absolutePath(), modal.selectedNameFilter()))
        modal.reject()
        return True

    with operate(look):
        QTest.keySequence(window, window.acts.save_as.shortcut())
    assert seen, "Ctrl+Shift+S opened no dialog"
    assert seen == [(str(out), "JSON transcript, reopenable (*.json)")]
    settings = json.loads((window.data_dir / "settings.json").read_text(encoding="utf-8"))
    assert settings["save_folders"] == {"local": str(out)}
    assert settings["save_formats"] == {"local": "json"}


# --- a phrase in progress when transcription stops ------------------------------------------------


async def test_stopping_with_a_phrase_in_progress_settles_it_as_not_finalised(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path, speed=1.0) as console:  # real time: phrases grow
        w = console.window
        w.place_call("4:+14255550100")
        await wait_until(lambda: w.session and w.session.state.call is CallState.CONNECTED)
        session = w.session
        assert session is not None
        w.acts.transcribe.trigger()
        t = session.transcript
        # A Final in, and a few words into the next phrase, so it is still growing when the
        # stop arrives.
        await wait_until(
            lambda: (
                t.final_count >= 1
                and any(1 <= len(p.text.split()) <= 3 for p in t.open_intermediates())
            ),
            timeout=30,
            what="a phrase in progress",
        )
        w.acts.transcribe.trigger()
        await wait_until(lambda: session.state.transcription is TranscriptionState.STOPPED)
        await wait_until(lambda: t.abandoned, what="the unfinished phrase settled")
        (unfinished,) = t.abandoned
        w.transcript_view.flush()
        pane = w.transcript_view.panes[unfinished.raw_id].view
        text = pane.toPlainText()
        assert f"{unfinished.text} (not finalised)" in text
        assert not t.open_intermediates()  # nothing left looking as if more is coming
        fmt = _char_format_at(pane, unfinished.text)
        assert not fmt.fontItalic()  # settled, not the provisional style

        out = tmp_path / "out"
        out.mkdir()
        saved = {fmt: w.files.save_to(out / f"call.{fmt}", fmt) for fmt in FORMATS}
        doc = json.loads(saved["json"].read_text(encoding="utf-8"))
        statuses = {p["text"]: p["status"] for p in doc["finals"]}
        assert statuses[unfinished.text] == "abandoned"
        assert set(statuses.values()) == {"final", "abandoned"}
        assert f"{unfinished.text} (not finalised)" in saved["txt"].read_text(encoding="utf-8")
        # Subtitles and the spreadsheet hold the Finals only.
        finals = [p.text for p in t.finals]
        assert [c.text for c in webvtt.read(str(saved["vtt"]))] == finals
        assert [c.text.split(": ", 1)[1] for c in pysrt.open(str(saved["srt"]))] == finals
        with saved["csv"].open(encoding="utf-8", newline="") as fh:
            assert [row["text"] for row in csv.DictReader(fh)] == finals
        # Reopened, it is the same: the abandoned phrase is kept, apart from the finals.
        reopened = load_json(saved["json"])
        assert [p.text for p in reopened.abandoned] == [unfinished.text]
        assert [p.text for p in reopened.finals] == [p.text for p in t.finals]


def _char_format_at(view: Any, needle: str) -> Any:
    doc = view.document()
    cursor = doc.find(needle)
    assert not cursor.isNull(), needle
    cursor.setPosition(cursor.selectionStart() + 1)
    return cursor.charFormat()


def test_markers_come_before_the_phrases_they_precede_in_plain_text() -> None:
    t = Transcript(call_started_at=1_800_000_000.0)
    t.add_marker("call_connected", 1_800_000_000.0)
    # The first words were spoken at 00:05.2, transcription was started at 00:05.6, and that
    # first phrase (heard after it started) is stamped 00:05: the marker goes first.
    t.add_marker("transcription_started", 1_800_000_005.6)
    body = {
        "text": "Good morning.",
        "offset": 52_000_000,
        "duration": 10_000_000,
        "participantRawID": "4:+15550100",
        "resultStatus": "Final",
    }
    t.apply(
        parse_packet(json.dumps({"kind": "TranscriptionData", "transcriptionData": body})),
        received_at=1_800_000_006.5,
    )
    lines = to_text(t).splitlines()
    started = next(i for i, line in enumerate(lines) if "Transcription started" in line)
    morning = next(i for i, line in enumerate(lines) if "Good morning." in line)
    assert started < morning
    assert lines[started].startswith("[00:05]")
