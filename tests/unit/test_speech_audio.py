"""Audio handling for the recogniser: any WAV in, 16 kHz mono frames, voice activity, tracks."""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

import numpy as np
import pytest

from console.emulator.recognition.audio import (
    FRAME_SAMPLES,
    SAMPLE_RATE,
    AudioFileError,
    load_wav,
    resample,
    wav_duration,
    write_wav,
)
from console.emulator.recognition.recognizer import Decoded, Word, final_packet
from console.emulator.recognition.tracks import CallAudio, Clip, FileTrack, LiveTrack
from console.emulator.recognition.vad import HANGOVER_FRAMES, ONSET_FRAMES, VoiceActivity


def tone(freq: float, seconds: float, rate: int = SAMPLE_RATE, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return amp * np.sin(2 * math.pi * freq * t)


def write_float_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1) -> None:
    """A 32-bit float WAV (format 3), which the stdlib wave module cannot write."""
    data = np.asarray(samples, "<f4").tobytes()
    fmt = struct.pack("<HHIIHH", 3, channels, rate, rate * 4 * channels, 4 * channels, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


def test_a_48k_stereo_file_becomes_16k_mono_with_the_same_sound(tmp_path: Path) -> None:
    left, right = tone(440, 1.0, 48_000), tone(440, 1.0, 48_000)
    stereo = np.stack([left, right], axis=1).reshape(-1)
    path = tmp_path / "stereo.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48_000)
        w.writeframes((stereo * 32767).astype("<i2").tobytes())
    samples = load_wav(path)
    assert samples.dtype == np.int16
    assert samples.size == SAMPLE_RATE
    expected = (tone(440, 1.0) * 32767).astype(np.int16)
    assert np.abs(samples[200:-200].astype(int) - expected[200:-200]).max() < 100
    assert wav_duration(path) == pytest.approx(1.0)


def test_float_and_8k_files_are_converted(tmp_path: Path) -> None:
    path = tmp_path / "phone.wav"
    write_float_wav(path, tone(300, 2.0, 8_000), 8_000)
    samples = load_wav(path)
    assert samples.size == 2 * SAMPLE_RATE
    assert 0.3 < np.abs(samples).max() / 32768 < 0.6


def test_resampling_removes_what_the_new_rate_cannot_hold() -> None:
    high = resample(tone(10_000, 1.0, 48_000), 48_000, SAMPLE_RATE)  # above 8 kHz Nyquist
    assert np.abs(high[100:-100]).max() < 0.01


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "not a WAV file"),
        (b"RIFF\0\0\0\0WAVEjunk", "not a WAV file"),
        (b"ID3\x03\0\0\0\0\0\0 an mp3", "not a WAV file"),
    ],
)
def test_files_that_are_not_wav_are_refused_by_name(
    tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError, match=problem) as caught:
        load_wav(path)
    assert str(path) in str(caught.value)


def test_voice_activity_opens_on_speech_and_closes_after_a_pause() -> None:
    vad = VoiceActivity()
    quiet = np.zeros(FRAME_SAMPLES, np.int16)
    loud = (tone(200, 0.02, amp=0.3) * 32767).astype(np.int16)
    events = []
    frames = [quiet] * 50 + [loud] * 40 + [quiet] * 10 + [loud] * 20 + [quiet] * 60
    for i, frame in enumerate(frames):
        _, opened, closed = vad.push(i, frame)
        if opened:
            events.append(("open", opened.start, i))
        if closed:
            events.append(("close", closed.end, i))
    # One utterance: the 200 ms pause inside it does not split it.
    assert [e[0] for e in events] == ["open", "close"]
    (_, start, opened_at), (_, end, closed_at) = events
    assert opened_at == 50 + ONSET_FRAMES - 1
    assert 40 <= start <= 50  # the pre-roll keeps the onset
    assert closed_at == 120 + HANGOVER_FRAMES - 1
    assert 120 <= end <= 130


def test_a_noisy_background_is_learnt_and_not_taken_for_speech() -> None:
    rng = np.random.default_rng(1)
    vad = VoiceActivity()
    for i in range(500):  # ten seconds of steady hiss at about -40 dBFS
        frame = rng.normal(0, 300, FRAME_SAMPLES).astype(np.int16)
        _, opened, _ = vad.push(i, frame)
        assert opened is None


def test_file_tracks_place_clips_on_the_call_clock() -> None:
    clip = np.arange(3 * FRAME_SAMPLES, dtype=np.int16)
    track = FileTrack("4:+1555", "Dana", [Clip(10, clip)])
    assert (track.first, track.end) == (10, 13)
    out = track.read(9, 14)
    assert not out[:FRAME_SAMPLES].any()
    assert np.array_equal(out[FRAME_SAMPLES : 4 * FRAME_SAMPLES], clip)
    assert not out[4 * FRAME_SAMPLES :].any()


def test_live_tracks_grow_as_audio_arrives_and_tell_their_listeners() -> None:
    audio = CallAudio()
    calls = []
    audio.on_change(lambda: calls.append(1))
    live = LiveTrack("8:acs:mic", "Operator", start=100)
    audio.add(live)
    assert calls == [1]
    assert audio.end is None  # open while the microphone is on
    live.append(b"\1\0" * (FRAME_SAMPLES + 1) + b"\7")  # an odd byte waits for its partner
    assert live.available() == 101
    live.append(b"\0" + b"\0\0" * (FRAME_SAMPLES - 2))
    assert live.available() == 102
    assert live.read(100, 101)[0] == 1
    live.close()
    assert audio.end == 102


def test_a_final_has_display_text_lexical_words_inside_the_audio_and_phrase_confidence() -> None:
    decoded = Decoded(
        "Hi, yes. Thanks!",
        (
            Word("Hi,", 0.0, 0.4, 0.9),
            Word("yes.", 0.45, 0.8, 0.8),
            Word("Thanks!", 1.0, 2.6, 0.5),  # past the 2 s of audio: clamped
        ),
    )
    packet = final_packet("4:+1555", 10.0, 2 * SAMPLE_RATE, decoded)
    assert packet is not None
    body = packet["transcriptionData"]
    assert body["resultStatus"] == "Final"
    assert body["text"] == "Hi, yes. Thanks!"
    assert [w["text"] for w in body["words"]] == ["hi", "yes", "thanks"]
    assert body["words"][0]["offset"] == 100_000_000  # ticks from call start
    last = body["words"][-1]
    assert last["offset"] + last["duration"] == 120_000_000  # ends with the audio
    assert body["confidence"] == pytest.approx((0.9 * 0.8 * 0.5) ** (1 / 3), abs=1e-4)
    assert body["offset"] == 100_000_000


@pytest.mark.parametrize("text", ["", " ", "...", "♪"])
def test_nothing_said_makes_no_final(text: str) -> None:
    assert final_packet("4:+1555", 0.0, SAMPLE_RATE, Decoded(text)) is None
    assert final_packet("4:+1555", 0.0, SAMPLE_RATE, Decoded("Thank you.", speech=False)) is None


def test_written_wavs_read_back(tmp_path: Path) -> None:
    samples = (tone(500, 0.5) * 20000).astype(np.int16)
    write_wav(tmp_path / "a.wav", samples)
    assert np.array_equal(load_wav(tmp_path / "a.wav"), samples)
