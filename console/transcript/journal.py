"""Append-only per-call journal (autosave) and crash recovery.

Format: JSON lines, UTF-8, one object per line, each with ``t`` (receipt time, Unix seconds)
and ``type``::

    {"t":…,"type":"header","format":1,"call":{…free-form call info…}}
    {"t":…,"type":"packet","packet":<the WebSocket frame's JSON object exactly as received>}
    {"t":…,"type":"event","event":<the callback CloudEvent object exactly as received>}
    {"t":…,"type":"rename","raw_id":"…","name":"…"}
    {"t":…,"type":"marker","kind":"…","detail":"…"}
    {"t":…,"type":"closed"}                       (last line of a call that ended cleanly)

Two options, chosen when the journal is created (see :class:`JournalOptions`), change that:

- **Redact at rest** (``"redacted": true`` in the header): packets are stored redacted instead
  of as received. A Final is stored rebuilt from its parsed fields with its text and words
  masked by the redaction engine (:func:`console.transcript.redacted.redacted_frame`);
  Intermediates are not stored at all (a partial hypothesis can hold the first digits of a
  number too short yet for the engine to know it); marker details are masked; callback events
  and the operator's renames are stored as received. Recovery then gives the redacted
  transcript, and says so (``JournalInfo.redacted``; the replayed transcript's
  ``call_info["redacted_at_rest"]``).
- **Encrypted** (a key): every record after a plain header is sealed with AES-256-GCM, one
  sealed record per line (:mod:`console.transcript.journal_lines`); the "closed" record stays
  plain, so retention and discarding need no key.

Every line is flushed before ``append_*`` returns (that is what survives a killed process);
fsync — what survives a power cut — runs on a background thread after each Final, event,
rename and marker, so the asyncio loop never waits on the disk. A writer holds an exclusive
advisory lock on its file, so recovery never offers a journal another console is writing.
Replay feeds the records back through the same :class:`Transcript` methods the live call used
(:mod:`console.transcript.journal_reader`; recovery's list and closing:
:mod:`console.transcript.journal_recovery`; this module exports the names of both).
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO

from console.acs.streaming import Packet
from console.transcript.journal_lines import (
    ALGORITHM,
    FORMAT,
    JOURNAL_DIR,
    SUFFIX,
    JournalError,
    JournalKeyError,
    Sealer,
    remember_key,
)
from console.transcript.journal_reader import (
    ClosedRecord,
    EventRecord,
    Header,
    MarkerRecord,
    PacketRecord,
    Record,
    RenameRecord,
    ReplayStats,
    apply_record,
    read_records,
    replay,
    replay_lines,
    replay_with_stats,
)
from console.transcript.journal_recovery import (
    JournalInfo,
    find_unfinished,
    in_use,
    mark_recovered,
)
from console.transcript.model import Transcript
from console.transcript.participants import NameSource
from console.transcript.redacted import redact_detail, redacted_frame
from console.transcript.timeline import Change, MarkerAdded, ParticipantRenamed

try:  # POSIX advisory locks; elsewhere journals are simply never reported as in use
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "FORMAT",
    "JOURNAL_DIR",
    "SUFFIX",
    "ClosedRecord",
    "EventRecord",
    "Header",
    "Journal",
    "JournalError",
    "JournalInfo",
    "JournalKeyError",
    "JournalOptions",
    "MarkerRecord",
    "PacketRecord",
    "Record",
    "RenameRecord",
    "ReplayStats",
    "apply_record",
    "find_unfinished",
    "in_use",
    "mark_recovered",
    "read_records",
    "replay",
    "replay_lines",
    "replay_with_stats",
]

log = logging.getLogger(__name__)

_MAX_PENDING_LINES = 256


@dataclass(slots=True)
class JournalOptions:
    """How a console journals its calls: built from the Settings by the composition root
    (``console.privacy.journal_options``), shared by the sessions of one runtime."""

    enabled: bool = True
    redact: bool = False  # redact at rest (see the module docstring)
    key: bytes | None = field(default=None, repr=False)  # seals journals; None: plain
    # Closed journals are deleted this many days after closing (0: at once).
    retention_days: int = 7
    # Why journals are stored unencrypted though journaling is on (no usable keyring): told
    # once, by the first session of the runtime that opens a journal, which then sets ``told``.
    unencrypted_note: str = ""
    told: bool = False


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

    def __init__(
        self, path: Path, fh: BinaryIO, *, sealer: Sealer | None = None, redact: bool = False
    ) -> None:
        self._path = path
        self._fh: BinaryIO | None = fh
        self._lines: list[str] = []  # intermediates not yet written (see _write)
        self._sealer = sealer
        self.redacted = redact
        self._syncer = _Syncer(fh.fileno(), path.parent)
        self._syncer.start()

    @classmethod
    def create(
        cls,
        data_dir: str | os.PathLike[str],
        call_info: Mapping[str, Any] | None = None,
        *,
        key: bytes | None = None,
        redact: bool = False,
    ) -> Journal:
        """Start a new journal in ``data_dir/journals`` under a name no other console uses;
        sealed with ``key`` (32 bytes) when given, redacted at rest when ``redact``."""
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
        sealer = None
        header: dict[str, Any] = {"t": now, "type": "header", "format": FORMAT}
        if key is not None:
            journal_id = secrets.token_hex(16)
            sealer = Sealer(key, journal_id)
            meta = {"alg": ALGORITHM, "key_id": remember_key(key), "journal_id": journal_id}
            # Nothing personal in the plain header: the call's details follow, sealed.
            header |= {"call": {}, "sealed": meta, "redacted": redact}
        else:
            header["call"] = dict(call_info or {})
            if redact:
                header["redacted"] = True
        journal = cls(path, fh, sealer=sealer, redact=redact)
        try:
            journal._write(_dumps(header), sync=sealer is None, plain=True)
            if sealer is not None:
                call = {"t": now, "type": "header", "format": FORMAT, "call": dict(call_info or {})}
                journal._write(_dumps(call | {"redacted": redact}), sync=True)
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
    def encrypted(self) -> bool:
        return self._sealer is not None

    @property
    def fsyncs(self) -> int:
        """fsyncs completed so far (diagnostics)."""
        return self._syncer.syncs

    def _write(self, line: str, *, sync: bool, plain: bool = False) -> None:
        if self._fh is None:
            raise JournalError(f"journal {self._path.name} is closed")
        lines = self._lines
        sealer = self._sealer
        lines.append(line if sealer is None or plain else sealer.seal(line))
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

    def append_packet(
        self,
        frame: str | bytes,
        *,
        received_at: float,
        final: bool,
        packet: Packet | None = None,
    ) -> None:
        """Record one applied (so parseable) WebSocket frame; ``final`` asks for an fsync.
        ``packet``, the frame parsed, spares a journal redacting at rest parsing it again."""
        if self.redacted:
            redacted = redacted_frame(frame, packet)
            if redacted is None:
                return  # an Intermediate: not kept when redacting at rest
            frame = redacted
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
        if self.redacted:
            detail = redact_detail(detail)
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
            if clean:  # plain even when sealed: retention and discarding need no key
                self._write(_dumps({"t": time.time(), "type": "closed"}), sync=True, plain=True)
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
