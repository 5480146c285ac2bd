"""The REST surface: Call Automation under ``/calling``, JWKS/OpenID, admin under ``/emulator``.

Every request except the JWKS and OpenID documents must be HMAC-signed with the access key
(401 otherwise). Success statuses are exactly the service's (the SDK rejects any other 2xx);
errors are ``{"error": {"code", "message"}}``, including the router's own 404 and 405. A POST
carrying ``Repeatability-Request-ID`` is answered once: a replay (the SDK's retry) gets the first
response again and has no new effect.

Routes are aiohttp's. Actions are a literal ``:action`` suffix on the last segment
(``/calling/callConnections/{call}:startTranscription``), so a call id is matched as
``[^/:]+``. A participant's raw id arrives percent-encoded from the sync SDK and with ``:``
un-escaped from the aio SDK (aiohttp's client decodes ``%3A``); both match ``{raw}``, and
``hmac_auth`` accepts the signature either way.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from console.emulator import hmac_auth
from console.emulator.admin_api import AdminApi
from console.emulator.audio_admin import LIVE_AUDIO_PATH
from console.emulator.calling_api import CallingApi, unknown_path
from console.emulator.service_error import ServiceError

if TYPE_CHECKING:
    from console.emulator.server import Emulator

log = logging.getLogger(__name__)

KEYS_PATH = "/calling/keys"
OPENID_PATH = "/calling/.well-known/acsopenidconfiguration"
_UNSIGNED = frozenset({KEYS_PATH, OPENID_PATH})
_REPLAY_TTL = 600.0
_DELAYED_PREFIX = "/calling/callConnections"
_REPLAY_MAX = 2000


@dataclass(frozen=True)
class Snapshot:
    status: int
    body: bytes
    content_type: str | None


class Replays:
    """Responses by Repeatability-Request-ID; a concurrent duplicate waits for the first."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[float, asyncio.Future[Snapshot]]] = OrderedDict()

    def lookup(self, key: str) -> asyncio.Future[Snapshot] | None:
        now = time.monotonic()
        while self._entries:
            oldest_key, (stamp, _) = next(iter(self._entries.items()))
            if now - stamp < _REPLAY_TTL and len(self._entries) <= _REPLAY_MAX:
                break
            self._entries.pop(oldest_key)
        entry = self._entries.get(key)
        return entry[1] if entry else None

    def reserve(self, key: str) -> asyncio.Future[Snapshot]:
        future: asyncio.Future[Snapshot] = asyncio.get_running_loop().create_future()
        self._entries[key] = (time.monotonic(), future)
        return future

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)


def error_response(exc: ServiceError) -> web.Response:
    return web.json_response(exc.body(), status=exc.status)


def _request_id_headers(request: web.Request) -> dict[str, str]:
    headers = {"x-ms-request-id": str(uuid.uuid4())}
    client_id = request.headers.get("x-ms-client-request-id")
    if client_id:
        headers["x-ms-client-request-id"] = client_id
    return headers


def build_app(emu: Emulator) -> web.Application:
    replays = Replays()

    @web.middleware
    async def authenticate(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if request.path in _UNSIGNED and request.method == "GET":
            return await handler(request)
        body = await request.read()
        try:
            hmac_auth.verify(
                request.method, request.raw_path, request.headers, body, emu.identity.key_bytes
            )
        except hmac_auth.AuthError as exc:
            log.warning("Rejected %s %s: %s", request.method, request.path, exc)
            return error_response(ServiceError(401, "Unauthorized", f"Denied: {exc}."))
        replay_id = request.headers.get("Repeatability-Request-ID")
        if request.method != "POST" or not replay_id:
            return await _answer(handler, request)
        earlier = replays.lookup(replay_id)
        if earlier is not None:
            snap = await asyncio.shield(earlier)
            log.info("Replaying the response to repeated request %s", replay_id)
            return web.Response(
                status=snap.status,
                body=snap.body,
                content_type=None,
                headers={"Content-Type": snap.content_type} if snap.content_type else None,
            )
        future = replays.reserve(replay_id)
        try:
            response = await _answer(handler, request)
        except BaseException:
            replays.forget(replay_id)
            future.cancel()
            raise
        body_bytes = response.body if isinstance(response, web.Response) else b""
        future.set_result(
            Snapshot(
                response.status,
                body_bytes if isinstance(body_bytes, bytes) else b"",
                response.headers.get("Content-Type"),
            )
        )
        return response

    @web.middleware
    async def errors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            response = await handler(request)
        except ServiceError as exc:
            response = error_response(exc)
        except web.HTTPNotFound:
            response = error_response(unknown_path(request))
        except web.HTTPMethodNotAllowed:
            response = error_response(ServiceError(405, "MethodNotAllowed", "Method not allowed."))
        except web.HTTPException:
            raise
        except Exception:
            log.exception("Internal error on %s %s", request.method, request.path)
            response = error_response(ServiceError(500, "InternalServerError", "Internal error."))
        if not response.prepared:  # a finished WebSocket has sent its headers long ago
            response.headers.update(_request_id_headers(request))
        return response

    @web.middleware
    async def slow_network(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        delay = emu.config.response_delay
        if delay <= 0 or not request.path.startswith(_DELAYED_PREFIX):
            return await handler(request)
        if emu.config.late_answers:
            # The request arrives and takes effect at once; only its answer is late, and lost
            # when the client gave up meanwhile (a timed-out create whose call goes ahead).
            response = await handler(request)
            await asyncio.sleep(delay)
            return response
        await asyncio.sleep(delay)
        transport = request.transport
        if transport is None or transport.is_closing():
            # The client timed out meanwhile: the request never "arrived", so it has no effect.
            log.info("Dropped %s %s: the client gave up while held", request.method, request.path)
            return web.Response(status=504)
        return await handler(request)

    app = web.Application(
        middlewares=[slow_network, errors, authenticate], client_max_size=1024 * 1024
    )
    add_routes(app, emu)
    return app


_CALL = "/calling/callConnections/{call:[^/:]+}"


def add_routes(app: web.Application, emu: Emulator) -> None:
    calling = CallingApi(emu)
    admin = AdminApi(emu)
    r = app.router
    r.add_get(KEYS_PATH, calling_keys(emu))
    r.add_get(OPENID_PATH, calling_openid(emu))
    # Call Automation
    r.add_post("/calling/callConnections", calling.create)
    r.add_post("/calling/callConnections:answer", calling.answer)
    r.add_post("/calling/callConnections:connect", calling.connect)
    r.add_post("/calling/callConnections:reject", calling.reject_or_redirect)
    r.add_post("/calling/callConnections:redirect", calling.reject_or_redirect)
    r.add_get(_CALL, calling.get)
    r.add_delete(_CALL, calling.hang_up)
    r.add_post(_CALL + ":terminate", calling.terminate)
    r.add_post(_CALL + ":startTranscription", calling.start_transcription)
    r.add_post(_CALL + ":stopTranscription", calling.stop_transcription)
    r.add_post(_CALL + ":updateTranscription", calling.update_transcription)
    r.add_post(_CALL + ":startMediaStreaming", calling.start_media_streaming)
    r.add_post(_CALL + ":stopMediaStreaming", calling.stop_media_streaming)
    r.add_post(_CALL + ":hold", calling.hold)
    r.add_post(_CALL + ":unhold", calling.unhold)
    r.add_get(_CALL + "/participants", calling.participants)
    r.add_get(_CALL + "/participants/{raw}", calling.participant)
    r.add_post(_CALL + ":{action}", calling.unsupported_action)
    r.add_post(_CALL + "/participants:{action}", calling.unsupported_action)
    # the emulator's own
    r.add_post("/emulator/incomingCalls", admin.ring)
    r.add_get("/emulator/calls", admin.list_calls)
    r.add_post("/emulator/calls", admin.start_call)
    r.add_post("/emulator/calls/{call}/faults", admin.fault)
    r.add_post("/emulator/calls/{call}/participants", admin.add_participant)
    r.add_get(LIVE_AUDIO_PATH, admin.live_audio)
    r.add_post("/emulator/network", admin.network)
    r.add_get("/emulator/info", admin.info)


def calling_keys(emu: Emulator) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def keys(request: web.Request) -> web.Response:
        return web.json_response(emu.tokens.jwks())

    return keys


def calling_openid(emu: Emulator) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def openid(request: web.Request) -> web.Response:
        return web.json_response(emu.tokens.openid_configuration(emu.jwks_url))

    return openid


async def _answer(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]], request: web.Request
) -> web.StreamResponse:
    """The handler's response, with a ServiceError turned into its error response."""
    try:
        return await handler(request)
    except ServiceError as exc:
        return error_response(exc)
