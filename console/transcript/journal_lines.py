"""The journal's lines: plain JSON records, or sealed ones (encrypted and authenticated).

A journal is written in one of two ways, chosen when it is created:

- plain: every record is one line of JSON (see :mod:`console.transcript.journal`);
- sealed: the first line is a plain header that holds nothing personal (the format, the
  algorithm, which key, whether the journal is redacted), every later record is one sealed line,
  ``sealed1:`` followed by base64 of a fresh 96-bit nonce and the AES-256-GCM ciphertext (with
  its tag) of the record's JSON, and the "closed" record stays plain (so a journal's retention
  can be swept, and a journal discarded, without its key).

One record per line keeps what a kill -9 can cost to the line being written, as with plain
lines: a cut-off sealed line fails to open and is skipped like a cut-off JSON line. The
associated data binds every sealed line to its journal (a random id in the header), so lines
cannot be moved from one journal into another. AES-GCM with random nonces is safe for 2^32
records per key; a data dir's key seals a few thousand lines per call.

Keys this process knows (the data dir's key, loaded when the runtime starts) are remembered by
their id, so a reader finds the key of a sealed journal without being handed it; a reader can
also be given one explicitly.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

FORMAT = 1
JOURNAL_DIR = "journals"
SUFFIX = ".jsonl"
ALGORITHM = "AES-256-GCM"
KEY_BYTES = 32
SEALED_PREFIX = b"sealed1:"
_NONCE_BYTES = 12
_AAD = b"acs-console journal "

# Lines this package writes start with a fixed prefix; reading it avoids a full JSON parse.
PREFIX = re.compile(rb'\{"t":(-?[0-9][0-9.eE+-]*),"type":"([a-z_]+)"')
PACKET_PREFIX = re.compile(rb'\{"t":(-?[0-9][0-9.eE+-]*),"type":"packet","packet":')
FINAL = re.compile(rb'"resultStatus"\s*:\s*"final"', re.IGNORECASE)


class JournalError(Exception):
    """The journal is closed, in use by another console, or cannot be read."""


class JournalKeyError(JournalError):
    """A sealed journal whose key is not available: the message says so in plain words."""


def key_missing_text(name: str) -> str:
    return (
        f"{name} is encrypted, and the key it was encrypted with is not available: it is no "
        "longer in this system's keyring (deleted, or the keyring is locked or another user's). "
        "Its calls cannot be read; the journal can only be discarded."
    )


def key_id(key: bytes) -> str:
    """A short public name of a key (which key sealed a journal), revealing nothing of it."""
    return hashlib.sha256(b"acs-console journal key id\0" + key).hexdigest()[:16]


def check_key(key: bytes) -> bytes:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"a journal key is {KEY_BYTES} bytes")
    return key


# Keys this process has used or loaded, by id (see the module docstring).
_known: dict[str, bytes] = {}


def remember_key(key: bytes) -> str:
    """Let readers in this process open journals sealed with ``key``; returns its id."""
    ident = key_id(check_key(key))
    _known[ident] = key
    return ident


def known_key(ident: str) -> bytes | None:
    return _known.get(ident)


class Sealer:
    """Seals and opens the records of one journal."""

    __slots__ = ("_aad", "_aead")

    def __init__(self, key: bytes, journal_id: str) -> None:
        self._aead = AESGCM(check_key(key))
        self._aad = _AAD + journal_id.encode("utf-8")

    def seal(self, record: str) -> str:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, record.encode("utf-8", "replace"), self._aad)
        return SEALED_PREFIX.decode() + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, line: bytes) -> bytes | None:
        """The record of a sealed line (without its prefix); None when it is not authentic
        (cut off by a crash, damaged, or sealed with another key)."""
        try:
            raw = base64.b64decode(line[len(SEALED_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) <= _NONCE_BYTES:
            return None
        try:
            return self._aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], self._aad)
        except InvalidTag:
            return None


def sealed_meta(doc: dict[str, Any]) -> tuple[str, str] | None:
    """(key id, journal id) of a sealed journal's header; None for a plain journal."""
    meta = doc.get("sealed")
    if not isinstance(meta, dict):
        return None
    ident, journal_id = meta.get("key_id"), meta.get("journal_id")
    if isinstance(ident, str) and isinstance(journal_id, str):
        return ident, journal_id
    return None
