"""Secrets and identifiers that make one emulator instance: access key, audience, signing key.

They are persisted in the data dir (mode 0600) so a console profile stays valid across restarts
of the emulator; anything passed in the configuration wins and is not written.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

IDENTITY_FILE = "identity.json"


@dataclass(frozen=True)
class Identity:
    access_key: str  # base64, as in a connection string
    audience: str  # a GUID standing for the ACS resource's immutable resource id

    @property
    def key_bytes(self) -> bytes:
        return base64.b64decode(self.access_key)


def write_private_text(path: Path, text: str) -> None:
    """Write a file only the owner can read (it holds a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


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
