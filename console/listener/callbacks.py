"""The HTTP receiver for ACS callback events and Event Grid deliveries (aiohttp).

- ``POST /api/callbacks/{secret}``: a JSON array of CloudEvents from ACS, authenticated by the
  URL secret and the ACS bearer JWT. The URL's query and an ``x-ms-call-connection-id`` header
  go to the consumer with the events (:class:`CallbackAddress`): a valid token proves the
  sender is the service, not which call the events are for, so the consumer checks that too.
- ``POST /api/eventgrid/{secret}``: Event Grid deliveries, authenticated by their own URL secret
  only (Event Grid does not send the ACS JWT; the secret outlives restarts, as the subscription
  does). Either schema: the Event Grid schema (a JSON array; the ``SubscriptionValidationEvent``
  handshake answered with ``validationResponse``) or CloudEvents 1.0 (one event object or a
  batch array).
- ``OPTIONS /api/eventgrid/{secret}``: the CloudEvents 1.0 abuse-protection handshake
  (``WebHook-Request-Origin`` answered with ``WebHook-Allowed-Origin``), under the same secret.
- ``GET /api/callbacks/{secret}/probe/{token}``: a connection check's single-use probe (see
  :class:`console.listener.common.Probes`); it reaches no consumer.

The response goes out before any consumer runs: the body is parsed on the request path (so a
bad one gets its 400), the 200 is written, and only then are the consumers scheduled on the
loop. A slow or failing consumer can therefore never delay or fail a delivery.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from types import MappingProxyType
from typing import Any

from aiohttp import web

from console.acs.auth import AuthError, JwtVerifier, secret_matches
from console.acs.events import (
    CallEvent,
    EventParseError,
    IncomingCall,
    SubscriptionValidation,
    parse_callback_body,
    parse_event_grid_body,
)
from console.listener.common import (
    PROBE_HEADER,
    PROBE_RECEIVED,
    PROBE_SEGMENT,
    PROBE_UNKNOWN,
    ListenerError,
    LogLimiter,
    Probes,
    bind_error,
    check_bind,
    check_secret,
    url_host,
    with_query,
)
from console.listener.stats import CallbackStats, HttpCounters, bump

log = logging.getLogger(__name__)

MAX_BODY = 1 << 20
CALLBACK_PATH = "/api/callbacks"
EVENTGRID_PATH = "/api/eventgrid"
# What a CloudEvents handshake's WebHook-Request-Origin may be (a host name, e.g.
# eventgrid.azure.net, or *): echoed back as is, so nothing else may get into a header.
_ORIGIN = re.compile(r"^(\*|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$")


@dataclass(frozen=True, slots=True)
class CallbackAddress:
    """What a callback POST says about the call it is for, besides its events' own ids: the
    callback URL's query (the console names each call's URL, ``?session=…``) and the
    ``x-ms-call-connection-id`` header (when sent exactly once). The consumer routes by them."""

    query: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    call_connection_id: str | None = None


class CallbackServer:
    """Embedded aiohttp server for callback events and Event Grid incoming calls.

    ``on_events`` gets each delivery's events (in order, one call per POST) and the
    :class:`CallbackAddress` they came to;
    ``on_incoming_call`` gets each ``IncomingCall``. Both run on the loop after the response
    was sent; exceptions are counted and logged. ``verifier=None`` switches the callback JWT
    check off (URL secret only) and is logged; pass it explicitly. ``eventgrid_secret`` is the
    Event Grid path's secret (``secret`` when not given).
    """

    def __init__(
        self,
        *,
        on_events: Callable[[list[CallEvent], CallbackAddress], None],
        on_incoming_call: Callable[[IncomingCall], None],
        secret: str,
        verifier: JwtVerifier | None,
        eventgrid_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_body: int = MAX_BODY,
        allow_non_loopback: bool = False,
    ) -> None:
        check_secret(secret)
        if eventgrid_secret is not None:
            check_secret(eventgrid_secret)
        check_bind(host, allow_non_loopback, "callback listener")
        if verifier is None:
            log.warning("Callback JWT verification is off: URL secret only")
        self._on_events = on_events
        self._on_incoming_call = on_incoming_call
        self._secret = secret
        self._eventgrid_secret = eventgrid_secret or secret
        self._verifier = verifier
        self.probes = Probes()
        self._host = host
        self._port = port
        self._max_body = max_body
        self._runner: web.AppRunner | None = None
        self._bound_port = 0
        self._counters = HttpCounters()
        self._limiter = LogLimiter(log)

    async def __aenter__(self) -> CallbackServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound port (the actual one when constructed with 0)."""
        if self._runner is None:
            raise ListenerError("the callback listener is not running")
        return self._bound_port

    @property
    def host(self) -> str:
        return self._host

    @property
    def stats(self) -> CallbackStats:
        return self._counters.snapshot()

    @property
    def callback_path(self) -> str:
        return f"{CALLBACK_PATH}/{self._secret}"

    @property
    def eventgrid_path(self) -> str:
        return f"{EVENTGRID_PATH}/{self._eventgrid_secret}"

    def set_eventgrid_secret(self, secret: str) -> None:
        """Serve the Event Grid path under a new secret from now on (the old one is refused)."""
        check_secret(secret)
        self._eventgrid_secret = secret

    def probe_path(self, token: str) -> str:
        """The path of a single-use probe (register ``token`` with :attr:`probes` first)."""
        return f"{self.callback_path}/{PROBE_SEGMENT}/{token}"

    def _root(self, base: str | None) -> str:
        return base.rstrip("/") if base else f"http://{url_host(self._host)}:{self.port}"

    def callback_url(self, *, base: str | None = None, **query: str) -> str:
        """The callback URI for ACS (``base`` replaces the local origin, e.g. a tunnel's)."""
        return with_query(self._root(base) + self.callback_path, query)

    @property
    def eventgrid_url(self) -> str:
        return self._root(None) + self.eventgrid_path

    def eventgrid_url_for(self, base: str | None = None) -> str:
        return self._root(base) + self.eventgrid_path

    async def start(self) -> None:
        if self._runner is not None:
            return
        app = web.Application(client_max_size=self._max_body)
        app.router.add_post(CALLBACK_PATH + "/{secret}", self._callbacks)
        app.router.add_get(CALLBACK_PATH + "/{secret}/" + PROBE_SEGMENT + "/{token}", self._probe)
        app.router.add_post(EVENTGRID_PATH + "/{secret}", self._eventgrid)
        app.router.add_route("OPTIONS", EVENTGRID_PATH + "/{secret}", self._eventgrid_handshake)
        # A URL without the secret is an authentication failure, not a missing page.
        for path in (CALLBACK_PATH, CALLBACK_PATH + "/", EVENTGRID_PATH, EVENTGRID_PATH + "/"):
            app.router.add_post(path, self._no_secret)
        for path in (EVENTGRID_PATH, EVENTGRID_PATH + "/"):
            app.router.add_route("OPTIONS", path, self._no_secret)
        # No access log: the request path carries the session secret.
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self._host, self._port).start()
        except OSError as exc:
            await runner.cleanup()
            raise bind_error(exc, self._host, self._port, "callback") from None
        self._runner = runner
        self._bound_port = runner.addresses[0][1]
        log.info("Callback listener on %s:%d", self._host, self._bound_port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # -- request handling --------------------------------------------------------------------

    def _reject(self, request: web.Request, reason: str) -> web.Response:
        c = self._counters
        c.auth_rejected += 1
        bump(c.auth_reasons, reason)
        self._limiter.warning(
            "http-refused", "%s from %s refused: %s", _route(request), request.remote, reason
        )
        return web.Response(
            status=401, text="Unauthorized\n", headers={"WWW-Authenticate": "Bearer"}
        )

    async def _authenticate(
        self, request: web.Request, *, jwt: bool, secret: str | None = None
    ) -> web.Response | None:
        self._counters.requests += 1
        if not secret_matches(request.match_info.get("secret"), secret or self._secret):
            return self._reject(request, "wrong secret")
        if jwt and self._verifier is not None:
            try:
                # A repeated Authorization header is ambiguous: treated as missing.
                values = request.headers.getall("Authorization", [])
                await self._verifier.verify_header(values[0] if len(values) == 1 else None)
            except AuthError as exc:
                return self._reject(request, exc.reason)
        return None

    async def _body(self, request: web.Request) -> bytes:
        length = request.content_length
        if length is not None and length > self._max_body:
            raise self._too_large(length)
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise self._too_large(None) from None

    def _too_large(self, length: int | None) -> web.HTTPRequestEntityTooLarge:
        self._counters.too_large += 1
        self._limiter.warning("http-too-large", "Refused a body over %d bytes", self._max_body)
        return web.HTTPRequestEntityTooLarge(
            max_size=self._max_body, actual_size=length if length is not None else -1
        )

    def _bad_body(self, request: web.Request, exc: EventParseError) -> web.Response:
        self._counters.bad_json += 1
        self._limiter.warning("http-bad-body", "%s: bad body: %s", _route(request), exc)
        return web.Response(status=400, text=f"{exc}\n")

    async def _no_secret(self, request: web.Request) -> web.Response:
        self._counters.requests += 1
        return self._reject(request, "missing secret")

    async def _callbacks(self, request: web.Request) -> web.StreamResponse:
        refused = await self._authenticate(request, jwt=True)
        if refused is not None:
            return refused
        body = await self._body(request)
        try:
            events = parse_callback_body(body)
        except EventParseError as exc:
            return self._bad_body(request, exc)
        c = self._counters
        for event in events:
            bump(c.events, event.type or "unknown")
        # A repeated header is ambiguous: treated as missing (as the WebSocket listener does).
        named = request.headers.getall("x-ms-call-connection-id", [])
        address = CallbackAddress(
            MappingProxyType(dict(request.query)), (named[0] or None) if len(named) == 1 else None
        )
        work = partial(self._deliver, partial(self._on_events, events), address) if events else None
        return await self._respond_then(request, web.Response(status=200), work)

    async def _probe(self, request: web.Request) -> web.Response:
        refused = await self._authenticate(request, jwt=False)
        if refused is not None:
            return refused
        if not self.probes.arrived(request.match_info.get("token")):
            return web.Response(
                status=404, text="Unknown probe\n", headers={PROBE_HEADER: PROBE_UNKNOWN}
            )
        return web.json_response({"probe": PROBE_RECEIVED}, headers={PROBE_HEADER: PROBE_RECEIVED})

    async def _eventgrid_handshake(self, request: web.Request) -> web.Response:
        """CloudEvents 1.0 abuse protection: Event Grid asks (OPTIONS) whether it may deliver."""
        refused = await self._authenticate(request, jwt=False, secret=self._eventgrid_secret)
        if refused is not None:
            return refused
        origins = request.headers.getall("WebHook-Request-Origin", [])
        origin = origins[0].strip() if len(origins) == 1 else ""
        if not _ORIGIN.match(origin):
            self._limiter.warning(
                "http-bad-handshake",
                "%s: OPTIONS without a usable WebHook-Request-Origin",
                _route(request),
            )
            return web.Response(
                status=400,
                text="Not a CloudEvents validation request: WebHook-Request-Origin is missing "
                "or malformed\n",
            )
        self._counters.validations += 1
        self._counters.accepted += 1
        log.info("Event Grid subscription validated (CloudEvents handshake)")
        # Any rate: Event Grid's own retry and batching limits are the only ones that matter.
        headers = {
            "WebHook-Allowed-Origin": origin,
            "WebHook-Allowed-Rate": "*",
            "Allow": "OPTIONS, POST",
        }
        return web.Response(status=200, headers=headers)

    async def _eventgrid(self, request: web.Request) -> web.StreamResponse:
        refused = await self._authenticate(request, jwt=False, secret=self._eventgrid_secret)
        if refused is not None:
            return refused
        body = await self._body(request)
        try:
            events = parse_event_grid_body(body)
        except EventParseError as exc:
            return self._bad_body(request, exc)
        c = self._counters
        validation: str | None = None
        calls: list[IncomingCall] = []
        for event in events:
            if isinstance(event, SubscriptionValidation) and event.validation_code:
                validation = validation or event.validation_code
                c.validations += 1
            elif isinstance(event, IncomingCall):
                calls.append(event)
                c.incoming_calls += 1
            else:
                c.other_eventgrid += 1
        if validation is not None:
            log.info("Event Grid subscription validated")
            response = web.json_response({"validationResponse": validation})
        else:
            response = web.Response(status=200)
        work = partial(self._deliver_each, self._on_incoming_call, calls) if calls else None
        return await self._respond_then(request, response, work)

    async def _respond_then(
        self,
        request: web.Request,
        response: web.StreamResponse,
        work: Callable[[], None] | None,
    ) -> web.StreamResponse:
        # Write the whole response first, then hand the work to the loop: the sender never
        # waits for our processing.
        await response.prepare(request)
        await response.write_eof()
        self._counters.accepted += 1
        if work is not None:
            asyncio.get_running_loop().call_soon(work)
        return response

    def _deliver(self, consumer: Callable[[Any], None], item: Any) -> None:
        try:
            consumer(item)
        except Exception:
            self._counters.consumer_errors += 1
            if self._limiter.allow("http-consumer"):
                log.exception("Callback consumer failed")

    def _deliver_each(self, consumer: Callable[[Any], None], items: list[Any]) -> None:
        for item in items:
            self._deliver(consumer, item)


def _route(request: web.Request) -> str:
    # The route name without the secret, for logs.
    path = request.path
    return EVENTGRID_PATH if path.startswith(EVENTGRID_PATH) else CALLBACK_PATH
