"""Incoming calls delivered in Event Grid's CloudEvents 1.0 schema: the OPTIONS handshake once
per webhook, then one CloudEvent (or a batch); the console answers them as it answers the Event
Grid schema."""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from console.acs.events import IncomingCall, parse_event_grid_body
from console.emulator.cli import _config, add_arguments
from console.emulator.eventgrid import RingError
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallState, TranscriptionState
from tests.integration.conftest import signed_request
from tests.waiting import WAIT, local, until


@dataclass
class Request:
    method: str
    headers: dict[str, str]
    body: bytes


class Webhook:
    """A CloudEvents webhook that records what arrives; it can refuse the handshake."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.allowed_origin: str | None = "eventgrid.azure.net"
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/eventgrid/{secret}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/api/eventgrid/s3cret"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.requests.append(Request(request.method, dict(request.headers), body))
        if request.method == "OPTIONS":
            headers = {"WebHook-Allowed-Origin": self.allowed_origin or "nowhere.example"}
            return web.Response(status=200, headers=headers)
        if request.headers.get("aeg-event-type") == "SubscriptionValidation":  # Event Grid schema
            code = json.loads(body)[0]["data"]["validationCode"]
            return web.json_response({"validationResponse": code})
        return web.Response(status=200)


@pytest.fixture
async def webhook() -> AsyncIterator[Webhook]:
    hook = Webhook()
    await hook.start()
    try:
        yield hook
    finally:
        await hook.stop()


async def test_cloudevents_ring_handshakes_once_then_posts_one_event_or_a_batch(
    make_emulator: Callable[..., Awaitable[Emulator]], webhook: Webhook
) -> None:
    emu = await make_emulator(eventgrid_webhook_url=webhook.url, eventgrid_schema="cloudevents")
    first = await emu.ring("+15550142", caller_display_name="Dana Whitfield")
    await emu.ring("+15550143", batch=True)
    options, single, batch = webhook.requests
    assert options.method == "OPTIONS"
    assert options.headers["WebHook-Request-Origin"] == "eventgrid.azure.net"
    assert single.method == batch.method == "POST"
    assert single.headers["Content-Type"].startswith("application/cloudevents+json")
    assert batch.headers["Content-Type"].startswith("application/cloudevents-batch+json")
    assert "Authorization" not in single.headers  # Event Grid carries no ACS JWT

    event = json.loads(single.body)
    assert isinstance(event, dict)  # one event object, not an array
    assert event["specversion"] == "1.0"
    assert event["type"] == "Microsoft.Communication.IncomingCall"
    assert {"id", "source", "subject", "time", "data"} <= set(event)
    assert event["data"]["incomingCallContext"] == first["data"]["incomingCallContext"]
    assert isinstance(json.loads(batch.body), list)
    # What the console's listener parses.
    (incoming,) = parse_event_grid_body(single.body)
    assert isinstance(incoming, IncomingCall)
    assert incoming.from_raw_id == "4:+15550142"
    assert incoming.caller_display_name == "Dana Whitfield"
    (batched,) = parse_event_grid_body(batch.body)
    assert isinstance(batched, IncomingCall)
    assert batched.from_raw_id == "4:+15550143"

    # The Event Grid schema to the same webhook validates again, its own way.
    await emu.ring("+15550144", schema="eventgrid")
    validation, notification = webhook.requests[3:]
    assert validation.headers["aeg-event-type"] == "SubscriptionValidation"
    assert isinstance(json.loads(notification.body), list)


async def test_a_webhook_that_refuses_the_handshake_gets_no_call(
    make_emulator: Callable[..., Awaitable[Emulator]], webhook: Webhook
) -> None:
    webhook.allowed_origin = None
    emu = await make_emulator(eventgrid_webhook_url=webhook.url, eventgrid_schema="cloudevents")
    with pytest.raises(RingError, match="did not allow the origin"):
        await emu.ring("+15550142")
    assert [r.method for r in webhook.requests] == ["OPTIONS"]


async def test_the_admin_ring_takes_a_schema(
    make_emulator: Callable[..., Awaitable[Emulator]], webhook: Webhook
) -> None:
    emu = await make_emulator()
    body: dict[str, Any] = {"from": "+15550142", "eventGridUrl": webhook.url}
    status, answer = await signed_request(
        emu, "POST", "/emulator/incomingCalls", {**body, "schema": "cloudevents", "batch": True}
    )
    assert status == 201
    assert answer["from"]["rawId"] == "4:+15550142"
    assert [r.method for r in webhook.requests] == ["OPTIONS", "POST"]
    assert isinstance(json.loads(webhook.requests[1].body), list)
    status, answer = await signed_request(
        emu, "POST", "/emulator/incomingCalls", {**body, "schema": "xml"}
    )
    assert status == 400
    assert "schema" in answer["error"]["message"]
    assert len(webhook.requests) == 2


def test_the_emulator_command_line_chooses_the_schema() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert _config(parser.parse_args([])).eventgrid_schema == "eventgrid"
    args = parser.parse_args(["--eventgrid-schema", "cloudevents"])
    assert _config(args).eventgrid_schema == "cloudevents"
    with pytest.raises(SystemExit):
        parser.parse_args(["--eventgrid-schema", "xml"])


async def test_the_console_answers_a_call_rung_as_a_cloud_event(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.2)
    rt = await make_runtime(local(emu))
    rung: list[IncomingCall] = []
    rt.on_incoming_call(rung.append)
    await emu.ring("+15550123", webhook_url=rt.eventgrid_url, schema="cloudevents")
    await emu.ring("+15550124", webhook_url=rt.eventgrid_url, schema="cloudevents", batch=True)
    await until(lambda: len(rung) == 2)
    assert [c.from_raw_id for c in rung] == ["4:+15550123", "4:+15550124"]
    assert rt.callbacks.stats.validations == 1  # one handshake for the webhook

    await rt.decline(rung[1])
    session = rt.new_session()
    await session.answer(rung[0], locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    assert session.state.call is CallState.CONNECTED
    await until(lambda: len(session.transcript.finals) >= 1)
    await session.hang_up()
