"""Insights from a small scripted call whose numbers are worked out by hand, live (one Final at
a time, in any order) and from scratch."""

from __future__ import annotations

import itertools
import json

import pytest

from console.acs.streaming import TICKS_PER_SECOND, ResultStatus, TranscriptionData
from console.transcript.insights import (
    Insights,
    InsightsSnapshot,
    compute_insights,
    shown_language,
)
from console.transcript.model import Transcript
from console.transcript.timeline import Phrase, PhraseStatus

T0 = 1_700_000_000.0
A, B, C = "4:+15550100", "8:acs:res_agent", "8:orgid:00000000-0000-0000-0000-0000000000c0"

# (speaker, start s, end s, text, sentiment)
SCRIPT = [
    (A, 0.0, 4.0, "one two three four five six seven eight", "negative"),
    (B, 3.0, 5.0, "sorry to hear that", "neutral"),  # talks over A for 1.0 s
    (A, 6.0, 8.0, "it happened twice now", "negative"),  # 1.0 s after B: not a long silence
    (B, 15.0, 18.0, "let me check that now", None),  # 7.0 s of silence before it
    (C, 16.0, 17.0, "mm hmm", "positive"),  # over B for 1.0 s
    (A, 17.5, 19.0, "and one more thing", "mixed"),  # over B for 0.5 s (C is done)
]
# By hand:
#   talk time  A 4 + 2 + 1.5 = 7.5 s, B 2 + 3 = 5 s, C 1 s; together 13.5 s
#   overtalk   (A1, B1) 1.0 + (B2, C1) 1.0 + (B2, A3) 0.5 = 3 pairs, 2.5 s
#   speech     [0, 5] [6, 8] [15, 19]: one silence of 5 s or more, 8.0 -> 15.0
#   words/min  A 16 words / 7.5 s = 128, B 9 / 5 s = 108, C 2 / 1 s = 120


def transcript() -> Transcript:
    t = Transcript(call_started_at=T0)
    for speaker, start, end, text, sentiment in SCRIPT:
        packet = TranscriptionData(
            text,
            speaker,
            ResultStatus.FINAL,
            round(start * TICKS_PER_SECOND),
            round((end - start) * TICKS_PER_SECOND),
            0.9,
            sentiment=sentiment,
        )
        t.apply_packet(packet, received_at=T0 + end + 0.5)
    return t


def check(s: InsightsSnapshot) -> None:
    assert s.finals == 6
    assert [x.raw_id for x in s.speakers] == [A, B, C]
    a, b, c = s.speakers
    assert (a.talk_seconds, b.talk_seconds, c.talk_seconds) == (7.5, 5.0, 1.0)
    assert s.talk_seconds == 13.5
    assert a.share == pytest.approx(7.5 / 13.5)
    assert b.share == pytest.approx(5 / 13.5)
    assert c.share == pytest.approx(1 / 13.5)
    assert (a.turns, b.turns, c.turns) == (3, 2, 1)
    assert (a.words, b.words, c.words) == (16, 9, 2)
    assert a.words_per_minute == pytest.approx(128.0)
    assert b.words_per_minute == pytest.approx(108.0)
    assert c.words_per_minute == pytest.approx(120.0)
    assert (s.overtalk_count, s.overtalk_seconds) == (3, 2.5)
    assert s.silence_count == 1
    (silence,) = s.silences
    assert (silence.start, silence.end, silence.duration) == (8.0, 15.0, 7.0)
    assert s.longest_silence == silence


def test_a_scripted_call_from_scratch() -> None:
    check(compute_insights(transcript()))


def test_one_final_at_a_time_gives_the_same_at_every_step() -> None:
    t = transcript()
    live = Insights()
    for n, phrase in enumerate(t.finals, start=1):
        live.add(phrase)
        assert live.snapshot().finals == n
    check(live.snapshot())
    assert live.snapshot() == compute_insights(t)


@pytest.mark.parametrize(
    "order", list(itertools.islice(itertools.permutations(range(6)), 0, 720, 97))
)
def test_finals_arriving_in_any_order_give_the_same(order: tuple[int, ...]) -> None:
    finals = transcript().finals
    live = Insights()
    for i in order:
        live.add(finals[i])
    snapshot = live.snapshot()
    assert snapshot.talk_seconds == 13.5
    assert (snapshot.overtalk_count, snapshot.overtalk_seconds) == (3, 2.5)
    assert [(x.start, x.end) for x in snapshot.silences] == [(8.0, 15.0)]
    assert {x.raw_id: x.talk_seconds for x in snapshot.speakers} == {A: 7.5, B: 5.0, C: 1.0}


def test_the_threshold_decides_what_a_long_silence_is() -> None:
    t = transcript()
    assert [(x.start, x.end) for x in compute_insights(t, silence_threshold=1.0).silences] == [
        (5.0, 6.0),
        (8.0, 15.0),
    ]
    assert compute_insights(t, silence_threshold=7.5).silences == ()


def test_each_speaker_has_a_trend_of_recent_sentiments() -> None:
    t = transcript()
    live = Insights(trend_turns=2)
    for phrase in t.finals:
        live.add(phrase)
    assert live.sentiments(A) == ("negative", "mixed")  # the last two given
    assert live.sentiments(B) == ("neutral",)  # one Final had none
    assert live.snapshot().speaker(C).sentiments == ("positive",)  # type: ignore[union-attr]
    assert live.sentiments("nobody") == ()


def test_overlapping_finals_of_one_speaker_are_not_counted_twice_or_as_overtalk() -> None:
    live = Insights()
    live.add(phrase(1, A, 0.0, 4.0))
    live.add(phrase(2, A, 3.0, 6.0))  # a recogniser's overlapping phrases
    live.add(phrase(3, B, 10.0, 10.0))  # no duration: words, no time
    s = live.snapshot()
    assert s.speaker(A).talk_seconds == 6.0  # type: ignore[union-attr]
    assert s.overtalk_count == 0
    b = s.speaker(B)
    assert b is not None
    assert (b.talk_seconds, b.words, b.words_per_minute, b.share) == (0.0, 2, None, 0.0)


def test_only_finals_count_and_an_empty_call_has_nothing() -> None:
    live = Insights()
    live.add(phrase(1, A, 0.0, 2.0, status=PhraseStatus.ABANDONED))
    empty = live.snapshot()
    assert empty.finals == 0
    assert empty.speakers == ()
    assert empty.longest_silence is None
    assert compute_insights(Transcript()) == empty


def test_the_snapshot_as_a_json_document() -> None:
    doc = compute_insights(transcript()).to_dict()
    json.dumps(doc, allow_nan=False)
    assert doc["overtalk"] == {"count": 3, "seconds": 2.5}
    assert doc["silences"]["count"] == 1
    assert doc["silences"]["longest"] == 7.0
    assert doc["silences"]["list"] == [{"start": 8.0, "end": 15.0, "duration": 7.0}]
    assert doc["speakers"][0] == {
        "raw_id": A,
        "turns": 3,
        "talk_seconds": 7.5,
        "share": 0.5556,
        "words": 16,
        "words_per_minute": 128.0,
        "sentiments": ["negative", "negative", "mixed"],
    }


def test_a_language_is_shown_only_when_it_differs_from_the_call_s() -> None:
    p = phrase(1, A, 0.0, 1.0)
    assert shown_language(p, "en-US") is None
    p.language = "es-ES"
    assert shown_language(p, "en-US") == "es-ES"
    assert shown_language(p, "es-es") is None
    assert shown_language(p, None) == "es-ES"


def phrase(
    pid: int,
    raw_id: str,
    start: float,
    end: float,
    text: str = "two words",
    status: PhraseStatus = PhraseStatus.FINAL,
) -> Phrase:
    return Phrase(
        id=pid,
        raw_id=raw_id,
        text=text,
        status=status,
        offset=round(start * TICKS_PER_SECOND),
        duration=round((end - start) * TICKS_PER_SECOND),
        anchor=0,
        confidence=0.9,
        words=(),
        locale="en-US",
        received_at=T0,
        first_received_at=T0,
        seq=pid,
    )
