"""Transcript model: phrases, participants, markers, ordering and change records."""

from __future__ import annotations

import json
import logging
import tracemalloc
from typing import Any

import pytest

from console.acs.events import parse_event
from console.acs.streaming import TICKS_PER_SECOND, TranscriptionData, parse_packet
from console.transcript.model import Transcript
from console.transcript.participants import NameSource
from console.transcript.timeline import (
    Change,
    MarkerAdded,
    MarkerKind,
    ParticipantAdded,
    ParticipantRenamed,
    Phrase,
    PhraseChanged,
    PhraseStatus,
)

PHONE = "4:+15550100"
ACS = "8:acs:1f2e3d4c-0000-0000-0000-000000000000_0000000a-1111-2222-3333-44444abcdef0"
TEAMS = "8:orgid:6c1f0000-0000-0000-0000-000000123456"
T0 = 1_700_000_000.0  # call start (wall clock)


def frame(
    raw_id: str,
    text: str,
    offset: float,
    duration: float = 1.0,
    *,
    final: bool = False,
    confidence: float | None = None,
    words: bool = True,
) -> str:
    """A WebSocket text frame as ACS sends it (offsets in seconds here, ticks on the wire)."""
    body: dict[str, Any] = {
        "text": text,
        "format": "display",
        "offset": round(offset * TICKS_PER_SECOND),
        "duration": round(duration * TICKS_PER_SECOND),
        "participantRawID": raw_id,
        "resultStatus": "Final" if final else "Intermediate",
    }
    if confidence is not None:
        body["confidence"] = confidence
    if final and words:
        step = duration / max(1, len(text.split()))
        body["words"] = [
            {
                "text": w.lower().strip(".,?!"),
                "offset": round((offset + i * step) * TICKS_PER_SECOND),
                "duration": round(step * 0.9 * TICKS_PER_SECOND),
            }
            for i, w in enumerate(text.split())
        ]
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": body})


def pkt(*args: Any, **kwargs: Any) -> TranscriptionData:
    packet = parse_packet(frame(*args, **kwargs))
    assert isinstance(packet, TranscriptionData)
    return packet


def metadata(locale: str = "en-us") -> str:
    return json.dumps(
        {
            "kind": "TranscriptionMetadata",
            "transcriptionMetadata": {
                "subscriptionId": "sub-1",
                "locale": locale,
                "callConnectionId": "cc-1",
                "correlationId": "corr-1",
            },
        }
    )


def event(kind: str, **data: Any) -> dict[str, Any]:
    return {
        "id": "evt",
        "source": "calling/callConnections/cc-1",
        "type": f"Microsoft.Communication.{kind}",
        "specversion": "1.0",
        "data": {"callConnectionId": "cc-1", **data},
    }


@pytest.fixture
def transcript() -> Transcript:
    return Transcript(call_started_at=T0)


def test_hypotheses_update_one_phrase_in_place_and_the_final_settles_it(
    transcript: Transcript,
) -> None:
    changes: list[Change] = []
    transcript.subscribe(changes.append)

    first = transcript.apply_packet(pkt(PHONE, "hello", 1.0, 0.4), received_at=T0 + 1.5)
    second = transcript.apply_packet(pkt(PHONE, "hello I need", 1.0, 0.9), received_at=T0 + 2.0)
    final = transcript.apply_packet(
        pkt(PHONE, "Hello, I need help.", 1.0, 1.6, final=True, confidence=0.91),
        received_at=T0 + 2.8,
    )

    assert first is not None
    assert second is not None
    assert final is not None
    phrase = final.phrase
    assert first.phrase is phrase is second.phrase  # one row, updated in place
    assert [first.kind, second.kind, final.kind] == ["intermediate", "intermediate", "final"]
    assert phrase.status is PhraseStatus.FINAL
    assert phrase.text == "Hello, I need help."
    assert phrase.confidence == 0.91
    assert [w.text for w in phrase.words] == ["hello", "i", "need", "help"]
    assert phrase.start == pytest.approx(1.0)
    assert phrase.end == pytest.approx(2.6)
    assert phrase.received_at == T0 + 2.8
    assert phrase.first_received_at == T0 + 1.5
    assert transcript.finals == (phrase,)
    assert transcript.open_intermediate(PHONE) is None
    phrase_changes = [c for c in changes if isinstance(c, PhraseChanged)]
    assert [c.kind for c in phrase_changes] == ["intermediate", "intermediate", "final"]


def test_late_intermediate_never_overwrites_the_final(transcript: Transcript) -> None:
    transcript.apply_packet(pkt(ACS, "the order", 4.0, 0.8), received_at=T0 + 5)
    transcript.apply_packet(
        pkt(ACS, "The order shipped.", 4.0, 1.5, final=True), received_at=T0 + 6
    )

    # Hypotheses of the same utterance arriving after its Final (same or earlier offset).
    assert transcript.apply_packet(pkt(ACS, "the order ship", 4.0, 1.2), received_at=T0 + 7) is None
    assert transcript.apply_packet(pkt(ACS, "order", 4.5, 0.5), received_at=T0 + 7.1) is None
    assert transcript.apply_packet(pkt(ACS, "older", 3.0, 0.5), received_at=T0 + 7.2) is None

    assert [p.text for p in transcript.finals] == ["The order shipped."]
    assert transcript.finals[0].status is PhraseStatus.FINAL
    assert transcript.open_intermediate(ACS) is None
    assert transcript.ignored_late == 3

    # The next utterance (after the Final's end) opens a new hypothesis as usual.
    change = transcript.apply_packet(pkt(ACS, "on Monday", 6.0, 0.5), received_at=T0 + 8)
    assert change is not None
    assert change.kind == "intermediate"
    assert transcript.open_intermediate(ACS) is change.phrase
    assert change.phrase is not transcript.finals[0]


def test_duplicate_finals_are_ignored(transcript: Transcript) -> None:
    done = pkt(PHONE, "Thank you.", 9.0, 0.7, final=True)
    assert transcript.apply_packet(done, received_at=T0 + 10) is not None
    assert transcript.apply_packet(done, received_at=T0 + 10.2) is None
    # Resent after a reconnect: a new packet object, same participant, offset and text.
    assert (
        transcript.apply_packet(pkt(PHONE, "Thank you.", 9.0, 0.7, final=True), received_at=T0 + 30)
        is None
    )
    # Same offset, different text is not a duplicate; another speaker's same words neither.
    assert transcript.apply_packet(
        pkt(PHONE, "Thank you!", 9.0, 0.7, final=True), received_at=T0 + 31
    )
    assert transcript.apply_packet(
        pkt(ACS, "Thank you.", 9.0, 0.7, final=True), received_at=T0 + 31
    )
    assert [p.text for p in transcript.finals] == ["Thank you.", "Thank you!", "Thank you."]
    assert transcript.ignored_duplicates == 2


def test_interleaved_speakers_each_have_their_own_open_phrase(transcript: Transcript) -> None:
    transcript.apply_packet(pkt(PHONE, "I was", 1.0, 0.5), received_at=T0 + 1.6)
    transcript.apply_packet(pkt(ACS, "can you", 1.2, 0.4), received_at=T0 + 1.7)
    transcript.apply_packet(pkt(PHONE, "I was charged", 1.0, 0.9), received_at=T0 + 2.0)
    b_final = transcript.apply_packet(
        pkt(ACS, "Can you hold?", 1.2, 0.8, final=True), received_at=T0 + 2.1
    )
    phone_open = transcript.open_intermediate(PHONE)
    assert phone_open is not None
    assert phone_open.text == "I was charged"
    assert transcript.open_intermediate(ACS) is None

    a_final = transcript.apply_packet(
        pkt(PHONE, "I was charged twice.", 1.0, 1.4, final=True), received_at=T0 + 2.6
    )
    assert a_final is not None
    assert b_final is not None
    assert a_final.phrase is phone_open
    # Chronological by offset: the phone caller started first although their Final came last.
    assert transcript.finals == (a_final.phrase, b_final.phrase)
    assert transcript.finals_for(PHONE) == (a_final.phrase,)
    assert transcript.finals_for(ACS) == (b_final.phrase,)
    assert transcript.finals_for("4:+19999") == ()


def test_finals_are_ordered_by_offset_then_receipt(transcript: Transcript) -> None:
    transcript.apply_packet(pkt(ACS, "Later.", 20.0, 1.0, final=True), received_at=T0 + 22)
    transcript.apply_packet(pkt(PHONE, "Earlier.", 5.0, 1.0, final=True), received_at=T0 + 23)
    transcript.apply_packet(
        pkt(TEAMS, "Same time, second.", 20.0, 1.0, final=True), received_at=T0 + 24
    )
    assert [p.text for p in transcript.finals] == ["Earlier.", "Later.", "Same time, second."]


def test_final_of_an_earlier_utterance_leaves_the_open_hypothesis_open(
    transcript: Transcript,
) -> None:
    transcript.apply_packet(pkt(PHONE, "and then", 10.0, 0.5), received_at=T0 + 10.6)
    late = transcript.apply_packet(
        pkt(PHONE, "First sentence.", 2.0, 1.0, final=True), received_at=T0 + 10.7
    )
    assert late is not None
    still_open = transcript.open_intermediate(PHONE)
    assert still_open is not None
    assert still_open.text == "and then"
    assert late.phrase is not still_open


def test_locale_changes_are_markers_and_finals_keep_the_locale_in_force(
    transcript: Transcript,
) -> None:
    transcript.apply(parse_packet(metadata("en-us")), received_at=T0 + 0.5)
    assert transcript.locale == "en-US"
    first = transcript.apply_packet(
        pkt(PHONE, "Hello.", 1.0, 1.0, final=True), received_at=T0 + 2.5
    )
    marker = transcript.set_locale_confirmed("fr-fr", T0 + 5.0)
    assert marker is not None
    assert marker.kind == MarkerKind.LOCALE_CHANGED
    assert marker.detail == "fr-FR"
    assert transcript.set_locale_confirmed("fr-FR", T0 + 5.5) is None  # no change, no marker
    second = transcript.apply_packet(
        pkt(PHONE, "Bonjour.", 6.0, 1.0, final=True), received_at=T0 + 7.5
    )

    assert first is not None
    assert second is not None
    assert first.phrase.locale == "en-US"
    assert second.phrase.locale == "fr-FR"
    assert transcript.locale == "fr-FR"
    kinds = [
        (item.kind, item.detail) if not isinstance(item, Phrase) else item.text
        for item in transcript.timeline()
    ]
    assert kinds == [
        ("transcription_started", ""),
        ("locale_changed", "en-US"),
        "Hello.",
        ("locale_changed", "fr-FR"),
        "Bonjour.",
    ]


def test_default_names_and_operator_renames(transcript: Transcript) -> None:
    visitor = "8:teamsvisitor:abcdef0123456789"
    for raw_id in (PHONE, ACS, TEAMS, visitor, "bot-7"):
        transcript.apply_packet(pkt(raw_id, "hi", 1.0), received_at=T0 + 1)
    names = {p.raw_id: p.display_name for p in transcript.participants}
    assert names == {
        PHONE: "+15550100",
        ACS: "ACS user …bcdef0",
        TEAMS: "Teams user …123456",
        visitor: "Teams user …456789",
        "bot-7": "bot-7",
    }

    renames: list[ParticipantRenamed] = []
    transcript.subscribe(lambda c: renames.append(c) if isinstance(c, ParticipantRenamed) else None)
    transcript.rename(PHONE, "  Alice   Smith ")
    alice = transcript.participant(PHONE)
    assert alice is not None
    assert alice.display_name == "Alice Smith"
    assert alice.name_source is NameSource.OPERATOR
    assert (renames[-1].old_name, renames[-1].by_operator) == ("+15550100", True)

    # The service's names never replace the operator's, but do replace a default name.
    transcript.learn_participants([PHONE, ACS], {PHONE: "Caller", ACS: "Agent Bob"})
    assert alice.display_name == "Alice Smith"
    bob = transcript.participant(ACS)
    assert bob is not None
    assert bob.display_name == "Agent Bob"
    assert bob.name_source is NameSource.SERVICE
    assert renames[-1].by_operator is False

    transcript.rename(PHONE, "")  # clearing the name restores the default
    assert alice.display_name == "+15550100"
    assert alice.name_source is NameSource.DEFAULT
    with pytest.raises(KeyError):
        transcript.rename("4:+10000000", "Nobody")


def test_colours_follow_first_appearance_and_never_change(transcript: Transcript) -> None:
    transcript.apply_packet(pkt(ACS, "hello", 1.0), received_at=T0 + 1)
    added = transcript.learn_participants([TEAMS, PHONE, ACS])
    assert [p.raw_id for p in added] == [TEAMS, PHONE]
    transcript.apply_packet(pkt(PHONE, "hi", 2.0), received_at=T0 + 2)
    transcript.rename(ACS, "Agent")
    transcript.learn_participants([PHONE, TEAMS, ACS])
    transcript.abandon_open()
    colours = {p.raw_id: p.colour for p in transcript.participants}
    assert colours == {ACS: 0, TEAMS: 1, PHONE: 2}
    assert [p.raw_id for p in transcript.participants] == [ACS, TEAMS, PHONE]
    transcript.apply_packet(pkt("4:+15550199", "me too", 3.0), received_at=T0 + 3)
    late_joiner = transcript.participant("4:+15550199")
    assert late_joiner is not None
    assert late_joiner.colour == 3
    assert {p.raw_id: p.colour for p in transcript.participants[:3]} == colours


def test_change_records_carry_an_increasing_revision(
    transcript: Transcript, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Change] = []

    def broken(change: Change) -> None:
        raise RuntimeError("view bug")

    transcript.subscribe(broken)
    unsubscribe = transcript.subscribe(seen.append)
    with caplog.at_level(logging.ERROR, logger="console.transcript.model"):
        transcript.apply_packet(pkt(PHONE, "hi", 1.0), received_at=T0 + 1)
        transcript.apply_packet(pkt(PHONE, "Hi there.", 1.0, final=True), received_at=T0 + 2)
        transcript.add_marker(MarkerKind.NOTE, T0 + 3, "escalated")
    assert [type(c) for c in seen] == [ParticipantAdded, PhraseChanged, PhraseChanged, MarkerAdded]
    revisions = [c.revision for c in seen]
    assert revisions == sorted(set(revisions))
    assert revisions[-1] == transcript.revision
    assert "view bug" in caplog.text  # logged, and the other subscriber still got everything

    unsubscribe()
    before = transcript.revision
    transcript.apply_packet(pkt(PHONE, "more", 4.0), received_at=T0 + 4)
    assert len(seen) == 4
    assert transcript.revision > before


def test_reconnect_keeps_the_hypothesis_open_until_its_final(transcript: Transcript) -> None:
    transcript.apply(parse_packet(metadata()), received_at=T0 + 0.5)
    open_phrase = transcript.apply_packet(pkt(PHONE, "my account", 3.0, 0.8), received_at=T0 + 4)
    transcript.add_marker(MarkerKind.CONNECTION_INTERRUPTED, T0 + 4.2)
    transcript.apply(parse_packet(metadata()), received_at=T0 + 6)  # the stream came back
    final = transcript.apply_packet(
        pkt(PHONE, "My account number is 42.", 3.0, 2.0, final=True), received_at=T0 + 6.1
    )
    assert open_phrase is not None
    assert final is not None
    assert final.phrase is open_phrase.phrase
    assert final.kind == "final"
    kinds = [m.kind for m in transcript.markers]
    assert kinds == [
        "transcription_started",
        "locale_changed",
        "connection_interrupted",
        "connection_reestablished",
    ]


@pytest.mark.parametrize(
    "ending",
    [
        MarkerKind.TRANSCRIPTION_STOPPED,
        MarkerKind.CALL_DISCONNECTED,
        MarkerKind.TRANSCRIPTION_FAILED,
    ],
)
def test_open_hypotheses_are_abandoned_when_transcription_or_call_ends(
    transcript: Transcript, ending: MarkerKind
) -> None:
    changes: list[Change] = []
    transcript.subscribe(changes.append)
    transcript.apply_packet(pkt(PHONE, "wait I", 3.0), received_at=T0 + 4)
    transcript.apply_packet(pkt(ACS, "one moment", 3.5), received_at=T0 + 4.1)
    transcript.add_marker(MarkerKind.CONNECTION_INTERRUPTED, T0 + 4.2)
    transcript.add_marker(ending, T0 + 9)
    abandoned = [
        c.phrase.text for c in changes if isinstance(c, PhraseChanged) and c.kind == "abandoned"
    ]
    assert sorted(abandoned) == ["one moment", "wait I"]
    assert transcript.open_intermediates() == ()
    assert transcript.finals == ()
    assert len(transcript.abandoned) == 2
    # The abandoned record comes before the marker that caused it.
    assert isinstance(changes[-1], MarkerAdded)
    assert changes[-1].marker.kind == ending


def test_intermediates_are_not_retained_after_their_final(transcript: Transcript) -> None:
    def call(utterances: int, hypotheses: int) -> int:
        t = Transcript(call_started_at=T0)
        tracemalloc.start()
        try:
            for u in range(utterances):
                for h in range(hypotheses):
                    # ~2 KB hypotheses: kept by mistake they would add up to megabytes.
                    t.apply_packet(
                        pkt(PHONE, f"{u} {h} " + "x" * 2000, u * 3.0), received_at=T0 + u * 3
                    )
                t.apply_packet(
                    pkt(PHONE, f"Utterance {u}.", u * 3.0, final=True), received_at=T0 + u * 3 + 1
                )
            return tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()

    few = call(20, 2)
    many = call(20, 200)  # 100x the hypotheses: 4,000 x 2 KB = 8 MB if kept
    assert many - few < 200_000
    assert transcript.open_intermediate(PHONE) is None


def test_search_finds_case_insensitive_spans(transcript: Transcript) -> None:
    transcript.apply_packet(
        pkt(PHONE, "My Account is locked.", 1.0, final=True), received_at=T0 + 2
    )
    transcript.apply_packet(
        pkt(ACS, "Which account? The account ending 42?", 3.0, final=True), received_at=T0 + 4
    )
    matches = transcript.search("ACCOUNT")
    assert [(m.phrase.raw_id, m.phrase.text[m.start : m.end]) for m in matches] == [
        (PHONE, "Account"),
        (ACS, "account"),
        (ACS, "account"),
    ]
    assert transcript.search("  ") == []
    assert transcript.search("refund") == []
    assert [m.start for m in transcript.search("(42?")] == []  # literal, not a pattern
    assert len(transcript.search("42?")) == 1


def test_callback_events_become_markers_and_participants(transcript: Transcript) -> None:
    t = Transcript()

    def apply(doc: object, *, received_at: float) -> None:
        # Events reach the model typed, as from the listener and a journal replay.
        t.apply_event(parse_event(doc), received_at=received_at)

    apply(event("CallConnected"), received_at=T0 + 1)
    assert t.call_started_at == T0 + 1
    apply(
        event(
            "ParticipantsUpdated",
            participants=[
                {"identifier": {"rawId": PHONE, "kind": "phoneNumber"}, "isMuted": False},
                {"identifier": {"rawId": ACS, "kind": "communicationUser"}, "isMuted": False},
                {"identifier": {}},
            ],
            sequenceNumber=1,
        ),
        received_at=T0 + 1.1,
    )
    assert [p.raw_id for p in t.participants] == [PHONE, ACS]
    started = event(
        "TranscriptionStarted",
        transcriptionUpdate={
            "transcriptionStatus": "transcriptionStarted",
            "transcriptionStatusDetails": "subscriptionStarted",
        },
    )
    apply(started, received_at=T0 + 2)
    apply(started, received_at=T0 + 2.1)  # redelivered: state unchanged, no marker
    apply(
        event(
            "TranscriptionFailed",
            resultInformation={"code": 500, "subCode": 8578, "message": "WebSocket failed."},
            transcriptionUpdate={
                "transcriptionStatus": "transcriptionFailed",
                "transcriptionStatusDetails": "streamConnectionInterrupted",
            },
        ),
        received_at=T0 + 3,
    )
    apply(
        event(
            "TranscriptionUpdated",
            transcriptionUpdate={
                "transcriptionStatus": "transcriptionUpdated",
                "transcriptionStatusDetails": "streamConnectionReestablished",
            },
        ),
        received_at=T0 + 4,
    )
    apply(
        event(
            "CallDisconnected",
            resultInformation={"code": 200, "subCode": 7000, "message": "Ended."},
        ),
        received_at=T0 + 9,
    )
    apply({"type": "Microsoft.Communication.PlayCompleted", "data": None}, received_at=T0 + 9)
    apply({"unexpected": True}, received_at=T0 + 9)
    assert [(m.kind, m.detail) for m in t.markers] == [
        ("call_connected", ""),
        ("transcription_started", ""),
        ("connection_interrupted", ""),
        ("transcription_failed", "500/8578 WebSocket failed."),
        ("connection_reestablished", ""),
        ("call_disconnected", "200/7000 Ended."),
    ]
    # Markers sit on the call clock, relative to the call start.
    assert [t.time_of(m) for m in t.markers][:2] == [0.0, pytest.approx(1.0)]


def test_call_relative_offsets_are_used_as_they_are(transcript: Transcript) -> None:
    transcript.apply(parse_packet(metadata()), received_at=T0 + 60)
    change = transcript.apply_packet(
        pkt(PHONE, "Hi.", 61.0, 1.0, final=True), received_at=T0 + 62.5
    )
    assert change is not None
    assert change.phrase.anchor == 0
    assert change.phrase.start == 61.0


def test_a_stream_counting_from_its_own_start_is_placed_on_the_call_clock(
    transcript: Transcript,
) -> None:
    # Session 1: offsets from 0, started at the call start.
    transcript.apply(parse_packet(metadata()), received_at=T0)
    transcript.apply_packet(pkt(PHONE, "One.", 1.0, 1.0, final=True), received_at=T0 + 2.5)
    transcript.apply_packet(pkt(ACS, "Two.", 3.0, 1.0, final=True), received_at=T0 + 4.5)
    transcript.add_marker(MarkerKind.TRANSCRIPTION_STOPPED, T0 + 10)
    # Session 2, a minute in: offsets restart from 0.
    transcript.add_marker(MarkerKind.TRANSCRIPTION_STARTED, T0 + 60)
    transcript.apply(parse_packet(metadata()), received_at=T0 + 60.1)
    transcript.apply_packet(pkt(PHONE, "Three.", 1.0, 1.0, final=True), received_at=T0 + 62.5)
    transcript.apply_packet(pkt(ACS, "Four.", 2.5, 1.0, final=True), received_at=T0 + 64)
    starts = {p.text: p.start for p in transcript.finals}
    assert [p.text for p in transcript.finals] == ["One.", "Two.", "Three.", "Four."]
    assert starts["One."] == 1.0
    assert starts["Two."] == 3.0
    # Anchored at receipt: the Final of "Three." arrived 0.5 s after its end.
    assert starts["Three."] == pytest.approx(61.5)
    assert starts["Four."] == pytest.approx(63.0)
    texts = [i.text if isinstance(i, Phrase) else i.kind for i in transcript.timeline()]
    assert texts.index("transcription_stopped") < texts.index("Three.")


# The offset in the docs' own TranscriptionData sample: 7,976 years of ticks.
DOCS_OFFSET = 2516998782481234400


def _docs_frame(offset: int, text: str) -> TranscriptionData:
    body = {
        "text": text,
        "format": "display",
        "confidence": 0.98,
        "offset": offset,
        "duration": 9_800_000,
        "words": [{"text": text.strip(".").lower(), "offset": offset, "duration": 9_800_000}],
        "participantRawID": PHONE,
        "resultStatus": "Final",
    }
    packet = parse_packet(json.dumps({"kind": "TranscriptionData", "transcriptionData": body}))
    assert isinstance(packet, TranscriptionData)
    return packet


def test_the_docs_sample_offset_stays_within_the_call(transcript: Transcript) -> None:
    transcript.apply(parse_packet(metadata()), received_at=T0 + 30)
    transcript.apply_packet(_docs_frame(DOCS_OFFSET, "Hello."), received_at=T0 + 32)
    transcript.apply_packet(
        _docs_frame(DOCS_OFFSET + 3 * TICKS_PER_SECOND, "World."), received_at=T0 + 35.5
    )
    first, second = transcript.finals
    # Placed where it was heard (it ended when it arrived), not thousands of years on.
    assert first.end == pytest.approx(32.0)
    assert 0 <= first.start < first.end
    # The stream's own spacing is kept for what follows on the same stream.
    assert second.start - first.start == pytest.approx(3.0)
    assert second.end <= 35.5
    # And the whole timeline, markers included, stays within the call.
    assert all(0 <= transcript.time_of(item) <= 36 for item in transcript.timeline())


def test_an_implausible_offset_is_rebased_even_without_a_call_start() -> None:
    t = Transcript()  # e.g. a journal with no CallConnected
    t.apply_packet(_docs_frame(DOCS_OFFSET, "Hello."), received_at=100.0)
    (phrase,) = t.finals
    assert 0 <= phrase.start <= phrase.end <= 1.0


def test_restarted_offsets_follow_on_without_a_wall_clock() -> None:
    t = Transcript()  # call start unknown (e.g. a replayed emulator run at high speed)
    t.apply(parse_packet(metadata()), received_at=100.0)
    t.apply_packet(pkt(PHONE, "Before.", 30.0, 2.0, final=True), received_at=100.1)
    t.add_marker(MarkerKind.TRANSCRIPTION_STOPPED, 100.2)
    t.add_marker(MarkerKind.TRANSCRIPTION_STARTED, 100.3)
    # A stale hypothesis first: ignored, and it must not decide where the new stream goes.
    assert t.apply_packet(pkt(PHONE, "before", 30.0, 1.0), received_at=100.35) is None
    t.apply_packet(pkt(PHONE, "After.", 0.5, 1.0, final=True), received_at=100.4)
    assert [p.text for p in t.finals] == ["Before.", "After."]
    assert t.finals[1].start >= t.finals[0].end


def test_state_markers_show_transitions_once(transcript: Transcript) -> None:
    for at, kind, detail in [
        (1, MarkerKind.TRANSCRIPTION_STARTED, ""),
        (2, MarkerKind.TRANSCRIPTION_STARTED, ""),  # reported by event and session: once
        (3, MarkerKind.TRANSCRIPTION_FAILED, "500/8578 WebSocket failed."),
        (4, MarkerKind.TRANSCRIPTION_FAILED, "500/8578 WebSocket failed."),
        (5, MarkerKind.TRANSCRIPTION_FAILED, "429/8565 Too many requests."),  # a new reason
        (6, MarkerKind.TRANSCRIPTION_STARTED, ""),  # retried after the failure
        (7, MarkerKind.NOTE, "customer on hold"),
        (7, MarkerKind.NOTE, "customer on hold"),  # the same note replayed
        (8, MarkerKind.NOTE, "customer on hold"),  # the same words later: a new note
    ]:
        transcript.add_marker(kind, T0 + at, detail)
    assert [(m.at - T0, m.kind) for m in transcript.markers] == [
        (1, "transcription_started"),
        (3, "transcription_failed"),
        (5, "transcription_failed"),
        (6, "transcription_started"),
        (7, "note"),
        (8, "note"),
    ]


def test_a_final_records_its_identified_language_and_sentiment() -> None:
    t = Transcript(call_started_at=T0, locale="en-US")

    def apply(text: str, start: float, final: bool, **preview: Any) -> Phrase:
        body = json.loads(frame(PHONE, text, start, final=final))
        body["transcriptionData"].update(preview)
        packet = parse_packet(json.dumps(body))
        assert isinstance(packet, TranscriptionData)
        change = t.apply_packet(packet, received_at=T0 + start + 1)
        assert change is not None
        return change.phrase

    hypothesis = apply("hola", 1.0, False, languageIdentified="es-es")
    assert (hypothesis.language, hypothesis.sentiment) == (None, None)  # Finals only
    final = apply(
        "Hola, buenas.",
        1.0,
        True,
        languageIdentified="es-es",
        sentimentAnalysisResult={"sentiment": "Positive"},
    )
    assert final is hypothesis  # settled in place
    assert (final.language, final.sentiment) == ("es-ES", "positive")
    assert final.locale == "en-US"  # the locale in force is another thing
    odd = apply("Mm.", 5.0, True, languageIdentified="Klingon", sentimentAnalysisResult="wry")
    assert (odd.language, odd.sentiment) == ("Klingon", "wry")  # kept as sent
    plain = apply("Okay.", 9.0, True)
    assert (plain.language, plain.sentiment) == (None, None)
