"""Participants' audio over the wire: the live sender against a signed WebSocket peer, and the
client against the emulator's audio endpoints (WAV participants, live participants)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from console import local_audio as la
from console.config import Profile
from console.emulator import hmac_auth
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState
from tests.audio_fixtures import FakeSoundDevice, tone, use_sounddevice, write_wav

WAIT = 10.0
KEY = base64.b64encode(b"a test access key of some length").decode()
CALL = "a1b2c3d4-0000-4000-8000-000000000001"
RAW = "8:acs:local-microphone_5e0f3c1e-8f7a-4b59-9d7a-2c1f0e9b8a77"


# --- a signed WebSocket peer: what the sender puts on the wire --------------------------------


@dataclass
class Peer:
    """Takes live audio like the emulator's endpoint: checks the signature, records frames."""

    refuse: int | None = None  # answer the upgrade with this status instead
    refuse_message: str | None = None  # ... and this error message (else a bare body)
    close_after: int | None = None  # close the socket after this many frames
    frames: list[bytes] = field(default_factory=list)
    arrivals: list[float] = field(default_factory=list)
    queries: list[dict[str, str]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    port: int = 0

    async def audio(self, request: web.Request) -> web.StreamResponse:
        try:
            hmac_auth.verify(
                request.method, request.raw_path, request.headers, b"", base64.b64decode(KEY)
            )
        except hmac_auth.AuthError as exc:
            return web.Response(status=401, text=str(exc))
        if self.refuse is not None:
            if self.refuse_message is None:
                return web.Response(status=self.refuse, text="refused")
            error = {"code": "Refused", "message": self.refuse_message}
            return web.json_response({"error": error}, status=self.refuse)
        self.paths.append(request.match_info["raw"])
        self.queries.append(dict(request.query))
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is not WSMsgType.BINARY:
                continue
            self.frames.append(msg.data)
            self.arrivals.append(time.monotonic())
            if self.close_after is not None and len(self.frames) >= self.close_after:
                await ws.close(code=1000, message=b"call ended")
                break
        self.closed.set()
        return ws

    @property
    def client(self) -> la.EmulatorAudioClient:
        return la.EmulatorAudioClient(f"http://127.0.0.1:{self.port}", KEY)


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    p = Peer()
    app = web.Application()
    app.router.add_get("/emulator/calls/{call}/participants/{raw}/audio", p.audio)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    p.port = runner.addresses[0][1]
    try:
        yield p
    finally:
        await runner.cleanup()


class Ended:
    """``on_live_ended`` as a future."""

    def __init__(self) -> None:
        self.future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

    def __call__(self, message: str | None) -> None:
        if not self.future.done():
            self.future.set_result(message)

    async def wait(self) -> str | None:
        return await asyncio.wait_for(asyncio.shield(self.future), WAIT)


async def test_a_wav_streams_live_at_real_time_pace_in_20ms_frames(
    peer: Peer, tmp_path: Path
) -> None:
    wav = write_wav(tmp_path / "speech.wav", 0.61)  # not a whole number of frames
    ended = Ended()
    audio = la.LocalAudio(peer.client, on_live_ended=ended)
    started = time.monotonic()
    sender = await audio.start_live(
        CALL, RAW, "Dana (mic)", lambda loop: la.WavFileSource(wav, loop)
    )
    assert audio.speaking
    assert await ended.wait() is None  # the file ran out: a normal end
    await asyncio.wait_for(peer.closed.wait(), WAIT)

    assert peer.paths == [RAW]  # the colon-bearing raw id, signed as sent
    assert peer.queries == [{"displayName": "Dana (mic)"}]
    assert {len(f) for f in peer.frames} == {640}
    assert b"".join(peer.frames) == b"".join(la.wav_frames(wav))
    assert sender.stats.frames_sent == len(peer.frames) == 31
    assert sender.closed
    assert not audio.speaking
    assert peer.arrivals[-1] - started >= 0.55  # paced, not sent in one burst


async def test_stopping_closes_the_websocket(peer: Peer, tmp_path: Path) -> None:
    ended = Ended()
    audio = la.LocalAudio(peer.client, on_live_ended=ended)
    wav = write_wav(tmp_path / "long.wav", 10.0)
    await audio.start_live(CALL, RAW, "Dana", lambda loop: la.WavFileSource(wav, loop))
    await asyncio.sleep(0.2)
    await audio.stop_live()
    await asyncio.wait_for(peer.closed.wait(), WAIT)
    assert 3 <= len(peer.frames) < 100
    assert not audio.speaking
    assert not ended.future.done()  # the operator stopped it: nothing to report


async def test_the_peer_closing_ends_live_audio_with_a_plain_message(
    peer: Peer, tmp_path: Path
) -> None:
    peer.close_after = 5
    ended = Ended()
    audio = la.LocalAudio(peer.client, on_live_ended=ended)
    wav = write_wav(tmp_path / "long.wav", 10.0)
    sender = await audio.start_live(CALL, RAW, "Dana", lambda loop: la.WavFileSource(wav, loop))
    message = await ended.wait()
    assert message == "The emulator stopped taking Dana's audio (the call may have ended)."
    assert sender.stats.closed_by_peer == "code 1000"
    assert not audio.speaking


async def test_the_microphone_streams_what_the_sound_card_captures(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = FakeSoundDevice()  # stands in for PortAudio's capture thread
    use_sounddevice(monkeypatch, card)
    audio = la.LocalAudio(peer.client)
    sender = await audio.start_microphone(CALL, RAW, "Operator (microphone)")
    stream = card.streams[0]
    assert stream.settings == {"channels": 1, "dtype": "int16", "device": None}
    assert (stream.samplerate, stream.blocksize) == (16_000, 320)
    await asyncio.sleep(0.3)
    await audio.stop_live()
    await asyncio.wait_for(peer.closed.wait(), WAIT)
    assert stream.closed
    assert sender.closed
    assert 8 <= len(peer.frames) <= stream.blocks
    assert {len(f) for f in peer.frames} == {640}
    assert peer.frames[0] == struct.pack("<320h", *tone(0.02))  # what the card captured first


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (409, "The call is not connected"),
        (400, "only in real time (--speed 1) and with the speech extra installed"),
        (404, "does not know this call"),
        (503, "refused live audio (503)"),
    ],
)
async def test_refused_live_audio_is_explained(peer: Peer, status: int, words: str) -> None:
    peer.refuse = status
    with pytest.raises(la.LocalAudioError, match=re.escape(words)) as refused:
        await peer.client.open_live_participant(CALL, RAW, "Dana")
    assert refused.value.status == status


async def test_the_emulators_own_words_explain_a_refusal(peer: Peer) -> None:
    peer.refuse = 400
    peer.refuse_message = "Live audio needs the speech extra: pip install 'x[speech]'."
    with pytest.raises(la.LocalAudioError) as refused:
        await peer.client.open_live_participant(CALL, RAW, "Dana")
    assert str(refused.value) == peer.refuse_message


async def test_a_wrong_key_is_refused(peer: Peer) -> None:
    client = la.EmulatorAudioClient(
        f"http://127.0.0.1:{peer.port}", base64.b64encode(b"another key entirely").decode()
    )
    with pytest.raises(la.LocalAudioError, match="signature"):
        await client.open_live_participant(CALL, RAW, "Dana")


async def test_a_bad_wav_fails_before_connecting(peer: Peer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    audio = la.LocalAudio(peer.client)
    with pytest.raises(la.LocalAudioError, match=r"bad\.wav cannot be read as a WAV file"):
        await audio.start_live(CALL, RAW, "Dana", lambda loop: la.WavFileSource(bad, loop))
    assert peer.paths == []


# --- against the emulator's audio endpoints -------------------------------------------------


def _local(emu: Emulator) -> Profile:
    return Profile.local(emu.info(), speed=emu.config.speed)


async def _connected_call(rt: ConsoleRuntime) -> CallSession:
    session = rt.new_session()
    await session.place("+15550100", locale="en-US")
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    return session


async def _participants(client: la.EmulatorAudioClient, call_id: str) -> list[str]:
    calls = await client.calls()
    return next(c["participants"] for c in calls if c["callConnectionId"] == call_id)


@contextlib.asynccontextmanager
async def _emulator_call(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    **config: Any,
) -> AsyncIterator[tuple[la.EmulatorAudioClient, CallSession]]:
    emu = await make_emulator(**config)
    rt = await make_runtime(_local(emu))
    client = la.EmulatorAudioClient.from_profile(rt.profile)
    assert client is not None
    session = await _connected_call(rt)
    try:
        yield client, session
    finally:
        if session.state.call is CallState.CONNECTED:
            await session.hang_up()
            await session.wait_for(lambda s: s.call is not CallState.DISCONNECTING, WAIT)


async def test_a_wav_participant_joins_an_emulator_call(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    wav = write_wav(tmp_path / "guest.wav", 1.5)
    async with _emulator_call(make_emulator, make_runtime) as (client, session):
        call_id = session.state.call_connection_id
        assert call_id is not None
        raw = la.new_raw_id("wav")
        added = await client.add_wav_participant(call_id, raw, "Guest", wav)
        assert added == la.AddedParticipant(raw, "Guest", pytest.approx(1.5, abs=0.05))
        assert raw in await _participants(client, call_id)


async def test_the_emulator_refuses_a_bad_wav_and_an_unknown_call_plainly(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEjunk")
    good = write_wav(tmp_path / "fine.wav", 0.2)
    async with _emulator_call(make_emulator, make_runtime) as (client, session):
        call_id = session.state.call_connection_id
        assert call_id is not None
        with pytest.raises(
            la.LocalAudioError, match=r"^broken\.wav was not added to the call: "
        ) as bad_wav:
            await client.add_wav_participant(call_id, la.new_raw_id("wav"), "B", bad)
        assert bad_wav.value.status == 400
        with pytest.raises(
            la.LocalAudioError, match=r"^fine\.wav was not added to the call: "
        ) as no_call:
            await client.add_wav_participant("no-such-call", la.new_raw_id("wav"), "F", good)
        assert no_call.value.status == 404
        assert all(not p.startswith("8:acs:local-") for p in await _participants(client, call_id))


async def test_a_live_participant_streams_a_wav_to_the_emulator(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    wav = write_wav(tmp_path / "live.wav", 1.0)
    async with _emulator_call(make_emulator, make_runtime, speed=1.0) as (client, session):
        call_id = session.state.call_connection_id
        assert call_id is not None
        ended = Ended()
        audio = la.LocalAudio(client, on_live_ended=ended)
        raw = la.new_raw_id("microphone")
        sender = await audio.start_live(
            call_id, raw, "Operator", lambda loop: la.WavFileSource(wav, loop)
        )
        await asyncio.sleep(0.3)
        assert raw in await _participants(client, call_id)  # joined while still talking
        assert await ended.wait() is None
        assert sender.stats.frames_sent == 50
        assert sender.stats.closed_by_peer is None
        assert audio.source is not None
        assert audio.source.queue.dropped == 0


async def test_live_audio_needs_the_emulator_in_real_time(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    async with _emulator_call(make_emulator, make_runtime, speed=20.0) as (client, session):
        call_id = session.state.call_connection_id
        assert call_id is not None
        with pytest.raises(la.LocalAudioError, match="real time") as refused:
            await client.open_live_participant(call_id, la.new_raw_id(), "Operator")
        assert refused.value.status == 400
