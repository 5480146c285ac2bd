"""How long journals are kept, and deleting them.

A journal closed cleanly (its call was saved, or the operator discarded it, or recovered or
discarded it after a crash) is deleted ``retention_days`` after it was closed, the time of its
"closed" record; 0 deletes it at once (at the call's close, see
:meth:`console.call.intake.CallIntake.close`). A journal without a "closed" record (a crash) is
kept until it is recovered or discarded; one a live console is writing is never touched.
:func:`sweep` does the deleting; :func:`start_sweeper` runs it at start and daily on the
asyncio loop (the files are read and deleted on a worker thread). The clock is a parameter, so
tests turn days in microseconds. Reading whether a journal is closed needs no key: the "closed"
record is plain even in a sealed journal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from console.transcript.journal_lines import PREFIX, JournalError
from console.transcript.journal_recovery import DAY_S, in_use, journal_paths

log = logging.getLogger(__name__)

# The "closed" record is the journal's last line; this much of the end holds it.
_TAIL_BYTES = 4096


@dataclass(slots=True)
class SweepReport:
    deleted: list[Path] = field(default_factory=list)
    kept: int = 0  # closed, still within the retention period
    unfinished: int = 0  # from a crash: kept until recovered or discarded
    in_use: int = 0  # being written by a live console
    failed: list[str] = field(default_factory=list)  # "name: why" for what could not go


def closed_at(path: str | os.PathLike[str]) -> float | None:
    """When the journal was closed (its last record is "closed"), or None if it never was."""
    with Path(path).open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - _TAIL_BYTES))
        tail = fh.read()
    lines = [line for line in tail.split(b"\n") if line.strip()]
    if not lines:
        return None
    last = lines[-1].rstrip(b"\r")
    m = PREFIX.match(last)
    if m is not None:
        return float(m.group(1)) if m.group(2) == b"closed" else None
    try:
        doc = json.loads(last)
    except ValueError:
        return None
    if isinstance(doc, dict) and doc.get("type") == "closed":
        t = doc.get("t")
        if isinstance(t, int | float) and not isinstance(t, bool):
            return float(t)
    return None


def expires_at(closed: float, retention_days: int) -> float:
    """When a journal closed at ``closed`` is deleted."""
    return closed + max(0, retention_days) * DAY_S


def delete_journal(path: str | os.PathLike[str]) -> bool:
    """Delete one journal now; False if it was already gone. Raises JournalError while a live
    console is writing it."""
    path = Path(path)
    if in_use(path):
        raise JournalError(f"journal {path.name} is in use by a running console")
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    log.info("journal deleted: %s", path.name)
    return True


def sweep(data_dir: str | os.PathLike[str], now: float, retention_days: int) -> SweepReport:
    """Delete the closed journals of ``data_dir`` whose retention period is over at ``now``."""
    report = SweepReport()
    for path in journal_paths(data_dir):
        if in_use(path):
            report.in_use += 1
            continue
        try:
            closed = closed_at(path)
            if closed is None:
                report.unfinished += 1
            elif now >= expires_at(closed, retention_days):
                if delete_journal(path):
                    report.deleted.append(path)
            else:
                report.kept += 1
        except (OSError, JournalError) as exc:
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            report.failed.append(f"{path.name}: {why}")
    if report.deleted or report.failed:
        log.info(
            "journal retention (%d days): %d deleted, %d kept, %d unfinished, %d not deletable",
            retention_days,
            len(report.deleted),
            report.kept,
            report.unfinished,
            len(report.failed),
        )
    return report


async def sweep_daily(
    data_dir: str | os.PathLike[str],
    retention_days: Callable[[], int],
    *,
    clock: Callable[[], float] = time.time,
    interval: float = DAY_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Sweep now and then every ``interval`` seconds, until cancelled. ``retention_days`` is
    asked at each sweep, so a change in Settings applies at the next one."""
    while True:
        try:
            await asyncio.to_thread(sweep, data_dir, clock(), retention_days())
        except Exception:  # a sweep that fails is tried again at the next interval
            log.exception("journal retention sweep failed")
        await sleep(interval)


def start_sweeper(
    data_dir: str | os.PathLike[str],
    retention_days: Callable[[], int],
    *,
    clock: Callable[[], float] = time.time,
    interval: float = DAY_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> asyncio.Task[None]:
    """:func:`sweep_daily` as a task of the running loop (cancel it to stop)."""
    coro = sweep_daily(data_dir, retention_days, clock=clock, interval=interval, sleep=sleep)
    return asyncio.get_running_loop().create_task(coro, name="journal-retention")
