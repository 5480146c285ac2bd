"""Bringing another transcript into the view: a long one shows its newest text at once and the
rest in order soon after, live text keeps arriving meanwhile, and the panes of the call before are
reused for the next call's participants without leaving anything of it behind."""

from __future__ import annotations

import time

import pytest
from PySide6.QtWidgets import QApplication

from console.transcript.model import Transcript
from console.transcript.timeline import Marker
from console.ui.backfill import TAIL
from console.ui.phrase_view import PhraseView
from console.ui.transcript_view import TranscriptView
from tests.gui.test_transcript_view import ALICE, BOB, CAROL, apply, packet

DANA = "4:+14255550177"


def blocks(view: PhraseView) -> list[str]:
    doc = view.document()
    return [doc.findBlockByNumber(i).text() for i in range(doc.blockCount())]


def long_call(finals_each: int, speakers: tuple[str, ...] = (ALICE, BOB, CAROL)) -> Transcript:
    t = Transcript(call_started_at=time.time())
    t.add_marker("transcription_started", time.time(), "en-US")
    for i in range(finals_each):
        for k, raw in enumerate(speakers):
            apply(t, packet(raw, f"{raw[-4:]} line {i}.", 1.0 + i * 4 + k, final=True))
    return t


@pytest.fixture
def view(app: QApplication, qtbot) -> TranscriptView:
    v = TranscriptView(holdable=True)
    qtbot.addWidget(v)
    v.resize(1200, 500)
    v.show()
    return v


def test_a_long_transcript_shows_its_newest_text_at_once_then_all_of_it_in_order(view, qtbot):
    t = long_call(3 * TAIL)
    view.set_transcript(t)
    pane = view.panes[BOB].view
    expected = [f"{BOB[-4:]} line {i}." for i in range(3 * TAIL)]
    shown = blocks(pane)
    assert view.filling
    assert len(shown) < len(expected)  # the older part is still to come
    assert shown[-1].endswith(expected[-1])
    qtbot.waitUntil(lambda: not view.filling, timeout=10_000)
    for raw in (ALICE, BOB, CAROL):
        lines = blocks(view.panes[raw].view)
        want = [ph.text for ph in t.settled_for(raw)]
        assert len(lines) == len(want)
        assert all(line.endswith(text) for line, text in zip(lines, want, strict=True))
    combined = blocks(view.combined.view)
    timeline = t.timeline(abandoned=True)
    assert len(combined) == len(timeline)
    for line, item in zip(combined, timeline, strict=True):
        if isinstance(item, Marker):
            assert "Transcription started" in line
        else:
            assert line.endswith(f"{t.participant(item.raw_id).display_name}: {item.text}")


def test_live_text_arriving_while_older_text_is_written_keeps_its_place(view, qtbot):
    t = long_call(3 * TAIL)
    view.set_transcript(t)
    late = 1.0 + 3 * TAIL * 4 + 50
    apply(t, packet(ALICE, "Newest words.", late, final=True))
    apply(t, packet(BOB, "Still talking", late + 1, final=False))
    view.flush()
    assert view.filling
    qtbot.waitUntil(lambda: not view.filling, timeout=10_000)
    alice = blocks(view.panes[ALICE].view)
    assert alice[-1].endswith("Newest words.")
    assert alice[0].endswith(f"{ALICE[-4:]} line 0.")
    assert len(alice) == len(t.settled_for(ALICE))
    bob = view.panes[BOB].view
    assert bob.interim_text.startswith("Still talking")
    assert blocks(bob)[-1] == bob.interim_text  # the provisional line stays last
    assert blocks(bob)[-2].endswith(f"{BOB[-4:]} line {3 * TAIL - 1}.")
    combined = view.combined.view
    assert "Still talking" in combined.interim_text
    assert blocks(combined)[-2].endswith("Newest words.")


def test_a_reader_scrolled_up_stays_on_the_same_line_while_older_text_arrives(view, qtbot):
    t = long_call(4 * TAIL, speakers=(ALICE,))
    view.set_transcript(t)
    pane = view.panes[ALICE].view
    qtbot.waitUntil(lambda: pane.verticalScrollBar().maximum() > 0)
    pane.verticalScrollBar().setValue(3)  # the operator scrolls up into the tail
    assert not pane.following
    reading = pane.firstVisibleBlock().text()
    qtbot.waitUntil(lambda: not view.filling, timeout=10_000)
    assert pane.firstVisibleBlock().text() == reading
    assert not pane.following


def test_the_next_call_reuses_the_panes_and_keeps_nothing_of_the_last(view, qtbot):
    first = long_call(5)
    first.rename(BOB, "Dana Whitfield")
    view.set_transcript(first)
    view.flush()
    old = [view.panes[r] for r in (ALICE, BOB, CAROL)]
    second = Transcript(call_started_at=time.time())
    apply(second, packet(DANA, "Hello there.", 1.0, final=True))
    apply(second, packet(CAROL, "Hi Dana", 2.0, final=False))
    view.set_transcript(second)
    view.flush()
    assert list(view.panes) == [DANA, CAROL]
    dana, carol = view.panes[DANA], view.panes[CAROL]
    assert {dana, carol} <= set(old)  # the same widgets, now someone else's
    assert dana.raw_label.text() == DANA
    assert dana.name == second.participant(DANA).display_name
    assert blocks(dana.view)[-1].endswith("Hello there.")
    assert len(blocks(dana.view)) == 1
    assert carol.view.settled_count() == 0
    assert carol.view.interim_text.startswith("Hi Dana")
    assert carol.speaking
    renamed: list[tuple[str, str]] = []
    view.rename_requested.connect(lambda raw, name: renamed.append((raw, name)))
    dana.name_edit.renamed.emit("Dana W.")
    assert renamed == [(DANA, "Dana W.")]
    visible = [p for p in old if p.isVisible()]
    assert sorted(map(id, visible)) == sorted(map(id, (dana, carol)))
    # And back: the first call's names and text, all of it.
    view.set_transcript(first)
    qtbot.waitUntil(lambda: not view.filling, timeout=10_000)
    assert view.panes[BOB].name == "Dana Whitfield"
    assert len(blocks(view.panes[ALICE].view)) == 5


def test_a_smaller_call_after_a_grid_shows_one_row_and_the_grid_comes_back(view):
    five = (ALICE, BOB, CAROL, DANA, "4:+14255550188")
    big = long_call(2, speakers=five)
    small = long_call(2, speakers=(CAROL, DANA))
    view.set_transcript(big)
    view.flush()

    def shown_rows() -> list[int]:
        root = view.splitter
        assert root is not None
        rows = [root.widget(i) for i in range(root.count()) if root.widget(i).isVisible()]
        return [sum(1 for k in range(r.count()) if r.widget(k).isVisible()) for r in rows]

    assert shown_rows() == [3, 2]
    view.set_transcript(small)
    view.flush()
    assert shown_rows() == [2]
    assert [p.raw_id for p in view.panes.values() if p.isVisible()] == [CAROL, DANA]
    view.set_transcript(big)
    view.flush()
    assert shown_rows() == [3, 2]
    root = view.splitter
    assert root is not None
    first_row = root.widget(0)
    assert [first_row.widget(i).raw_id for i in range(3)] == list(five[:3])
