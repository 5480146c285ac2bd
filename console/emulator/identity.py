"""Secrets and identifiers that make one emulator instance: access key, audience, signing key.

They are persisted in the data dir (mode 0600) so a console profile stays valid across restarts
of the emulator; anything passed in the configuration wins and is not written.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import secrets
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

IDENTITY_FILE = "identity.json"


@dataclass(frozen=True)
class Identity:
    access_key: str  # base64, as in a connection string
    audience: str  # a GUID standing for the ACS resource's immutable resource id

    @property
    def key_bytes(self) -> bytes:
        return base64.b64decode(self.access_key)


def write_private_bytes(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    """Write a file only the owner can read (it holds a key), all at once: another process
    reading it meanwhile sees the old content or the new, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:  # mkstemp creates it 0600
            fh.write(data)
        if mode != 0o600:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_private_text(path: Path, text: str) -> None:
    write_private_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """Hold the data dir while keys are read or made, so two emulators starting at once on
    one data dir end up with the same key, certificate and signing key (POSIX)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / ".lock", "a+b") as fh:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        yield


def _valid_key(text: object) -> bool:
    if not isinstance(text, str) or not text:
        return False
    try:
        return len(base64.b64decode(text, validate=True)) >= 16
    except ValueError:
        return False


def load_identity(data_dir: Path, access_key: str | None, audience: str | None) -> Identity:
    path = data_dir / IDENTITY_FILE
    stored: dict[str, object] = {}
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(loaded, dict):
            stored = loaded
    except FileNotFoundError:
        pass
    except (OSError, ValueError):
        log.warning("Ignoring an unreadable %s; a new identity is created", path)
    if access_key is not None and not _valid_key(access_key):
        raise ValueError("access_key must be base64 of at least 16 bytes")
    stored_key = stored.get("access_key")
    stored_aud = stored.get("audience")
    persisted = {
        "access_key": stored_key
        if _valid_key(stored_key)
        else base64.b64encode(secrets.token_bytes(32)).decode("ascii"),
        "audience": stored_aud if isinstance(stored_aud, str) and stored_aud else str(uuid.uuid4()),
    }
    if persisted != stored:
        write_private_text(path, json.dumps(persisted, indent=2))
    return Identity(
        access_key=access_key or str(persisted["access_key"]),
        audience=audience or str(persisted["audience"]),
    )
