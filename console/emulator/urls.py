"""Which URLs the emulator may call.

The real service demands https callbacks and wss transports. The emulator also accepts plain
http/ws on loopback (the console's listeners sit there, behind a tunnel for Azure), and it never
sends a request to any host that is not loopback: names are not resolved, only ``localhost``
and literal loopback addresses count.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def is_valid_callback_uri(url: object) -> bool:
    """A callback URI the service accepts: absolute https, or http on loopback."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    if not parts.hostname:
        return False
    if parts.scheme == "https":
        return True
    return parts.scheme == "http" and is_loopback_host(parts.hostname)


def is_valid_stream_url(url: object) -> bool:
    """A transport URL the service accepts: wss, or ws on loopback."""
    if not isinstance(url, str):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018
    except ValueError:
        return False
    if not parts.hostname:
        return False
    if parts.scheme == "wss":
        return True
    return parts.scheme == "ws" and is_loopback_host(parts.hostname)


def may_contact(url: str) -> bool:
    """Whether the emulator may send anything to this URL (loopback only)."""
    return is_loopback_host(url_host(url))
