"""Transcription against the emulator with the real SDK: start/update/stop, the WebSocket it
opens (headers, JWT, metadata first, packet shapes and units), custom models, drops and resumes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from azure.communication.callautomation import (
    CommunicationUserIdentifier,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
    StreamingTransportType,
    TranscriptionOptions,
)
from azure.communication.callautomation._generated.models import (
    StartTranscriptionRequest,
)

from console.acs.calls import TranscriptionOptionsWithModel
from console.acs.streaming import (
    TICKS_PER_SECOND,
    TranscriptionData,
    TranscriptionMetadata,
    Unparsed,
    parse_packet,
)
from console.emulator.scenario import load_scenario
from console.emulator.server import Emulator
from tests.integration.conftest import (
    Receiver,
    WsRecorder,
    aio_client,
    fetch_jwks,
    signed_request,
    sync_client,
    verify_bearer,
)

COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"
CALLER_ID = PhoneNumberIdentifier("+15550199")
CUSTOM_MODEL = "11111111-2222-3333-4444-555555555555"  # known to the test emulators
OK = {"code": 200, "subCode": 0, "message": "Action completed successfully."}
# Setup-time start: not to an ACS user, where a 1:1 call never starts (as the service).
TEAMS_USER = MicrosoftTeamsUserIdentifier("0f1e2d3c-aaaa-bbbb-cccc-000000000002")


def options(ws: WsRecorder, *, start: bool, query: str = "") -> TranscriptionOptions:
    return TranscriptionOptions(
        transport_url=ws.url(query),
        transport_type=StreamingTransportType.WEBSOCKET,
        locale="en-US",
        start_transcription=start,
        enable_intermediate_results=True,
    )


async def test_start_on_connect_streams_metadata_then_data(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator) as client:
        props = await client.create_call(
            PhoneNumberIdentifier("+15550123"),
            receiver.url(),
            source_caller_id_number=CALLER_ID,
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True, query="callerId=%2B15550123"),
        )
        call_id = props.call_connection_id
        sub = props.transcription_subscription
        assert sub.state == "inactive"
        assert sub.locale == "en-US"
        assert set(sub.subscribed_result_types) == {"final", "intermediate"}

        started = await receiver.wait_for("TranscriptionStarted", call_id)
        conn = await ws_server.wait_finals(3)
        now = await client.get_call_connection(call_id).get_call_properties()
        assert now.transcription_subscription.state == "active"
        await client.get_call_connection(call_id).hang_up(is_for_everyone=True)
        await asyncio.wait_for(conn.closed.wait(), 5)

    assert started.data["transcriptionUpdate"] == {
        "transcriptionStatus": "transcriptionStarted",
        "transcriptionStatusDetails": "subscriptionStarted",
    }
    assert started.data["resultInformation"] == OK
    assert [c.type for c in receiver.of(call_id)][:3] == [
        "CallConnected",
        "ParticipantsUpdated",
        "TranscriptionStarted",
    ]

    # The upgrade: exact path and query, call headers, a 24-hour JWT of the emulator.
    assert conn.path == "/ws/transcription/s3cret?callerId=%2B15550123"
    assert conn.headers["x-ms-call-connection-id"] == call_id
    assert conn.headers["x-ms-call-correlation-id"] == props.correlation_id
    claims = verify_bearer(conn.headers.get("authorization"), await fetch_jwks(emulator), emulator)
    assert claims["exp"] - claims["iat"] == 24 * 3600

    # Metadata first, then data the console's parser reads without complaint.
    packets = [parse_packet(frame) for frame in conn.frames]
    assert not [p for p in packets if isinstance(p, Unparsed)]
    meta = packets[0]
    assert isinstance(meta, TranscriptionMetadata)
    assert meta.subscription_id == sub.id
    assert meta.locale == "en-US"
    assert meta.call_connection_id == call_id
    assert meta.correlation_id == props.correlation_id
    assert meta.speech_model_endpoint_id is None
    assert "speechRecognitionModelEndpointId" not in conn.packets[0]["transcriptionMetadata"]
    data = [p for p in packets[1:] if isinstance(p, TranscriptionData)]
    assert len(data) == len(packets) - 1
    assert not data[0].is_final  # intermediates come before the Final they grow into
    finals = [d for d in data if d.is_final]
    speakers = {d.participant_raw_id for d in finals}
    assert "4:+15550123" in speakers  # the dialled number speaks the caller's lines
    for final in finals:
        assert final.words
        assert final.confidence is not None
        assert 0 <= final.confidence <= 1
        assert final.words[0].offset >= final.offset
        last = final.words[-1]
        assert last.offset + last.duration <= final.offset + final.duration
    # Offsets are 100 ns ticks of call time: the first lines of a call start in seconds 0-20.
    assert 0 < finals[0].offset < 20 * TICKS_PER_SECOND
    for speaker in speakers:  # one speaker's phrases never overlap
        offsets = [f.offset for f in finals if f.participant_raw_id == speaker]
        assert offsets == sorted(offsets)
    raw = conn.packets[-1]["transcriptionData"]
    assert {"participantRawID", "resultStatus", "offset", "duration", "text"} <= set(raw)


async def test_start_update_stop_with_aio_and_sync_clients(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emulator = await make_emulator(scenario="multilingual")
    scenario = load_scenario("multilingual")
    french = {u.text["fr-FR"] for u in scenario.utterances}
    async with aio_client(emulator) as client:
        props = await client.create_call(
            CommunicationUserIdentifier("8:acs:aaaa_0001"),
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=False),
        )
        call_id = props.call_connection_id
        conn = client.get_call_connection(call_id)
        await receiver.wait_for("CallConnected", call_id)
        assert (await conn.get_call_properties()).transcription_subscription.state == "inactive"

        await conn.start_transcription(locale="en-US", operation_context="start-ctx")
        started = await receiver.wait_for("TranscriptionStarted", call_id)
        assert started.data["operationContext"] == "start-ctx"
        await ws_server.wait_finals(1)

        await conn.update_transcription(locale="fr-FR", operation_context="update-ctx")
        updated = await receiver.wait_for("TranscriptionUpdated", call_id)
        assert updated.data["operationContext"] == "update-ctx"
        assert updated.data["resultInformation"] == OK
        assert updated.data["transcriptionUpdate"] == {
            "transcriptionStatus": "transcriptionUpdated",
            "transcriptionStatusDetails": "transcriptionLocaleUpdated",
        }
        props_now = await conn.get_call_properties()
        assert props_now.transcription_subscription.locale == "fr-FR"
        # Lines that start after the switch come out in French.
        await ws_server.wait(
            lambda: any(f["text"] in french for f in ws_server.connections[0].finals()),
            what="a French Final",
        )

        def stop_with_sync_client() -> str:
            with sync_client(emulator) as sync:
                c = sync.get_call_connection(call_id)
                c.stop_transcription(operation_context="stop-ctx")
                return c.get_call_properties().transcription_subscription.state

        assert await asyncio.to_thread(stop_with_sync_client) == "inactive"
        stopped = await receiver.wait_for("TranscriptionStopped", call_id)
        assert stopped.data["operationContext"] == "stop-ctx"
        assert stopped.data["transcriptionUpdate"] == {
            "transcriptionStatus": "transcriptionStopped",
            "transcriptionStatusDetails": "subscriptionStopped",
        }
        await asyncio.wait_for(ws_server.connections[0].closed.wait(), 5)

        # Starting again opens a new connection with fresh metadata. A stop puts the call's own
        # locale back in force (GET shows it right after the stop, as recorded).
        await conn.start_transcription()
        await receiver.wait_for("TranscriptionStarted", call_id, count=2)
        second = await ws_server.wait(
            lambda: len(ws_server.connections) == 2 and ws_server.connections[1].frames
        )
        assert second
        meta = ws_server.connections[1].packets[0]
        assert meta["kind"] == "TranscriptionMetadata"
        assert meta["transcriptionMetadata"]["locale"] == "en-US"
        await conn.hang_up(is_for_everyone=True)
    types = [c.type for c in receiver.of(call_id)]
    assert types.index("TranscriptionStopped") < len(types) - 1 - types[::-1].index(
        "TranscriptionStarted"
    )


async def test_custom_speech_model_is_accepted_and_echoed(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator) as client:
        opts = TranscriptionOptionsWithModel(
            transport_url=ws_server.url(),
            transport_type=StreamingTransportType.WEBSOCKET,
            locale="en-US",
            start_transcription=True,
            speech_recognition_model_endpoint_id=CUSTOM_MODEL,
        )
        props = await client.create_call(
            TEAMS_USER,
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=opts,
        )
        call_id = props.call_connection_id
        await receiver.wait_for("TranscriptionStarted", call_id)
        conn = await ws_server.wait(lambda: ws_server.connections and ws_server.connections[0])
        await ws_server.wait(lambda: conn.frames)
        meta = conn.packets[0]["transcriptionMetadata"]
        assert meta["speechRecognitionModelEndpointId"] == CUSTOM_MODEL
        # Intermediate results were not asked for: Finals only.
        await ws_server.wait_finals(2)
        assert all(d["resultStatus"] == "Final" for d in conn.data())

        # The generated request model (the console's start workaround) reaches the wire too.
        media = client.get_call_connection(call_id)
        await media.stop_transcription()
        await receiver.wait_for("TranscriptionStopped", call_id)
        await media._call_media_client.start_transcription(
            call_id,
            StartTranscriptionRequest(locale="en-GB", speech_model_endpoint_id=CUSTOM_MODEL),
        )
        await receiver.wait_for("TranscriptionStarted", call_id, count=2)
        again = await ws_server.wait(
            lambda: len(ws_server.connections) > 1 and ws_server.connections[1].frames
        )
        assert again
        meta2 = ws_server.connections[1].packets[0]["transcriptionMetadata"]
        assert meta2["speechRecognitionModelEndpointId"] == CUSTOM_MODEL
        assert meta2["locale"] == "en-GB"
        await media.hang_up(is_for_everyone=True)


async def test_net_spelling_of_the_model_id_is_accepted(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    body = {
        "targets": [{"rawId": "4:+15550100003", "phoneNumber": {"value": "+15550100003"}}],
        "sourceCallerIdNumber": {"value": "+15550199"},
        "callbackUri": receiver.url(),
        "callIntelligenceOptions": {"cognitiveServicesEndpoint": COGNITIVE},
        "transcriptionOptions": {
            "transportType": "WEBSOCKET",  # enums compare case-insensitively
            "transportUrl": ws_server.url(),
            "locale": "en-us",
            "startTranscription": True,
            "speechRecognitionModelEndpointId": CUSTOM_MODEL,
        },
    }
    status, props = await signed_request(emulator, "POST", "/calling/callConnections", body)
    assert status == 201
    await receiver.wait_for("TranscriptionStarted", props["callConnectionId"])
    conn = await ws_server.wait(lambda: ws_server.connections and ws_server.connections[0].frames)
    assert conn
    meta = ws_server.connections[0].packets[0]["transcriptionMetadata"]
    assert meta["speechRecognitionModelEndpointId"] == CUSTOM_MODEL
    assert meta["locale"] == "en-us"
    emulator.calls.get(props["callConnectionId"]).hang_up()


def _final_keys(conns: list[Any]) -> list[tuple[str, int]]:
    return [(f["participantRawID"], f["offset"]) for c in conns for f in c.finals()]


async def _assert_resumed(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder, call_id: str
) -> None:
    interrupted = await receiver.wait_for(
        "TranscriptionUpdated",
        call_id,
        where=lambda c: (
            c.data["transcriptionUpdate"]["transcriptionStatusDetails"]
            == "streamConnectionInterrupted"
        ),
    )
    resumed = await receiver.wait_for(
        "TranscriptionUpdated",
        call_id,
        where=lambda c: (
            c.data["transcriptionUpdate"]["transcriptionStatus"] == "transcriptionResumed"
        ),
    )
    assert interrupted.data["transcriptionUpdate"]["transcriptionStatus"] == "transcriptionUpdated"
    assert resumed.data["transcriptionUpdate"]["transcriptionStatusDetails"] == (
        "streamConnectionReestablished"
    )
    assert receiver.callbacks.index(interrupted) < receiver.callbacks.index(resumed)
    await ws_server.wait_finals(2, index=1)
    first, second = ws_server.connections[:2]
    assert second.packets[0]["kind"] == "TranscriptionMetadata"
    assert (
        second.packets[0]["transcriptionMetadata"]["subscriptionId"]
        == first.packets[0]["transcriptionMetadata"]["subscriptionId"]
    )
    assert first.headers["authorization"] != second.headers["authorization"]
    # Across the reconnect no Final is repeated and time keeps moving forward.
    keys = _final_keys([first, second])
    assert len(keys) == len(set(keys))
    for speaker in {k[0] for k in keys}:  # one speaker's phrases never overlap
        offsets = [offset for who, offset in keys if who == speaker]
        assert offsets == sorted(offsets)
    state = (await signed_request(emulator, "GET", f"/calling/callConnections/{call_id}"))[1]
    assert state["transcriptionSubscription"]["state"] == "active"


async def test_peer_closing_the_socket_is_survived(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    ws_server.close_after = 6  # the application drops the first connection mid-call
    async with aio_client(emulator) as client:
        props = await client.create_call(
            TEAMS_USER,
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True),
        )
        await _assert_resumed(emulator, receiver, ws_server, props.call_connection_id)
        await client.get_call_connection(props.call_connection_id).hang_up(True)


async def test_injected_network_drop_is_survived(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator) as client:
        props = await client.create_call(
            TEAMS_USER,
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True),
        )
        call_id = props.call_connection_id
        await ws_server.wait_finals(1)
        status, _ = await signed_request(
            emulator,
            "POST",
            f"/emulator/calls/{call_id}/faults",
            {"kind": "dropTranscriptStream"},
        )
        assert status == 202
        await _assert_resumed(emulator, receiver, ws_server, call_id)
        status, listing = await signed_request(emulator, "GET", "/emulator/calls")
        assert status == 200
        (summary,) = [c for c in listing["value"] if c["callConnectionId"] == call_id]
        assert summary["transcription"]["connections"] == 2
        await client.get_call_connection(call_id).hang_up(True)


def _scenario_with_faults(tmp_path: Path, faults: list[dict[str, Any]]) -> Path:
    doc = {
        "format": 1,
        "name": "faulty",
        "default_locale": "en-US",
        "participants": [
            {"raw_id": "8:acs:agent_1", "display_name": "Agent"},
            {"raw_id": "4:+15550100111", "display_name": "Customer"},
        ],
        "utterances": [
            {"speaker": "8:acs:agent_1", "start": 0.5, "text": "Hello, how can I help you today?"},
            {"speaker": "4:+15550100111", "text": "My internet keeps dropping every evening."},
            {"speaker": "8:acs:agent_1", "text": "Let me run a line test for you right now."},
            {"speaker": "4:+15550100111", "text": "Thanks, I will wait on the line."},
            {"speaker": "8:acs:agent_1", "text": "The test found a fault and I booked a fix."},
        ],
        "faults": faults,
    }
    path = tmp_path / "faulty.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


async def test_scripted_faults_fail_transcription_and_end_the_call(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder, tmp_path: Path
) -> None:
    scenario = _scenario_with_faults(
        tmp_path,
        [
            {"at": 4.0, "kind": "transcriptionFailed", "params": {"key": "service_shutdown"}},
            {"at": 6.0, "kind": "participantLeft", "params": {"rawId": "4:+15550100111"}},
            {"at": 8.0, "kind": "hangUp"},
        ],
    )
    emulator = await make_emulator(scenario=str(scenario), hangup_after_script=False)
    async with aio_client(emulator) as client:
        props = await client.create_call(
            TEAMS_USER,
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=options(ws_server, start=True),
        )
        call_id = props.call_connection_id
        failed = await receiver.wait_for("TranscriptionFailed", call_id)
        left = await receiver.wait_for("ParticipantsUpdated", call_id, count=2)
        await receiver.wait_for("CallDisconnected", call_id)
        ended = await client.get_call_connection(call_id).get_call_properties()
    assert failed.data["resultInformation"] == {
        "code": 500,
        "subCode": 8580,
        "message": "Action failed, transcription service was shut down.",
    }
    assert failed.data["transcriptionUpdate"] == {
        "transcriptionStatus": "transcriptionFailed",
        "transcriptionStatusDetails": "serviceShutdown",
    }
    assert ws_server.connections[0].closed.is_set()
    assert left.data["sequenceNumber"] == 2
    assert "4:+15550100111" not in [p["identifier"]["rawId"] for p in left.data["participants"]]
    assert ended.call_connection_state == "disconnected"
    assert ended.transcription_subscription.state == "inactive"
