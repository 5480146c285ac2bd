"""Reading journals: the one reader of the format, and replay.

Plain and sealed journals (:mod:`console.transcript.journal_lines`) are read alike: a sealed
line is opened with the journal's key (given, or one this process knows) and then read as the
plain line it holds. A sealed journal whose key is gone is not an error of the file:
:func:`replay` raises :class:`JournalKeyError` saying so in plain words (and the recovery list
says the same, see :mod:`console.transcript.journal_recovery`).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from console.acs.events import CallEvent, parse_event
from console.acs.streaming import Packet, Unparsed, parse_packet
from console.transcript.journal_lines import (
    PACKET_PREFIX,
    PREFIX,
    SEALED_PREFIX,
    JournalKeyError,
    Sealer,
    key_id,
    key_missing_text,
    known_key,
    sealed_meta,
)
from console.transcript.model import Transcript
from console.transcript.redacted import mark_redacted_at_rest

log = logging.getLogger("console.transcript.journal")


@dataclass(slots=True)
class ReplayStats:
    lines: int = 0
    packets: int = 0
    events: int = 0
    unparsed_packets: int = 0
    corrupt_lines: int = 0  # unreadable lines in the middle, skipped
    truncated_tail: bool = False  # the last line was cut off mid-write, skipped
    closed: bool = False
    call: dict[str, Any] = field(default_factory=dict)
    encrypted: bool = False
    redacted: bool = False
    key_missing: bool = False  # sealed, and its key is not available
    unreadable: int = 0  # sealed lines not opened for want of the key


# -- the records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Header:
    t: float
    call: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PacketRecord:
    t: float
    packet: Packet  # never Unparsed: an unreadable frame is counted in the stats instead


@dataclass(frozen=True, slots=True)
class EventRecord:
    t: float
    event: CallEvent


@dataclass(frozen=True, slots=True)
class RenameRecord:
    t: float
    raw_id: str
    name: str


@dataclass(frozen=True, slots=True)
class MarkerRecord:
    t: float
    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class ClosedRecord:
    t: float


Record = Header | PacketRecord | EventRecord | RenameRecord | MarkerRecord | ClosedRecord


class Lines:
    """A journal's lines as the plain records they hold: sealed lines opened, the header's
    promises (sealed? redacted?) noted in the stats."""

    def __init__(self, stats: ReplayStats, key: bytes | None) -> None:
        self.stats = stats
        self._key = key
        self._sealer: Sealer | None = None
        self._first = True

    def _header(self, body: bytes) -> None:
        """The first line: is the journal sealed, with which key? redacted?"""
        try:
            doc = json.loads(body)
        except ValueError:
            return
        if not isinstance(doc, dict) or doc.get("type") != "header":
            return
        stats = self.stats
        stats.redacted = stats.redacted or doc.get("redacted") is True
        meta = sealed_meta(doc)
        if meta is None:
            return
        stats.encrypted = True
        ident, journal_id = meta
        key = self._key if self._key is not None and key_id(self._key) == ident else None
        key = key or known_key(ident)
        if key is None:
            stats.key_missing = True
        else:
            self._sealer = Sealer(key, journal_id)

    def plain(self, body: bytes) -> bytes | Literal[False] | None:
        """The plain record a line holds; None when it cannot be read (damaged, cut off, or a
        plain record slipped into a sealed journal); False when it is sealed and there is no
        key to open it."""
        first, self._first = self._first, False
        if body.startswith(SEALED_PREFIX):
            if self._sealer is not None:
                return self._sealer.open(body)
            if self.stats.encrypted:
                self.stats.unreadable += 1
                return False
            return None  # sealed, in a journal whose header does not say so
        if first:
            self._header(body)
        elif self.stats.encrypted:
            m = PREFIX.match(body)
            if m is None or m.group(2) != b"closed":
                return None  # only "closed" is written plain in a sealed journal
        return body


def read_records(
    lines: Iterable[bytes], stats: ReplayStats | None = None, *, key: bytes | None = None
) -> Iterator[Record]:
    """The records of a journal's lines, typed (packets and events through the same parsers as
    the live call). Unreadable lines are counted in ``stats`` and skipped: a crash may cut the
    last one, a disk error any. Sealed lines are opened with ``key`` or a key this process
    knows; without it they are counted in ``stats.unreadable`` (and ``stats.key_missing``)."""
    stats = stats if stats is not None else ReplayStats()
    reader = Lines(stats, key)
    for line in lines:
        complete = line.endswith(b"\n")
        body = line.rstrip(b"\r\n")
        if not body.strip():
            continue
        stats.lines += 1
        plain = reader.plain(body)
        if plain is False:
            continue
        record = None if plain is None else _record(plain, stats)
        if record is None:
            if complete:
                stats.corrupt_lines += 1
                log.warning("journal: skipped corrupt line %d", stats.lines)
            else:
                stats.truncated_tail = True
            continue
        if record is not _NOTHING:
            yield record  # type: ignore[misc]


_NOTHING = object()  # a readable line that holds nothing to apply (an unparsed packet)


def _record(body: bytes, stats: ReplayStats) -> Record | object | None:
    """One line to its record; None when it cannot be read."""
    m = PACKET_PREFIX.match(body)
    if m is not None and body.endswith(b"}"):
        packet = parse_packet(body[m.end() : -1])
        if not isinstance(packet, Unparsed):
            stats.packets += 1
            return PacketRecord(float(m.group(1)), packet)
    try:
        doc = json.loads(body)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("t"), int | float):
        return None
    t = float(doc["t"])
    kind = doc.get("type")
    if kind == "packet":
        raw = doc.get("packet")
        packet = parse_packet(raw if isinstance(raw, str) else json.dumps(raw))
        stats.packets += 1
        if isinstance(packet, Unparsed):
            stats.unparsed_packets += 1
            return _NOTHING
        return PacketRecord(t, packet)
    if kind == "event":
        stats.events += 1
        event = doc.get("event")
        return EventRecord(t, parse_event(event)) if isinstance(event, dict) else _NOTHING
    if kind == "header":
        call = doc.get("call")
        stats.redacted = stats.redacted or doc.get("redacted") is True
        if isinstance(call, dict) and (call or not stats.call):
            stats.call = call
        return Header(t, stats.call)
    if kind == "rename":
        raw_id, name = doc.get("raw_id"), doc.get("name")
        if isinstance(raw_id, str) and raw_id and isinstance(name, str):
            return RenameRecord(t, raw_id, name)
        return _NOTHING
    if kind == "marker":
        marker_kind, detail = doc.get("kind"), doc.get("detail", "")
        if isinstance(marker_kind, str) and marker_kind:
            return MarkerRecord(t, marker_kind, detail if isinstance(detail, str) else "")
        return _NOTHING
    if kind == "closed":
        stats.closed = True
        return ClosedRecord(t)
    return _NOTHING


def apply_record(transcript: Transcript, record: Record) -> None:
    """Feed one record back through the same Transcript methods the live call used."""
    if isinstance(record, PacketRecord):
        transcript.apply(record.packet, received_at=record.t)
    elif isinstance(record, EventRecord):
        transcript.apply_event(record.event, received_at=record.t)
    elif isinstance(record, Header):
        transcript.call_info = dict(record.call)
        started = record.call.get("started_at")
        if isinstance(started, int | float) and not isinstance(started, bool):
            transcript.call_started_at = float(started)
    elif isinstance(record, RenameRecord):
        transcript.learn_participants([record.raw_id])
        transcript.rename(record.raw_id, record.name)
    elif isinstance(record, MarkerRecord):
        transcript.add_marker(record.kind, record.t, record.detail)


# -- replay -------------------------------------------------------------------------------------


def replay(path: str | os.PathLike[str], *, key: bytes | None = None) -> Transcript:
    """Rebuild the transcript of a journal: every Final that had arrived. A journal kept
    redacted gives the redacted transcript, and says so in its ``call_info``."""
    return replay_with_stats(path, key=key)[0]


def replay_with_stats(
    path: str | os.PathLike[str], *, key: bytes | None = None
) -> tuple[Transcript, ReplayStats]:
    """:func:`replay` and what was read; raises :class:`JournalKeyError` (a JournalError, in
    plain words) for a sealed journal whose key is not available."""
    with Path(path).open("rb") as fh:
        transcript, stats = replay_lines(fh, key=key)
    if stats.key_missing:
        raise JournalKeyError(key_missing_text(Path(path).name))
    if stats.corrupt_lines:
        log.warning("journal %s: %d corrupt lines skipped", path, stats.corrupt_lines)
    return transcript, stats


def replay_lines(
    lines: Iterable[bytes], *, key: bytes | None = None
) -> tuple[Transcript, ReplayStats]:
    """A journal's lines to its transcript; open hypotheses are abandoned (no Final will come).
    Never raises for a missing key: ``stats.key_missing`` says so (and nothing was read)."""
    stats = ReplayStats()
    transcript = Transcript()
    for record in read_records(lines, stats, key=key):
        apply_record(transcript, record)
    transcript.abandon_open()
    if stats.redacted:
        mark_redacted_at_rest(transcript)
    return transcript, stats
