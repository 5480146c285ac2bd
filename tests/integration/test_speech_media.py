"""Media streaming of real audio: the spoken support call, unmixed and mixed, over the wire.

The real SDK asks for media streaming; the emulator opens its WebSocket to a real server here and
sends the call's recordings as PCM frames. Checked: AudioMetadata first, 50 frames per call second
per participant, frames that decode to exactly the recorded samples, ``silent`` following speech.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
import pytest
from azure.communication.callautomation import (
    AudioFormat,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    PhoneNumberIdentifier,
    StreamingTransportType,
)

from console.acs.streaming import AudioData, AudioMetadata, parse_packet
from console.emulator.listening import load_recording
from console.emulator.recognition.audio import FRAME_SAMPLES, FRAME_SECONDS
from console.emulator.scenario import load_scenario
from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, aio_client

SPOKEN = "support-call-spoken"
SPEED = 4.0  # 20 s of call time in 5 s


@pytest.fixture
def emulator_defaults() -> dict[str, Any]:
    return {"speed": SPEED, "answer_delay": 0.2, "scenario": SPOKEN}


async def _stream(
    emu: Emulator, receiver: Receiver, ws_server: WsRecorder, channels: str, seconds: float
) -> tuple[str, list[Any]]:
    async with aio_client(emu) as client:
        props = await client.create_call(
            PhoneNumberIdentifier("+15550100142"),
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
            media_streaming=MediaStreamingOptions(
                transport_url=ws_server.url().replace("transcription", "audio"),
                transport_type=StreamingTransportType.WEBSOCKET,
                content_type=MediaStreamingContentType.AUDIO,
                audio_channel_type=channels,
                start_media_streaming=True,
                audio_format=AudioFormat.PCM16_K_MONO,
            ),
        )
        call_id = props.call_connection_id
        await receiver.wait_for("MediaStreamingStarted", call_id)
        conversation = emu.calls.get(call_id).conversation
        assert conversation is not None
        started_at = conversation.call_time
        frames_for = int(seconds / FRAME_SECONDS)

        def enough() -> bool:
            conn = ws_server.connections[0] if ws_server.connections else None
            return conn is not None and len(conn.frames) > frames_for

        await ws_server.wait(enough, within=seconds / SPEED + 10, what="audio frames")
        await client.get_call_connection(call_id).hang_up(True)
    assert started_at < 1.0  # streaming began right at connect: frame indexes start near 0
    return call_id, [parse_packet(f) for f in ws_server.connections[0].frames]


async def test_unmixed_streaming_sends_each_speakers_recording_frame_by_frame(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu = await make_emulator()
    _, packets = await _stream(
        emu, receiver, ws_server, MediaStreamingAudioChannelType.UNMIXED, seconds=20.0
    )
    meta = packets[0]
    assert isinstance(meta, AudioMetadata)
    assert (meta.encoding, meta.sample_rate, meta.channels, meta.length) == ("PCM", 16000, 1, 640)
    frames = [p for p in packets[1:] if isinstance(p, AudioData)]
    assert len(frames) == len(packets) - 1

    scenario = load_scenario(SPOKEN)
    agent, customer = (p.raw_id for p in scenario.participants)
    by_speaker: dict[str, list[AudioData]] = {}
    for f in frames:
        assert f.participant_raw_id in (agent, customer)
        by_speaker.setdefault(f.participant_raw_id, []).append(f)

    # 50 frames a call second per speaker, from their first word on. Both streams run on the
    # same clock, so whenever the capture stops the agent (first word at 1.5 s) is ahead of the
    # customer by exactly the 50 frames a second between their first words.
    first = scenario.utterances[0]
    assert first.speaker == agent
    customer_first = next(u for u in scenario.utterances if u.speaker == customer)
    agent_frames = by_speaker[agent]
    lead = len(agent_frames) - len(by_speaker[customer])
    assert abs(lead - (customer_first.start - first.start) * 50) <= 3
    assert len(frames) >= 20 * 50 - 2 * first.start * 50

    # Every frame is 20 ms of PCM16 and the agent's first words are exactly the recording.
    pcm = [np.frombuffer(base64.b64decode(f.data), "<i2") for f in agent_frames]
    assert all(p.size == FRAME_SAMPLES for p in pcm)
    heard = np.concatenate(pcm)
    assert first.audio is not None
    recorded = load_recording(first.audio)
    assert np.array_equal(heard[: recorded.size], recorded)

    # ``silent`` follows speech: voiced frames while a recording plays, silent in the gaps.
    length = round(recorded.size / FRAME_SAMPLES)
    during = agent_frames[2 : length - 2]
    assert sum(not f.silent for f in during) > 0.9 * len(during)
    next_own = next(u for u in scenario.utterances[1:] if u.speaker == agent)
    gap = agent_frames[length + 40 : round((next_own.start - first.start) / FRAME_SECONDS) - 5]
    assert gap
    assert all(f.silent for f in gap)
    assert not any(np.frombuffer(base64.b64decode(f.data), "<i2").any() for f in gap)


async def test_mixed_streaming_sends_one_summed_stream(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu = await make_emulator()
    _, packets = await _stream(
        emu, receiver, ws_server, MediaStreamingAudioChannelType.MIXED, seconds=6.0
    )
    frames = [p for p in packets[1:] if isinstance(p, AudioData)]
    assert frames
    assert all(f.participant_raw_id is None for f in frames)
    scenario = load_scenario(SPOKEN)
    start = round(scenario.utterances[0].start / FRAME_SECONDS)
    voiced = [i for i, f in enumerate(frames) if not f.silent]
    assert voiced
    assert abs(voiced[0] - start) <= 15
