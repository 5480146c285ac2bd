"""Audio streaming end to end: the console asks for it at call setup through the real SDK, the
emulator streams to the console's audio listener, and the frames reach the session's levels
(never the transcript or its journal)."""

from __future__ import annotations

import json
import math
import socket
import struct
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from console.acs.events import IncomingCall
from console.acs.streaming import Packet
from console.audio_levels import CALL_MIX, FLOOR_DB
from console.emulator.server import Emulator
from console.listener.websocket import StreamConnection
from console.runtime import ConsoleRuntime
from console.session import (
    CallSession,
    CallState,
    MediaStreamingState,
    Notice,
    TranscriptionState,
)
from tests.waiting import local, until

WAIT = 10.0
AGENT = "8:acs:7c2f3e1a-9b4d-4e8f-a1c3-5d6e7f809a1b_00000021-4f3a-8b2c-9d0e-1f2a3b4c5d6e"


class PacketSpy:
    """Every packet the runtime routes, with the kind of stream it came on, in order."""

    def __init__(self, rt: ConsoleRuntime) -> None:
        self.seen: list[tuple[str, str]] = []
        route = rt.packet

        def spy(conn: StreamConnection, frame: str, packet: Packet) -> None:
            self.seen.append((conn.kind, type(packet).__name__))
            route(conn, frame, packet)

        rt.packet = spy  # type: ignore[method-assign]

    def kinds(self, stream: str) -> list[str]:
        return [kind for s, kind in self.seen if s == stream]


class Notices:
    def __init__(self, session: CallSession) -> None:
        self.items: list[Notice] = []
        session.subscribe(on_notice=self.items.append)

    def titled(self, title: str) -> list[Notice]:
        return [n for n in self.items if n.title == title]


async def connected(rt: ConsoleRuntime, **kw: Any) -> CallSession:
    session = rt.new_session(**kw)
    await session.place("+15550100", locale="en-US")
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    return session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- works with today's emulator and with per-participant audio ---------------------------------


async def test_a_placed_call_streams_audio_to_the_levels_and_never_to_the_journal(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.3)
    rt = await make_runtime(local(emu))
    assert rt.stream_audio  # on by default with the emulator
    spy = PacketSpy(rt)
    session = await connected(rt)
    notices = Notices(session)
    ccid = session.state.call_connection_id
    assert ccid is not None

    # What went on the wire: the console's audio URL, unmixed 16 kHz PCM, started at setup.
    media = emu.calls.get(ccid).media.setup
    assert media.transport_url == rt.endpoints.audio_url(session=session.id)
    assert media.transport_url.startswith(rt.transcripts.url("audio"))
    assert (media.content_type, media.audio_channel_type) == ("audio", "unmixed")
    assert media.audio_format.lower() == "pcm16kmono"
    assert media.start is True

    await session.wait_for(
        lambda s: s.media_streaming is MediaStreamingState.ACTIVE and s.audio_connected, WAIT
    )
    assert (await rt.calls.get_call(ccid)).media_streaming_state == "active"
    await until(lambda: session.audio.frames >= 25, what="audio frames")

    # AudioMetadata first, then only AudioData, on the audio stream; none on the transcript's.
    audio = spy.kinds("audio")
    assert audio[0] == "AudioMetadata"
    assert set(audio[1:]) == {"AudioData"}
    meta = session.audio.metadata
    assert meta is not None
    assert (meta.encoding, meta.sample_rate, meta.channels, meta.length) == ("PCM", 16000, 1, 640)
    assert session.audio.malformed == 0
    readings = session.audio.readings()
    assert readings
    assert all(r.live for r in readings.values())
    assert all(FLOOR_DB <= r.level_db <= 0.0 for r in readings.values())
    # Someone heard (not the mix) has a participant, so a pane, even before any text.
    known = {p.raw_id for p in session.transcript.participants}
    assert {k for k in readings if k != CALL_MIX} <= known
    assert [n.level for n in notices.titled("Audio streaming started")] == ["info"]

    # Transcription alongside: its own stream, its own counters.
    await session.start_transcription("en-US")
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    await until(lambda: session.transcript.final_count >= 1, what="a final")
    assert session.state.stream_connected
    assert "AudioData" not in spy.kinds("transcription")
    stats = rt.stats()
    assert stats.audio_streams_open == 1
    assert stats.streams_open == 1  # the transcript's
    assert stats.audio_packets == len(spy.kinds("audio"))
    assert stats.packets_received == len(spy.kinds("transcription"))

    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    # The meters read empty once the call is over, and stay so.
    assert session.audio.readings() == {}
    assert session.state.media_streaming is MediaStreamingState.STOPPED
    frames_at_end = session.audio.frames
    # Once the audio stream is closed no frame can arrive any more: wait for that, not a time.
    await until(lambda: rt.stats().audio_streams_open == 0, what="the audio stream closed")
    assert not session.state.audio_connected
    assert session.audio.readings() == {}
    assert session.audio.frames == frames_at_end

    assert session.journal is not None
    journal = session.journal.path.read_text(encoding="utf-8")
    assert "TranscriptionData" in journal
    assert "AudioData" not in journal
    assert "AudioMetadata" not in journal


async def test_with_audio_streaming_off_the_call_asks_for_none(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.3)
    rt = await make_runtime(local(emu, stream_audio=False))
    session = await connected(rt)
    assert emu.calls.get(session.state.call_connection_id).media is None
    await session.start_transcription("en-US")
    await until(lambda: session.transcript.final_count >= 1, what="a final")
    assert session.state.media_streaming is MediaStreamingState.OFF
    assert not session.state.audio_connected
    assert (rt.stats().audio_packets, rt.stats().audio_streams_open) == (0, 0)
    assert session.audio.frames == 0
    await session.hang_up()

    # A session may still ask for it, whatever the profile says.
    session = await connected(rt, stream_audio=True)
    assert emu.calls.get(session.state.call_connection_id).media is not None
    await until(lambda: session.audio.frames > 0, what="audio frames")
    await session.hang_up()


async def test_an_answered_call_asks_for_audio_too(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.2)
    rt = await make_runtime(local(emu))
    rung: list[IncomingCall] = []
    rt.on_incoming_call(rung.append)
    await emu.ring("+15550123", webhook_url=rt.eventgrid_url)
    await until(lambda: rung, what="the ring")
    session = rt.new_session()
    await session.answer(rung[0], locale="en-US", start_transcription=False)
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    media = emu.calls.get(session.state.call_connection_id).media.setup
    assert media.transport_url == rt.endpoints.audio_url(session=session.id)
    await until(lambda: session.audio.frames > 0, what="audio frames")
    await session.hang_up()


async def test_stopping_audio_streaming_empties_the_meters_and_it_can_resume(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.3)
    rt = await make_runtime(local(emu))
    session = await connected(rt)
    notices = Notices(session)
    await until(lambda: session.audio.frames > 0, what="audio frames")

    await session.stop_media_streaming()
    await session.wait_for(lambda s: s.media_streaming is MediaStreamingState.STOPPED, WAIT)
    await session.wait_for(lambda s: not s.audio_connected, WAIT)
    assert session.audio.readings() == {}
    (stopped,) = notices.titled("Audio streaming stopped")
    assert "call and its transcription continue" in stopped.text
    assert "MediaStreamingStopped" in stopped.detail
    assert session.state.call is CallState.CONNECTED

    before = session.audio.frames
    await session.start_media_streaming()
    await session.wait_for(lambda s: s.media_streaming is MediaStreamingState.ACTIVE, WAIT)
    await until(lambda: session.audio.frames > before, what="audio again")
    assert len(notices.titled("Audio streaming started")) == 1
    await session.hang_up()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("unreachable", "could not open the audio connection to this console"),
        ("http://127.0.0.1:9/ws/audio", "did not accept the audio address"),
    ],
)
async def test_a_media_streaming_failure_says_what_went_wrong(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    url: str,
    says: str,
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.3)
    rt = await make_runtime(local(emu))
    if url == "unreachable":
        url = f"ws://127.0.0.1:{free_port()}/ws/audio/nobody-listens"
    rt.endpoints.audio_url = lambda **query: url  # type: ignore[method-assign]
    session = rt.new_session()
    notices = Notices(session)
    await session.place("+15550100", locale="en-US")
    await session.wait_for(lambda s: s.media_streaming is MediaStreamingState.FAILED, WAIT)
    (failed,) = notices.titled("Audio streaming failed")
    assert failed.level == "warning"
    assert says in failed.text
    assert "the call and its transcription are not affected" in failed.text
    assert "MediaStreamingFailed" in failed.detail
    assert session.state.call is CallState.CONNECTED
    assert session.audio.readings() == {}
    # Transcription is indeed unaffected.
    await session.start_transcription("en-US")
    await until(lambda: session.transcript.final_count >= 1, what="a final")
    await session.hang_up()


async def test_the_audio_url_is_rebased_like_the_transcript_url_for_a_tunnel(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator()
    rt = await make_runtime(local(emu))
    rt.profile.public_websocket_base = "wss://abc123-8081.euw.devtunnels.ms"
    assert rt.endpoints.audio_url(session="s1") == (
        f"wss://abc123-8081.euw.devtunnels.ms{rt.transcripts.path('audio')}?session=s1"
    )
    assert rt.endpoints.transcription_url(session="s1") == (
        f"wss://abc123-8081.euw.devtunnels.ms{rt.transcripts.path('transcription')}?session=s1"
    )


# --- needs the emulator to stream each participant's own audio ----------------------------------


def write_bursts(path: Path, seconds: float = 4.0, amplitude: float = 0.3) -> None:
    """16 kHz mono PCM16: 0.4 s of a 300 Hz tone, 0.2 s of silence, repeated."""
    rate = 16000
    samples = []
    for i in range(int(seconds * rate)):
        on = (i % int(0.6 * rate)) < int(0.4 * rate)
        value = amplitude * 32767 * math.sin(2 * math.pi * 300 * i / rate) if on else 0.0
        samples.append(round(value))
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))


async def test_each_speakers_own_audio_reaches_their_level_and_pane(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    write_bursts(tmp_path / "agent.wav")
    scenario = tmp_path / "tones.json"
    scenario.write_text(
        json.dumps(
            {
                "format": 1,
                "name": "tones",
                "participants": [
                    {"raw_id": AGENT, "display_name": "Agent", "audio": "agent.wav"},
                    {"raw_id": "4:+15550100", "display_name": "Customer"},
                ],
            }
        ),
        encoding="utf-8",
    )
    emu = await make_emulator(scenario=str(scenario), speed=1.0, answer_delay=0.3)
    rt = await make_runtime(local(emu))
    spy = PacketSpy(rt)
    session = await connected(rt)
    peak = {"db": FLOOR_DB}

    def loud() -> bool:
        peak["db"] = max(peak["db"], session.audio.reading(AGENT).level_db)
        return peak["db"] > -20.0

    await until(loud, what="the agent's tone on their meter")
    # The tone is -13.5 dBFS RMS; the meter shows about that, not the mix, not clipping.
    assert -16.0 < peak["db"] < -11.0
    assert session.audio.frames_of(AGENT) > 0
    assert session.transcript.participant(AGENT) is not None
    assert spy.kinds("audio")[0] == "AudioMetadata"
    assert session.audio.malformed == 0
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    assert session.audio.reading(AGENT).level_db == FLOOR_DB
