"""Audio streaming (start/stop media streaming): events, and a WebSocket of PCM frames.

``AudioMetadata`` first, then 20 ms ``AudioData`` frames. When the call has audio (recordings,
audio participants: ``Call.listening``) the frames carry it on the call clock: unmixed, one
frame per participant per 20 ms of call time with ``participantRawID``, ``silent`` set from voice
activity; mixed, one summed frame. A call with no audio gets what the service sends for a quiet
call: silent frames in real time, 50 a second.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from console.acs.errors import row
from console.emulator.cloudevents import result_information
from console.emulator.setup import MediaSetup
from console.emulator.transcription import settle
from console.emulator.urls import is_valid_stream_url, may_contact

if TYPE_CHECKING:
    from console.emulator.calls import Call

log = logging.getLogger(__name__)

FRAME_SECONDS = 0.02


class MediaStreaming:
    def __init__(self, call: Call, setup: MediaSetup) -> None:
        self.call = call
        self.setup = setup
        self.subscription_id = str(uuid.uuid4())
        self.state = "inactive"
        self._task: asyncio.Task[None] | None = None

    @property
    def sample_rate(self) -> int:
        return 24000 if self.setup.audio_format.lower() == "pcm24kmono" else 16000

    def properties(self) -> dict[str, Any]:
        return {
            "id": self.subscription_id,
            "state": "active" if self.state == "active" else "inactive",
            "subscribedContentTypes": [self.setup.content_type],
        }

    @property
    def running(self) -> bool:
        return self.state != "inactive"

    def start(self, operation_context: str | None, callback_uri: str | None) -> None:
        self.state = "starting"
        self._task = self.call.spawn(
            self._run(operation_context, callback_uri), name="media-streaming"
        )

    def stop(self, operation_context: str | None, callback_uri: str | None) -> None:
        task, self._task = self._task, None
        self.state = "inactive"
        if task is not None:
            task.cancel()

        async def after() -> None:
            await settle(task)
            self._emit(
                "MediaStreamingStopped",
                "mediaStreamingStopped",
                "subscriptionStopped",
                result_information(200, 0, "Action completed successfully."),
                operation_context,
                callback_uri,
            )

        self.call.spawn(after(), name="media-stop")

    async def close(self) -> None:
        task, self._task = self._task, None
        self.state = "inactive"
        if task is not None:
            task.cancel()
            await settle(task)

    def _emit(
        self,
        event: str,
        status: str,
        details: str,
        result: dict[str, Any],
        operation_context: str | None,
        callback_uri: str | None,
    ) -> None:
        self.call.emit(
            event,
            result,
            operation_context=operation_context,
            callback_uri=callback_uri,
            mediaStreamingUpdate={
                "contentType": "Audio",
                "mediaStreamingStatus": status,
                "mediaStreamingStatusDetails": details,
            },
        )

    def _failed(
        self, key: str, details: str, operation_context: str | None, cb: str | None
    ) -> None:
        r = row(key)
        self.state = "inactive"
        self._task = None
        self._emit(
            "MediaStreamingFailed",
            "mediaStreamingFailed",
            details,
            result_information(r.code, r.sub_code, r.message),
            operation_context,
            cb,
        )

    async def _run(self, operation_context: str | None, callback_uri: str | None) -> None:
        url = self.setup.transport_url
        if not is_valid_stream_url(url):
            self._failed("invalid_stream_url", "streamUrlMissing", operation_context, callback_uri)
            return
        assert url is not None
        headers = {
            "Authorization": f"Bearer {self.call.tokens.websocket_token()}",
            "x-ms-call-connection-id": self.call.ids.call_connection_id,
            "x-ms-call-correlation-id": self.call.ids.correlation_id,
        }
        try:
            if not may_contact(url):
                raise OSError("the emulator only connects to loopback transport URLs")
            ws = await websockets.connect(
                url, additional_headers=headers, open_timeout=5.0, close_timeout=2.0
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            log.info("Media streaming connection failed: %s", exc)
            self._failed(
                "websocket_failed",
                "initialWebSocketConnectionFailed",
                operation_context,
                callback_uri,
            )
            return
        try:
            frame_bytes = int(self.sample_rate * FRAME_SECONDS) * 2
            await ws.send(
                json.dumps(
                    {
                        "kind": "AudioMetadata",
                        "audioMetadata": {
                            "subscriptionId": self.subscription_id,
                            "encoding": "PCM",
                            "sampleRate": self.sample_rate,
                            "channels": 1,
                            "length": frame_bytes,
                        },
                    }
                )
            )
            self.state = "active"
            self._emit(
                "MediaStreamingStarted",
                "mediaStreamingStarted",
                "subscriptionStarted",
                result_information(200, 0, "Action completed successfully."),
                operation_context,
                callback_uri,
            )
            silence = base64.b64encode(bytes(frame_bytes)).decode("ascii")
            loop = asyncio.get_running_loop()
            due = loop.time()
            while True:
                if self.call.listening is not None:  # audio from now on (it may join later)
                    await self._stream_audio(ws)
                    return
                stamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
                await ws.send(
                    json.dumps(
                        {
                            "kind": "AudioData",
                            "audioData": {
                                "timestamp": stamp.replace("+00:00", "Z"),
                                "data": silence,
                                "silent": True,
                            },
                        }
                    )
                )
                due += FRAME_SECONDS
                await asyncio.sleep(max(0.0, due - loop.time()))
        except ConnectionClosed:
            log.info("Media streaming WebSocket closed by the application")
            self._failed("websocket_failed", "streamConnectionInterrupted", None, None)
        finally:
            with contextlib.suppress(Exception):
                await ws.close()

    async def _stream_audio(self, ws: Any) -> None:
        """The call's audio, frame by frame on the call clock, until stopped."""
        from console.emulator.media_frames import AudioFramer

        conversation = self.call.conversation
        assert conversation is not None
        framer = AudioFramer(
            unmixed=self.setup.audio_channel_type.lower() == "unmixed",
            rate=self.sample_rate,
            start=int(conversation.call_time / FRAME_SECONDS),
        )
        while True:
            listening = self.call.listening
            now = int(conversation.call_time / FRAME_SECONDS)
            if listening is not None:
                # A participant on hold is not heard (our choice; no recording shows it).
                held = self.call.server.held
                for packet in framer.frames(listening.audio, now, held=held):
                    await ws.send(json.dumps(packet))
            await asyncio.sleep(FRAME_SECONDS / conversation.speed)
