"""Redacted copies: of a transcript (to save or export it), of a journal's packet frames
(redact at rest), and what an export says about it.

The masking itself is the engine's (:mod:`console.transcript.redaction`): every Final's and
abandoned phrase's text and words, and every marker's detail (an operator's note may hold a
number), get their entities replaced by masks; an entity's words become one word whose text is
the mask, spanning the first word's offset to the last one's end, so cues keep their times.
Participants (their raw ids and names) are kept: they say who spoke.

Whether and by whom a transcript was redacted travels in its ``call_info`` (so it survives
saving as JSON, reopening and recovery; exports read it, see :func:`redaction_record`):

- ``"console_redaction": {"CARD": n, …}`` — the console's engine masked these (set by
  :func:`redact_transcript`, and by recovery of a journal kept redacted at rest);
- ``"service_redaction": True`` — the service's own PII redaction was on for the call: set by
  whoever configures the call with it. The console's engine still runs on what arrives when asked
  to (belt and braces), and the export then says both;
- ``"redacted_at_rest": True`` — the transcript was recovered from a journal kept redacted.

Pure: no Qt, no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from console.acs.streaming import Packet, TranscriptionData, TranscriptionMetadata, parse_packet
from console.transcript.model import Transcript
from console.transcript.redaction import ENTITY_TYPES, MASKS, Redactor

CONSOLE_REDACTION = "console_redaction"
SERVICE_REDACTION = "service_redaction"
REDACTED_AT_REST = "redacted_at_rest"

_DEFAULT = Redactor()


@dataclass(frozen=True, slots=True)
class RedactedTranscript:
    """A redacted copy of a transcript and what this pass masked, by entity type."""

    transcript: Transcript
    counts: dict[str, int]


def _add(total: dict[str, int], counts: Mapping[str, int]) -> None:
    for kind, n in counts.items():
        total[kind] = total.get(kind, 0) + n


def _ordered(counts: Mapping[str, int]) -> dict[str, int]:
    """Known types first, in the engine's order; only types that were found."""
    known = {t: counts[t] for t in ENTITY_TYPES if counts.get(t)}
    return known | {t: n for t, n in counts.items() if t not in known and n}


def console_counts(call_info: Mapping[str, Any]) -> dict[str, int] | None:
    """What the console masked according to ``call_info``; None if it never redacted it."""
    value = call_info.get(CONSOLE_REDACTION)
    if not isinstance(value, Mapping):
        return None
    return {
        str(k): n
        for k, n in value.items()
        if isinstance(n, int) and not isinstance(n, bool) and n > 0
    }


def redact_transcript(
    transcript: Transcript, redactor: Redactor | None = None
) -> RedactedTranscript:
    """A redacted copy of ``transcript`` (the original is untouched), and what was masked.

    Redacting a copy again masks nothing more (masks are not personal data) and adds its counts
    to the ones the transcript already records."""
    r = redactor or _DEFAULT
    counts: dict[str, int] = {}
    phrases = []
    for phrase in (*transcript.finals, *transcript.abandoned):
        done = r.phrase(phrase.text, phrase.words)
        _add(counts, done.counts)
        phrases.append(replace(phrase, text=done.text, words=done.words))
    markers = []
    for marker in transcript.markers:
        detail = r.text(marker.detail)
        _add(counts, detail.counts)
        markers.append(replace(marker, detail=detail.text) if detail.counts else marker)
    call_info = dict(transcript.call_info)
    total = console_counts(call_info) or {}
    _add(total, counts)
    call_info[CONSOLE_REDACTION] = _ordered(total)
    copy = Transcript.restore(
        participants=[replace(p) for p in transcript.participants],
        finals=phrases,
        markers=markers,
        locale=transcript.locale,
        call_started_at=transcript.call_started_at,
        call_info=call_info,
    )
    return RedactedTranscript(copy, _ordered(counts))


def count_masks(texts: Iterable[str]) -> dict[str, int]:
    """How many masks of each type the texts hold (a transcript recovered redacted)."""
    counts: dict[str, int] = {}
    for text in texts:
        if "[" not in text:
            continue
        for kind, mask in MASKS.items():
            n = text.count(mask)
            if n:
                counts[kind] = counts.get(kind, 0) + n
    return _ordered(counts)


def mark_redacted_at_rest(transcript: Transcript) -> None:
    """Record on a transcript recovered from a redacted journal that (and what) it masked."""
    texts = [p.text for p in (*transcript.finals, *transcript.abandoned)]
    texts += [m.detail for m in transcript.markers]
    transcript.call_info[REDACTED_AT_REST] = True
    transcript.call_info[CONSOLE_REDACTION] = count_masks(texts)


# --- what an export says -------------------------------------------------------------------


def redaction_record(transcript: Transcript) -> dict[str, Any] | None:
    """The export's ``"redaction"`` object: ``{"by": ["console"] | ["service"] | ["console",
    "service"], "entities": {"CARD": n, …}}`` (the console's counts: the service does not say
    what it masked), or None when nobody redacted the transcript."""
    console = console_counts(transcript.call_info)
    service = transcript.call_info.get(SERVICE_REDACTION) is True
    by = [who for who, did in (("console", console is not None), ("service", service)) if did]
    if not by:
        return None
    return {"by": by, "entities": _ordered(console or {})}


def redaction_line(transcript: Transcript) -> str | None:
    """One header line for a plain-text export, or None when nobody redacted it."""
    record = redaction_record(transcript)
    if record is None:
        return None
    who = " and the ".join(record["by"])
    entities = record["entities"]
    if "console" not in record["by"]:
        return f"Redacted by the {who} (its own PII redaction was on)"
    found = ", ".join(f"{t} {n}" for t, n in entities.items()) or "none found"
    return f"Redacted by the {who}: personal data masked (console: {found})"


# --- redact at rest: the journal's frames --------------------------------------------------


def redacted_frame(frame: str | bytes, packet: Packet | None = None) -> str | None:
    """The frame a journal redacting at rest stores in place of ``frame``, or None for a frame
    it does not store.

    A Final is rebuilt from its parsed fields with its text and words masked (so nothing the
    console does not read, such as a field a newer service adds, is kept); metadata is rebuilt
    likewise (ids and the locale, nothing personal). Intermediates are not stored: a partial
    hypothesis can hold the first digits of a number too short yet for the engine to know it
    (five digits of a card), and recovery loses nothing by it (the Final follows, and a crash
    abandons an open hypothesis anyway). Anything else is not stored either."""
    if packet is None:
        packet = parse_packet(frame)
    if isinstance(packet, TranscriptionData):
        if not packet.is_final:
            return None
        done = _DEFAULT.phrase(packet.text, packet.words)
        body: dict[str, Any] = {
            "text": done.text,
            "format": packet.format,
            "offset": packet.offset,
            "duration": packet.duration,
            "participantRawID": packet.participant_raw_id,
            "resultStatus": "Final",
        }
        if packet.confidence is not None:
            body["confidence"] = packet.confidence
        if done.words:
            body["words"] = [
                {"text": w.text, "offset": w.offset, "duration": w.duration} for w in done.words
            ]
        return _frame("TranscriptionData", "transcriptionData", body)
    if isinstance(packet, TranscriptionMetadata):
        meta: dict[str, Any] = {
            "subscriptionId": packet.subscription_id,
            "locale": packet.locale,
            "callConnectionId": packet.call_connection_id,
            "correlationId": packet.correlation_id,
        }
        if packet.speech_model_endpoint_id:
            meta["speechRecognitionModelEndpointId"] = packet.speech_model_endpoint_id
        return _frame("TranscriptionMetadata", "transcriptionMetadata", meta)
    return None


def _frame(kind: str, key: str, body: dict[str, Any]) -> str:
    doc = {"kind": kind, key: body}
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def redact_detail(text: str) -> str:
    """A marker's detail, masked (an operator's note may hold a number)."""
    return _DEFAULT.text(text).text if text else text
