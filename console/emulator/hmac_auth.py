"""HMAC-SHA256 request authentication, as ACS checks it (and as the SDK signs).

string_to_sign = VERB "\\n" PATH_AND_QUERY "\\n" x-ms-date ";" host ";" x-ms-content-sha256,
keyed with the base64-decoded access key. The path is the raw request target. The aio SDK signs
``%3A`` in a participant raw id but aiohttp sends ``:``; a signature over the target with the
colon re-encoded inside path parameters is accepted too.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from console.acs.hmac_signing import content_hash, sign, signature

__all__ = ["AuthError", "content_hash", "sign", "verify"]

EMPTY_BODY_HASH = base64.b64encode(hashlib.sha256(b"").digest()).decode("ascii")
MAX_SKEW = dt.timedelta(minutes=15)
_AUTH_RE = re.compile(r"^HMAC-SHA256 SignedHeaders=([^&]+)&Signature=(.+)$")
# Path segments after these hold caller-supplied values (raw ids) that may contain ':'.
_PARAM_PARENTS = frozenset({"participants"})


class AuthError(Exception):
    """The request is not authentic; the message says why (never includes secrets)."""


def _target_variants(raw_target: str) -> list[str]:
    path, sep, query = raw_target.partition("?")
    segments = path.split("/")
    changed = False
    for i in range(1, len(segments)):
        if segments[i - 1] in _PARAM_PARENTS and ":" in segments[i]:
            segments[i] = segments[i].replace(":", "%3A")
            changed = True
    variants = [raw_target]
    if changed:
        variants.append("/".join(segments) + sep + query)
    return variants


def verify(
    method: str,
    raw_target: str,
    headers: Mapping[str, str],
    body: bytes,
    key: bytes,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Raise AuthError unless the request carries a valid signature for ``key``."""
    auth = headers.get("Authorization", "")
    match = _AUTH_RE.match(auth.strip())
    if not match:
        raise AuthError("missing or malformed HMAC-SHA256 Authorization header")
    signed_names = [n.strip().lower() for n in match.group(1).split(";") if n.strip()]
    if not {"x-ms-date", "host", "x-ms-content-sha256"} <= set(signed_names):
        raise AuthError("SignedHeaders must include x-ms-date, host and x-ms-content-sha256")
    values = []
    for name in signed_names:
        value = headers.get(name)
        if value is None:
            raise AuthError(f"signed header {name} is missing")
        values.append(value)
    if headers.get("x-ms-content-sha256") != content_hash(body):
        raise AuthError("x-ms-content-sha256 does not match the body")
    try:
        date = parsedate_to_datetime(headers.get("x-ms-date", ""))
    except (TypeError, ValueError):
        raise AuthError("x-ms-date is not an RFC 1123 date") from None
    if date.tzinfo is None:
        date = date.replace(tzinfo=dt.UTC)
    if abs((now or dt.datetime.now(dt.UTC)) - date) > MAX_SKEW:
        raise AuthError("x-ms-date is too far from the current time")
    given = match.group(2)
    for target in _target_variants(raw_target):
        expected = signature(key, f"{method.upper()}\n{target}\n{';'.join(values)}")
        if hmac.compare_digest(expected, given):
            return
    raise AuthError("signature mismatch")
