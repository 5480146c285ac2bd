"""Saving transcripts: plain text, lossless JSON (reopenable), WebVTT, SRT and CSV.

JSON is ``"format": 2``: each phrase with its identified ``language`` and ``sentiment`` (null
when the service gave none), and the call's ``insights`` and ``alerts`` (derived from the
phrases and the alert rules recorded in ``call``; not read back). Format 1 files (without them)
open as well. Plain text ends with a summary block of the same insights and alerts; CSV has
``language`` and ``sentiment`` columns after the others; WebVTT and SRT are unchanged.

Times are relative to the call start (the transcript's call clock). Every save is atomic:
the file is written to a temporary name in the same directory, fsync'd and moved over the
target, so a failed save never destroys an earlier file.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Callable
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from console import __version__
from console.acs.streaming import Word
from console.transcript.alerts import alerts_for
from console.transcript.insights import compute_insights
from console.transcript.model import Transcript
from console.transcript.participants import NameSource, Participant, ParticipantKind
from console.transcript.redacted import redaction_line, redaction_record
from console.transcript.timeline import Marker, Phrase, PhraseStatus, describe_marker

FORMATS = ("txt", "json", "vtt", "srt", "csv")
# How a phrase whose Final never came is marked in plain text (and on screen).
NOT_FINALISED = "(not finalised)"
JSON_FORMAT = 2
READABLE_FORMATS = (1, 2)  # format 1: before phrases had a language and a sentiment
CSV_HEADER = (
    "start",
    "end",
    "speaker",
    "raw_id",
    "locale",
    "confidence",
    "text",
    "language",
    "sentiment",
)
_SUFFIXES = {
    ".txt": "txt",
    ".text": "txt",
    ".json": "json",
    ".vtt": "vtt",
    ".srt": "srt",
    ".csv": "csv",
}
# Cue length when the service gave no duration: long enough to read, never zero.
_DEFAULT_CUE = 1.0
# Everything str.splitlines() breaks on: a subtitle reader must not see a new line in a cue.
_LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


_T = TypeVar("_T")


class TranscriptFormatError(ValueError):
    """A file is not a transcript this version can read."""


def format_for_path(path: str | os.PathLike[str]) -> str:
    """The export format a file name asks for, from its suffix."""
    suffix = Path(path).suffix.lower()
    try:
        return _SUFFIXES[suffix]
    except KeyError:
        raise ValueError(
            f"unknown transcript file type {suffix or '(none)'!r}; use one of "
            + ", ".join(f".{f}" for f in FORMATS)
        ) from None


def render(transcript: Transcript, fmt: str) -> str:
    """The transcript in ``fmt`` as text (what :func:`export` writes)."""
    try:
        renderer = _RENDERERS[fmt]
    except KeyError:
        raise ValueError(f"unknown transcript format {fmt!r}; use one of {FORMATS}") from None
    return renderer(transcript)


def export(transcript: Transcript, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write the transcript to ``path`` atomically; ``fmt`` defaults to the path's suffix."""
    path = Path(path)
    fmt = fmt or format_for_path(path)
    text = render(transcript, fmt)
    # A BOM lets spreadsheet programs detect UTF-8 in a CSV.
    data = text.encode("utf-8-sig" if fmt == "csv" else "utf-8", "replace")
    write_atomic(path, data)
    return path


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Replace ``path`` with ``data`` all at once, or leave it untouched on failure."""
    path = Path(path)
    directory = path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        with suppress(FileNotFoundError):
            # Keep the permissions of the file being replaced (mkstemp makes it 0600).
            os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode))
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    with suppress(OSError):  # make the rename durable; not possible on every platform
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


# -- helpers ---------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return _LINE_BREAKS.sub(" ", text).strip()


def _speaker(transcript: Transcript, raw_id: str) -> str:
    participant = transcript.participant(raw_id)
    name = participant.display_name if participant is not None else raw_id
    return _one_line(name) or raw_id or "Unknown speaker"


def _cue_times(phrase: Phrase) -> tuple[int, int]:
    """(start, end) in milliseconds; end is always after start."""
    start = max(0, round(phrase.start * 1000))
    end = round(phrase.end * 1000) if phrase.duration > 0 else start + round(_DEFAULT_CUE * 1000)
    return start, max(end, start + 1)


def _clock(ms: int, sep: str) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _short_clock(seconds: float, hours: bool) -> str:
    total = int(seconds)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if hours else f"{m + 60 * h:02d}:{s:02d}"


# -- plain text ------------------------------------------------------------------------------


def to_text(transcript: Transcript) -> str:
    """``[mm:ss] Speaker: text`` lines (``[h:mm:ss]`` in calls of an hour or more). A phrase
    whose Final never came is written with "(not finalised)"."""
    items = transcript.placed(abandoned=True)
    hours = any(place >= 3600 for place, _ in items)
    lines = ["Call transcript"]
    if (redacted := redaction_line(transcript)) is not None:
        lines.append(redacted)  # who redacted it (call_info, see console.transcript.redacted)
    if transcript.call_started_at is not None:
        started = datetime.fromtimestamp(transcript.call_started_at).astimezone()
        lines.append(f"Call started: {started.isoformat(' ', 'seconds')}")
    if transcript.participants:
        names = ", ".join(_speaker(transcript, p.raw_id) for p in transcript.participants)
        lines.append(f"Participants: {names}")
    lines.append("")
    for place, item in items:
        stamp = _short_clock(max(0.0, place), hours)
        if isinstance(item, Marker):
            lines.append(f"[{stamp}] -- {_one_line(describe_marker(item))} --")
            continue
        text = _one_line(item.text)
        if item.status is PhraseStatus.ABANDONED:
            text += f" {NOT_FINALISED}"
        lines.append(f"[{stamp}] {_speaker(transcript, item.raw_id)}: {text}")
    lines.extend(_summary(transcript, hours))
    return "\n".join(lines) + "\n"


def _summary(transcript: Transcript, hours: bool) -> list[str]:
    """The insights and alerts, after the transcript."""
    insights = compute_insights(transcript)
    alerts = alerts_for(transcript)
    lines = ["", "-- Summary --"]
    if not insights.speakers:
        lines.append("Talk time: nobody spoke")
    else:
        lines.append(
            "Talk time: "
            + ", ".join(
                f"{_speaker(transcript, s.raw_id)} {_short_clock(s.talk_seconds, hours)} "
                f"({s.share:.0%})"
                for s in insights.speakers
            )
        )
        lines.append(
            "Words per minute: "
            + ", ".join(
                f"{_speaker(transcript, s.raw_id)} "
                + ("–" if s.words_per_minute is None else f"{s.words_per_minute:.0f}")
                for s in insights.speakers
            )
        )
    lines.append(
        f"Overtalk: {insights.overtalk_count} times, {insights.overtalk_seconds:.1f} s"
        if insights.overtalk_count
        else "Overtalk: none"
    )
    longest = insights.longest_silence
    threshold = f"{insights.silence_threshold:g} s or more"
    lines.append(
        f"Long silences ({threshold}): {insights.silence_count}, longest {longest.duration:.1f} s "
        f"at {_short_clock(longest.start, hours)}"
        if longest is not None
        else f"Long silences ({threshold}): none"
    )
    lines.append(f"Alerts: {len(alerts)}" if alerts else "Alerts: none")
    lines.extend(
        f"ALERT [{_short_clock(max(0.0, a.at), hours)}] {_speaker(transcript, a.raw_id)}: "
        f"{_one_line(a.rule)}: {_one_line(a.text)}"
        for a in alerts
    )
    return lines


# -- WebVTT and SRT --------------------------------------------------------------------------


def _vtt_escape(text: str) -> str:
    # Escaping "<" and ">" also breaks up any "-->" that would end the cue.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    """WebVTT with a ``<v Speaker>`` voice span per cue; markers become NOTE blocks."""
    blocks = ["WEBVTT"]
    if (redacted := redaction_line(transcript)) is not None:
        blocks.append(f"NOTE {redacted}")
    cue = 0
    for place, item in transcript.placed():
        if isinstance(item, Marker):
            stamp = _clock(round(max(0.0, place) * 1000), ".")
            note = _one_line(describe_marker(item)).replace("-->", "->")
            blocks.append(f"NOTE {stamp} {note}")
            continue
        cue += 1
        start, end = _cue_times(item)
        voice = _vtt_escape(_speaker(transcript, item.raw_id))
        text = _vtt_escape(_one_line(item.text))
        blocks.append(f"{cue}\n{_clock(start, '.')} --> {_clock(end, '.')}\n<v {voice}>{text}")
    return "\n\n".join(blocks) + "\n"


def to_srt(transcript: Transcript) -> str:
    """SubRip: ``Speaker: text`` per cue (SRT has no markers)."""
    blocks = []
    for index, phrase in enumerate(transcript.finals, start=1):
        start, end = _cue_times(phrase)
        text = f"{_speaker(transcript, phrase.raw_id)}: {_one_line(phrase.text)}"
        blocks.append(f"{index}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}")
    return "\n\n".join(blocks) + "\n" if blocks else ""


# -- CSV -------------------------------------------------------------------------------------


def to_csv(transcript: Transcript) -> str:
    """One row per Final: start, end (seconds from the call start), speaker, raw id, locale,
    confidence (empty when the service gave none), text, identified language and sentiment
    (empty when not given)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADER)
    for phrase in transcript.finals:
        writer.writerow(
            (
                f"{max(0.0, phrase.start):.3f}",
                f"{max(0.0, phrase.end):.3f}",
                _speaker(transcript, phrase.raw_id),
                phrase.raw_id,
                phrase.locale or "",
                "" if phrase.confidence is None else repr(phrase.confidence),
                phrase.text,
                phrase.language or "",
                phrase.sentiment or "",
            )
        )
    return out.getvalue()


# -- JSON (lossless, reopenable) -------------------------------------------------------------


def to_json_dict(transcript: Transcript) -> dict[str, Any]:
    doc = {
        "format": JSON_FORMAT,
        "generator": f"acs-transcription-console {__version__}",
        "call": transcript.call_info,
        "call_started_at": transcript.call_started_at,
        "locale": transcript.locale,
        "participants": [
            {
                "raw_id": p.raw_id,
                "kind": p.kind.value,
                "name": p.display_name,
                "name_source": p.name_source.value,
                "colour": p.colour,
            }
            for p in transcript.participants
        ],
        # Every Final, then any phrase whose Final never came ("status": "abandoned").
        "finals": [
            {
                "id": f.id,
                "status": f.status.value,
                "raw_id": f.raw_id,
                "start": round(f.start, 3),  # convenience for readers; derived, not read back
                "end": round(f.end, 3),
                "text": f.text,
                "offset": f.offset,
                "duration": f.duration,
                "anchor": f.anchor,
                "confidence": f.confidence,
                "locale": f.locale,
                "received_at": f.received_at,
                "first_received_at": f.first_received_at,
                "seq": f.seq,
                "language": f.language,
                "sentiment": f.sentiment,
                "words": [
                    {"text": w.text, "offset": w.offset, "duration": w.duration} for w in f.words
                ],
            }
            for f in (*transcript.finals, *transcript.abandoned)
        ],
        "markers": [
            {"kind": m.kind, "at": m.at, "detail": m.detail, "seq": m.seq}
            for m in transcript.markers
        ],
        # Derived from the above (and the alert rules in "call"): written, not read back.
        "insights": compute_insights(transcript).to_dict(),
        "alerts": [a.to_dict() for a in alerts_for(transcript)],
    }
    # {"by": ["console", "service"], "entities": {"CARD": n, …}}, only when it was redacted.
    if (redaction := redaction_record(transcript)) is not None:
        doc["redaction"] = redaction
    return doc


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def to_json(transcript: Transcript) -> str:
    """Readable and diff-friendly: one participant, final or marker per line."""
    doc = to_json_dict(transcript)
    parts = []
    for key, value in doc.items():
        if isinstance(value, list) and value:
            inner = ",\n".join(f"    {_dump(item)}" for item in value)
            parts.append(f"  {_dump(key)}: [\n{inner}\n  ]")
        else:
            parts.append(f"  {_dump(key)}: {_dump(value)}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def load_json(path: str | os.PathLike[str]) -> Transcript:
    """Reopen a transcript saved as JSON into the same model."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TranscriptFormatError(f"{Path(path).name} is not a JSON transcript: {exc}") from exc
    return from_json_dict(doc)


def from_json_dict(doc: Any) -> Transcript:
    if not isinstance(doc, dict):
        raise TranscriptFormatError("a JSON transcript is an object")
    fmt = doc.get("format")
    if isinstance(fmt, bool) or fmt not in READABLE_FORMATS:
        raise TranscriptFormatError(
            f"unsupported transcript format {fmt!r} "
            f"(this version reads {' and '.join(map(str, READABLE_FORMATS))})"
        )
    try:
        participants = [_participant(p) for p in _list(doc, "participants")]
        finals = [_phrase(f) for f in _list(doc, "finals")]
        markers = [_marker(m) for m in _list(doc, "markers")]
        call = doc.get("call") or {}
        if not isinstance(call, dict):
            raise TypeError("'call' is not an object")
        return Transcript.restore(
            participants=participants,
            finals=finals,
            markers=markers,
            locale=_opt(doc, "locale", str),
            call_started_at=_opt_number(doc, "call_started_at"),
            call_info=call,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TranscriptFormatError(f"invalid transcript: {exc}") from exc


def _list(doc: dict[str, Any], key: str) -> list[Any]:
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise TypeError(f"{key!r} is not a list")
    return value


def _get(item: dict[str, Any], key: str, kind: type[_T]) -> _T:
    value = item[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise TypeError(f"{key!r} is not {kind.__name__}")
    return value


def _opt(item: dict[str, Any], key: str, kind: type[_T]) -> _T | None:
    return None if item.get(key) is None else _get(item, key, kind)


def _number(item: dict[str, Any], key: str) -> float:
    value = item[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise TypeError(f"{key!r} is not a number")
    return float(value)


def _opt_number(item: dict[str, Any], key: str) -> float | None:
    return None if item.get(key) is None else _number(item, key)


def _participant(item: Any) -> Participant:
    if not isinstance(item, dict):
        raise TypeError("a participant is not an object")
    return Participant(
        raw_id=_get(item, "raw_id", str),
        kind=ParticipantKind(_get(item, "kind", str)),
        display_name=_get(item, "name", str),
        colour=_get(item, "colour", int),
        name_source=NameSource(item.get("name_source", NameSource.DEFAULT.value)),
    )


def _phrase(item: Any) -> Phrase:
    if not isinstance(item, dict):
        raise TypeError("a final is not an object")
    words = tuple(
        Word(_get(w, "text", str), _get(w, "offset", int), _get(w, "duration", int))
        for w in _list(item, "words")
    )
    return Phrase(
        id=_get(item, "id", int),
        raw_id=_get(item, "raw_id", str),
        text=_get(item, "text", str),
        status=_STATUS[item.get("status", "final")],
        offset=_get(item, "offset", int),
        duration=_get(item, "duration", int),
        anchor=_get(item, "anchor", int),
        confidence=_opt_number(item, "confidence"),
        words=words,
        locale=_opt(item, "locale", str),
        received_at=_number(item, "received_at"),
        first_received_at=_number(item, "first_received_at"),
        seq=_get(item, "seq", int),
        language=_opt(item, "language", str),
        sentiment=_opt(item, "sentiment", str),
    )


_STATUS = {"final": PhraseStatus.FINAL, "abandoned": PhraseStatus.ABANDONED}


def _marker(item: Any) -> Marker:
    if not isinstance(item, dict):
        raise TypeError("a marker is not an object")
    return Marker(
        kind=_get(item, "kind", str),
        at=_number(item, "at"),
        detail=_get(item, "detail", str),
        seq=_get(item, "seq", int),
    )


_RENDERERS: dict[str, Callable[[Transcript], str]] = {
    "txt": to_text,
    "json": to_json,
    "vtt": to_vtt,
    "srt": to_srt,
    "csv": to_csv,
}
