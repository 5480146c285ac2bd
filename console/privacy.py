"""What the console keeps about calls, and removing it: the Settings (``Preferences``), the
keyring's journal key and the journal's options put together, for the window, ``run`` and the
composition root. No Qt.

- :func:`journal_options`: how this data dir's calls are journalled (on or off, redacted at rest,
  encrypted with the keyring's key, kept how long);
- :func:`unfinished_journals`, :func:`recover`, :func:`close_recovered`: recovery after a crash,
  reading encrypted journals with the data dir's key, and the retention that starts once a
  recovered (or discarded) journal is closed;
- :func:`start_retention`: the sweep at start and daily;
- :func:`delete_call_data`: "Delete this call's data".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from pathlib import Path

from console.acs.identifiers import InvalidTargetError, validate_target
from console.config import JournalKeyStore, Preferences
from console.transcript.journal import (
    JOURNAL_DIR,
    JournalInfo,
    JournalOptions,
    find_unfinished,
    mark_recovered,
    replay,
)
from console.transcript.journal_lines import remember_key
from console.transcript.model import Transcript
from console.transcript.retention import delete_journal, start_sweeper

log = logging.getLogger(__name__)

_SCRUBBED = "<deleted>"


def retention_days(prefs: Preferences) -> int:
    days = prefs.retention_days
    return max(0, days) if isinstance(days, int) and not isinstance(days, bool) else 7


def journal_options(prefs: Preferences, data_dir: Path) -> JournalOptions:
    """How the calls of ``data_dir`` are journalled, from the Settings. Loads (or creates) the
    journal key in the keyring; without a keyring the options carry the note the operator is
    told once (journals unencrypted, journaling can be turned off)."""
    days = retention_days(prefs)
    if not prefs.journaling:
        return JournalOptions(enabled=False, retention_days=days)
    key = JournalKeyStore(data_dir).load()
    if key.value is not None:
        remember_key(key.value)  # so this process reads what it writes (recovery, replay)
    return JournalOptions(
        enabled=True,
        redact=prefs.redact_at_rest,
        key=key.value,
        retention_days=days,
        unencrypted_note=key.note,
    )


def _key(data_dir: Path) -> bytes | None:
    key = JournalKeyStore(data_dir).read()
    if key is not None:
        remember_key(key)
    return key


def unfinished_journals(data_dir: Path, prefs: Preferences) -> list[JournalInfo]:
    """The journals to offer for recovery, newest first, with the data dir's key: each says
    whether it is encrypted or redacted, why it cannot be read (``error``: its key is gone) and
    how long it is kept once recovered or discarded (``kept_after_closing``)."""
    return find_unfinished(data_dir, key=_key(data_dir), retention_days=retention_days(prefs))


def recover(path: Path, data_dir: Path) -> Transcript:
    """A journal's transcript (encrypted ones with the data dir's key). Raises JournalError
    (JournalKeyError for a key that is gone) in plain words, or OSError."""
    return replay(path, key=_key(data_dir))


def close_recovered(path: Path, prefs: Preferences) -> None:
    """Close a journal that was recovered or discarded, so it is not offered again; with
    "never keep" (retention 0) it is deleted at once, else at the end of its retention."""
    mark_recovered(path)
    if retention_days(prefs) == 0:
        delete_journal(path)


def start_retention(data_dir: Path, prefs: Preferences) -> asyncio.Task[None]:
    """Sweep expired journals now and daily; the retention is read from ``prefs`` at each
    sweep (a Settings change applies at the next). Cancel the task to stop."""
    return start_sweeper(data_dir, lambda: retention_days(prefs))


async def stop_task(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


# --- "Delete this call's data" -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CallDataDeleted:
    journal: bool  # its journal was deleted (False: there was none, or it was already gone)
    recent_target: bool  # its target was removed from the recent targets
    log_files: int  # log files from which its target was scrubbed


def _same_target(a: str, b: str) -> bool:
    def raw(text: str) -> str:
        try:
            return validate_target(text)
        except InvalidTargetError:
            return text.strip()

    return raw(a) == raw(b)


def _target_forms(target: str) -> list[str]:
    forms = {target.strip()}
    with contextlib.suppress(InvalidTargetError):
        raw = validate_target(target)
        forms.add(raw)
        if raw.startswith("4:"):
            forms.add(raw[2:])  # a phone number as logged in notices ("Calling +15550100…")
    return sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)


def _scrub_log(path: Path, needles: list[str]) -> bool:
    """Replace the needles in one log file, in place (a handler may hold it open for
    appending: the file stays the same file)."""
    with path.open("r+b") as fh:
        data = fh.read()
        clean = data
        for needle in needles:
            clean = clean.replace(needle.encode("utf-8"), _SCRUBBED.encode())
        if clean == data:
            return False
        fh.seek(0)
        fh.write(clean)
        fh.truncate()
    return True


def delete_call_data(
    data_dir: Path,
    prefs: Preferences,
    *,
    journal: Path | None = None,
    target: str | None = None,
    log_dir: Path | None = None,
) -> CallDataDeleted:
    """Remove what the console wrote for one call: its journal (``journal``, in this data
    dir's journals folder; a live call's session must be closed first), its target from the
    recent targets (saved at once), and its target from the console's log files in
    ``log_dir`` (logs never hold transcript text, but notices name whom a call was with).
    Files the operator saved elsewhere are theirs and are not touched.

    Raises JournalError when the journal is still being written, ValueError for a journal
    outside the data dir's journals folder."""
    deleted = False
    if journal is not None:
        folder = (data_dir / JOURNAL_DIR).resolve()
        if Path(journal).resolve().parent != folder:
            raise ValueError(f"{journal} is not one of this console's journals ({folder})")
        deleted = delete_journal(journal)
    forgotten = False
    if target:
        kept = [t for t in prefs.recent_targets if not _same_target(t, target)]
        forgotten = len(kept) != len(prefs.recent_targets)
        if forgotten:
            prefs.recent_targets = kept
            prefs.save(data_dir)
    scrubbed = 0
    if target and log_dir is not None and log_dir.is_dir():
        needles = _target_forms(target)
        for path in sorted(log_dir.glob("acs-console.log*")):
            try:
                scrubbed += _scrub_log(path, needles)
            except OSError as exc:
                log.warning("log file %s not scrubbed: %s", path.name, exc.strerror or exc)
    log.info(
        "call data deleted: journal %s, recent target %s, %d log file(s) scrubbed",
        "yes" if deleted else "none",
        "yes" if forgotten else "none",
        scrubbed,
    )
    return CallDataDeleted(deleted, forgotten, scrubbed)
