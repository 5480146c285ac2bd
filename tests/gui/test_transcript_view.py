"""The transcript panes against the real transcript model (no network): what the operator sees."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor
from PySide6.QtWidgets import QApplication, QSplitter

from console.acs.streaming import TICKS_PER_SECOND, ResultStatus, TranscriptionData
from console.transcript.model import Transcript
from console.ui import palette
from console.ui.find_bar import FindBar
from console.ui.phrase_view import PhraseView
from console.ui.theme import current_scheme
from console.ui.transcript_view import TranscriptView

ALICE = "4:+14255550100"
BOB = "8:acs:11111111-2222-3333-4444-555555555555_0000002a-aaaa-bbbb-cccc-dddddddddddd"
CAROL = "8:orgid:3f9a1c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


def packet(
    raw_id: str, text: str, start: float, *, final: bool, conf: float | None = 0.9
) -> TranscriptionData:
    return TranscriptionData(
        text,
        raw_id,
        ResultStatus.FINAL if final else ResultStatus.INTERMEDIATE,
        int(start * TICKS_PER_SECOND),
        int(1.5 * TICKS_PER_SECOND),
        conf if final else None,
    )


@pytest.fixture
def live(app: QApplication, qtbot) -> tuple[TranscriptView, Transcript]:
    t = Transcript(call_started_at=time.time())
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(1200, 500)
    view.set_transcript(t)
    view.show()
    return view, t


def apply(t: Transcript, *packets: TranscriptionData) -> None:
    for p in packets:
        t.apply_packet(p, received_at=time.time())


def format_at(view: PhraseView, text: str):
    found = view.document().find(text)
    assert not found.isNull(), f"{text!r} not shown"
    c = QTextCursor(found)
    c.setPosition(found.selectionStart() + 1)
    return c.charFormat()


def test_intermediate_shows_in_place_then_settles_into_a_timestamped_final(live, qtbot):
    view, t = live
    apply(t, packet(ALICE, "I was", 1.0, final=False))
    view.flush()
    pane = view.panes[ALICE]
    assert pane.view.interim_text.startswith("I was")
    assert pane.speaking
    fmt = format_at(pane.view, "I was")
    assert fmt.fontItalic()  # visibly provisional

    apply(t, packet(ALICE, "I was charged", 1.0, final=False))
    view.flush()
    assert pane.view.interim_text.startswith("I was charged")
    assert pane.view.settled_count() == 0  # replaced in place, not appended

    apply(t, packet(ALICE, "I was charged twice.", 1.0, final=True))
    view.flush()
    text = pane.view.toPlainText()
    assert pane.view.interim_text == ""
    assert not pane.speaking
    assert text.count("charged") == 1
    assert "00:01  I was charged twice." in text  # timestamp on the call clock
    assert not format_at(pane.view, "charged twice").fontItalic()


def test_each_participant_has_a_pane_in_their_own_colour(live):
    view, t = live
    apply(
        t, packet(ALICE, "Hello there.", 1.0, final=True), packet(BOB, "Hi Alice.", 3.0, final=True)
    )
    view.flush()
    assert list(view.panes) == [ALICE, BOB]
    for raw_id, words in ((ALICE, "Hello there"), (BOB, "Hi Alice")):
        participant = t.participant(raw_id)
        pane = view.panes[raw_id]
        assert words in pane.view.toPlainText()
        other = view.panes[BOB if raw_id == ALICE else ALICE]
        assert words not in other.view.toPlainText()
        expected = palette.text_colour(participant.colour, dark=False)
        assert format_at(pane.view, words).foreground().color() == expected
        assert palette.swatch(participant.colour).name() in pane.header.styleSheet()
        assert pane.name == participant.display_name
        assert pane.raw_label.text() == raw_id
    assert t.participant(ALICE).colour != t.participant(BOB).colour


def test_low_confidence_is_highlighted_with_confidence_and_time_in_the_tooltip(live):
    view, t = live
    apply(
        t,
        packet(ALICE, "Clear words.", 1.0, final=True, conf=0.93),
        packet(ALICE, "Somewhat unsure.", 3.0, final=True, conf=0.7),
        packet(ALICE, "Very unsure.", 5.0, final=True, conf=0.42),
    )
    view.flush()
    pane = view.panes[ALICE].view
    s = current_scheme()
    clear, warn, crit = (format_at(pane, w) for w in ("Clear", "Somewhat", "Very unsure"))
    assert clear.background().style() == Qt.BrushStyle.NoBrush
    assert warn.background().color() == QColor(s.warn_bg)
    assert crit.background().color() == QColor(s.crit_bg)
    assert "70%" in warn.toolTip()
    assert "00:03.0 – 00:04.5" in warn.toolTip()
    assert "42%" in crit.toolTip()
    assert "below 50%" in crit.toolTip()
    # The legend names the thresholds; moving them re-renders the text.
    assert "75%" in view.legend_label.text()
    assert "50%" in view.legend_label.text()
    view.set_thresholds(0.95, 0.8)
    view.flush()
    pane = view.panes[ALICE].view
    assert format_at(pane, "Clear").background().color() == QColor(s.warn_bg)
    assert format_at(pane, "Somewhat").background().color() == QColor(s.crit_bg)
    assert "95%" in view.legend_label.text()


def test_combined_view_interleaves_everyone_chronologically(live):
    view, t = live
    apply(t, packet(ALICE, "First.", 1.0, final=True), packet(BOB, "Third.", 5.0, final=True))
    view.flush()
    apply(t, packet(ALICE, "Second, late.", 3.0, final=True))  # arrives after Bob's later line
    view.flush()
    view.combined_button.click()
    assert view.combined_shown
    lines = [ln for ln in view.combined.view.toPlainText().splitlines() if ":" in ln[6:]]
    assert [ln.split(": ", 1)[1] for ln in lines] == ["First.", "Second, late.", "Third."]
    bob = t.participant(BOB)
    fmt = format_at(view.combined.view, "Third.")
    assert fmt.foreground().color() == palette.text_colour(bob.colour, dark=False)


def test_rename_in_place_updates_header_and_combined_view(live, qtbot):
    view, t = live
    apply(t, packet(ALICE, "Hello.", 1.0, final=True))
    view.flush()
    view.rename_requested.connect(t.rename)
    edit = view.panes[ALICE].name_edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "Dana Whitfield")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert t.participant(ALICE).display_name == "Dana Whitfield"
    view.flush()
    assert "Dana Whitfield: Hello." in view.combined.view.toPlainText()
    # Escape abandons an edit.
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "Oops")
    qtbot.keyClick(edit, Qt.Key.Key_Escape)
    assert edit.full_text == "Dana Whitfield"
    assert "Dana Whitfield" in edit.toolTip()
    assert t.participant(ALICE).display_name == "Dana Whitfield"


def test_find_highlights_matches_across_panes(live, qtbot):
    view, t = live
    apply(
        t,
        packet(ALICE, "My refund please.", 1.0, final=True),
        packet(BOB, "The refund is on its way.", 3.0, final=True),
        packet(BOB, "Anything else?", 6.0, final=True),
    )
    view.flush()
    bar = FindBar(view)
    qtbot.addWidget(bar)
    bar.open_bar()
    qtbot.keyClicks(bar.edit, "REFUND")
    bar.refresh()
    assert bar.match_count == 2
    assert bar.count_label.text() == "2 matches"
    for raw_id in (ALICE, BOB):
        sels = view.panes[raw_id].view.extraSelections()
        assert [s.cursor.selectedText().lower() for s in sels] == ["refund"]
    qtbot.keyClick(bar.edit, Qt.Key.Key_Return)
    assert bar.count_label.text() == "1 of 2"
    bar.next()
    assert bar.count_label.text() == "2 of 2"
    assert view.panes[BOB].view.textCursor().block().text().endswith("The refund is on its way.")
    bar.close_bar()
    assert not view.panes[ALICE].view.extraSelections()


def test_packets_are_coalesced_into_few_repaints(live, qtbot):
    view, t = live
    for i in range(2000):
        raw = (ALICE, BOB, CAROL)[i % 3]
        words = " ".join(["word"] * (1 + (i // 3) % 12))
        apply(t, packet(raw, words, 1.0 + (i // 36) * 2, final=(i // 3) % 12 == 11))
    assert view.flush_count == 0  # nothing touched the widgets per packet
    qtbot.waitUntil(lambda: view.shown_revision == t.revision, timeout=2000)
    assert view.flush_count == 1
    assert sum(p.view.settled_count() for p in view.panes.values()) == t.final_count


def test_follows_the_live_edge_until_the_operator_scrolls_up(live, qtbot):
    view, t = live
    view.resize(900, 300)
    for i in range(60):
        apply(t, packet(ALICE, f"Line number {i}.", 1.0 + i * 2, final=True))
    view.flush()
    pane = view.panes[ALICE].view
    sb = pane.verticalScrollBar()
    assert sb.maximum() > 0
    assert sb.value() == sb.maximum()
    assert pane.jump_button.isHidden()
    sb.setValue(0)  # the operator scrolls up to reread
    assert not pane.following
    assert not pane.jump_button.isHidden()
    apply(t, packet(ALICE, "New line.", 200.0, final=True))
    view.flush()
    assert sb.value() == 0  # not yanked back down
    pane.jump_button.click()
    assert pane.following
    assert sb.value() == sb.maximum()
    apply(t, packet(ALICE, "Another line.", 210.0, final=True))
    view.flush()
    assert sb.value() == sb.maximum()


def test_appending_never_rerenders_earlier_text(live):
    view, t = live
    for i in range(3000):
        apply(t, packet(ALICE, f"Phrase {i} of a long call.", 1.0 + i * 3, final=True))
    view.flush()
    doc = view.panes[ALICE].view.document()
    first = doc.firstBlock()
    revision, blocks = first.revision(), doc.blockCount()
    apply(t, packet(ALICE, "Still going", 10_000.0, final=False))
    view.flush()
    apply(t, packet(ALICE, "Still going strong.", 10_000.0, final=True))
    view.flush()
    assert doc.blockCount() == blocks + 1
    assert doc.firstBlock().revision() == revision
    assert doc.lastBlock().text().endswith("Still going strong.")


def test_screen_reader_line_changes_on_finals_only(live):
    view, t = live
    heard: list[str] = []
    view.final_announced.connect(heard.append)
    apply(t, packet(ALICE, "Provisional words", 1.0, final=False))
    view.flush()
    assert view.live_label.text() == ""
    assert heard == []
    apply(t, packet(ALICE, "Provisional words, settled.", 1.0, final=True))
    view.flush()
    name = t.participant(ALICE).display_name
    assert heard == [f"{name}: Provisional words, settled."]
    assert view.live_label.text() == heard[-1]


@pytest.mark.parametrize(
    ("count", "rows"), [(4, [2, 2]), (6, [3, 3]), (7, [3, 3, 1]), (10, [4, 4, 2])]
)
def test_the_grid_is_balanced(live, count: int, rows: list[int]):
    view, t = live
    ids = [f"4:+142555501{i:02d}" for i in range(count)]
    for i, r in enumerate(ids):
        apply(t, packet(r, "Hi.", 1.0 + i, final=True))
        view.flush()  # one joining at a time, as in a call
    root = view.splitter
    assert root is not None
    assert [root.widget(i).count() for i in range(root.count())] == rows
    # Every pane gets a fair share of the width: none stretched across a row of its own.
    widths = [view.panes[r].width() for r in ids[: rows[0]]]
    assert max(widths) - min(widths) <= 2


@pytest.mark.parametrize("one_by_one", [False, True])
def test_more_than_three_participants_wrap_into_a_grid(live, one_by_one: bool):
    view, t = live
    ids = [f"4:+1425555010{i}" for i in range(5)]
    for i, r in enumerate(ids):
        apply(t, packet(r, "Hi.", 1.0 + i, final=True))
        if one_by_one:
            view.flush()
    view.flush()
    root = view.splitter
    assert root is not None
    assert root.orientation() == Qt.Orientation.Vertical
    rows = [root.widget(i) for i in range(root.count())]
    assert all(isinstance(r, QSplitter) for r in rows)
    assert [r.count() for r in rows] == [3, 2]
    assert [rows[i // 3].widget(i % 3) for i in range(5)] == [view.panes[r] for r in ids]
    assert [rows[i // 3].widget(i % 3) for i in range(5)] == [view.panes[r] for r in ids]
