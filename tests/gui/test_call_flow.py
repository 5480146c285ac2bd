"""The real window against the emulator, through the real SDK and listeners: an operator's call."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pysrt
import pytest
import webvtt
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from console.transcript.export import load_json
from console.ui import palette
from console.ui.save_dialog import SAVE_FILTERS
from console.ui.theme import current_scheme
from tests.gui.conftest import Console, running_console, wait_until
from tests.gui.dialogs import from_the_loop, type_name

AGENT = "8:acs:7c2f3e1a-9b4d-4e8f-a1c3-5d6e7f809a1b_00000021-4f3a-8b2c-9d0e-1f2a3b4c5d6e"
CUSTOMER_TARGET = "+1 425 555 0100"


def _fmt(view, needle: str):
    found = view.document().find(needle)
    assert not found.isNull(), f"{needle!r} is not shown"
    c = QTextCursor(found)
    c.setPosition(found.selectionStart() + 1)
    return c.charFormat()


def _first_word(text: str) -> str:
    return re.sub(r"[^\w]", "", text.split()[0]).lower() if text.split() else ""


async def _place_call(console: Console, qtbot) -> None:
    w = console.window
    cc = w.call_controls
    assert not cc.call_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(cc.target.lineEdit(), CUSTOMER_TARGET)
    assert cc.hint.text() == "Will call phone number +14255550100"
    assert cc.call_button.isEnabled()
    qtbot.mouseClick(cc.call_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: cc.state_label.text() == "Connected", what="Connected")
    assert re.fullmatch(r"\d\d:\d\d", cc.duration_label.text() or "00:00")


async def _start(console: Console, qtbot) -> None:
    toggle = console.window.transcription.toggle
    await wait_until(toggle.isEnabled, what="Start enabled")
    assert toggle.text() == "Start transcription"
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    await wait_until(lambda: toggle.text() == "Stop transcription", what="transcribing")


async def _call_transcribe_save(
    console: Console, qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    w = console.window
    tc = w.transcription
    assert not tc.toggle.isEnabled()
    assert tc.toggle.toolTip() == "Place or answer a call first."
    await _place_call(console, qtbot)
    await _start(console, qtbot)
    await wait_until(lambda: "confirmed English (United States)" in tc.status.text())

    # An intermediate shows in place in the speaker's pane, then settles as its Final.
    view = w.transcript_view
    seen: dict[str, tuple[str, int]] = {}

    def provisional() -> bool:
        for raw_id, pane in view.panes.items():
            if pane.view.interim_text and pane.speaking:
                seen[raw_id] = (pane.view.interim_text, pane.view.settled_count())
                return True
        return False

    await wait_until(provisional, what="an intermediate")
    ((raw_id, (interim, settled_before)),) = seen.items()
    pane = view.panes[raw_id]
    assert _fmt(pane.view, interim[:8]).fontItalic()
    await wait_until(lambda: pane.view.settled_count() > settled_before, what="its final")
    final_line = pane.view.document().findBlockByNumber(settled_before).text()
    final_text = final_line.split("  ", 1)[1]
    assert _first_word(final_text) == _first_word(interim)
    assert not _fmt(pane.view, final_text[:10]).fontItalic()

    # The agent's words are in the agent's pane, in the agent's colour.
    t = w.session.transcript
    await wait_until(
        lambda: AGENT in view.panes and "Contoso Internet," in view.panes[AGENT].view.toPlainText()
    )
    agent_colour = palette.text_colour(t.participant(AGENT).colour, dark=False)
    assert _fmt(view.panes[AGENT].view, "Contoso").foreground().color() == agent_colour
    assert all("Contoso" not in p.view.toPlainText() for r, p in view.panes.items() if r != AGENT)

    # The customer's mumbled account number (confidence 0.58) is highlighted amber.
    customer = "4:+14255550100"
    final_words = "uh, 4472 910"  # punctuation: only the Final has it
    await wait_until(
        lambda: customer in view.panes and final_words in view.panes[customer].view.toPlainText(),
        what="the low-confidence phrase",
    )
    fmt = _fmt(view.panes[customer].view, final_words)
    assert fmt.background().color() == QColor(current_scheme().warn_bg)
    assert "Confidence 58%" in fmt.toolTip()

    # The operator names the caller in place; the name follows into the saved files.
    name_edit = view.panes[customer].name_edit
    name_edit.setFocus()
    name_edit.selectAll()
    qtbot.keyClicks(name_edit, "Dana Whitfield")
    qtbot.keyClick(name_edit, Qt.Key.Key_Return)
    assert t.participant(customer).display_name == "Dana Whitfield"

    # The status bar counts the packets the listener took.
    w._on_tick()
    assert re.fullmatch(r"Packets [\d,]+ · rejected 0", w.status.packets.text())
    assert w.status.health.text() == "● Transcript stream connected"

    # Stop, then hang up.
    qtbot.mouseClick(tc.toggle, Qt.MouseButton.LeftButton)
    await wait_until(lambda: tc.toggle.text() == "Start transcription", what="stopped")
    await wait_until(lambda: tc.status.text().startswith("Off"))
    qtbot.mouseClick(w.call_controls.hang_up_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: w.call_controls.state_label.text() == "Call ended", what="ended")
    assert not tc.toggle.isEnabled()
    finals = [f.text for f in t.finals]
    assert finals

    # Save As in each format (the operator picks the filter, types a name without a suffix)
    # and read the files back.
    saved: dict[str, Path] = {}
    out = tmp_path / "out"
    out.mkdir()
    for label, fmt_name in SAVE_FILTERS:
        step = type_name(str(out / f"call-{fmt_name}"), file_type=label)
        await from_the_loop(w.acts.save_as.trigger, step, what=f"saving as {fmt_name}")
        saved[fmt_name] = out / f"call-{fmt_name}.{fmt_name}"
        assert saved[fmt_name].exists()
    assert finals[0] in saved["txt"].read_text(encoding="utf-8")
    assert "Dana Whitfield" in saved["txt"].read_text(encoding="utf-8")
    assert [f.text for f in load_json(saved["json"]).finals] == finals
    assert json.loads(saved["json"].read_text(encoding="utf-8"))["format"] == 2
    vtt = webvtt.read(str(saved["vtt"]))
    assert [c.text.split(">", 1)[-1] for c in vtt][: len(finals)][0] == finals[0]
    srt = pysrt.open(str(saved["srt"]))
    assert finals[0] in srt[0].text
    with saved["csv"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["text"] for r in rows] == finals
    assert w.event_log.rows()[-1][1] == "Transcript saved"


async def _switch_language(console: Console, qtbot) -> None:
    w = console.window
    await _place_call(console, qtbot)
    await _start(console, qtbot)
    t = w.session.transcript
    await wait_until(lambda: t.final_count >= 1, what="a first final")
    english = t.final_count
    combo = w.transcription.locale
    combo.setFocus()
    combo.lineEdit().selectAll()
    qtbot.keyClicks(combo.lineEdit(), "es-ES")
    qtbot.keyClick(combo.lineEdit(), Qt.Key.Key_Return)
    assert combo.locale() == "es-ES"
    await wait_until(
        lambda: "confirmed Spanish (Spain) (es-ES)" in w.transcription.status.text(),
        what="es-ES confirmed",
    )
    switched_at = next(m.at for m in t.markers if m.detail == "es-ES")

    def spanish() -> list:
        # Utterances begun after the switch; one already under way finishes in English.
        return [f for f in t.finals if f.first_received_at > switched_at]

    await wait_until(spanish, what="a final begun after the switch")
    first = spanish()[0]
    assert first.locale == "es-ES"
    assert re.search(r"[áéíóúñ¿¡]|\b(el|la|de|que|para|por|es|un|una)\b", first.text.lower())
    assert t.final_count > english
    w.transcript_view.flush()
    marker = "Language: Spanish (Spain) (es-ES)"
    assert marker in w.transcript_view.combined.view.toPlainText()
    pane = w.transcript_view.panes[first.raw_id].view.toPlainText()
    assert pane.index(marker) < pane.index(first.text)


async def _answer(console: Console, qtbot) -> None:
    w = console.window
    await console.emulator.ring(
        "+15550100142",
        caller_display_name="Dana Whitfield",
        webhook_url=console.runtime.eventgrid_url,
    )
    banner = w.banner
    await wait_until(banner.isVisible, what="the ringing notice")
    assert "Dana Whitfield" in banner.label.text()
    assert banner.transcribe.isChecked()
    qtbot.mouseClick(banner.answer_button, Qt.MouseButton.LeftButton)
    assert not banner.isVisible()
    await wait_until(lambda: w.call_controls.state_label.text() == "Connected", what="answered")
    await wait_until(
        lambda: w.transcription.toggle.text() == "Stop transcription", what="transcribing"
    )
    await wait_until(lambda: w.session.transcript.final_count > 0, what="text")


async def _fail(console: Console, qtbot) -> None:
    w = console.window
    await _place_call(console, qtbot)
    await _start(console, qtbot)
    await wait_until(lambda: w.session.state.transcription.value == "active")
    console.emulator.inject_fault(
        w.session.state.call_connection_id, "transcriptionFailed", key="cognitive_unauthorized"
    )
    await wait_until(lambda: any(r[0] == "error" for r in w.event_log.rows()), what="error")
    _level, title, text = next(r for r in w.event_log.rows() if r[0] == "error")
    assert title == "Transcription failed: access to the speech service was denied"
    assert "not allowed to use the speech service" in text
    assert "administrator" in text
    assert "Failed" in w.transcription.status.text()
    w.transcript_view.flush()
    assert "Transcription failed" in w.transcript_view.combined.view.toPlainText()


async def test_operator_places_a_call_transcribes_and_saves_every_format(
    app, qtbot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        await _call_transcribe_save(console, qtbot, monkeypatch, tmp_path)


async def test_changing_the_language_mid_call_switches_the_next_finals(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path, scenario="multilingual") as console:
        await _switch_language(console, qtbot)


async def test_incoming_call_rings_and_is_answered_with_transcription(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        await _answer(console, qtbot)


async def test_transcription_failure_is_explained_in_plain_words(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        await _fail(console, qtbot)
