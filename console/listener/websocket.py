"""The WebSocket server ACS streams transcript (and audio) packets to.

ACS is the client: it opens one connection per subscription to the transport URL we gave it,
authenticates the upgrade with a bearer JWT and sends one JSON object per text frame. Each
frame is parsed (``console.acs.streaming.parse_packet``) and handed synchronously to a
:class:`PacketSink`. The per-frame path awaits nothing but the receive, logs nothing, and never
lets bad input or a failing sink end the connection; only an oversized frame does (1009, the
service reconnects).

``/ws/{kind}/{secret}/probe/{token}`` is a connection check's single-use probe (see
:class:`console.listener.common.Probes`): under the URL secret, with a token the check
registered, the upgrade completes without a JWT, the listener says so in one text frame and
closes. A probe never reaches the :class:`PacketSink`.
"""

from __future__ import annotations

import http
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol
from urllib.parse import parse_qsl

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from console.acs.auth import AuthError, Claims, JwtVerifier, secret_matches
from console.acs.streaming import Packet, TranscriptionMetadata, Unparsed, parse_packet
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
from console.listener.stats import ListenerStats, WsCounters, bump, reason_key

log = logging.getLogger(__name__)
# websockets logs request lines and every header (Authorization included) at DEBUG; its logger
# for our server drops DEBUG records so turning on debug logging never writes a JWT or the
# secret. (A filter, not setLevel: the logger still follows the configured level above INFO.)
_wire_log = logging.getLogger(__name__ + ".wire")
_wire_log.addFilter(lambda record: record.levelno >= logging.INFO)

KINDS = ("transcription", "audio")
MAX_FRAME = 1 << 20
# Frames buffered by websockets before it stops reading the socket; generous so a loop stall
# (GC, a busy UI frame) does not push back on the service.
_MAX_QUEUE = 64
# Call ids whose connection count we remember (to number reconnections of the same call).
_CALLS_REMEMBERED = 1024


class StreamConnection:
    """One accepted WebSocket: who it is for and what it has delivered so far.

    ``sequence`` numbers the connections seen for the same call (1 = first; 2+ = the service
    reconnected mid-call and the transcript continues). The counters are updated in place.
    """

    __slots__ = (
        "binary",
        "call_connection_id",
        "claims",
        "close_code",
        "close_reason",
        "closed_at",
        "correlation_id",
        "frames",
        "id",
        "kind",
        "last_frame_at",
        "opened_at",
        "packets",
        "query",
        "remote",
        "sequence",
        "unparsed",
    )

    def __init__(
        self,
        id: int,
        kind: str,
        *,
        call_connection_id: str | None = None,
        correlation_id: str | None = None,
        query: Mapping[str, str] | None = None,
        remote: str = "",
        claims: Claims | None = None,
    ) -> None:
        self.id = id
        self.kind = kind  # "transcription" or "audio"
        self.call_connection_id = call_connection_id
        self.correlation_id = correlation_id
        self.query: Mapping[str, str] = MappingProxyType(dict(query or {}))
        self.remote = remote
        self.claims = claims
        self.opened_at = time.time()
        self.sequence = 0
        self.frames = 0
        self.packets = 0
        self.unparsed = 0
        self.binary = 0
        self.last_frame_at: float | None = None  # time.monotonic() of the latest frame
        self.closed_at: float | None = None
        self.close_code: int | None = None
        self.close_reason = ""

    def __repr__(self) -> str:
        return (
            f"StreamConnection(id={self.id}, kind={self.kind!r}, "
            f"call={self.call_connection_id!r}, seq={self.sequence}, frames={self.frames})"
        )


class PacketSink(Protocol):
    """Receives a stream's life cycle and packets, synchronously on the loop, in order.

    Each call must be quick (apply to a model, append to a buffer); rendering or disk work
    belongs in a coalesced task of the consumer's own. Exceptions are counted and logged and
    do not close the stream.
    """

    def stream_opened(self, conn: StreamConnection) -> None: ...

    def packet(self, conn: StreamConnection, frame: str, packet: Packet) -> None:
        """``frame`` is the raw text as received (for the journal); never an Unparsed packet."""

    def stream_closed(self, conn: StreamConnection, code: int | None, reason: str) -> None: ...


def _close_info(ws: ServerConnection) -> tuple[int, str, bool]:
    """(code, reason, we_sent_first) for a finished connection."""
    proto = ws.protocol
    rcvd, sent = proto.close_rcvd, proto.close_sent
    if rcvd is not None and proto.close_rcvd_then_sent is not False:
        return rcvd.code, rcvd.reason, False
    if sent is not None:
        return sent.code, sent.reason, True
    return 1006, "connection lost", False


class TranscriptServer:
    """Embedded ``websockets`` server for ``/ws/transcription/{secret}`` and ``/ws/audio/{secret}``.

    ``verifier=None`` switches the JWT check off (URL secret only) and is logged; pass it
    explicitly. Use ``async with`` or ``start()``/``stop()``.
    """

    def __init__(
        self,
        sink: PacketSink,
        *,
        secret: str,
        verifier: JwtVerifier | None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_frame: int = MAX_FRAME,
        allow_non_loopback: bool = False,
    ) -> None:
        check_secret(secret)
        check_bind(host, allow_non_loopback, "transcript WebSocket listener")
        if verifier is None:
            log.warning("Transcript WebSocket JWT verification is off: URL secret only")
        self._sink = sink
        self._secret = secret
        self._verifier = verifier
        self._host = host
        self._port = port
        self._max_frame = max_frame
        self._server: Server | None = None
        self._counters = WsCounters()
        self._limiter = LogLimiter(log)
        self._next_id = 0
        # Weak: a connection that passed our check but never opened must not linger here.
        self._accepted: weakref.WeakKeyDictionary[ServerConnection, StreamConnection] = (
            weakref.WeakKeyDictionary()
        )
        self._open: dict[int, StreamConnection] = {}
        self._calls: OrderedDict[str, int] = OrderedDict()
        self.probes = Probes()
        self._probing: weakref.WeakSet[ServerConnection] = weakref.WeakSet()

    async def __aenter__(self) -> TranscriptServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The bound port (the actual one when constructed with 0)."""
        if self._server is None:
            raise ListenerError("the transcript WebSocket listener is not running")
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    @property
    def host(self) -> str:
        return self._host

    @property
    def stats(self) -> ListenerStats:
        return self._counters.snapshot()

    @property
    def connections(self) -> tuple[StreamConnection, ...]:
        """Currently open streams."""
        return tuple(self._open.values())

    def path(self, kind: str = "transcription") -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown stream kind {kind!r}; expected one of {KINDS}")
        return f"/ws/{kind}/{self._secret}"

    def probe_path(self, token: str, kind: str = "transcription") -> str:
        """The path of a single-use probe (register ``token`` with :attr:`probes` first)."""
        return f"{self.path(kind)}/{PROBE_SEGMENT}/{token}"

    def url(self, kind: str = "transcription", *, base: str | None = None, **query: str) -> str:
        """The local URL (or ``base`` + path, e.g. a tunnel's ``wss://host``) for ACS to open."""
        root = base.rstrip("/") if base else f"ws://{url_host(self._host)}:{self.port}"
        return with_query(root + self.path(kind), query)

    async def start(self) -> None:
        if self._server is not None:
            return
        try:
            self._server = await serve(
                self._handle,
                self._host,
                self._port,
                process_request=self._process_request,
                max_size=self._max_frame,
                max_queue=_MAX_QUEUE,
                server_header=None,
                # Frames are small and CPU is what counts here; no per-frame inflate, and no
                # zlib context per connection.
                compression=None,
                logger=_wire_log,
            )
        except OSError as exc:
            raise bind_error(exc, self._host, self._port, "transcript WebSocket") from None
        log.info("Transcript WebSocket listening on %s:%d", self._host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        await server.wait_closed()
        self._accepted.clear()

    # -- handshake ---------------------------------------------------------------------------

    def _refuse(
        self,
        connection: ServerConnection,
        status: http.HTTPStatus,
        reason: str,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        c = self._counters
        if status is http.HTTPStatus.NOT_FOUND:
            c.not_found += 1
        else:
            c.auth_rejected += 1
            bump(c.auth_reasons, reason)
        self._limiter.warning(
            "ws-refused", "WebSocket upgrade from %s refused: %s", _remote(connection), reason
        )
        response = connection.respond(status, f"{status.phrase}\n")
        if status is http.HTTPStatus.UNAUTHORIZED:
            response.headers["WWW-Authenticate"] = "Bearer"
        for name, value in (headers or {}).items():
            response.headers[name] = value
        return response

    async def _process_request(
        self, connection: ServerConnection, request: Request
    ) -> Response | None:
        route, _, raw_query = request.path.partition("?")
        parts = route.split("/")
        # ["", "ws", kind, secret]
        if len(parts) < 3 or parts[1] != "ws" or parts[2] not in KINDS:
            return self._refuse(connection, http.HTTPStatus.NOT_FOUND, "unknown path")
        probe = len(parts) == 6 and parts[4] == PROBE_SEGMENT
        given = parts[3] if len(parts) == 4 or probe else None
        if not given:
            return self._refuse(connection, http.HTTPStatus.UNAUTHORIZED, "missing secret")
        if not secret_matches(given, self._secret):
            return self._refuse(connection, http.HTTPStatus.UNAUTHORIZED, "wrong secret")
        if probe:
            # The registered single-use token stands in for the JWT: the connection check
            # cannot get one from ACS, and a probe reaches no consumer.
            if not self.probes.arrived(parts[5]):
                return self._refuse(
                    connection,
                    http.HTTPStatus.NOT_FOUND,
                    "unknown probe",
                    {PROBE_HEADER: PROBE_UNKNOWN},
                )
            self._probing.add(connection)
            return None
        headers: Headers = request.headers
        claims: Claims | None = None
        if self._verifier is not None:
            try:
                claims = await self._verifier.verify_header(_one(headers, "Authorization"))
            except AuthError as exc:
                return self._refuse(connection, http.HTTPStatus.UNAUTHORIZED, exc.reason)
        self._next_id += 1
        self._accepted[connection] = StreamConnection(
            self._next_id,
            parts[2],
            call_connection_id=_one(headers, "x-ms-call-connection-id"),
            correlation_id=_one(headers, "x-ms-call-correlation-id"),
            query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            remote=_remote(connection),
            claims=claims,
        )
        return None

    def _number(self, conn: StreamConnection) -> None:
        """Give ``conn`` its sequence within its call (a reconnect gets 2, 3, ...)."""
        ccid = conn.call_connection_id
        if ccid is None or conn.sequence:
            return
        calls = self._calls
        seq = calls.pop(ccid, 0) + 1
        calls[ccid] = seq
        if len(calls) > _CALLS_REMEMBERED:
            calls.popitem(last=False)
        conn.sequence = seq

    # -- streaming ---------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        if ws in self._probing:
            self._probing.discard(ws)
            try:
                await ws.send(f"{PROBE_HEADER}: {PROBE_RECEIVED}")
                await ws.close(1000, "probe received")
            except ConnectionClosed:
                pass
            return
        conn = self._accepted.pop(ws, None)
        if conn is None:  # cannot happen: the handshake registered it
            await ws.close(1011, "unregistered connection")
            return
        c = self._counters
        c.connections_open += 1
        c.connections_total += 1
        self._open[conn.id] = conn
        self._number(conn)
        sink = self._sink
        try:
            sink.stream_opened(conn)
        except Exception:
            self._sink_failed(conn, "stream_opened")
        try:
            await self._pump(ws, conn)
        except ConnectionClosed:
            pass
        finally:
            code, reason, ours = _close_info(ws)
            if ours and code == 1009:
                c.oversized += 1
                self._limiter.warning(
                    "ws-oversized",
                    "Stream %d closed: frame larger than %d bytes",
                    conn.id,
                    self._max_frame,
                )
            elif ours and code == 1007:
                c.invalid_text += 1
            conn.closed_at = time.time()
            conn.close_code = code
            conn.close_reason = reason
            c.connections_open -= 1
            self._open.pop(conn.id, None)
            try:
                sink.stream_closed(conn, code, reason)
            except Exception:
                self._sink_failed(conn, "stream_closed")

    async def _pump(self, ws: ServerConnection, conn: StreamConnection) -> None:
        # Hot path: locals only, one await per frame, no logging for good frames.
        recv = ws.recv
        on_packet = self._sink.packet
        parse = parse_packet
        monotonic = time.monotonic
        c = self._counters
        packets = c.packets
        while True:
            frame = await recv()
            c.frames += 1
            conn.frames += 1
            conn.last_frame_at = monotonic()
            if frame.__class__ is not str:
                self._binary(conn, frame)
                continue
            packet = parse(frame)
            cls = packet.__class__
            if cls is Unparsed:
                self._unparsed(conn, packet)  # type: ignore[arg-type]
                continue
            if cls is TranscriptionMetadata:
                self._metadata(conn, packet)  # type: ignore[arg-type]
            packets[cls] = packets.get(cls, 0) + 1
            conn.packets += 1
            try:
                on_packet(conn, frame, packet)
            except Exception:
                self._sink_failed(conn, "packet")

    def _metadata(self, conn: StreamConnection, meta: TranscriptionMetadata) -> None:
        # The headers normally name the call; older or proxied streams only say it here.
        if conn.call_connection_id is None and meta.call_connection_id:
            conn.call_connection_id = meta.call_connection_id
            self._number(conn)
        if conn.correlation_id is None and meta.correlation_id:
            conn.correlation_id = meta.correlation_id

    def _binary(self, conn: StreamConnection, frame: Any) -> None:
        self._counters.binary += 1
        conn.binary += 1
        self._limiter.warning(
            "ws-binary", "Stream %d: ignored a %d-byte binary frame", conn.id, len(frame)
        )

    def _unparsed(self, conn: StreamConnection, packet: Unparsed) -> None:
        bump(self._counters.unparsed, reason_key(packet.reason))
        conn.unparsed += 1
        # The reason only: the frame's excerpt may hold what a caller said (the log never
        # holds transcript text).
        self._limiter.warning(
            "ws-unparsed", "Stream %d: ignored a frame (%s)", conn.id, packet.reason
        )

    def _sink_failed(self, conn: StreamConnection, what: str) -> None:
        self._counters.sink_errors += 1
        # Consumer bugs get a traceback, but only a few per interval.
        if self._limiter.allow("ws-sink"):
            log.exception("Stream %d: packet consumer failed in %s", conn.id, what)


def _one(headers: Headers, name: str) -> str | None:
    """A header's value when it appears exactly once (a repeated one is ambiguous: ignored)."""
    values = headers.get_all(name)
    return (values[0] or None) if len(values) == 1 else None


def _remote(connection: ServerConnection) -> str:
    addr = connection.remote_address
    if isinstance(addr, tuple) and len(addr) >= 2:
        return f"{addr[0]}:{addr[1]}"
    return str(addr)
