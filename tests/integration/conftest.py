"""Integration fixtures: a running emulator, and the application side it talks to.

- ``make_emulator(**config)``: starts an :class:`Emulator` in a tmp data dir (fast clock) and
  stops it at teardown; ``emulator`` is one with the defaults.
- ``receiver``: a real aiohttp server that records callback POSTs and Event Grid deliveries
  (answering the validation handshake), and can be told to fail.
- ``ws_server``: a real ``websockets`` server that records every connection and packet.
- ``aio_client(emu)`` / ``sync_client(emu)``: the real SDK clients, over HTTPS, trusting exactly
  the emulator's certificate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import jwt
import pytest
import websockets
from aiohttp import web
from azure.communication.callautomation import CallAutomationClient as SyncCallAutomationClient
from azure.communication.callautomation._shared.policy import HMACCredentialsPolicy
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.credentials import AzureKeyCredential
from azure.core.pipeline import Pipeline
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest
from websockets.asyncio.server import Server, ServerConnection
from websockets.http11 import Request, Response

from console.emulator.server import Emulator

SPEED = 20.0  # call time runs 20x faster: a 3-minute scripted call takes 9 s
WAIT = 5.0  # seconds any single expected thing may take to arrive


# --- the callback receiver --------------------------------------------------------------------


@dataclass
class Callback:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    event: dict[str, Any]

    @property
    def type(self) -> str:
        return self.event["type"].removeprefix("Microsoft.Communication.")

    @property
    def data(self) -> dict[str, Any]:
        return self.event["data"]


@dataclass
class Delivery:
    headers: dict[str, str]
    body: list[dict[str, Any]]


class Receiver:
    """The application's HTTP side: callbacks and Event Grid deliveries."""

    def __init__(self) -> None:
        self.callbacks: list[Callback] = []
        self.posts = 0  # every callback POST, including those answered with an error
        self.eventgrid: list[Delivery] = []
        self.fail_next = 0  # answer this many callback POSTs with 503
        self.validate = True  # answer the Event Grid validation handshake
        self.on_incoming: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/callbacks/{secret}", self._callback)
        app.router.add_post("/api/eventgrid/{secret}", self._eventgrid)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def url(self, query: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/api/callbacks/s3cret" + (f"?{query}" if query else "")

    @property
    def eventgrid_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/eventgrid/s3cret"

    async def _callback(self, request: web.Request) -> web.Response:
        self.posts += 1
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=503)
        body = await request.json()
        for event in body:
            self.callbacks.append(
                Callback(request.path, dict(request.query), dict(request.headers), event)
            )
        self._changed.set()
        return web.Response(status=200)

    async def _eventgrid(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.eventgrid.append(Delivery(dict(request.headers), body))
        self._changed.set()
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":
            if not self.validate:
                return web.Response(status=403)
            return web.json_response({"validationResponse": body[0]["data"]["validationCode"]})
        for event in body:
            if event["eventType"] == "Microsoft.Communication.IncomingCall" and self.on_incoming:
                await self.on_incoming(event)
        return web.Response(status=200)

    def of(self, call_id: str | None = None, type_: str | None = None) -> list[Callback]:
        return [
            c
            for c in self.callbacks
            if (call_id is None or c.data.get("callConnectionId") == call_id)
            and (type_ is None or c.type == type_)
        ]

    async def wait_for(
        self,
        type_: str,
        call_id: str | None = None,
        *,
        count: int = 1,
        within: float = WAIT,
        where: Callable[[Callback], bool] | None = None,
    ) -> Callback:
        """The ``count``-th callback of this type (for this call); fails after ``within`` s."""

        async def found() -> Callback:
            while True:
                hits = [c for c in self.of(call_id, type_) if where is None or where(c)]
                if len(hits) >= count:
                    return hits[count - 1]
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(found(), within)
        except TimeoutError:
            seen = [c.type for c in self.of(call_id)]
            raise AssertionError(f"no {type_} callback within {within}s; got {seen}") from None

    async def wait_eventgrid(self, count: int, within: float = WAIT) -> list[Delivery]:
        async def found() -> list[Delivery]:
            while len(self.eventgrid) < count:
                self._changed.clear()
                await self._changed.wait()
            return self.eventgrid

        return await asyncio.wait_for(found(), within)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.stop()


# --- the transcription WebSocket server -------------------------------------------------------


@dataclass
class WsConnection:
    path: str
    headers: dict[str, str]
    frames: list[str] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def packets(self) -> list[dict[str, Any]]:
        return [json.loads(f) for f in self.frames]

    def data(self) -> list[dict[str, Any]]:
        return [p["transcriptionData"] for p in self.packets if p["kind"] == "TranscriptionData"]

    def finals(self) -> list[dict[str, Any]]:
        return [d for d in self.data() if d["resultStatus"] == "Final"]


class WsRecorder:
    def __init__(self) -> None:
        self.connections: list[WsConnection] = []
        self.reject_status: int | None = None  # answer upgrades with this HTTP status instead
        self.close_after: int | None = None  # first connection: close after this many frames
        self._server: Server | None = None
        self._changed = asyncio.Event()
        self._handlers: set[asyncio.Task[None]] = set()
        self.port = 0

    async def start(self) -> None:
        self._server = await websockets.serve(
            self._handler, "127.0.0.1", 0, process_request=self._process_request
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def url(self, query: str = "") -> str:
        base = f"ws://127.0.0.1:{self.port}/ws/transcription/s3cret"
        return base + (f"?{query}" if query else "")

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.reject_status is not None:
            return connection.respond(self.reject_status, "refused\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        conn = WsConnection(
            ws.request.path, {k.lower(): v for k, v in ws.request.headers.raw_items()}
        )
        self.connections.append(conn)
        self._changed.set()
        limit = self.close_after if len(self.connections) == 1 else None
        try:
            async for frame in ws:
                conn.frames.append(frame if isinstance(frame, str) else frame.decode())
                self._changed.set()
                if limit is not None and len(conn.frames) >= limit:
                    await ws.close(1001, "going away")
                    break
        except websockets.ConnectionClosed:
            pass
        finally:
            conn.closed.set()
            self._changed.set()

    async def wait(self, condition: Callable[[], Any], within: float = WAIT, what: str = "") -> Any:
        async def poll() -> Any:
            while True:
                value = condition()
                if value:
                    return value
                self._changed.clear()
                await self._changed.wait()

        try:
            return await asyncio.wait_for(poll(), within)
        except TimeoutError:
            raise AssertionError(f"timed out waiting for {what or 'WebSocket activity'}") from None

    async def wait_finals(self, count: int, index: int = -1, within: float = WAIT) -> WsConnection:
        def enough() -> WsConnection | None:
            if not self.connections:
                return None
            conn = self.connections[index]
            return conn if len(conn.finals()) >= count else None

        return await self.wait(enough, within, f"{count} Final packets")


@pytest.fixture
async def ws_server() -> AsyncIterator[WsRecorder]:
    server = WsRecorder()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


# --- the emulator -----------------------------------------------------------------------------


@pytest.fixture
def emulator_defaults() -> dict[str, Any]:
    """What ``make_emulator`` (tests/conftest.py) starts from in these tests."""
    return {
        "speed": SPEED,
        "answer_delay": 1.0,
        "custom_speech_models": ("11111111-2222-3333-4444-555555555555",),
        "unreachable_targets": ("+15550000",),
    }


@pytest.fixture
async def emulator(make_emulator: Callable[..., Awaitable[Emulator]]) -> Emulator:
    return await make_emulator()


@contextlib.asynccontextmanager
async def aio_client(emu: Emulator, **kwargs: Any) -> AsyncIterator[CallAutomationClient]:
    client = CallAutomationClient.from_connection_string(
        emu.connection_string, connection_verify=str(emu.cert_path), **kwargs
    )
    async with client:
        yield client


def sync_client(emu: Emulator, **kwargs: Any) -> SyncCallAutomationClient:
    return SyncCallAutomationClient.from_connection_string(
        emu.connection_string, connection_verify=str(emu.cert_path), **kwargs
    )


# --- checking what the emulator presents ------------------------------------------------------


async def fetch_jwks(emu: Emulator) -> dict[str, Any]:
    ctx = ssl.create_default_context(cafile=str(emu.cert_path))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session,
        session.get(emu.jwks_url) as resp,
    ):
        assert resp.status == 200
        return await resp.json()


def verify_bearer(authorization: str | None, jwks: dict[str, Any], emu: Emulator) -> dict[str, Any]:
    """Check an ``Authorization: Bearer`` JWT as an application must; returns its claims."""
    assert authorization is not None
    assert authorization.startswith("Bearer ")
    token = authorization.removeprefix("Bearer ")
    kid = jwt.get_unverified_header(token)["kid"]
    key = jwt.PyJWKSet.from_dict(jwks)[kid]
    return jwt.decode(
        token,
        key=key.key,
        algorithms=["RS256"],
        audience=emu.audience,
        issuer=emu.issuer,
        options={"require": ["exp", "iss", "aud"]},
    )


def _signed_pipeline(emu: Emulator, *policies: Any) -> Pipeline:
    """A bare azure-core pipeline signed by the SDK's own HMAC policy (for raw wire requests)."""
    signer = HMACCredentialsPolicy(emu.endpoint, AzureKeyCredential(emu.access_key))
    return Pipeline(
        transport=RequestsTransport(connection_verify=str(emu.cert_path)),
        policies=[signer, *policies],
    )


async def signed_request(
    emu: Emulator,
    method: str,
    path: str,
    body: Any = None,
    *policies: Any,
    api_version: str = "2026-03-12",
) -> tuple[int, Any]:
    """Send a request the way the SDK signs it; returns (status, decoded JSON body or None)."""
    sep = "&" if "?" in path else "?"
    url = f"{emu.endpoint}{path}{sep}api-version={api_version}"

    def send() -> tuple[int, Any]:
        request = (
            HttpRequest(method, url, json=body) if body is not None else HttpRequest(method, url)
        )
        with _signed_pipeline(emu, *policies) as pipeline:
            response = pipeline.run(request).http_response
            text = response.text()
            return response.status_code, json.loads(text) if text else None

    return await asyncio.to_thread(send)
