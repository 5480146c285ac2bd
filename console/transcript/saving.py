"""Saving a transcript where the operator asked, and saying in plain words why it failed."""

from __future__ import annotations

import errno
import logging
import os
import re
import time
from pathlib import Path

from console.transcript.export import export
from console.transcript.model import Transcript

log = logging.getLogger(__name__)

# Why a save failed, in the operator's words, by errno name (not every platform has them all).
_SAVE_REASONS = {
    getattr(errno, name): text
    for name, text in (
        ("ENOSPC", "the disk is full"),
        ("EDQUOT", "the disk quota is used up"),
        ("EFBIG", "the file is larger than this location allows (a disk or size limit)"),
        ("EROFS", "the location is read-only"),
        ("EACCES", "there is no permission to write there"),
        ("EPERM", "writing there is not permitted (the folder may be read-only or locked)"),
        ("ENOENT", "the folder does not exist"),
        ("ENOTDIR", "part of the path is not a folder"),
        ("EISDIR", "that name is a folder"),
        ("ENAMETOOLONG", "the file name is too long"),
    )
    if hasattr(errno, name)
}


# Unsafe in a file name on some platform: separators, Windows' reserved characters, controls.
_UNSAFE = re.compile(r'[\x00-\x1f<>:"/\\|?*]')


def call_file_stem(started_at: float, target: str) -> str:
    """``<YYYYmmdd-HHMMSS>-<target>``: a call's file name by its start (local time) and target,
    the target's characters that are unsafe in file names replaced by ``_``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(started_at))
    safe = _UNSAFE.sub("_", target.strip()).rstrip(". ") or "call"
    return f"{stamp}-{safe}"


def unique_stems(stems: list[str]) -> list[str]:
    """The stems with repeats numbered (two calls to one target in the same second)."""
    taken: set[str] = set()
    out = []
    for stem in stems:
        name, n = stem, 1
        while name in taken:
            n += 1
            name = f"{stem}-{n}"
        taken.add(name)
        out.append(name)
    return out


class SaveError(OSError):
    """Saving failed. ``strerror`` is the reason in operator words, ``operator_text`` the whole
    message; any earlier file at the path is unchanged (saves are atomic)."""

    def __init__(self, code: int | None, reason: str, path: Path) -> None:
        super().__init__(code, reason, str(path))
        self.path = path

    @property
    def operator_text(self) -> str:
        return (
            f"The transcript was not saved to {self.path}: {self.strerror}. Any earlier file "
            "there is unchanged and the transcript is still held (and autosaved), so save it "
            "somewhere else."
        )

    def __str__(self) -> str:
        return self.operator_text


def save(transcript: Transcript, path: str | os.PathLike[str], fmt: str | None = None) -> Path:
    """Write the transcript atomically; raises :class:`SaveError` (an OSError) in plain words
    when the location cannot take it, leaving any earlier file untouched."""
    try:
        return export(transcript, path, fmt)
    except OSError as exc:
        reason = _SAVE_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
        log.info("saving to %s failed: %s", path, exc)
        raise SaveError(exc.errno, reason, Path(path)) from exc
