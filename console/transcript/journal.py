"""Append-only per-call journal (autosave) and crash recovery.

Format: JSON lines, UTF-8, one object per line, each with ``t`` (receipt time, Unix seconds)
and ``type``::

    {"t":…,"type":"header","format":1,"call":{…free-form call info…}}
    {"t":…,"type":"packet","packet":<the WebSocket frame's JSON object exactly as received>}
    {"t":…,"type":"event","event":<the callback CloudEvent object exactly as received>}
    {"t":…,"type":"rename","raw_id":"…","name":"…"}
    {"t":…,"type":"marker","kind":"…","detail":"…"}
    {"t":…,"type":"closed"}                       (last line of a call that ended cleanly)

Every line is flushed before ``append_*`` returns (that is what survives a killed process);
fsync — what survives a power cut — runs on a background thread after each Final, event,
rename and marker, so the asyncio loop never waits on the disk. A writer holds an exclusive
advisory lock on its file, so recovery never offers a journal another console is writing.
Replay feeds the records back through the same :class:`Transcript` methods the live call used.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from console.acs.events import CallEvent, parse_event
from console.acs.streaming import Packet, Unparsed, parse_packet
from console.transcript.model import Transcript
from console.transcript.participants import NameSource
from console.transcript.timeline import Change, MarkerAdded, ParticipantRenamed

try:  # POSIX advisory locks; elsewhere journals are simply never reported as in use
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

FORMAT = 1
JOURNAL_DIR = "journals"
SUFFIX = ".jsonl"

# Lines this module writes start with a fixed prefix; reading it avoids a full JSON parse.
_PREFIX = re.compile(rb'\{"t":(-?[0-9][0-9.eE+-]*),"type":"([a-z_]+)"')
_PACKET_PREFIX = re.compile(rb'\{"t":(-?[0-9][0-9.eE+-]*),"type":"packet","packet":')
_FINAL = re.compile(rb'"resultStatus"\s*:\s*"final"', re.IGNORECASE)
_MAX_PENDING_LINES = 256


class JournalError(Exception):
    """The journal is closed, or in use by another console."""


@dataclass(frozen=True, slots=True)
class JournalInfo:
    path: Path
    call: dict[str, Any]
    created_at: float  # the header's time (file mtime when the header is unreadable)
    modified_at: float
    size: int
    finals: int
    packets: int
    events: int


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


class _Syncer(threading.Thread):
    """fsyncs the journal off the caller's thread; requests arriving together coalesce."""

    def __init__(self, fd: int, directory: Path) -> None:
        super().__init__(name="journal-fsync", daemon=True)
        self._fd = fd
        self._directory = directory
        self._cond = threading.Condition()
        self._pending = True  # first pass also makes the new directory entry durable
        self._stopping = False
        self.syncs = 0

    def request(self) -> None:
        with self._cond:
            self._pending = True
            self._cond.notify()

    def stop(self) -> None:
        """Finish any requested fsync, then end the thread."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self.join()

    def run(self) -> None:
        first = True
        while True:
            with self._cond:
                while not self._pending and not self._stopping:
                    self._cond.wait()
                if not self._pending:
                    return
                self._pending = False
            try:
                os.fsync(self._fd)
                if first:
                    _fsync_dir(self._directory)
                    first = False
                self.syncs += 1
            except OSError:
                log.exception("journal fsync failed")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _t(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"journal time must be finite, got {value!r}")
    return repr(float(value))


def _packet_json(frame: str | bytes) -> str:
    text = frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame
    # The common case: a single-line JSON object, written as received (no re-encoding).
    if text[:1] == "{" and text[-1:] == "}" and "\n" not in text and "\r" not in text:
        return text
    stripped = text.strip()
    if stripped[:1] == "{" and stripped[-1:] == "}" and "\n" not in text and "\r" not in text:
        return stripped
    try:
        doc = json.loads(text)
    except ValueError:
        return json.dumps(text, ensure_ascii=False)  # keep even a broken frame, as a string
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def _dumps(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=str)


class Journal:
    """The journal of one call. Create with :meth:`create`; not thread-safe (one loop)."""

    def __init__(self, path: Path, fh: BinaryIO) -> None:
        self._path = path
        self._fh: BinaryIO | None = fh
        self._lines: list[str] = []  # intermediates not yet written (see _write)
        self._syncer = _Syncer(fh.fileno(), path.parent)
        self._syncer.start()

    @classmethod
    def create(
        cls, data_dir: str | os.PathLike[str], call_info: Mapping[str, Any] | None = None
    ) -> Journal:
        """Start a new journal in ``data_dir/journals`` under a name no other console uses."""
        directory = Path(data_dir) / JOURNAL_DIR
        directory.mkdir(parents=True, exist_ok=True)
        now = time.time()
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d-%H%M%S")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_BINARY", 0)
        for _ in range(100):
            path = directory / f"call-{stamp}-{secrets.token_hex(4)}{SUFFIX}"
            try:
                fd = os.open(path, flags, 0o600)  # transcripts are personal data
            except FileExistsError:
                continue
            break
        else:  # pragma: no cover - 100 collisions of 32 random bits
            raise JournalError(f"no free journal name in {directory}")
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fh = os.fdopen(fd, "ab")
        except BaseException:
            os.close(fd)
            raise
        journal = cls(path, fh)
        header = {"t": now, "type": "header", "format": FORMAT, "call": dict(call_info or {})}
        try:
            journal._write(_dumps(header), sync=True)
        except BaseException:
            journal.close(clean=False)
            raise
        log.info("journal started: %s", path)
        return journal

    @property
    def path(self) -> Path:
        return self._path

    @property
    def closed(self) -> bool:
        return self._fh is None

    @property
    def fsyncs(self) -> int:
        """fsyncs completed so far (diagnostics)."""
        return self._syncer.syncs

    def _write(self, line: str, *, sync: bool) -> None:
        if self._fh is None:
            raise JournalError(f"journal {self._path.name} is closed")
        lines = self._lines
        lines.append(line)
        # Finals and events reach the OS at once (what survives a kill) and the disk soon after
        # (fsync in the background). Intermediates wait for the next of those, in memory: a
        # hypothesis lost in a crash costs nothing, a write per packet costs throughput.
        if sync or len(lines) >= _MAX_PENDING_LINES:
            self._flush_lines()
            if sync:
                self._syncer.request()

    def _flush_lines(self) -> None:
        fh, lines = self._fh, self._lines
        if fh is None or not lines:
            return
        lines.append("")
        data = "\n".join(lines).encode("utf-8", "replace")
        lines.clear()
        fh.write(data)
        fh.flush()

    def append_packet(self, frame: str | bytes, *, received_at: float, final: bool) -> None:
        """Record one applied (so parseable) WebSocket frame; ``final`` asks for an fsync."""
        line = f'{{"t":{_t(received_at)},"type":"packet","packet":{_packet_json(frame)}}}'
        self._write(line, sync=final)

    def append_event(self, event: Mapping[str, Any], *, received_at: float) -> None:
        """Record one callback CloudEvent (the dict as received)."""
        _t(received_at)
        self._write(_dumps({"t": received_at, "type": "event", "event": event}), sync=True)

    def append_rename(self, raw_id: str, name: str, *, at: float) -> None:
        _t(at)
        self._write(_dumps({"t": at, "type": "rename", "raw_id": raw_id, "name": name}), sync=True)

    def append_marker(self, kind: str, *, at: float, detail: str = "") -> None:
        _t(at)
        record = {"t": at, "type": "marker", "kind": str(kind), "detail": detail}
        self._write(_dumps(record), sync=True)

    def follow(self, transcript: Transcript) -> Callable[[], None]:
        """Journal the transcript's markers and operator renames as they happen (packets and
        events are journaled by whoever receives them). Returns an unsubscribe function."""

        def on_change(change: Change) -> None:
            if self._fh is None:
                return
            if isinstance(change, MarkerAdded):
                m = change.marker
                self.append_marker(m.kind, at=m.at, detail=m.detail)
            elif isinstance(change, ParticipantRenamed) and change.by_operator:
                p = change.participant
                name = p.display_name if p.name_source is NameSource.OPERATOR else ""
                self.append_rename(p.raw_id, name, at=time.time())

        return transcript.subscribe(on_change)

    def close(self, clean: bool = True) -> None:
        """End the journal. ``clean`` writes the "closed" line; without it the journal stays
        unfinished and is offered for recovery."""
        fh = self._fh
        if fh is None:
            return
        try:
            self._flush_lines()
            if clean:
                self._write(_dumps({"t": time.time(), "type": "closed"}), sync=True)
        finally:
            self._fh = None
            try:
                fh.flush()
            finally:
                self._syncer.request()
                self._syncer.stop()
                fh.close()  # also releases the lock
            log.info("journal %s: %s", "closed" if clean else "left open", self._path)

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(clean=exc_type is None)


# -- recovery --------------------------------------------------------------------------------


def _in_use(path: Path) -> bool:
    """True while a live console holds the journal's lock."""
    if fcntl is None:  # pragma: no cover - Windows
        return False
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)
    return False


def _record_type(line: bytes) -> tuple[float | None, str | None]:
    m = _PREFIX.match(line)
    if m is not None:
        return float(m.group(1)), m.group(2).decode()
    try:
        doc = json.loads(line)
    except ValueError:
        return None, None
    if not isinstance(doc, dict):
        return None, None
    t, kind = doc.get("t"), doc.get("type")
    return (float(t) if isinstance(t, int | float) else None), (
        kind if isinstance(kind, str) else None
    )


def _scan(path: Path) -> tuple[JournalInfo, bool]:
    st = path.stat()
    call: dict[str, Any] = {}
    created = st.st_mtime
    finals = packets = events = 0
    closed = False
    with path.open("rb") as fh:
        for i, line in enumerate(fh):
            t, kind = _record_type(line.rstrip(b"\r\n"))
            if kind == "packet":
                packets += 1
                if _FINAL.search(line):
                    finals += 1
            elif kind == "event":
                events += 1
            elif kind == "closed":
                closed = True
            elif kind == "header" and i == 0:
                try:
                    doc = json.loads(line)
                    call = doc["call"] if isinstance(doc.get("call"), dict) else {}
                except (ValueError, TypeError, KeyError):
                    pass
                if t is not None:
                    created = t
    info = JournalInfo(path, call, created, st.st_mtime, st.st_size, finals, packets, events)
    return info, closed


def find_unfinished(data_dir: str | os.PathLike[str]) -> list[JournalInfo]:
    """Journals without a "closed" line that no live console is writing, newest first."""
    directory = Path(data_dir) / JOURNAL_DIR
    if not directory.is_dir():
        return []
    found = []
    for path in directory.glob(f"*{SUFFIX}"):
        try:
            info, closed = _scan(path)
        except OSError as exc:
            log.warning("cannot read journal %s: %s", path.name, exc)
            continue
        if not closed and not _in_use(path):
            found.append(info)
    found.sort(key=lambda i: (i.created_at, i.path.name), reverse=True)
    return found


def mark_recovered(path: str | os.PathLike[str]) -> None:
    """Close an unfinished journal after recovery so it is not offered again."""
    path = Path(path)
    if _in_use(path):
        raise JournalError(f"journal {path.name} is in use by a running console")
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        needs_newline = False
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            needs_newline = fh.read(1) != b"\n"
    record = _dumps({"t": time.time(), "type": "closed", "recovered": True})
    # A cut-off last line must not swallow the closing record.
    data = (b"\n" if needs_newline else b"") + record.encode() + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


# -- reading: the one reader of the journal format ---------------------------------------------


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


def read_records(lines: Iterable[bytes], stats: ReplayStats | None = None) -> Iterator[Record]:
    """The records of a journal's lines, typed (packets and events through the same parsers as
    the live call). Unreadable lines are counted in ``stats`` and skipped: a crash may cut the
    last one, a disk error any."""
    stats = stats if stats is not None else ReplayStats()
    for line in lines:
        complete = line.endswith(b"\n")
        body = line.rstrip(b"\r\n")
        if not body.strip():
            continue
        stats.lines += 1
        record = _record(body, stats)
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
    m = _PACKET_PREFIX.match(body)
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
        stats.call = call if isinstance(call, dict) else {}
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


def replay(path: str | os.PathLike[str]) -> Transcript:
    """Rebuild the transcript of a journal: every Final that had arrived."""
    return replay_with_stats(path)[0]


def replay_with_stats(path: str | os.PathLike[str]) -> tuple[Transcript, ReplayStats]:
    with Path(path).open("rb") as fh:
        transcript, stats = replay_lines(fh)
    if stats.corrupt_lines:
        log.warning("journal %s: %d corrupt lines skipped", path, stats.corrupt_lines)
    return transcript, stats


def replay_lines(lines: Iterable[bytes]) -> tuple[Transcript, ReplayStats]:
    """A journal's lines to its transcript; open hypotheses are abandoned (no Final will come)."""
    stats = ReplayStats()
    transcript = Transcript()
    for record in read_records(lines, stats):
        apply_record(transcript, record)
    transcript.abandon_open()
    return transcript, stats
