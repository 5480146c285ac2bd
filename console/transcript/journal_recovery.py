"""What recovery offers: the unfinished journals of a data dir (each with what it holds,
whether it is encrypted or redacted, why it cannot be read, and how long it is kept once
closed), and closing one once it was recovered or discarded."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.transcript.journal_lines import (
    FINAL,
    JOURNAL_DIR,
    PREFIX,
    SUFFIX,
    JournalError,
    key_missing_text,
)
from console.transcript.journal_reader import Lines, ReplayStats

try:  # POSIX advisory locks; elsewhere journals are simply never reported as in use
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("console.transcript.journal")

DAY_S = 86_400.0


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
    encrypted: bool = False
    redacted: bool = False  # kept redacted at rest: recovery gives the redacted transcript
    error: str = ""  # why its calls cannot be read (a sealed journal whose key is gone)
    # Once recovered or discarded, the journal is deleted this many days later (0: at once);
    # None when the caller did not say (see find_unfinished).
    retention_days: int | None = None

    @property
    def kept_after_closing(self) -> str:
        """How long the journal is kept once recovered or discarded, in the operator's words."""
        days = self.retention_days
        if days is None:
            return ""
        if days <= 0:
            return "Kept until you recover or discard it, then deleted at once."
        unit = "day" if days == 1 else "days"
        return f"Kept until you recover or discard it, then deleted after {days} {unit}."


def in_use(path: Path) -> bool:
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
    m = PREFIX.match(line)
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


def _scan(path: Path, key: bytes | None, retention_days: int | None) -> tuple[JournalInfo, bool]:
    st = path.stat()
    stats = ReplayStats()
    reader = Lines(stats, key)
    call: dict[str, Any] = {}
    created = st.st_mtime
    finals = packets = events = 0
    closed = False
    with path.open("rb") as fh:
        for i, line in enumerate(fh):
            body = reader.plain(line.rstrip(b"\r\n"))
            if not isinstance(body, bytes):
                continue
            t, kind = _record_type(body)
            if kind == "packet":
                packets += 1
                if FINAL.search(body):
                    finals += 1
            elif kind == "event":
                events += 1
            elif kind == "closed":
                closed = True
            elif kind == "header":
                try:
                    doc = json.loads(body)
                except ValueError:
                    continue
                if isinstance(doc.get("call"), dict) and doc["call"]:
                    call = doc["call"]
                stats.redacted = stats.redacted or doc.get("redacted") is True
                if i == 0 and t is not None:
                    created = t
    info = JournalInfo(
        path,
        call,
        created,
        st.st_mtime,
        st.st_size,
        finals,
        packets,
        events,
        encrypted=stats.encrypted,
        redacted=stats.redacted,
        error=key_missing_text(path.name) if stats.key_missing else "",
        retention_days=retention_days,
    )
    return info, closed


def journal_paths(data_dir: str | os.PathLike[str]) -> list[Path]:
    directory = Path(data_dir) / JOURNAL_DIR
    return sorted(directory.glob(f"*{SUFFIX}")) if directory.is_dir() else []


def find_unfinished(
    data_dir: str | os.PathLike[str],
    *,
    key: bytes | None = None,
    retention_days: int | None = None,
) -> list[JournalInfo]:
    """Journals without a "closed" line that no live console is writing, newest first.

    ``key`` opens sealed journals (else a key this process knows); one whose key is gone is
    listed with ``error`` saying so. ``retention_days`` (the Settings' value) is passed on to
    each :class:`JournalInfo`, whose ``kept_after_closing`` then tells how long it stays."""
    found = []
    for path in journal_paths(data_dir):
        try:
            info, closed = _scan(path, key, retention_days)
        except OSError as exc:
            log.warning("cannot read journal %s: %s", path.name, exc)
            continue
        if not closed and not in_use(path):
            found.append(info)
    found.sort(key=lambda i: (i.created_at, i.path.name), reverse=True)
    return found


def mark_recovered(path: str | os.PathLike[str]) -> None:
    """Close an unfinished journal after recovery (or discarding) so it is not offered again;
    its retention period starts now. Needs no key: the closing record is plain."""
    path = Path(path)
    if in_use(path):
        raise JournalError(f"journal {path.name} is in use by a running console")
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        needs_newline = False
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            needs_newline = fh.read(1) != b"\n"
    record = json.dumps(
        {"t": time.time(), "type": "closed", "recovered": True}, separators=(",", ":")
    )
    # A cut-off last line must not swallow the closing record.
    data = (b"\n" if needs_newline else b"") + record.encode() + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | getattr(os, "O_BINARY", 0))
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
