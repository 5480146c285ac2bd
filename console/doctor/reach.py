"""Do the public URLs reach this console's listeners?

The check registers a single-use token with the listener, requests the listener's *public* URL
(the tunnel's address) under the URL secret with that token, and looks both at the answer and at
whether the listener saw the token arrive. Whatever else answers (a tunnel that is down or
private, another program on the forwarded port, another console) is named in the FAIL.
"""

from __future__ import annotations

import asyncio
import secrets
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

import aiohttp
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from console.doctor.result import CheckResult, failed, passed, warned
from console.doctor.target import DoctorTarget, without_secrets
from console.listener.common import PROBE_HEADER, PROBE_RECEIVED, PROBE_UNKNOWN

# Dev tunnels put an anti-phishing page in front of browser-like requests unless told not to.
_PROBE_HEADERS = {"X-Tunnel-Skip-AntiPhishing-Page": "True"}
_PRIVATE_FIX = (
    "Make the tunnel anonymous: create it with `devtunnel create --allow-anonymous` (or allow "
    "it later with `devtunnel access create TUNNEL-ID --anonymous`), then `devtunnel host`."
)


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back from a probe: an HTTP status and headers, or why nothing did."""

    status: int | None = None
    probe_header: str | None = None
    location: str | None = None
    www_authenticate: str | None = None
    error: str = ""  # "refused" | "dns" | "tls" | "timeout" | "foreign" | "broken"
    error_text: str = ""


class _NoRedirects(connect):
    """A probe reports a redirect (a private tunnel's sign-in page); it never follows one."""

    def process_redirect(self, exc: Exception) -> Exception | str:
        return exc


def probe_ssl_context(ca_file: str | None) -> ssl.SSLContext:
    """The system's trust store, plus the given CA (a TLS-inspecting proxy's)."""
    ctx = ssl.create_default_context()
    if ca_file:
        ctx.load_verify_locations(ca_file)
    return ctx


def classify_connect_error(exc: BaseException) -> Answer:
    """Why a request got no HTTP answer: refused, dns, tls, timeout or broken."""
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return Answer(error="tls", error_text=str(exc.certificate_error))
    if isinstance(exc, aiohttp.ClientConnectorSSLError | ssl.SSLError):
        return Answer(error="tls", error_text=str(exc))
    os_error = getattr(exc, "os_error", exc)
    if isinstance(os_error, socket.gaierror):
        return Answer(error="dns", error_text=str(os_error))
    if isinstance(exc, TimeoutError | asyncio.TimeoutError):
        return Answer(error="timeout")
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionRefusedError):
        return Answer(error="refused", error_text=str(os_error.strerror or os_error))
    return Answer(error="broken", error_text=str(exc) or exc.__class__.__name__)


async def _http_probe(url: str, ca_file: str | None, timeout: float) -> Answer:
    connector = aiohttp.TCPConnector(ssl=probe_ssl_context(ca_file))
    try:
        async with (
            aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=timeout),
                trust_env=True,
            ) as session,
            session.get(url, allow_redirects=False, headers=_PROBE_HEADERS) as resp,
        ):
            await resp.content.read(4096)
            return Answer(
                status=resp.status,
                probe_header=resp.headers.get(PROBE_HEADER),
                location=resp.headers.get("Location"),
                www_authenticate=resp.headers.get("WWW-Authenticate"),
            )
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        return classify_connect_error(exc)


async def _ws_probe(url: str, ca_file: str | None, timeout: float) -> tuple[Answer, str]:
    """(the handshake's answer, the first text frame) for a WebSocket probe."""
    ctx = probe_ssl_context(ca_file) if url.startswith("wss:") else None
    try:
        async with asyncio.timeout(timeout):
            async with _NoRedirects(
                url,
                ssl=ctx,
                additional_headers=_PROBE_HEADERS,
                open_timeout=timeout,
                compression=None,
                max_size=4096,
            ) as ws:
                try:
                    frame = await ws.recv()
                except ConnectionClosed:
                    frame = ""
                return Answer(status=101), frame if isinstance(frame, str) else ""
    except InvalidStatus as exc:
        headers = exc.response.headers
        return (
            Answer(
                status=exc.response.status_code,
                probe_header=headers.get(PROBE_HEADER),
                location=headers.get("Location"),
                www_authenticate=headers.get("WWW-Authenticate"),
            ),
            "",
        )
    except InvalidURI as exc:
        return Answer(error="broken", error_text=str(exc)), ""
    except InvalidHandshake as exc:  # an answer, but no WebSocket handshake (not even HTTP)
        return Answer(error="foreign", error_text=str(exc)), ""
    except (OSError, TimeoutError) as exc:
        return classify_connect_error(exc), ""


def _verdict(
    check: str,
    what: str,
    url: str,
    answer: Answer,
    target: DoctorTarget,
    which: str,
    *,
    arrived: bool,
    ours: bool,
) -> CheckResult:
    """PASS when this console's listener saw the probe and its answer came back; else a FAIL
    that says what answered instead."""
    shown = without_secrets(url)
    host = urlsplit(url).netloc
    here = target.listener_address(which)
    setting = "--callback-port" if which == "callback" else "--ws-port"
    port_fix = (
        f"Point the tunnel (or the base URL) at this console's {what} listener on {here}, or "
        f"start the console with {setting} set to the port the tunnel forwards."
    )
    if arrived and ours:
        return passed(check, f"{shown} reached this console's {what} listener ({here})")
    if arrived:
        got = f"HTTP {answer.status}" if answer.status else answer.error_text or answer.error
        return failed(
            check,
            f"the probe reached this console, but what came back from {host} is not its "
            f"answer ({got}): something on the way changes it",
            "Check the proxy or tunnel between Azure and this console.",
        )
    if answer.error == "refused":
        return failed(
            check,
            f"nothing answers at {host} ({answer.error_text or 'connection refused'}): the "
            "tunnel is down, or the base URL points at a port nothing listens on",
            f"Start the tunnel (`devtunnel host`), check the base URL in Settings. {port_fix}",
        )
    if answer.error == "dns":
        return failed(
            check,
            f"{host} does not resolve: the tunnel was deleted or the base URL is mistyped",
            "Copy the tunnel's address again (`devtunnel show`) into Settings.",
        )
    if answer.error == "tls":
        return failed(
            check,
            f"TLS with {host} failed ({answer.error_text})",
            "Use the tunnel's own https:// address; behind a TLS-inspecting proxy, give its CA "
            "with --ca-cert (Settings: Trusted CA certificate).",
        )
    if answer.error == "timeout":
        return failed(
            check,
            f"{host} did not answer within {target.timeout:.0f} s: the tunnel is down or stalled",
            "Restart the tunnel (`devtunnel host`) and try again.",
        )
    if answer.error == "foreign":
        return failed(
            check,
            f"another server answered at {host} ({answer.error_text}), not this console's "
            f"{what} listener: the base URL (or the tunnel) points at another port or server",
            port_fix,
        )
    if answer.error:
        return failed(
            check,
            f"the request to {host} failed ({answer.error_text})",
            f"Check the base URL in Settings. {port_fix}",
        )
    status = answer.status
    if status is not None and 300 <= status < 400:
        where = urlsplit(answer.location or "").netloc or "another page"
        return failed(
            check,
            f"{host} redirects to {where} (HTTP {status}): the tunnel is private and asks for "
            "a sign-in, which Azure cannot do",
            _PRIVATE_FIX,
        )
    if answer.probe_header == PROBE_UNKNOWN:
        return failed(
            check,
            f"another ACS console answered at {host} (it does not know this probe), not this one",
            port_fix,
        )
    if status in (401, 403):
        return failed(
            check,
            f"{host} refused the request (HTTP {status}): the tunnel is private (sign-in "
            "required), or the base URL reaches another server or console",
            f"{_PRIVATE_FIX} {port_fix}",
        )
    if status in (502, 503, 504):
        return failed(
            check,
            f"{host} answered HTTP {status}: the tunnel is up, but nothing answers on the "
            "port it forwards to",
            port_fix,
        )
    return failed(
        check,
        f"another server answered at {host} (HTTP {status}), not this console's {what} "
        "listener: the base URL (or the tunnel) points at another port or server",
        port_fix,
    )


def _not_listening(check: str, what: str, error: str, which: str) -> CheckResult:
    setting = "--callback-port" if which == "callback" else "--ws-port"
    return failed(
        check,
        f"this console's {what} listener could not start: {error}",
        f"Stop the other program, or choose another port ({setting}, or Listener ports in "
        "Settings) and point the tunnel at it.",
    )


async def check_callback_reachable(target: DoctorTarget) -> CheckResult:
    """GET ``{callback URL}/probe/{token}`` through the public callback base."""
    check, what = "callback_reachable", "callback"
    if target.is_azure and not target.profile.public_callback_base:
        return warned(check, "not checked: there is no public callback URL (see callback_base)")
    rt = target.runtime
    if rt is None or target.callback_error:
        return _not_listening(check, what, target.callback_error or "no runtime", "callback")
    token = secrets.token_urlsafe(24)
    arrival = rt.callbacks.probes.expect(token)
    url = target.callback_probe_url(token)
    try:
        answer = await _http_probe(url, target.ca_file, target.timeout)
    finally:
        rt.callbacks.probes.forget(token)
    arrived = arrival.done() and not arrival.cancelled()
    ours = answer.status == 200 and answer.probe_header == PROBE_RECEIVED
    return _verdict(check, what, url, answer, target, "callback", arrived=arrived, ours=ours)


async def check_websocket_reachable(target: DoctorTarget) -> CheckResult:
    """Open ``{transcription URL}/probe/{token}`` through the public WebSocket base."""
    check, what = "websocket_reachable", "WebSocket"
    if target.is_azure and not target.profile.public_websocket_base:
        return warned(check, "not checked: there is no public WebSocket URL (see websocket_base)")
    rt = target.runtime
    if rt is None or target.websocket_error:
        return _not_listening(check, what, target.websocket_error or "no runtime", "websocket")
    token = secrets.token_urlsafe(24)
    arrival = rt.transcripts.probes.expect(token)
    url = target.websocket_probe_url(token)
    try:
        answer, frame = await _ws_probe(url, target.ca_file, target.timeout)
    finally:
        rt.transcripts.probes.forget(token)
    arrived = arrival.done() and not arrival.cancelled()
    ours = answer.status == 101 and PROBE_RECEIVED in frame
    return _verdict(check, what, url, answer, target, "websocket", arrived=arrived, ours=ours)
