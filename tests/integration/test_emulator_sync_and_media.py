"""The sync SDK client through every call kind (create, answer, connect, redirect, transcription,
hang-up), and audio media streaming."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any, TypeVar

from azure.communication.callautomation import (
    AudioFormat,
    CallAutomationClient,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    StreamingTransportType,
    TranscriptionOptions,
)

from console.acs.streaming import AudioData, AudioMetadata, parse_packet
from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, aio_client, sync_client

COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"
T = TypeVar("T")


async def in_thread(emu: Emulator, work: Callable[[CallAutomationClient], T]) -> T:
    """Run blocking SDK calls off the loop the emulator serves on."""

    def run() -> T:
        with sync_client(emu) as client:
            return work(client)

    return await asyncio.to_thread(run)


async def test_sync_client_transcription_lifecycle(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    props = await in_thread(
        emulator,
        lambda c: c.create_call(
            PhoneNumberIdentifier("+15550123"),
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
            cognitive_services_endpoint=COGNITIVE,
            transcription=TranscriptionOptions(
                transport_url=ws_server.url(),
                transport_type=StreamingTransportType.WEBSOCKET,
                locale="en-US",
                start_transcription=False,
                enable_intermediate_results=True,
            ),
        ),
    )
    call_id = props.call_connection_id
    await receiver.wait_for("CallConnected", call_id)

    def conn(c: CallAutomationClient) -> Any:
        return c.get_call_connection(call_id)

    await in_thread(emulator, lambda c: conn(c).start_transcription(locale="en-US"))
    await receiver.wait_for("TranscriptionStarted", call_id)
    await ws_server.wait_finals(1)
    await in_thread(emulator, lambda c: conn(c).update_transcription(locale="es-ES"))
    updated = await receiver.wait_for("TranscriptionUpdated", call_id)
    assert updated.data["transcriptionUpdate"]["transcriptionStatusDetails"] == (
        "transcriptionLocaleUpdated"
    )
    sub = await in_thread(emulator, lambda c: conn(c).get_call_properties())
    assert sub.transcription_subscription.locale == "es-ES"
    assert sub.transcription_subscription.state == "active"
    await in_thread(emulator, lambda c: conn(c).stop_transcription())
    await receiver.wait_for("TranscriptionStopped", call_id)
    await in_thread(emulator, lambda c: conn(c).hang_up(is_for_everyone=False))
    await receiver.wait_for("CallDisconnected", call_id)
    assert ws_server.connections[0].closed.is_set()


async def test_sync_client_answer_connect_redirect(make_emulator: Any, receiver: Receiver) -> None:
    emulator: Emulator = await make_emulator(eventgrid_webhook_url=receiver.eventgrid_url)
    ringing = await emulator.ring("+15550142")
    answered = await in_thread(
        emulator,
        lambda c: c.answer_call(ringing["data"]["incomingCallContext"], receiver.url()),
    )
    assert answered.call_connection_state == "connecting"
    await receiver.wait_for("CallConnected", answered.call_connection_id)

    redirected = await emulator.ring("+15550143")
    await in_thread(
        emulator,
        lambda c: c.redirect_call(
            redirected["data"]["incomingCallContext"], PhoneNumberIdentifier("+15550144")
        ),
    )

    joined = await in_thread(
        emulator, lambda c: c.connect_call(receiver.url(), room_id="room-42", operation_context="j")
    )
    connected = await receiver.wait_for("CallConnected", joined.call_connection_id)
    assert connected.data["operationContext"] == "j"

    for call_id in (answered.call_connection_id, joined.call_connection_id):
        await in_thread(emulator, lambda c, i=call_id: c.get_call_connection(i).hang_up(True))
        await receiver.wait_for("CallDisconnected", call_id)
    assert len(emulator.calls.calls) == 2  # the redirected call never became a connection


async def test_media_streaming_sends_audio_frames(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async with aio_client(emulator) as client:
        props = await client.create_call(
            PhoneNumberIdentifier("+15550123"),
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
            media_streaming=MediaStreamingOptions(
                transport_url=ws_server.url().replace("transcription", "audio"),
                transport_type=StreamingTransportType.WEBSOCKET,
                content_type=MediaStreamingContentType.AUDIO,
                audio_channel_type=MediaStreamingAudioChannelType.MIXED,
                start_media_streaming=False,
                audio_format=AudioFormat.PCM16_K_MONO,
            ),
        )
        call_id = props.call_connection_id
        assert props.media_streaming_subscription.state == "inactive"
        await receiver.wait_for("CallConnected", call_id)
        conn = client.get_call_connection(call_id)
        await conn.start_media_streaming(operation_context="media-ctx")
        started = await receiver.wait_for("MediaStreamingStarted", call_id)
        ws = await ws_server.wait(
            lambda: ws_server.connections and len(ws_server.connections[0].frames) > 5
        )
        assert ws
        active = await conn.get_call_properties()
        await conn.stop_media_streaming()
        stopped = await receiver.wait_for("MediaStreamingStopped", call_id)
        await conn.hang_up(True)

    assert started.data["operationContext"] == "media-ctx"
    assert started.data["mediaStreamingUpdate"] == {
        "contentType": "Audio",
        "mediaStreamingStatus": "mediaStreamingStarted",
        "mediaStreamingStatusDetails": "subscriptionStarted",
    }
    assert stopped.data["mediaStreamingUpdate"]["mediaStreamingStatus"] == "mediaStreamingStopped"
    assert active.media_streaming_subscription.state == "active"
    conn_ws = ws_server.connections[0]
    assert conn_ws.path == "/ws/audio/s3cret"
    assert conn_ws.headers["x-ms-call-connection-id"] == call_id
    packets = [parse_packet(f) for f in conn_ws.frames]
    meta = packets[0]
    assert isinstance(meta, AudioMetadata)
    assert (meta.encoding, meta.sample_rate, meta.channels, meta.length) == ("PCM", 16000, 1, 640)
    frames = packets[1:]
    assert all(isinstance(p, AudioData) for p in frames)
    assert all(len(base64.b64decode(p.data)) == 640 for p in frames)  # 20 ms at 16 kHz
    assert conn_ws.closed.is_set()
