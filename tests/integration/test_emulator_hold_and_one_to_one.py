"""Hold/unhold, and the service's 1:1 ACS-user limitation, through the real SDK.

Hold and unhold answer and post as recorded (200, empty body; ParticipantsUpdated with
``isOnHold``). While a participant is held nothing they say is transcribed (the emulator's
choice, documented; no recording shows it). ``startTranscription: true`` at setup never starts a
1:1 call with an ACS user, as the service documents; starting it afterwards works.
"""

from __future__ import annotations

from typing import Any

import pytest
from azure.communication.callautomation import (
    CommunicationUserIdentifier,
    PhoneNumberIdentifier,
    StreamingTransportType,
    TranscriptionOptions,
)
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, aio_client, signed_request
from tests.integration.recorded_service import FIXTURES

COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"
ALTERNATING = FIXTURES / "scenarios" / "alternating.json"
AGENT = "8:acs:00000000-0000-0000-0000-0000000000a1_agent"
CUSTOMER = "+15550100777"
ACS_USER = "8:acs:11111111-1111-1111-1111-111111111111_00000099-aaaa-bbbb-cccc-0000000000f1"
TICKS = 10_000_000


def options(ws: WsRecorder, *, start: bool) -> TranscriptionOptions:
    return TranscriptionOptions(
        transport_url=ws.url(),
        transport_type=StreamingTransportType.WEBSOCKET,
        locale="en-US",
        start_transcription=start,
        enable_intermediate_results=False,
    )


def _texts(ws: WsRecorder) -> set[str]:
    return {f["text"] for c in ws.connections for f in c.finals()}


async def test_hold_stops_a_participants_lines_until_unhold(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu: Emulator = await make_emulator(
        scenario=str(ALTERNATING), speed=10.0, hangup_after_script=False
    )
    customer = PhoneNumberIdentifier(CUSTOMER)
    async with aio_client(emu, retry_total=0) as client:
        props = await client.create_call(
            customer,
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True),
        )
        call_id = props.call_connection_id
        conn = client.get_call_connection(call_id)
        await receiver.wait_for("TranscriptionStarted", call_id)
        await ws_server.wait(
            lambda: any(f["participantRawID"] == "4:" + CUSTOMER for f in _finals(ws_server)),
            what="the customer's first line",
        )
        call = emu.calls.get(call_id)
        assert call.conversation is not None

        await conn.hold(customer, operation_context="hold-ctx")
        held_from = call.conversation.call_time
        updated = await receiver.wait_for(
            "ParticipantsUpdated", call_id, where=lambda c: _on_hold(c) == {"4:" + CUSTOMER}
        )
        assert "operationContext" not in updated.data  # as recorded
        assert (await conn.get_participant(customer)).is_on_hold is True

        # The agent goes on being transcribed while the customer is held.
        await ws_server.wait(
            lambda: any(
                f["participantRawID"] == AGENT and f["offset"] >= (held_from + 8.0) * TICKS
                for f in _finals(ws_server)
            ),
            within=20.0,
            what="the agent's lines during the hold",
        )
        held_until = call.conversation.call_time
        await conn.unhold(customer, operation_context="unhold-ctx")
        back_from = call.conversation.call_time
        await receiver.wait_for(
            "ParticipantsUpdated", call_id, where=lambda c: not _on_hold(c), count=2
        )
        later = [
            u.text["en-US"]
            for u in call.scenario.utterances
            if u.speaker == "4:" + CUSTOMER and u.start > back_from
        ]
        assert later, "the script ends too early for this test"
        await ws_server.wait(
            lambda: later[0] in _texts(ws_server), within=20.0, what="the customer after unhold"
        )
        await conn.hang_up(True)

    # What the customer said wholly within the hold never reached the stream.
    during = [
        u.text["en-US"]
        for u in call.scenario.utterances
        if u.speaker == "4:" + CUSTOMER
        and u.start >= held_from
        and u.start + u.span("en-US") + 1.0 <= held_until
    ]
    assert during, "no customer line fell wholly within the hold"
    assert not set(during) & _texts(ws_server)
    agent_during = [
        u.text["en-US"]
        for u in call.scenario.utterances
        if u.speaker == AGENT and held_from <= u.start and u.start + 1.0 <= held_until
    ]
    assert set(agent_during[:1]) <= _texts(ws_server)


def _finals(ws: WsRecorder) -> list[dict[str, Any]]:
    return [f for c in ws.connections for f in c.finals()]


def _on_hold(callback: Any) -> set[str]:
    return {
        p["identifier"]["rawId"] for p in callback.data["participants"] if p["isOnHold"] is True
    }


async def test_hold_answers_as_recorded_and_refuses_what_it_cannot_do(
    emulator: Emulator, receiver: Receiver
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        props = await client.create_call(
            PhoneNumberIdentifier("+15550123"),
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
        )
        call_id = props.call_connection_id
        conn = client.get_call_connection(call_id)
        target = PhoneNumberIdentifier("+15550123")
        with pytest.raises(HttpResponseError) as info:
            await conn.hold(target)  # still ringing
        assert (info.value.status_code, info.value.error.code) == (400, "8501")
        await receiver.wait_for("CallConnected", call_id)
        with pytest.raises(ResourceNotFoundError):
            await conn.hold(PhoneNumberIdentifier("+15550999"))  # not on the call
        status, body = await signed_request(
            emulator, "POST", f"/calling/callConnections/{call_id}:hold", {"operationContext": "x"}
        )
        assert (status, body["error"]["code"]) == (400, "BadRequest")
        status, body = await signed_request(
            emulator,
            "POST",
            f"/calling/callConnections/{call_id}:unhold",
            {"targetParticipant": {"rawId": "4:+15550123", "phoneNumber": {"value": "+15550123"}}},
        )
        assert (status, body) == (200, None)  # as recorded: 200, no body
        await conn.hang_up(True)


# --- startTranscription at setup, 1:1 with an ACS user ------------------------------------------


async def test_one_to_one_with_an_acs_user_never_starts_at_setup(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        props = await client.create_call(
            CommunicationUserIdentifier(ACS_USER),
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True),
        )
        call_id = props.call_connection_id
        conn = client.get_call_connection(call_id)
        await receiver.wait_for("ParticipantsUpdated", call_id)
        assert (await conn.get_call_properties()).transcription_subscription.state == "inactive"
        # Accepted, never started: a start now is the first one (a second would be refused).
        await conn.start_transcription()
        await receiver.wait_for("TranscriptionStarted", call_id)
        await ws_server.wait_finals(1)
        await conn.hang_up(True)
        await receiver.wait_for("CallDisconnected", call_id)
    assert len(receiver.of(call_id, "TranscriptionStarted")) == 1
    assert receiver.of(call_id, "TranscriptionFailed") == []
    assert len(ws_server.connections) == 1


async def test_an_answered_call_from_an_acs_user_never_starts_at_setup(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu: Emulator = await make_emulator(eventgrid_webhook_url=receiver.eventgrid_url)
    async with aio_client(emu, retry_total=0) as client:
        event = await emu.ring(ACS_USER)
        props = await client.answer_call(
            event["data"]["incomingCallContext"],
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True),
        )
        call_id = props.call_connection_id
        conn = client.get_call_connection(call_id)
        await receiver.wait_for("ParticipantsUpdated", call_id)
        await conn.start_transcription(locale="en-GB")
        started = await receiver.wait_for("TranscriptionStarted", call_id)
        assert started.data["resultInformation"]["code"] == 200
        await conn.hang_up(True)
    assert len(receiver.of(call_id, "TranscriptionStarted")) == 1


async def test_a_group_call_with_an_acs_user_starts_at_setup(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        props = await client.create_call(
            [CommunicationUserIdentifier(ACS_USER), PhoneNumberIdentifier("+15550123")],
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True),
        )
        await receiver.wait_for("TranscriptionStarted", props.call_connection_id)
        await client.get_call_connection(props.call_connection_id).hang_up(True)
