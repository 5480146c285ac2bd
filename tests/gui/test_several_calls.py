"""Several calls at once in the real window, against the emulator through the real SDK: place
two, hold one, answer a third, switch their languages independently, stop one's transcription,
hang one up, save all; each saved file is that call's script and nothing else."""

from __future__ import annotations

import re
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox, QWidget

from console.call.state import CallState, TranscriptionState
from console.emulator.scenario import load_scenario
from console.transcript.export import load_json
from console.ui.call_book import CallEntry
from console.ui.join_dialog import JoinDialog
from console.ui.main_window import MainWindow
from tests.gui.conftest import Console, running_console, wait_until
from tests.gui.dialogs import Step, answer, from_the_loop, save_all_into

AGENT = "8:acs:7c2f3e1a-9b4d-4e8f-a1c3-5d6e7f809a1b_00000021-4f3a-8b2c-9d0e-1f2a3b4c5d6e"
SCRIPT_CUSTOMER = "4:+15550100142"  # the customer in the scenario file; a call's target stands in
A, B, C = "+14255550100", "+14255550101", "+14255550102"


def _script(customer: str) -> list[tuple[str, str]]:
    """The support call as a call with ``customer`` says it: (speaker, text) in order."""
    return [
        (customer if u.speaker == SCRIPT_CUSTOMER else u.speaker, u.text["en-US"])
        for u in load_scenario("support-call").utterances
    ]


def _is_subsequence(got: list[tuple[str, str]], script: list[tuple[str, str]]) -> bool:
    it = iter(script)
    return all(any(line == s for s in it) for line in got)


def _select(qtbot, w: MainWindow, entry: CallEntry) -> None:
    """Click the call's row in the call list."""
    calls = w.call_dock.list
    item, _row = calls.rows[id(entry)]
    qtbot.mouseClick(
        calls.viewport(), Qt.MouseButton.LeftButton, pos=calls.visualItemRect(item).center()
    )
    assert w.calls.current is entry
    assert w.transcript_view.transcript is entry.session.transcript


async def _place(qtbot, w: MainWindow, target: str) -> CallEntry:
    cc = w.call_controls
    cc.target.setFocus()
    cc.target.lineEdit().selectAll()
    qtbot.keyClicks(cc.target.lineEdit(), target)
    before = len(w.calls.entries)
    qtbot.mouseClick(cc.call_button, Qt.MouseButton.LeftButton)
    assert len(w.calls.entries) == before + 1, "a new call joins the list; none is replaced"
    entry = w.calls.entries[-1]
    assert w.calls.current is entry
    await wait_until(lambda: entry.state.call is CallState.CONNECTED, what=f"{target} connected")
    assert cc.state_label.text() == "Connected"
    return entry


async def _transcribe(qtbot, w: MainWindow, entry: CallEntry) -> None:
    toggle = w.transcription.toggle
    await wait_until(toggle.isEnabled, what="Start enabled")
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    await wait_until(
        lambda: entry.state.transcription is TranscriptionState.ACTIVE, what="transcribing"
    )
    await wait_until(lambda: entry.session.transcript.final_count > 0, what="a first Final")


async def _choose_locale(qtbot, w: MainWindow, entry: CallEntry, code: str) -> None:
    combo = w.transcription.locale
    assert combo.isEnabled()
    combo.setFocus()
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), code)
    qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Return)
    await wait_until(lambda: entry.state.confirmed_locale == code, what=f"{code} confirmed")


async def test_operator_works_three_calls_at_once_and_saves_all(app, qtbot, tmp_path: Path) -> None:
    async with running_console(tmp_path, speed=6.0) as console:
        await _three_calls(console, qtbot, tmp_path)


async def _three_calls(console: Console, qtbot, tmp_path: Path) -> None:
    w = console.window
    assert not w.call_dock.list.isVisible()  # "No calls yet." until there is one
    a = await _place(qtbot, w, A)
    await _transcribe(qtbot, w, a)
    b = await _place(qtbot, w, B)
    await _transcribe(qtbot, w, b)
    assert a.state.call is CallState.CONNECTED, "placing B left A alone"
    assert [r.title.text() for _i, r in w.call_dock.list.rows.values()] == [
        f"1 · {A}",
        f"2 · {B}",
    ]

    # Hold A's customer, from A's pane.
    _select(qtbot, w, a)
    customer_a = f"4:{A}"
    await wait_until(lambda: customer_a in w.transcript_view.panes, what="A's customer pane")
    hold = w.transcript_view.panes[customer_a].hold_button
    await wait_until(hold.isVisible, what="the Hold button")
    assert hold.text() == "Hold"
    qtbot.mouseClick(hold, Qt.MouseButton.LeftButton)
    await wait_until(lambda: customer_a in a.state.held, what="A's customer on hold")
    assert hold.text() == "Resume"
    row_a = w.call_dock.list.rows[id(a)][1]
    assert "on hold" in row_a.state_line.text()
    assert not b.state.held

    # C rings while A and B go on: the ringing notice names both; answering adds a third call.
    await console.emulator.ring(C, webhook_url=console.runtime.eventgrid_url)
    await wait_until(w.banner.isVisible, what="the ringing notice")
    ringing = w.banner.label.text()
    assert all(number in ringing for number in (A, B, C)), ringing
    assert w.banner.transcribe.isChecked()
    qtbot.mouseClick(w.banner.answer_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: len(w.calls.entries) == 3, what="the answered call listed")
    c = w.calls.entries[2]
    assert w.calls.current is c
    await wait_until(lambda: c.state.transcription is TranscriptionState.ACTIVE, what="C live")
    await wait_until(lambda: c.session.transcript.final_count > 0, what="C's first Final")

    # Out of view, B's new Finals mark its row.
    b_finals = b.session.transcript.final_count
    await wait_until(lambda: b.session.transcript.final_count > b_finals, what="B speaks on")
    assert b.unread
    assert w.call_dock.list.rows[id(b)][1].mark.text()

    # Each call's language is its own.
    _select(qtbot, w, a)
    assert w.transcription.locale.locale() == "en-US"
    await _choose_locale(qtbot, w, a, "fr-FR")
    _select(qtbot, w, c)
    assert w.transcription.locale.locale() == "en-US", "the combo shows C's language, not A's"
    await _choose_locale(qtbot, w, c, "de-DE")
    _select(qtbot, w, b)
    assert not b.unread, "seen now"
    assert w.transcription.locale.locale() == "en-US"
    assert (a.state.confirmed_locale, b.state.confirmed_locale) == ("fr-FR", "en-US")
    assert c.state.confirmed_locale == "de-DE"

    # Stop B's transcription: A and C go on transcribing.
    qtbot.mouseClick(w.transcription.toggle, Qt.MouseButton.LeftButton)
    await wait_until(lambda: b.state.transcription is TranscriptionState.STOPPED, what="B off")
    assert a.state.transcription is c.state.transcription is TranscriptionState.ACTIVE

    # Hang up A only.
    _select(qtbot, w, a)
    qtbot.mouseClick(w.call_controls.hang_up_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: a.state.call is CallState.DISCONNECTED, what="A hung up")
    assert b.state.call is c.state.call is CallState.CONNECTED
    assert c.state.transcription is TranscriptionState.ACTIVE

    # Save all: one JSON file per call, named by call start and target.
    out = tmp_path / "saved"
    shown: list[str] = []
    step = save_all_into(str(out), "json", shown)
    await from_the_loop(w.acts.save_all.trigger, step, what="the Save all dialog")
    await wait_until(lambda: len(list(out.glob("*.json"))) == 3, what="three files")
    expected = {
        entry: time.strftime("%Y%m%d-%H%M%S", time.localtime(entry.started_at)) + f"-{target}"
        for entry, target in ((a, A), (b, B), (c, C))
    }
    assert shown == [f"{stem}.json" for stem in expected.values()]
    assert sorted(p.name for p in out.iterdir()) == sorted(shown)
    for entry, stem in expected.items():
        saved = load_json(out / f"{stem}.json")
        customer = f"4:{entry.state.target.removeprefix('4:')}"
        got = [(p.raw_id, p.text) for p in saved.finals]
        assert got, stem
        assert _is_subsequence(got, _script(customer)), (stem, got)
        assert {raw for raw, _ in got} <= {AGENT, customer}, "no other call's words"
        assert [(p.raw_id, p.text) for p in entry.session.transcript.finals] == got
    assert re.search(r"Saved 3 of 3 calls", w.statusBar().currentMessage())
    kinds = {e: [m.kind for m in e.session.transcript.markers] for e in (a, b, c)}
    assert "transcription_stopped" in kinds[b]
    assert "transcription_stopped" not in kinds[c]
    changed = {
        e: [m.detail for m in e.session.transcript.markers if m.kind == "locale_changed"]
        for e in (a, b, c)
    }
    assert changed[a][-1:] == ["fr-FR"]
    assert "de-DE" not in changed[a]
    assert changed[c][-1:] == ["de-DE"]
    assert "fr-FR" not in changed[c]
    assert set(changed[b]) <= {"en-US"}

    # Quitting with B and C still on asks once, naming both.
    asked: list[str] = []
    await from_the_loop(w.close, answer(QMessageBox.StandardButton.No, asked), what="the question")
    assert w.isVisible(), "No keeps the window and the calls"
    assert len(asked) == 1
    assert f"1. {A}" not in asked[0], "A is over"
    assert f"2. {B}" in asked[0]
    assert f"3. {C}" in asked[0]


def _join_by_server_call_id(server_call_id: str) -> Step:
    """In the Join dialog: keep "Server call id", type the id, press Join."""

    def step(modal: QWidget) -> bool:
        if not isinstance(modal, JoinDialog):
            return False
        assert modal.kind.currentData() == "server_call_id"
        assert modal.locale.locale() == "en-US"
        modal.call_id.setFocus()
        QTest.keyClicks(modal.call_id, server_call_id)
        QTest.keyClick(modal.call_id, Qt.Key.Key_Return)
        return True

    return step


async def test_supervisor_joins_a_call_in_progress_and_its_language_is_fixed(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        w = console.window
        server = console.emulator.calls.start_existing()
        step = _join_by_server_call_id(server.server_call_id)
        await from_the_loop(w.acts.join.trigger, step, what="the Join dialog")
        await wait_until(lambda: len(w.calls.entries) == 1, what="the joined call listed")
        (joined,) = w.calls.entries
        await wait_until(lambda: joined.state.call is CallState.CONNECTED, what="joined")
        await wait_until(
            lambda: joined.state.transcription is TranscriptionState.ACTIVE, what="transcribing"
        )
        await wait_until(lambda: joined.session.transcript.final_count > 0, what="a Final")
        assert joined.state.joined
        row = w.call_dock.list.rows[id(joined)][1]
        assert row.title.text() == f"1 · Server call …{server.server_call_id[-6:]}"
        assert "joined" in row.state_line.text()
        # The service will not change a joined call's language: the control says so.
        combo = w.transcription.locale
        assert not combo.isEnabled()
        assert "joined" in combo.toolTip()
        assert combo.locale() == "en-US"
        # It is someone else's call: the operator leaves it, and it goes on.
        leave = w.call_controls.hang_up_button
        assert leave.text() == "Leave"
        assert "goes on" in leave.toolTip()
        qtbot.mouseClick(leave, Qt.MouseButton.LeftButton)
        await wait_until(lambda: joined.state.call is CallState.DISCONNECTED, what="left")
        assert w.call_controls.hang_up_button.text() == "Leave"
