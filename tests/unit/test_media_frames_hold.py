"""Media streaming leaves out a participant on hold and picks them up again where the call is."""

from __future__ import annotations

import base64
import json

import numpy as np

from console.acs.streaming import AudioData, parse_packet
from console.emulator.media_frames import AudioFramer
from console.emulator.recognition.audio import FRAME_SAMPLES, SAMPLE_RATE
from console.emulator.recognition.tracks import CallAudio, Clip, FileTrack

AGENT = "8:acs:agent"
CUSTOMER = "4:+15550100"


def _tone(frames: int, hz: float) -> np.ndarray:
    t = np.arange(frames * FRAME_SAMPLES) / SAMPLE_RATE
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def _call() -> CallAudio:
    audio = CallAudio()
    audio.add(FileTrack(AGENT, "Agent", [Clip(0, _tone(300, 440.0))]))
    audio.add(FileTrack(CUSTOMER, "Customer", [Clip(0, _tone(300, 660.0))]))
    return audio


def _frames(packets: list[dict[str, object]]) -> list[AudioData]:
    parsed = [parse_packet(json.dumps(p)) for p in packets]
    assert all(isinstance(p, AudioData) for p in parsed)
    return parsed  # type: ignore[return-value]


def test_unmixed_frames_skip_the_held_participant_and_resume_in_step() -> None:
    audio = _call()
    framer = AudioFramer(unmixed=True, rate=SAMPLE_RATE, start=0)
    before = _frames(list(framer.frames(audio, 50)))
    held = _frames(list(framer.frames(audio, 100, held={CUSTOMER})))
    after = _frames(list(framer.frames(audio, 150)))

    def count(frames: list[AudioData], who: str) -> int:
        return sum(f.participant_raw_id == who for f in frames)

    assert (count(before, AGENT), count(before, CUSTOMER)) == (50, 50)
    assert (count(held, AGENT), count(held, CUSTOMER)) == (50, 0)
    # Back from hold at frame 100, not replaying frames 50-99: in step with the agent again.
    assert (count(after, AGENT), count(after, CUSTOMER)) == (50, 50)
    customer = [f for f in after if f.participant_raw_id == CUSTOMER]
    expected = _tone(300, 660.0)[100 * FRAME_SAMPLES : 101 * FRAME_SAMPLES]
    assert np.array_equal(np.frombuffer(base64.b64decode(customer[0].data), "<i2"), expected)


def test_mixed_frames_carry_only_who_is_not_held() -> None:
    audio = _call()
    framer = AudioFramer(unmixed=False, rate=SAMPLE_RATE, start=0)
    (frame,) = _frames(list(framer.frames(audio, 1, held={CUSTOMER})))
    (both,) = _frames(list(AudioFramer(unmixed=False, rate=SAMPLE_RATE, start=0).frames(audio, 1)))
    agent_only = _tone(300, 440.0)[:FRAME_SAMPLES]
    assert np.array_equal(np.frombuffer(base64.b64decode(frame.data), "<i2"), agent_only)
    assert not np.array_equal(np.frombuffer(base64.b64decode(both.data), "<i2"), agent_only)
