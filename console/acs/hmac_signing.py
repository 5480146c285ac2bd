"""The client side of ACS HMAC-SHA256 request signing, for requests the SDK does not make.

string_to_sign = VERB "\\n" PATH_AND_QUERY "\\n" x-ms-date ";" host ";" x-ms-content-sha256,
keyed with the base64-decoded access key: what the SDK's HMAC policy sends and what the service
(and the local emulator) checks. The console uses it for the local emulator's admin requests.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from email.utils import format_datetime
from urllib.parse import urlsplit


def content_hash(body: bytes) -> str:
    return base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def signature(key: bytes, string_to_sign: str) -> str:
    mac = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def sign(method: str, url: str, body: bytes, key: bytes) -> dict[str, str]:
    """Headers that authenticate a request to ``url`` with ``body``."""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    date = format_datetime(dt.datetime.now(dt.UTC), usegmt=True)
    digest = content_hash(body)
    mac = signature(key, f"{method.upper()}\n{target}\n{date};{parts.netloc};{digest}")
    return {
        "x-ms-date": date,
        "x-ms-content-sha256": digest,
        "Authorization": (
            f"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={mac}"
        ),
    }
