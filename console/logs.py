"""Logging that never leaks a secret: access keys, connection strings, JWTs, HMAC signatures.

:func:`install_redaction` scrubs every record as it is created (a log-record factory), so every
handler sees clean text — including handlers added later (the window's event log, a test's
capture) and libraries logging request headers at DEBUG — and also puts a filter on the
root logger's current handlers for records built by hand.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_PATTERNS = [
    # accesskey=… in a connection string (up to the next ; or whitespace)
    (re.compile(r"(?i)(accesskey\s*=\s*)[^;\s\"']+"), r"\1<redacted>"),
    # Authorization headers and bearer tokens
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1<redacted>"),
    # the HMAC scheme's signature (Authorization: HMAC-SHA256 SignedHeaders=…&Signature=…)
    (re.compile(r"(?i)(signature=)[A-Za-z0-9+/=%_-]+"), r"\1<redacted>"),
    # bare JWTs (header.payload.signature, base64url, header starting with {"…)
    (re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), "<jwt>"),
]
# websockets logs each frame at DEBUG with the start and end of its payload: a transcript
# packet's text must not reach a log, so only the frame's kind and size are kept.
_FRAME = re.compile(r"^([<>] (?:TEXT|BINARY|CONT)) .*?( \[\d+ bytes\])?$", re.DOTALL)
_ACCESS_KEY = re.compile(r"(?i)accesskey\s*=\s*([^;\s\"']+)")

# Exact values to hide wherever they appear (insertion-ordered, bounded).
_extra_secrets: dict[str, None] = {}
_MAX_SECRETS = 256


def register_secret(value: str | None) -> None:
    """Redact this exact value wherever it appears (e.g. a base64 access key on its own)."""
    if value and len(value) >= 8:
        _extra_secrets.pop(value, None)
        _extra_secrets[value] = None
        while len(_extra_secrets) > _MAX_SECRETS:
            del _extra_secrets[next(iter(_extra_secrets))]


def register_connection_string(connection_string: str | None) -> None:
    """Redact a connection string and, on its own, the access key inside it."""
    if not connection_string:
        return
    register_secret(connection_string)
    match = _ACCESS_KEY.search(connection_string)
    if match:
        register_secret(match.group(1))


def redact(text: str) -> str:
    # Longest first, so a connection string goes as a whole before its key would.
    for secret in sorted(_extra_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "<redacted>")
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _scrub(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        return  # a bad format string: logging reports it when the record is emitted
    clean = redact(message)
    if record.name.startswith("websockets"):
        clean = _FRAME.sub(r"\1 <payload>\2", clean)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_redacted", False):
            _scrub(record)
        return True


def _redacting_factory(base: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        _scrub(record)
        record._redacted = True  # type: ignore[attr-defined]
        return record

    factory.redacting = True  # type: ignore[attr-defined]
    return factory


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Redact every log record from now on; also filter ``logger``'s (root's) handlers."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())


LOG_FILE_NAME = "acs-console.log"
_LOG_BYTES = 2_000_000  # per file; five old files are kept


def install_file_log(directory: Path, *, verbose: bool = False) -> Path | None:
    """Log to a rotating file in ``directory`` (secrets redacted); None if it cannot be made.

    The file gets the console's own INFO records as well as every warning; the terminal keeps
    showing only what it showed before."""
    path = directory / LOG_FILE_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=_LOG_BYTES, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        log.warning("no log file in %s: %s", directory, exc.strerror or exc)
        return None
    root = logging.getLogger()
    threshold = root.getEffectiveLevel()
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(threshold)
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    ours = logging.getLogger("console")
    if ours.getEffectiveLevel() > logging.INFO:
        ours.setLevel(logging.INFO)
    log.info("ACS Transcription Console starting; log file %s", path)
    return path
