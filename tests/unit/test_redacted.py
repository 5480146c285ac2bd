"""Redacted copies of transcripts and what every export format says about them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pysrt
import pytest
import webvtt

from console.acs.streaming import TICKS_PER_SECOND, TranscriptionData, parse_packet
from console.transcript.export import export, load_json, render
from console.transcript.model import Transcript
from console.transcript.redacted import (
    CONSOLE_REDACTION,
    SERVICE_REDACTION,
    redact_transcript,
    redacted_frame,
    redaction_record,
)
from console.transcript.timeline import MarkerKind

PHONE = "4:+15550100"
AGENT = "8:acs:res_0000-agent-00a1b2"
T0 = 1_700_000_000.0
CARD = "4111 1111 1111 1111"
SPOKEN_ACCOUNT = "four four seven two, nine one zero, eight three"
# (speaker, text, start s): a card in display form, an account spoken, a spelled name, an
# e-mail spoken, and a line with near misses the operator needs (an order number, a price).
LINES = [
    (PHONE, f"My card is {CARD}, thanks.", 1.0),
    (AGENT, "And the account number?", 5.0),
    (PHONE, f"Sure, it's {SPOKEN_ACCOUNT}.", 8.0),
    (PHONE, "That's W H I T F I E L D.", 14.0),
    (PHONE, "Write to dana dot whitfield at contoso dot com please.", 19.0),
    (AGENT, "Order 12345 was $59.99 on the third.", 25.0),
]
SECRETS = ["4111", "whitfield", "four four seven two", "W H I T"]


def final(raw_id: str, text: str, start: float, **extra: Any) -> str:
    words = text.rstrip(".").split()
    body: dict[str, Any] = {
        "text": text,
        "format": "display",
        "offset": round(start * TICKS_PER_SECOND),
        "duration": round(len(words) * 0.4 * TICKS_PER_SECOND),
        "participantRawID": raw_id,
        "resultStatus": "Final",
        "confidence": 0.9,
        "words": [
            {
                "text": w,
                "offset": round((start + i * 0.4) * TICKS_PER_SECOND),
                "duration": 3_000_000,
            }
            for i, w in enumerate(words)
        ],
        **extra,
    }
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": body})


def build() -> Transcript:
    t = Transcript(call_info={"target": PHONE}, call_started_at=T0)
    t.add_marker(MarkerKind.CALL_CONNECTED, T0)
    for raw_id, text, start in LINES:
        packet = parse_packet(final(raw_id, text, start))
        assert isinstance(packet, TranscriptionData)
        t.apply_packet(packet, received_at=T0 + start + 1)
    hypothesis = parse_packet(final(AGENT, f"card {CARD} again", 40.0))
    assert isinstance(hypothesis, TranscriptionData)
    hypothesis.result_status = type(hypothesis.result_status)("Intermediate")
    t.apply_packet(hypothesis, received_at=T0 + 41)
    t.abandon_open()  # a phrase whose Final never came is exported too
    t.add_marker(MarkerKind.NOTE, T0 + 30, f"caller read card {CARD}")
    return t


@pytest.fixture
def transcript() -> Transcript:
    return build()


def leaks(text: str) -> list[str]:
    low = text.lower()
    return [s for s in SECRETS if s.lower() in low]


def test_the_copy_is_masked_and_the_original_untouched(transcript: Transcript) -> None:
    done = redact_transcript(transcript)
    copy = done.transcript
    assert done.counts == {"CARD": 3, "EMAIL": 1, "ACCOUNT": 1, "SPELLED": 1}
    texts = [p.text for p in copy.finals]
    assert texts == [
        "My card is [CARD], thanks.",
        "And the account number?",
        "Sure, it's [ACCOUNT].",
        "That's [SPELLED].",
        "Write to [EMAIL] please.",
        "Order 12345 was $59.99 on the third.",  # near misses kept
    ]
    assert [p.text for p in copy.abandoned] == ["card [CARD] again"]
    assert [m.detail for m in copy.markers if m.kind == "note"] == ["caller read card [CARD]"]
    # The original is as it was.
    assert next(p.text for p in transcript.finals) == f"My card is {CARD}, thanks."
    assert CONSOLE_REDACTION not in transcript.call_info
    assert copy.call_info[CONSOLE_REDACTION] == done.counts
    assert copy.call_info["target"] == PHONE
    assert [p.raw_id for p in copy.participants] == [p.raw_id for p in transcript.participants]


def test_an_entity_becomes_one_word_spanning_its_words(transcript: Transcript) -> None:
    before = transcript.finals[0]
    after = redact_transcript(transcript).transcript.finals[0]
    assert [w.text for w in after.words] == ["My", "card", "is", "[CARD]", "thanks"]
    card_words = before.words[3:7]
    mask = after.words[3]
    assert mask.offset == card_words[0].offset
    assert mask.offset + mask.duration == card_words[-1].offset + card_words[-1].duration
    # The phrase itself keeps its place and length: cues do not shift.
    assert (after.offset, after.duration, after.anchor) == (
        before.offset,
        before.duration,
        before.anchor,
    )


def test_redacting_again_masks_nothing_more_and_keeps_the_counts(transcript: Transcript) -> None:
    once = redact_transcript(transcript)
    twice = redact_transcript(once.transcript)
    assert twice.counts == {}
    assert [p.text for p in twice.transcript.finals] == [p.text for p in once.transcript.finals]
    assert twice.transcript.call_info[CONSOLE_REDACTION] == once.counts


@pytest.mark.parametrize("fmt", ["txt", "json", "vtt", "srt", "csv"])
def test_every_format_of_a_redacted_copy_holds_no_personal_data(
    transcript: Transcript, tmp_path: Path, fmt: str
) -> None:
    plain = render(transcript, fmt)
    redacted = render(redact_transcript(transcript).transcript, fmt)
    assert leaks(plain)  # the test data does hold what must go
    assert leaks(redacted) == []
    assert "[CARD]" in redacted
    assert "12345" in redacted
    assert "59.99" in redacted
    export(redact_transcript(transcript).transcript, tmp_path / f"x.{fmt}")


def test_cue_times_are_the_same_redacted_or_not(transcript: Transcript, tmp_path: Path) -> None:
    copy = redact_transcript(transcript).transcript
    for name, t in (("plain", transcript), ("redacted", copy)):
        export(t, tmp_path / f"{name}.vtt")
        export(t, tmp_path / f"{name}.srt")
        export(t, tmp_path / f"{name}.csv")

    def vtt(name: str) -> list[tuple[str, str]]:
        return [(c.start, c.end) for c in webvtt.read(str(tmp_path / f"{name}.vtt"))]

    def srt(name: str) -> list[tuple[str, str]]:
        items = pysrt.open(str(tmp_path / f"{name}.srt"), encoding="utf-8")
        return [(str(s.start), str(s.end)) for s in items]

    def rows(name: str) -> list[tuple[str, str]]:
        text = (tmp_path / f"{name}.csv").read_text(encoding="utf-8-sig")
        return [(r[0], r[1]) for r in csv.reader(io.StringIO(text))]

    assert vtt("plain") == vtt("redacted")
    assert srt("plain") == srt("redacted")
    assert rows("plain") == rows("redacted")
    assert len(vtt("plain")) == len(LINES)


def test_json_records_the_redaction_and_keeps_it_when_reopened(
    transcript: Transcript, tmp_path: Path
) -> None:
    assert "redaction" not in json.loads(render(transcript, "json"))
    path = export(redact_transcript(transcript).transcript, tmp_path / "r.json")
    doc = json.loads(path.read_text(encoding="utf-8"))
    expected = {"by": ["console"], "entities": {"CARD": 3, "EMAIL": 1, "ACCOUNT": 1, "SPELLED": 1}}
    assert doc["redaction"] == expected
    reopened = load_json(path)
    assert redaction_record(reopened) == doc["redaction"]
    assert json.loads(render(reopened, "json"))["redaction"] == doc["redaction"]


def test_text_and_vtt_say_who_redacted_in_a_header_line(transcript: Transcript) -> None:
    copy = redact_transcript(transcript).transcript
    text = render(copy, "txt").splitlines()
    assert text[0] == "Call transcript"
    assert text[1] == (
        "Redacted by the console: personal data masked "
        "(console: CARD 3, EMAIL 1, ACCOUNT 1, SPELLED 1)"
    )
    assert not any(line.startswith("Redacted") for line in render(transcript, "txt").splitlines())
    vtt = render(copy, "vtt").split("\n\n")
    assert vtt[1] == f"NOTE {text[1]}"


def test_the_service_redaction_flag_is_reported_alone_or_with_the_console(
    transcript: Transcript,
) -> None:
    transcript.call_info[SERVICE_REDACTION] = True
    assert redaction_record(transcript) == {"by": ["service"], "entities": {}}
    assert json.loads(render(transcript, "json"))["redaction"] == {
        "by": ["service"],
        "entities": {},
    }
    assert "Redacted by the service (its own PII redaction was on)" in render(transcript, "txt")
    both = redact_transcript(transcript).transcript
    record = redaction_record(both)
    assert record is not None
    assert record["by"] == ["console", "service"]
    assert record["entities"]["CARD"] == 3
    assert (
        render(both, "txt")
        .splitlines()[1]
        .startswith(
            "Redacted by the console and the service: personal data masked (console: CARD 3"
        )
    )


def test_a_console_redaction_that_found_nothing_is_still_recorded() -> None:
    t = Transcript(call_started_at=T0)
    packet = parse_packet(final(PHONE, "Nothing personal here.", 1.0))
    assert isinstance(packet, TranscriptionData)
    t.apply_packet(packet, received_at=T0 + 2)
    copy = redact_transcript(t).transcript
    assert json.loads(render(copy, "json"))["redaction"] == {"by": ["console"], "entities": {}}
    assert "(console: none found)" in render(copy, "txt")


def test_a_final_frame_is_rebuilt_masked_and_an_intermediate_is_not_kept() -> None:
    frame = final(PHONE, f"My card is {CARD}.", 2.0, sentiment={"card": CARD})
    stored = redacted_frame(frame)
    assert stored is not None
    doc = json.loads(stored)
    body = doc["transcriptionData"]
    assert body["text"] == "My card is [CARD]."
    assert [w["text"] for w in body["words"]] == ["My", "card", "is", "[CARD]"]
    assert "sentiment" not in body  # what the console does not read is not kept
    assert "4111" not in stored
    parsed = parse_packet(stored)
    assert isinstance(parsed, TranscriptionData)
    assert (parsed.offset, parsed.confidence) == (20_000_000, 0.9)
    intermediate = frame.replace('"Final"', '"Intermediate"')
    assert redacted_frame(intermediate) is None
    metadata = json.dumps(
        {
            "kind": "TranscriptionMetadata",
            "transcriptionMetadata": {
                "subscriptionId": "s",
                "locale": "en-US",
                "callConnectionId": "cc",
                "correlationId": "corr",
                "extra": "dropped",
            },
        }
    )
    kept = redacted_frame(metadata)
    assert kept is not None
    assert json.loads(kept)["transcriptionMetadata"] == {
        "subscriptionId": "s",
        "locale": "en-US",
        "callConnectionId": "cc",
        "correlationId": "corr",
    }
