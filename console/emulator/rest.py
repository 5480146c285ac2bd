"""The REST surface: Call Automation under ``/calling``, JWKS/OpenID, admin under ``/emulator``.

Every request except the JWKS and OpenID documents must be HMAC-signed with the access key
(401 otherwise). Success statuses are exactly the service's (the SDK rejects any other 2xx);
errors are ``{"error": {"code", "message"}}``. A POST carrying ``Repeatability-Request-ID`` is
answered once: a replay (the SDK's retry) gets the first response again and has no new effect.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from aiohttp import web

from console.emulator import hmac_auth
from console.emulator.audio_admin import LIVE_AUDIO_PATH, add_recorded_participant, live_audio
from console.emulator.calls import Call
from console.emulator.config import MAX_RESPONSE_DELAY
from console.emulator.eventgrid import RingError
from console.emulator.service_error import ServiceError, bad_request
from console.emulator.setup import (
    check_locale,
    model_id_of,
    optional_str,
    parse_answer,
    parse_connect,
    parse_create,
)
from console.emulator.urls import is_valid_callback_uri

if TYPE_CHECKING:
    from console.emulator.media import MediaStreaming
    from console.emulator.server import Emulator
    from console.emulator.transcription import Transcription

log = logging.getLogger(__name__)

DEFAULT_API_VERSION = "2026-03-12"
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
    api = CallingApi(emu)
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
    app.router.add_get(KEYS_PATH, api.keys)
    app.router.add_get(OPENID_PATH, api.openid)
    app.router.add_route("*", "/calling/{tail:.*}", api.dispatch)
    app.router.add_get(LIVE_AUDIO_PATH, api.live_audio)
    app.router.add_route("*", "/emulator/{tail:.*}", api.admin)
    return app


async def _answer(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]], request: web.Request
) -> web.StreamResponse:
    """The handler's response, with a ServiceError turned into its error response."""
    try:
        return await handler(request)
    except ServiceError as exc:
        return error_response(exc)


def _json_body(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise bad_request("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.")
    return body


def _operation(body: dict[str, Any]) -> tuple[str | None, str | None]:
    context = optional_str(body, "operationContext")
    callback = optional_str(body, "operationCallbackUri")
    if callback is not None and not is_valid_callback_uri(callback):
        raise bad_request("The field OperationCallbackUri is invalid.")
    return context, callback


def _no_content() -> web.Response:
    return web.Response(status=204)


def _accepted() -> web.Response:
    return web.Response(status=202)


class CallingApi:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    # --- unsigned documents ---------------------------------------------------------------

    async def keys(self, request: web.Request) -> web.Response:
        return web.json_response(self.emu.tokens.jwks())

    async def openid(self, request: web.Request) -> web.Response:
        return web.json_response(self.emu.tokens.openid_configuration(self.emu.jwks_url))

    # --- /calling -------------------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.Response:
        raw_path, _, query = request.raw_path.partition("?")
        params = parse_qs(query)
        api_version = (params.get("api-version") or [DEFAULT_API_VERSION])[0]
        segments = [unquote(s) for s in raw_path.split("/")[2:]]  # after "", "calling"
        method = request.method
        body = _json_body(await request.read()) if method in ("POST", "PUT", "PATCH") else {}
        registry = self.emu.calls

        if len(segments) == 1:
            collection, _, action = segments[0].partition(":")
            if collection != "callConnections" or method != "POST":
                raise self._unknown(request)
            if action == "":
                call = registry.create(parse_create(body, api_version))
                return web.json_response(call.properties(), status=201)
            if action == "answer":
                call = registry.answer(parse_answer(body, api_version))
                return web.json_response(call.properties(), status=200)
            if action == "connect":
                call = registry.connect(parse_connect(body, api_version))
                return web.json_response(call.properties(), status=200)
            if action in ("reject", "redirect"):
                context = body.get("incomingCallContext")
                if not isinstance(context, str) or not context:
                    raise bad_request("The IncomingCallContext field is required.")
                registry.incoming.take(context)
                return _no_content()
            raise self._unknown(request)

        if len(segments) < 2 or segments[0] != "callConnections":
            raise self._unknown(request)
        call_id, _, action = segments[1].partition(":")
        call = registry.get(call_id)
        rest = segments[2:]
        if not rest:
            if action:
                if method != "POST":
                    raise ServiceError(405, "MethodNotAllowed", "Method not allowed.")
                return self._call_action(call, action, body)
            if method == "GET":
                return web.json_response(call.properties())
            if method == "DELETE":
                call.require_established_or_connecting()
                call.hang_up()
                return _no_content()
            raise ServiceError(405, "MethodNotAllowed", "Method not allowed.")
        if rest[0] == "participants" and method == "GET" and not action:
            if call.state == "disconnected":
                raise ServiceError.from_row("call_terminated")
            if len(rest) == 1:
                return web.json_response({"value": [p.model() for p in call.participants]})
            if len(rest) == 2:
                return web.json_response(call.participant(rest[1]).model())
        raise self._unknown(request)

    def _unknown(self, request: web.Request) -> ServiceError:
        return ServiceError(
            404, "NotFound", f"{request.method} {request.path} is not supported by the emulator."
        )

    def _call_action(self, call: Call, action: str, body: dict[str, Any]) -> web.Response:
        if action == "terminate":
            call.require_established_or_connecting()
            call.hang_up()
            return _no_content()
        if action == "startTranscription":
            return self._start_transcription(call, body)
        if action == "stopTranscription":
            return self._stop_transcription(call, body)
        if action == "updateTranscription":
            return self._update_transcription(call, body)
        if action == "startMediaStreaming":
            context, callback = _operation(body)
            media = self._media(call)
            if media.running:
                raise bad_request("Media streaming is already active on this call.")
            media.start(context, callback)
            return _accepted()
        if action == "stopMediaStreaming":
            context, callback = _operation(body)
            media = self._media(call)
            if not media.running:
                raise bad_request("Media streaming is not active on this call.")
            media.stop(context, callback)
            return _accepted()
        raise ServiceError(
            404, "NotFound", f"The action {action!r} is not supported by the emulator."
        )

    @staticmethod
    def _media(call: Call) -> MediaStreaming:
        call.require_established()
        if call.media is None or call.media.setup.transport_url is None:
            raise ServiceError(
                405,
                "8522",
                "Request not allowed when media streaming url not set during call setup.",
            )
        return call.media

    @staticmethod
    def _transcription(call: Call) -> Transcription:
        call.require_established()
        if call.transcription is None or call.transcription.setup.transport_url is None:
            raise ServiceError.from_row("transcription_url_not_set")
        if call.setup.cognitive_endpoint is None:
            raise ServiceError.from_row("cognitive_not_set")
        return call.transcription

    def _start_transcription(self, call: Call, body: dict[str, Any]) -> web.Response:
        transcription = self._transcription(call)
        locale = check_locale(body["locale"]) if body.get("locale") is not None else None
        context, callback = _operation(body)
        if transcription.running:
            raise bad_request("Transcription is already active on this call.")
        transcription.start(
            locale=locale,
            model_id=model_id_of(body),
            operation_context=context,
            callback_uri=callback,
        )
        return _accepted()

    def _stop_transcription(self, call: Call, body: dict[str, Any]) -> web.Response:
        transcription = self._transcription(call)
        context, callback = _operation(body)
        if not transcription.running:
            raise bad_request("Transcription is not active on this call.")
        transcription.stop(context, callback)
        return _accepted()

    def _update_transcription(self, call: Call, body: dict[str, Any]) -> web.Response:
        call.require_established()
        if call.setup.origin == "connect":
            raise ServiceError.from_row("update_not_supported_connect")
        transcription = self._transcription(call)
        locale = check_locale(body.get("locale"))
        context, callback = _operation(body)
        transcription.update(
            locale=locale,
            model_id=model_id_of(body),
            operation_context=context,
            callback_uri=callback,
        )
        return _accepted()

    # --- /emulator (admin) ----------------------------------------------------------------

    async def admin(self, request: web.Request) -> web.Response:
        segments = [unquote(s) for s in request.raw_path.partition("?")[0].split("/")[2:]]
        method = request.method
        body = _json_body(await request.read()) if method == "POST" else {}
        if segments == ["incomingCalls"] and method == "POST":
            return await self._ring(body)
        if segments == ["calls"] and method == "GET":
            calls = self.emu.calls.calls.values()
            return web.json_response({"value": [self.emu.call_summary(c) for c in calls]})
        if len(segments) == 3 and segments[0] == "calls" and segments[2] == "faults":
            if method != "POST":
                raise ServiceError(405, "MethodNotAllowed", "Method not allowed.")
            call = self.emu.calls.get(segments[1])
            kind = body.get("kind")
            params = body.get("params") or {}
            if not isinstance(kind, str) or not isinstance(params, dict):
                raise bad_request("Give 'kind' (a string) and optionally 'params' (an object).")
            call.apply_fault(kind, params)
            return _accepted()
        if len(segments) == 3 and segments[0] == "calls" and segments[2] == "participants":
            if method != "POST":
                raise ServiceError(405, "MethodNotAllowed", "Method not allowed.")
            return add_recorded_participant(self.emu, segments[1], body)
        if segments == ["network"] and method == "POST":
            return self._network(body)
        if segments == ["info"] and method == "GET":
            info = self.emu.info()
            info.pop("connection_string", None)
            return web.json_response(info)
        raise self._unknown(request)

    async def live_audio(self, request: web.Request) -> web.StreamResponse:
        return await live_audio(self.emu, request)

    def _network(self, body: dict[str, Any]) -> web.Response:
        delay = body.get("responseDelay")
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise bad_request("Give 'responseDelay': seconds to hold each request (0 for none).")
        if not 0 <= delay <= MAX_RESPONSE_DELAY:
            raise bad_request(f"'responseDelay' must be between 0 and {MAX_RESPONSE_DELAY:g}.")
        self.emu.config.response_delay = float(delay)
        log.info("Call Automation requests are now held %.2f s", delay)
        return web.json_response({"responseDelay": self.emu.config.response_delay})

    async def _ring(self, body: dict[str, Any]) -> web.Response:
        caller = body.get("from")
        if not isinstance(caller, str) or not caller.strip():
            raise bad_request("Give 'from': the caller's raw id or +E.164 number.")
        callee = body.get("to")
        try:
            event = await self.emu.ring(
                caller,
                to=callee if isinstance(callee, str) else None,
                caller_display_name=optional_str(body, "callerDisplayName"),
                webhook_url=optional_str(body, "eventGridUrl"),
                schema=optional_str(body, "schema"),
                batch=body.get("batch") is True,
            )
        except RingError as exc:
            raise ServiceError(502, "WebhookFailed", str(exc)) from None
        return web.json_response(event["data"], status=201)
