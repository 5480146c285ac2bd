"""Pieces both embedded servers share: bind checks, errors, URL building, log rate limiting,
and the connection probes ``acs-console doctor`` sends through the public URLs."""

from __future__ import annotations

import asyncio
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


# A probe is ``{listener path with the URL secret}/probe/{token}``; the answer names itself in
# this header, so the doctor can tell this console's listener from anything else that answers.
PROBE_SEGMENT = "probe"
PROBE_HEADER = "X-ACS-Console-Probe"
PROBE_RECEIVED = "received"
PROBE_UNKNOWN = "unknown"
_MAX_PROBES = 16


class Probes:
    """Single-use tokens a connection check registers before it requests a public URL.

    A request under the right URL secret that carries a registered token marks it arrived (and
    uses it up); the check then knows the request reached *this* listener, not another server
    behind the same address. A probe delivers nothing to the console's consumers.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[None]] = {}

    def expect(self, token: str) -> asyncio.Future[None]:
        """Register ``token``; the future completes when a probe with it arrives."""
        check_secret(token)
        if len(self._waiting) >= _MAX_PROBES:
            self._waiting.pop(next(iter(self._waiting))).cancel()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        return future

    def forget(self, token: str) -> None:
        future = self._waiting.pop(token, None)
        if future is not None:
            future.cancel()

    def arrived(self, token: str | None) -> bool:
        """Use up ``token``; whether it was registered (and not used before)."""
        future = self._waiting.pop(token, None) if token else None
        if future is None:
            return False
        if not future.done():
            future.set_result(None)
        return True
