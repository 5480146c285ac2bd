"""Every failure the emulator reproduces, provoked on purpose through the real SDK.

Request validation is answered synchronously (``HttpResponseError`` with the table's status,
``error.code`` = subCode and the service's message); media-side failures arrive as
``TranscriptionFailed`` callbacks with code, subCode, message and transcriptionStatusDetails.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
from azure.communication.callautomation import (
    CommunicationUserIdentifier,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
    StreamingTransportType,
    TranscriptionOptions,
)
from azure.communication.callautomation._generated.models import StartTranscriptionRequest
from azure.communication.callautomation.aio import CallAutomationClient, CallConnectionClient
from azure.core.exceptions import HttpResponseError

from console.acs.errors import row
from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, aio_client

COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"
USER = CommunicationUserIdentifier("8:acs:ffff_0001")
# Setup-time start: not to an ACS user, where a 1:1 call never starts (as the service).
TEAMS_USER = MicrosoftTeamsUserIdentifier("0f1e2d3c-ffff-ffff-ffff-000000000001")


def transcription(url: str, *, start: bool = False, locale: str = "en-US") -> TranscriptionOptions:
    return TranscriptionOptions(
        transport_url=url,
        transport_type=StreamingTransportType.WEBSOCKET,
        locale=locale,
        start_transcription=start,
    )


def assert_http_row(exc: HttpResponseError, key: str) -> None:
    r = row(key)
    assert exc.status_code == r.code
    assert exc.error.code == str(r.sub_code)
    assert exc.error.message == r.message


async def assert_failed_event(receiver: Receiver, call_id: str, key: str) -> None:
    r = row(key)
    event = await receiver.wait_for("TranscriptionFailed", call_id)
    assert event.data["resultInformation"] == {
        "code": r.code,
        "subCode": r.sub_code,
        "message": r.message,
    }
    assert event.data["transcriptionUpdate"] == {
        "transcriptionStatus": "transcriptionFailed",
        "transcriptionStatusDetails": r.status_details,
    }


async def connected_call(
    client: CallAutomationClient, receiver: Receiver, **kwargs: Any
) -> CallConnectionClient:
    props = await client.create_call(USER, receiver.url(), **kwargs)
    await receiver.wait_for("CallConnected", props.call_connection_id)
    return client.get_call_connection(props.call_connection_id)


async def test_locale_missing_or_without_region(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        with pytest.raises(HttpResponseError) as info:
            await client.create_call(
                USER,
                receiver.url(),
                cognitive_services_endpoint=COGNITIVE,
                transcription=transcription(ws_server.url(), locale=""),
            )
        assert_http_row(info.value, "locale_missing")
        conn = await connected_call(
            client,
            receiver,
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(ws_server.url()),
        )
        with pytest.raises(HttpResponseError) as info:
            await conn.start_transcription(locale="en")
        assert_http_row(info.value, "locale_without_region")
        with pytest.raises(HttpResponseError) as info:
            await conn.update_transcription(locale="en-US-NancyNeural")  # a voice, not a locale
        assert_http_row(info.value, "locale_without_region")
        with pytest.raises(HttpResponseError) as info:
            await conn.update_transcription(locale="")
        assert_http_row(info.value, "locale_missing")
        await conn.hang_up(True)
    assert ws_server.connections == []


async def test_call_not_established(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emulator = await make_emulator(answer_delay=600)  # still ringing for 30 s of wall time
    async with aio_client(emulator, retry_total=0) as client:
        props = await client.create_call(
            USER,
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(ws_server.url()),
        )
        conn = client.get_call_connection(props.call_connection_id)
        with pytest.raises(HttpResponseError) as info:
            await conn.start_transcription()
        assert_http_row(info.value, "call_not_established")
        await conn.hang_up(False)  # hanging up a ringing call is fine
        await receiver.wait_for("CallDisconnected", props.call_connection_id)
    assert receiver.of(props.call_connection_id, "CallConnected") == []


async def test_transcription_url_or_cognitive_endpoint_not_set_at_setup(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        no_transcription = await connected_call(
            client, receiver, cognitive_services_endpoint=COGNITIVE
        )
        with pytest.raises(HttpResponseError) as info:
            await no_transcription.start_transcription(locale="en-US")
        assert_http_row(info.value, "transcription_url_not_set")
        await no_transcription.hang_up(True)

        no_cognitive = await connected_call(
            client, receiver, transcription=transcription(ws_server.url())
        )
        with pytest.raises(HttpResponseError) as info:
            await no_cognitive.start_transcription()
        assert_http_row(info.value, "cognitive_not_set")
        await no_cognitive.hang_up(True)

        # Asked to start on connect without a speech service: the failure comes as an event.
        props = await client.create_call(
            TEAMS_USER, receiver.url(), transcription=transcription(ws_server.url(), start=True)
        )
        await assert_failed_event(receiver, props.call_connection_id, "cognitive_not_set")
        await client.get_call_connection(props.call_connection_id).hang_up(True)
    assert ws_server.connections == []


async def test_update_not_supported_on_connect_calls(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        props = await client.connect_call(
            receiver.url(),
            group_call_id="3b4f1c8e-0000-4000-8000-000000000001",
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(ws_server.url(), start=True),
        )
        call_id = props.call_connection_id
        await receiver.wait_for("TranscriptionStarted", call_id)
        conn = client.get_call_connection(call_id)
        with pytest.raises(HttpResponseError) as info:
            await conn.update_transcription(locale="de-DE")
        assert_http_row(info.value, "update_not_supported_connect")
        await conn.hang_up(True)


async def test_call_already_terminated(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        conn = await connected_call(
            client,
            receiver,
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(ws_server.url()),
        )
        await conn.hang_up(True)
        for attempt in (
            conn.start_transcription(),
            conn.stop_transcription(),
            conn.update_transcription(locale="en-GB"),
            conn.hang_up(True),
        ):
            with pytest.raises(HttpResponseError) as info:
                await attempt
            assert_http_row(info.value, "call_terminated")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_websocket_cannot_be_established(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        nobody = f"ws://127.0.0.1:{_closed_port()}/ws/transcription/x"
        props = await client.create_call(
            TEAMS_USER,
            receiver.url(),
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(nobody, start=True),
        )
        await assert_failed_event(receiver, props.call_connection_id, "websocket_failed")
        state = await client.get_call_connection(props.call_connection_id).get_call_properties()
        assert state.transcription_subscription.state == "inactive"
        assert state.call_connection_state == "connected"  # the call itself goes on
        await client.get_call_connection(props.call_connection_id).hang_up(True)

        ws_server.reject_status = 401  # the application refuses the upgrade
        conn = await connected_call(
            client,
            receiver,
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(ws_server.url()),
        )
        await conn.start_transcription()
        await assert_failed_event(receiver, conn._call_connection_id, "websocket_failed")
        await conn.hang_up(True)


async def test_invalid_stream_url_is_never_contacted(
    emulator: Emulator, receiver: Receiver
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        for url in ("ws://app.example/ws/transcription", "https://127.0.0.1/not-a-websocket"):
            conn = await connected_call(
                client,
                receiver,
                cognitive_services_endpoint=COGNITIVE,
                transcription=transcription(url),
            )
            await conn.start_transcription()
            await assert_failed_event(receiver, conn._call_connection_id, "invalid_stream_url")
            await conn.hang_up(True)


async def test_unknown_custom_speech_model(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        conn = await connected_call(
            client,
            receiver,
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(ws_server.url()),
        )
        call_id = conn._call_connection_id
        await conn._call_media_client.start_transcription(
            call_id,
            StartTranscriptionRequest(
                speech_model_endpoint_id="99999999-0000-0000-0000-000000000000"
            ),
        )
        await assert_failed_event(receiver, call_id, "custom_model_not_supported")
        await conn.hang_up(True)
    assert ws_server.connections == []


async def test_unreachable_target_gets_create_call_failed(
    emulator: Emulator, receiver: Receiver
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        props = await client.create_call(
            PhoneNumberIdentifier("+15550000"),
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
            operation_context="dial-1",
        )
        failed = await receiver.wait_for("CreateCallFailed", props.call_connection_id)
        state = await client.get_call_connection(props.call_connection_id).get_call_properties()
    assert failed.data["operationContext"] == "dial-1"
    assert failed.data["resultInformation"]["code"] == 408
    assert failed.data["resultInformation"]["subCode"] == 10004
    assert "did not answer" in failed.data["resultInformation"]["message"]
    assert state.call_connection_state == "disconnected"
    assert [c.type for c in receiver.of(props.call_connection_id)] == ["CreateCallFailed"]


async def test_phone_target_without_caller_id_is_rejected(
    emulator: Emulator, receiver: Receiver
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        with pytest.raises(HttpResponseError) as info:
            await client.create_call(PhoneNumberIdentifier("+15550123"), receiver.url())
    assert info.value.status_code == 400
    assert "SourceCallerIdNumber" in info.value.error.message
    assert emulator.calls.calls == {}
