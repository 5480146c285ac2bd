"""Participants' audio without the emulator: the microphone check, framing, WAV reading, the
thread-to-loop queue and real-time pacing."""

from __future__ import annotations

import asyncio
import struct
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from console import local_audio as la
from console.config import Preferences, Profile, SecretStore
from tests.audio_fixtures import use_sounddevice, write_wav

# --- the microphone check --------------------------------------------------------------------


def test_without_the_speech_extra_the_problem_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_sounddevice(monkeypatch, ModuleNotFoundError("No module named 'sounddevice'"))
    problem = la.microphone_problem()
    assert problem is not None
    assert "speech extra" in problem
    assert "pip install 'acs-transcription-console[speech]'" in problem


def test_without_portaudio_the_problem_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    use_sounddevice(monkeypatch, OSError("PortAudio library not found"))
    problem = la.microphone_problem()
    assert problem is not None
    assert "PortAudio" in problem
    assert "libportaudio2" in problem


def test_without_an_input_device_the_problem_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_device(**kw: Any) -> None:
        raise ValueError("No input device matching ''")

    use_sounddevice(
        monkeypatch, types.SimpleNamespace(query_devices=no_device, check_input_settings=no_device)
    )
    assert la.microphone_problem() == (
        "No microphone was found: connect one (or enable an audio input) and restart."
    )


def test_a_usable_microphone_has_no_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[dict[str, Any]] = []
    use_sounddevice(
        monkeypatch,
        types.SimpleNamespace(
            query_devices=lambda **kw: {"name": "mic"},
            check_input_settings=lambda **kw: asked.append(kw),
        ),
    )
    assert la.microphone_problem() is None
    assert asked == [{"samplerate": 16_000, "channels": 1, "dtype": "int16"}]


def test_this_machine_says_plainly_why_it_cannot_capture() -> None:
    problem = la.microphone_problem()
    if problem is None:
        pytest.skip("this machine has a usable microphone")
    assert "Traceback" not in problem
    assert any(hint in problem for hint in ("pip install", "PortAudio", "microphone"))


# --- framing and WAV reading -----------------------------------------------------------------


def test_framer_cuts_any_blocks_into_whole_20ms_frames() -> None:
    framer = la.Framer()
    data = bytes(range(256)) * 10  # 2560 bytes: four frames exactly
    out: list[bytes] = []
    for size in (1, 639, 641, 100, 540, 639):
        chunk, data = data[:size], data[size:]
        out += framer.push(chunk)
    assert [len(f) for f in out] == [640] * 4
    assert b"".join(out) == (bytes(range(256)) * 10)[:2560]
    assert framer.flush() is None
    assert framer.push(b"\x01\x02") == []
    assert framer.flush() == b"\x01\x02" + bytes(638)  # padded with silence
    assert framer.flush() is None


def test_a_16k_mono_wav_is_read_unchanged_and_framed(tmp_path: Path) -> None:
    samples = [(i * 37) % 20000 - 10000 for i in range(1000)]
    path = write_wav(tmp_path / "a.wav", 0, samples=samples)
    pcm = la.read_wav_pcm16(path)
    assert pcm == b"".join(struct.pack("<h", s) for s in samples)
    frames = list(la.wav_frames(path))
    assert [len(f) for f in frames] == [640] * 4  # 1000 samples: 3 whole frames + a padded one
    assert frames[-1][80:] == bytes(560)


def test_a_stereo_48k_wav_becomes_16k_mono(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "s.wav", 0.5, rate=48_000, channels=2)
    pcm = la.read_wav_pcm16(path)
    assert len(pcm) == 2 * 8000  # half a second at 16 kHz
    values = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    assert 7000 < max(values) <= 8000  # the tone survives downmix and resampling


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p.write_bytes(b"RIFF not really"), "cannot be read as a WAV file"),
        (lambda p: write_wav(p, 0.1, width=1), "8-bit samples"),
    ],
)
def test_unusable_wav_files_are_refused_plainly(tmp_path: Path, make: Any, words: str) -> None:
    path = tmp_path / "bad.wav"
    make(path)
    with pytest.raises(la.LocalAudioError, match=words) as info:
        la.read_wav_pcm16(path)
    assert "bad.wav" in str(info.value)


# --- from a thread to the loop --------------------------------------------------------------


async def test_the_queue_drops_the_oldest_frames_when_the_sender_falls_behind() -> None:
    queue = la.FrameQueue(asyncio.get_running_loop(), maxsize=5)
    frames = [bytes([i]) * 640 for i in range(12)]

    def capture() -> None:  # a capture thread that nobody keeps up with
        for frame in frames:
            queue.put_threadsafe(frame)
        queue.close_threadsafe()

    thread = threading.Thread(target=capture)
    thread.start()
    await asyncio.to_thread(thread.join)
    got = [frame async for frame in queue]
    assert got == frames[-5:]  # the newest survive, in order
    assert queue.dropped == 7
    assert queue.received == 12
    assert [frame async for frame in queue] == []  # it stays ended


async def test_a_queue_kept_up_with_drops_nothing() -> None:
    queue = la.FrameQueue(asyncio.get_running_loop(), maxsize=3)
    got: list[bytes] = []

    async def consume() -> None:
        got.extend([frame async for frame in queue])

    consumer = asyncio.create_task(consume())
    for i in range(20):
        queue.put_threadsafe(bytes([i]))
        await asyncio.sleep(0.001)
    queue.close()
    await consumer
    assert got == [bytes([i]) for i in range(20)]
    assert queue.dropped == 0


async def test_a_wav_source_delivers_at_real_time_pace(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "t.wav", 0.4)
    source = la.WavFileSource(path, asyncio.get_running_loop())
    assert source.duration == pytest.approx(0.4)
    started = time.monotonic()
    arrivals: list[float] = []
    source.start()
    async for _frame in source.queue:
        arrivals.append(time.monotonic() - started)
    source.stop()
    assert len(arrivals) == 20
    assert source.queue.dropped == 0
    # Frame i is due at i * 20 ms: never early, and the whole file takes its own length.
    assert all(at >= i * 0.02 - 0.005 for i, at in enumerate(arrivals))
    assert 0.37 <= arrivals[-1] < 1.0


async def test_stopping_a_wav_source_ends_its_frames(tmp_path: Path) -> None:
    source = la.WavFileSource(write_wav(tmp_path / "long.wav", 5.0), asyncio.get_running_loop())
    source.start()
    await asyncio.sleep(0.1)
    started = time.monotonic()
    source.stop()
    frames = [f async for f in source.queue]
    assert time.monotonic() - started < 1.0
    assert 1 <= len(frames) < 50


# --- the client from a profile ---------------------------------------------------------------


def _local_profile() -> Profile:
    return Profile.local(
        {
            "connection_string": "endpoint=https://127.0.0.1:4567/;accesskey=c2VjcmV0LWtleS1ieXRlcw==",
            "endpoint": "https://127.0.0.1:4567",
            "cert_path": "/tmp/emulator-cert.pem",
            "jwks_url": "https://127.0.0.1:4567/calling/keys",
            "issuer": "https://127.0.0.1:4567",
            "audience": "aud",
        }
    )


def test_the_client_is_built_from_the_local_profile_and_hides_its_key() -> None:
    client = la.EmulatorAudioClient.from_profile(_local_profile())
    assert client is not None
    assert client.endpoint == "https://127.0.0.1:4567"
    assert client.cafile == "/tmp/emulator-cert.pem"
    assert "c2VjcmV0" not in repr(client)
    assert "c2VjcmV0" not in repr(_local_profile())


def test_an_azure_profile_has_no_emulator_audio() -> None:
    prefs = Preferences(
        public_callback_base="https://cb.example",
        public_websocket_base="wss://ws.example",
        acs_resource_id="00000000-0000-0000-0000-000000000000",
        cognitive_services_endpoint="https://cog.example/",
    )
    secrets = SecretStore()
    secrets.set("endpoint=https://x.communication.azure.com/;accesskey=a2V5", session_only=True)
    assert la.EmulatorAudioClient.from_profile(Profile.azure(prefs, secrets)) is None


def test_participant_names_come_from_file_names() -> None:
    assert la.name_from_file(Path("/x/support_agent-2.wav")) == "support agent 2"
    assert la.name_from_file(Path("/x/___.wav")) == "WAV participant"
    assert la.new_raw_id("wav").startswith("8:acs:local-wav_")
    assert la.new_raw_id() != la.new_raw_id()
