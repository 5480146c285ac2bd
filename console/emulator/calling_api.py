"""Call Automation REST handlers (``/calling``), answering as the recorded service does.

Success statuses and bodies follow the service's recordings: ``startTranscription`` and
``stopTranscription`` answer 202 with ``{"subscriptionId"}``; update, media streaming, hold and
unhold answer with an empty body (202, or 200 for hold/unhold).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aiohttp import web

from console.emulator.calls import Call
from console.emulator.identifiers import raw_id_of
from console.emulator.service_error import ServiceError, bad_request
from console.emulator.setup import (
    check_locale,
    intelligence_of,
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

DEFAULT_API_VERSION = "2026-03-12"


async def json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
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


def _api_version(request: web.Request) -> str:
    return request.query.get("api-version") or DEFAULT_API_VERSION


def _empty(status: int) -> web.Response:
    return web.Response(status=status)


class CallingApi:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    def _call(self, request: web.Request) -> Call:
        return self.emu.calls.get(request.match_info["call"])

    # --- the collection -------------------------------------------------------------------

    async def create(self, request: web.Request) -> web.Response:
        setup = parse_create(await json_body(request), _api_version(request))
        call = self.emu.calls.create(setup)
        return web.json_response(call.properties(setup_response=True), status=201)

    async def answer(self, request: web.Request) -> web.Response:
        setup = parse_answer(await json_body(request), _api_version(request))
        call = self.emu.calls.answer(setup)
        return web.json_response(call.properties(setup_response=True), status=200)

    async def connect(self, request: web.Request) -> web.Response:
        setup = parse_connect(await json_body(request), _api_version(request))
        call = self.emu.calls.connect(setup)
        return web.json_response(call.properties(setup_response=True), status=200)

    async def reject_or_redirect(self, request: web.Request) -> web.Response:
        context = (await json_body(request)).get("incomingCallContext")
        if not isinstance(context, str) or not context:
            raise bad_request("The IncomingCallContext field is required.")
        self.emu.calls.incoming.take(context)
        return _empty(204)

    # --- one connection -------------------------------------------------------------------

    async def get(self, request: web.Request) -> web.Response:
        return web.json_response(self._call(request).properties())

    async def hang_up(self, request: web.Request) -> web.Response:
        call = self._call(request)
        call.require_established_or_connecting()
        call.hang_up()
        return _empty(204)

    async def terminate(self, request: web.Request) -> web.Response:
        call = self._call(request)
        call.require_established_or_connecting()
        call.terminate()
        return _empty(204)

    async def participants(self, request: web.Request) -> web.Response:
        call = self._call(request)
        if call.state == "disconnected":
            raise ServiceError.from_row("call_terminated")
        return web.json_response({"value": [p.model() for p in call.participants]})

    async def participant(self, request: web.Request) -> web.Response:
        call = self._call(request)
        if call.state == "disconnected":
            raise ServiceError.from_row("call_terminated")
        return web.json_response(call.participant(request.match_info["raw"]).model())

    async def hold(self, request: web.Request) -> web.Response:
        return await self._hold(request, on_hold=True)

    async def unhold(self, request: web.Request) -> web.Response:
        return await self._hold(request, on_hold=False)

    async def _hold(self, request: web.Request, *, on_hold: bool) -> web.Response:
        call = self._call(request)
        body = await json_body(request)
        _operation(body)
        raw_id = raw_id_of(body.get("targetParticipant"))
        if raw_id is None:
            raise bad_request("The TargetParticipant field is required.")
        call.hold(raw_id, on_hold)
        return _empty(200)

    # --- transcription --------------------------------------------------------------------

    @staticmethod
    def _transcription(call: Call) -> Transcription:
        call.require_established()
        if call.transcription is None or call.transcription.setup.transport_url is None:
            raise ServiceError.from_row("transcription_url_not_set")
        if call.setup.cognitive_endpoint is None:
            raise ServiceError.from_row("cognitive_not_set")
        return call.transcription

    async def start_transcription(self, request: web.Request) -> web.Response:
        call = self._call(request)
        body = await json_body(request)
        transcription = self._transcription(call)
        locale = check_locale(body["locale"]) if body.get("locale") is not None else None
        intelligence = intelligence_of(
            body, _api_version(request), base=transcription.setup.intelligence
        )
        context, callback = _operation(body)
        if transcription.running:
            raise bad_request("Transcription is already active on this call.")
        transcription.start(
            locale=locale,
            model_id=model_id_of(body),
            operation_context=context,
            callback_uri=callback,
            intelligence=intelligence,
        )
        return web.json_response({"subscriptionId": transcription.subscription_id}, status=202)

    async def stop_transcription(self, request: web.Request) -> web.Response:
        call = self._call(request)
        body = await json_body(request)
        transcription = self._transcription(call)
        context, callback = _operation(body)
        if not transcription.running:
            raise bad_request("Transcription is not active on this call.")
        transcription.stop(context, callback)
        return web.json_response({"subscriptionId": transcription.subscription_id}, status=202)

    async def update_transcription(self, request: web.Request) -> web.Response:
        call = self._call(request)
        body = await json_body(request)
        call.require_established()
        if call.setup.origin == "connect":
            raise ServiceError.from_row("update_not_supported_connect")
        transcription = self._transcription(call)
        intelligence = intelligence_of(
            body, _api_version(request), base=transcription.intelligence, updating=True
        )
        # An update may change only the preview options; otherwise it names a locale.
        locale = body.get("locale")
        locale = None if locale is None and intelligence is not None else check_locale(locale)
        context, callback = _operation(body)
        transcription.update(
            locale=locale,
            model_id=model_id_of(body),
            operation_context=context,
            callback_uri=callback,
            intelligence=intelligence,
        )
        return _empty(202)

    # --- media streaming ------------------------------------------------------------------

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

    async def start_media_streaming(self, request: web.Request) -> web.Response:
        call = self._call(request)
        context, callback = _operation(await json_body(request))
        media = self._media(call)
        if media.running:
            raise bad_request("Media streaming is already active on this call.")
        media.start(context, callback)
        return _empty(202)

    async def stop_media_streaming(self, request: web.Request) -> web.Response:
        call = self._call(request)
        context, callback = _operation(await json_body(request))
        media = self._media(call)
        if not media.running:
            raise bad_request("Media streaming is not active on this call.")
        media.stop(context, callback)
        return _empty(202)

    # --- everything else ------------------------------------------------------------------

    async def unsupported_action(self, request: web.Request) -> web.Response:
        self._call(request)  # an unknown call is 404 as such
        action = request.match_info.get("action", "")
        raise ServiceError(
            404, "NotFound", f"The action {action!r} is not supported by the emulator."
        )


def unknown_path(request: web.Request) -> ServiceError:
    return ServiceError(
        404, "NotFound", f"{request.method} {request.path} is not supported by the emulator."
    )
