"""The emulator's own admin endpoints (``/emulator``), HMAC-signed like the rest."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiohttp import web

from console.emulator.audio_admin import add_recorded_participant, live_audio
from console.emulator.calling_api import json_body
from console.emulator.config import MAX_RESPONSE_DELAY
from console.emulator.eventgrid import RingError
from console.emulator.scenario import ScenarioError, load_scenario
from console.emulator.service_error import ServiceError, bad_request
from console.emulator.setup import optional_str

if TYPE_CHECKING:
    from console.emulator.server import Emulator

log = logging.getLogger(__name__)


class AdminApi:
    def __init__(self, emu: Emulator) -> None:
        self.emu = emu

    async def ring(self, request: web.Request) -> web.Response:
        body = await json_body(request)
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

    async def list_calls(self, request: web.Request) -> web.Response:
        calls = self.emu.calls.calls.values()
        return web.json_response({"value": [self.emu.call_summary(c) for c in calls]})

    async def start_call(self, request: web.Request) -> web.Response:
        """A call already in progress that the application can Connect to."""
        body = await json_body(request)
        name = optional_str(body, "scenario")
        server_call_id = optional_str(body, "serverCallId")
        scenario = None
        if name is not None:
            try:
                scenario = load_scenario(name)
            except ScenarioError as exc:
                raise bad_request(f"Cannot use that scenario: {exc}") from None
        server = self.emu.calls.start_existing(server_call_id=server_call_id, scenario=scenario)
        return web.json_response({"serverCallId": server.server_call_id}, status=201)

    async def fault(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        call = self.emu.calls.get(request.match_info["call"])
        kind = body.get("kind")
        params = body.get("params") or {}
        if not isinstance(kind, str) or not isinstance(params, dict):
            raise bad_request("Give 'kind' (a string) and optionally 'params' (an object).")
        call.apply_fault(kind, params)
        return web.Response(status=202)

    async def add_participant(self, request: web.Request) -> web.Response:
        body = await json_body(request)
        response: web.Response = add_recorded_participant(
            self.emu, request.match_info["call"], body
        )
        return response

    async def live_audio(self, request: web.Request) -> web.StreamResponse:
        return await live_audio(self.emu, request)

    async def network(self, request: web.Request) -> web.Response:
        body: dict[str, Any] = await json_body(request)
        delay = body.get("responseDelay")
        if isinstance(delay, bool) or not isinstance(delay, int | float):
            raise bad_request("Give 'responseDelay': seconds to hold each request (0 for none).")
        if not 0 <= delay <= MAX_RESPONSE_DELAY:
            raise bad_request(f"'responseDelay' must be between 0 and {MAX_RESPONSE_DELAY:g}.")
        late = body.get("lateAnswers", False)
        if not isinstance(late, bool):
            raise bad_request("'lateAnswers' is true or false.")
        self.emu.config.response_delay = float(delay)
        self.emu.config.late_answers = late
        log.info("Call Automation %s are now held %.2f s", "answers" if late else "requests", delay)
        return web.json_response(
            {"responseDelay": self.emu.config.response_delay, "lateAnswers": late}
        )

    async def info(self, request: web.Request) -> web.Response:
        info = self.emu.info()
        info.pop("connection_string", None)
        return web.json_response(info)
