"""Pieces both embedded servers share: bind checks, errors, URL building, log rate limiting."""

from __future__ import annotations

import errno
import ipaddress
import logging
import re
import time
from urllib.parse import urlencode

log = logging.getLogger(__name__)

# Windows reports an occupied port as WSAEADDRINUSE instead of EADDRINUSE.
_ADDR_IN_USE = {errno.EADDRINUSE, 10048}
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{16,128}$")


class ListenerError(Exception):
    """A listener could not start (port in use, refused bind address, bad settings)."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, allow_non_loopback: bool, what: str) -> None:
    """Refuse a public bind unless explicitly allowed; a tunnel is the normal way in."""
    if is_loopback(host):
        return
    if not allow_non_loopback:
        raise ListenerError(
            f"Refusing to bind the {what} to {host}: only loopback is allowed unless "
            "non-loopback binding is explicitly enabled"
        )
    log.warning("The %s listens on non-loopback address %s: reachable from the network", what, host)


def check_secret(secret: str) -> None:
    # The secret is a URL path segment; a short or odd one would be guessable or get mangled.
    if not _SECRET_RE.match(secret or ""):
        raise ValueError("the URL secret must be 16-128 URL-safe characters (use new_url_secret())")


def bind_error(exc: OSError, host: str, port: int, what: str) -> ListenerError:
    if exc.errno in _ADDR_IN_USE:
        return ListenerError(
            f"Port {port} on {host} is already in use; stop the other program, choose another "
            f"{what} port, or use 0 to pick a free one"
        )
    return ListenerError(f"Cannot listen on {host}:{port} for the {what}: {exc.strerror or exc}")


def url_host(host: str) -> str:
    """The host as it goes in a URL: wildcard binds are reached over loopback, IPv6 bracketed."""
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


def with_query(url: str, query: dict[str, str]) -> str:
    return f"{url}?{urlencode(query)}" if query else url


class LogLimiter:
    """Lets a few messages per key through per interval, then reports how many it dropped.

    Hostile or broken peers can produce thousands of bad frames a second; the log must stay
    readable and the loop must not spend its time formatting messages.
    """

    def __init__(self, logger: logging.Logger, *, burst: int = 5, interval: float = 10.0) -> None:
        self._log = logger
        self._burst = burst
        self._interval = interval
        self._windows: dict[str, list[float | int]] = {}  # key -> [window start, count]

    def allow(self, key: str) -> bool:
        """Whether a message under ``key`` may be logged now."""
        now = time.monotonic()
        window = self._windows.get(key)
        if window is None or now - window[0] >= self._interval:
            if window is not None and window[1] > self._burst:
                self._log.warning("%d more %r message(s) suppressed", window[1] - self._burst, key)
            if window is None and len(self._windows) >= 64:
                self._windows.clear()  # keys are a fixed small set; this only bounds memory
            window = self._windows[key] = [now, 0]
        window[1] += 1
        return window[1] <= self._burst

    def warning(self, key: str, msg: str, *args: object) -> None:
        if self.allow(key):
            self._log.warning(msg, *args)
