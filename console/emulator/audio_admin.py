"""Admin endpoints that bring talking participants into a call (HMAC-signed like the rest).

``POST /emulator/calls/{callConnectionId}/participants``
    ``{"rawId", "displayName"?, "audioFile": "/absolute/path.wav"}``: that participant joins and
    says the file from the current call time on. 201 ``{"rawId", "displayName", "duration"}``.
``GET /emulator/calls/{callConnectionId}/participants/{rawId}/audio?displayName=...``
    A WebSocket: binary messages of PCM16LE mono 16 kHz (20 ms each is best) are what that
    participant says, live. Closing it ends their audio. Needs ``speed`` 1 (real time).

Both need a connected call and the speech extra (numpy and the recogniser); the error says how
to install it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from console.emulator.service_error import ServiceError, bad_request

if TYPE_CHECKING:
    from console.emulator.calls import Call
    from console.emulator.server import Emulator

log = logging.getLogger(__name__)

LIVE_AUDIO_PATH = "/emulator/calls/{call}/participants/{raw}/audio"
# A live sender may send bigger blocks, but not unbounded ones.
_MAX_MESSAGE = 1 << 20


def _connected(emu: Emulator, call_connection_id: str) -> Call:
    assert emu.calls is not None
    call = emu.calls.get(call_connection_id)  # 404 for an unknown call
    if call.state != "connected":
        raise ServiceError(409, "Conflict", "The call is not connected.")
    return call


def _raw_id(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 256:
        raise bad_request("Give 'rawId': the participant's raw id, e.g. 4:+15550100.")
    return value.strip()


def add_recorded_participant(emu: Emulator, call_connection_id: str, body: dict[str, Any]) -> Any:
    call = _connected(emu, call_connection_id)
    raw_id = _raw_id(body.get("rawId"))
    name = body.get("displayName")
    name = name.strip() if isinstance(name, str) and name.strip() else raw_id
    path = body.get("audioFile")
    if not isinstance(path, str) or not path.strip():
        raise bad_request("Give 'audioFile': the absolute path of a WAV file on this computer.")
    file = Path(path).expanduser()
    if not file.is_absolute():
        raise bad_request("'audioFile' must be an absolute path.")
    from console.emulator.recognition.wavfile import AudioFileError

    listening = call.listen()  # 400 naming the extra when it is not installed
    assert call.conversation is not None
    try:
        length = listening.add_recording(raw_id, name, file, call.conversation.call_time)
    except (AudioFileError, OSError) as exc:
        raise bad_request(f"Cannot use that audio file: {exc}") from None
    call.add_participant(raw_id)
    log.info("Participant %s joined call %s speaking %s", raw_id, call_connection_id[:8], file)
    return web.json_response(
        {"rawId": raw_id, "displayName": name, "duration": round(length, 3)}, status=201
    )


async def live_audio(emu: Emulator, request: web.Request) -> web.StreamResponse:
    call = _connected(emu, request.match_info["call"])
    raw_id = _raw_id(request.match_info["raw"])
    if emu.config.speed != 1.0:
        raise bad_request(
            f"Live audio needs the emulator in real time (speed 1, not {emu.config.speed:g})."
        )
    name = request.query.get("displayName", "").strip() or raw_id
    listening = call.listen()
    ws = web.WebSocketResponse(max_msg_size=_MAX_MESSAGE, heartbeat=20.0)
    await ws.prepare(request)
    assert call.conversation is not None
    track = listening.add_live(raw_id, name, call.conversation.call_time)
    call.add_participant(raw_id)
    log.info("Live participant %s joined call %s", raw_id, call.ids.call_connection_id[:8])
    try:
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                track.append(msg.data)
            elif msg.type == WSMsgType.TEXT:
                await ws.close(code=1003, message=b"send binary PCM16LE 16 kHz mono frames")
    finally:
        track.close()
        log.info("Live participant %s left call %s", raw_id, call.ids.call_connection_id[:8])
    return ws
