"""Incoming calls: the Event Grid webhook (validation handshake, IncomingCall), then answer_call
with transcription through the real SDK; rings from the API and from the signed admin endpoint."""

from __future__ import annotations

import json
import ssl
from typing import Any

import aiohttp
import pytest
from azure.communication.callautomation import StreamingTransportType, TranscriptionOptions
from azure.core.exceptions import HttpResponseError

from console.acs.events import IncomingCall, SubscriptionValidation, parse_event_grid_body
from console.emulator.eventgrid import RingError
from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, aio_client, signed_request

COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"


async def test_ring_then_answer_with_transcription(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emulator: Emulator = await make_emulator(eventgrid_webhook_url=receiver.eventgrid_url)
    answered: list[Any] = []

    async with aio_client(emulator) as client:

        async def answer(event: dict[str, Any]) -> None:
            # As an application does: answer from inside the webhook handler.
            props = await client.answer_call(
                event["data"]["incomingCallContext"],
                receiver.url("leg=in"),
                cognitive_services_endpoint=COGNITIVE,
                operation_context="answer-ctx",
                transcription=TranscriptionOptions(
                    transport_url=ws_server.url(),
                    transport_type=StreamingTransportType.WEBSOCKET,
                    locale="en-US",
                    start_transcription=True,
                    enable_intermediate_results=False,
                ),
            )
            answered.append(props)

        receiver.on_incoming = answer
        event = await emulator.ring("+15550142", caller_display_name="Dana Whitfield")
        (props,) = answered
        call_id = props.call_connection_id
        connected = await receiver.wait_for("CallConnected", call_id)
        await receiver.wait_for("TranscriptionStarted", call_id)
        conn = await ws_server.wait_finals(2)
        await client.get_call_connection(call_id).hang_up(is_for_everyone=True)

    validation, notification = receiver.eventgrid
    assert validation.headers["aeg-event-type"] == "SubscriptionValidation"
    assert notification.headers["aeg-event-type"] == "Notification"
    assert "Authorization" not in notification.headers  # Event Grid carries no ACS JWT
    # What the console's listener parses.
    (handshake,) = parse_event_grid_body(json.dumps(validation.body))
    assert isinstance(handshake, SubscriptionValidation)
    (incoming,) = parse_event_grid_body(json.dumps(notification.body))
    assert isinstance(incoming, IncomingCall)
    assert incoming.from_raw_id == "4:+15550142"
    assert incoming.caller_display_name == "Dana Whitfield"
    assert incoming.incoming_call_context == event["data"]["incomingCallContext"]
    raw = notification.body[0]
    assert raw["eventType"] == "Microsoft.Communication.IncomingCall"
    assert raw["data"]["from"] == {
        "kind": "phoneNumber",
        "rawId": "4:+15550142",
        "phoneNumber": {"value": "+15550142"},
    }
    assert {"id", "topic", "subject", "eventTime", "dataVersion", "metadataVersion"} <= set(raw)

    # The answered call continues the rung call and the caller speaks the customer's lines.
    assert props.server_call_id == incoming.server_call_id
    assert props.correlation_id == incoming.correlation_id
    assert connected.data["operationContext"] == "answer-ctx"
    assert connected.query == {"leg": "in"}
    assert "4:+15550142" in {f["participantRawID"] for f in conn.finals()}
    assert all(d["resultStatus"] == "Final" for d in conn.data())


async def test_admin_ring_reject_and_stale_context(make_emulator: Any, receiver: Receiver) -> None:
    emulator: Emulator = await make_emulator()
    body = {"from": "8:acs:caller_1", "eventGridUrl": receiver.eventgrid_url}
    status, first = await signed_request(emulator, "POST", "/emulator/incomingCalls", body)
    assert status == 201
    assert first["from"]["rawId"] == "8:acs:caller_1"
    status, second = await signed_request(emulator, "POST", "/emulator/incomingCalls", body)
    assert status == 201
    await receiver.wait_eventgrid(3)
    kinds = [d.headers["aeg-event-type"] for d in receiver.eventgrid]
    assert kinds == ["SubscriptionValidation", "Notification", "Notification"]  # validated once

    async with aio_client(emulator, retry_total=0) as client:
        await client.reject_call(first["incomingCallContext"])
        with pytest.raises(HttpResponseError) as info:
            await client.answer_call(first["incomingCallContext"], receiver.url())
        assert info.value.status_code == 400
        props = await client.answer_call(second["incomingCallContext"], receiver.url())
        await receiver.wait_for("CallConnected", props.call_connection_id)
        participants = [
            p.identifier.raw_id
            async for p in client.get_call_connection(props.call_connection_id).list_participants()
        ]
        assert "8:acs:caller_1" in participants
        await client.get_call_connection(props.call_connection_id).hang_up(True)

    # Admin requests need the access key like any other.
    status, listing = await signed_request(emulator, "GET", "/emulator/calls")
    assert status == 200
    assert {c["origin"] for c in listing["value"]} == {"answer"}
    ctx = ssl.create_default_context(cafile=str(emulator.cert_path))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session,
        session.post(emulator.endpoint + "/emulator/incomingCalls", json=body) as resp,
    ):
        assert resp.status == 401


async def test_ring_fails_when_the_webhook_does_not_validate(
    make_emulator: Any, receiver: Receiver
) -> None:
    receiver.validate = False
    emulator: Emulator = await make_emulator(eventgrid_webhook_url=receiver.eventgrid_url)
    with pytest.raises(RingError):
        await emulator.ring("+15550142")
    status, answer = await signed_request(
        emulator, "POST", "/emulator/incomingCalls", {"from": "+15550142"}
    )
    assert status == 502
    assert answer["error"]["code"] == "WebhookFailed"
    assert all(d.headers["aeg-event-type"] == "SubscriptionValidation" for d in receiver.eventgrid)
    with pytest.raises(RingError):
        await emulator.ring("+15550142", webhook_url="http://app.example/api/eventgrid")
