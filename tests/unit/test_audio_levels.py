"""Audio levels: known PCM gives known dBFS; meters hold, fall and go empty; bad frames are
counted and ignored."""

from __future__ import annotations

import base64
import math
import struct

import pytest

from console.acs.streaming import AudioData, AudioMetadata, parse_packet
from console.audio_levels import (
    CALL_MIX,
    EMPTY,
    FLOOR_DB,
    MAX_MEASURED_BYTES,
    PEAK_HOLD_S,
    PEAK_RELEASE_DB_PER_S,
    RELEASE_DB_PER_S,
    SPEAKING_HOLD_S,
    STALE_S,
    AudioLevels,
    decode_frame,
    frame_dbfs,
)

RAW = "4:+15550100"
OTHER = "8:acs:agent"


def pcm(samples: list[int]) -> bytes:
    return struct.pack(f"<{len(samples)}h", *samples)


def b64(samples: list[int]) -> str:
    return base64.b64encode(pcm(samples)).decode("ascii")


def sine(amplitude: float, n: int = 320, rate: int = 16000, hz: float = 1000.0) -> list[int]:
    # 1 kHz at 16 kHz: 16 samples per period, so 320 samples hold whole periods.
    return [round(amplitude * math.sin(2 * math.pi * hz * i / rate)) for i in range(n)]


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        ([32767, -32767] * 160, 20 * math.log10(32767 / 32768)),  # full-scale square: 0 dBFS
        ([16384] * 320, -6.0206),  # half scale DC
        ([-3277] * 320, 20 * math.log10(3277 / 32768)),  # -20 dBFS
        (sine(32767 / 10), 20 * math.log10(32767 / 10 / math.sqrt(2) / 32768)),  # -23 dBFS
        ([1000, -1000, 0, 0], 20 * math.log10(math.sqrt(0.5) * 1000 / 32768)),
    ],
)
def test_known_pcm_gives_known_dbfs(samples: list[int], expected: float) -> None:
    assert frame_dbfs(pcm(samples)) == pytest.approx(expected, abs=0.01)


def test_silence_and_very_quiet_frames_read_as_the_floor() -> None:
    assert frame_dbfs(pcm([0] * 320)) == FLOOR_DB
    assert frame_dbfs(pcm([1, -1] * 160)) == FLOOR_DB  # -90 dBFS, below the meter
    assert frame_dbfs(b"") == FLOOR_DB


def test_a_huge_frame_is_measured_only_up_to_the_cap() -> None:
    loud_then_silent = pcm([16384] * (MAX_MEASURED_BYTES // 2) + [0] * 100_000)
    assert frame_dbfs(loud_then_silent) == pytest.approx(-6.0206, abs=0.01)


@pytest.mark.parametrize(
    "data",
    [
        "",  # no audio
        "AA==",  # 1 byte: odd length
        "AAEC",  # 3 bytes: odd length
        "AAECAw=",  # bad padding
        "AAEC$w==",  # not base64
        "AAECAw==\n",  # strict: no stray characters
        "AAECAw==AAECAw==",  # padding in the middle
        "é" * 8,  # non-ASCII
    ],
)
def test_malformed_frames_are_counted_and_ignored(data: str) -> None:
    levels = AudioLevels(clock=Clock())
    seen: list[int] = []
    levels.subscribe(lambda: seen.append(levels.revision))
    assert decode_frame(data) is None
    assert levels.feed(AudioData(data=data, participant_raw_id=RAW)) is False
    assert levels.malformed == 1
    assert levels.frames == 0
    assert levels.sources() == ()
    assert levels.reading(RAW) is EMPTY
    assert seen == []


def test_a_non_string_payload_from_a_tolerant_parser_never_raises() -> None:
    levels = AudioLevels(clock=Clock())
    assert levels.feed_frame(RAW, None, False) is False  # type: ignore[arg-type]
    assert levels.malformed == 1


def test_frames_from_the_wire_parser_feed_levels_per_participant_and_the_mix() -> None:
    clock = Clock()
    levels = AudioLevels(clock=clock)
    frame = (
        '{"kind":"AudioData","audioData":{"timestamp":"2026-01-15T10:00:03.120Z",'
        f'"participantRawID":"{RAW}","data":"{b64([-3277] * 320)}","silent":false}}}}'
    )
    packet = parse_packet(frame)
    assert isinstance(packet, AudioData)
    assert levels.feed(packet) is True  # a new source
    assert levels.feed(packet) is False
    mixed = parse_packet(
        f'{{"kind":"AudioData","audioData":{{"data":"{b64([0] * 320)}","silent":true}}}}'
    )
    assert isinstance(mixed, AudioData)
    assert mixed.participant_raw_id is None
    assert levels.feed(mixed) is True
    assert levels.sources() == (RAW, CALL_MIX)
    assert levels.frames_of(RAW) == 2
    assert levels.frames == 3
    assert levels.malformed == 0
    r = levels.reading(RAW)
    assert r.level_db == pytest.approx(-20.0, abs=0.01)
    assert r.fraction == pytest.approx(40 / 60, abs=0.001)
    assert (r.speaking, r.live) == (True, True)
    mix = levels.reading(CALL_MIX)
    assert (mix.level_db, mix.speaking, mix.live) == (FLOOR_DB, False, True)
    assert set(levels.readings()) == {RAW, CALL_MIX}


def test_the_level_rises_at_once_and_falls_at_the_release_rate() -> None:
    clock = Clock()
    levels = AudioLevels(clock=clock)
    levels.feed_frame(RAW, b64([-3277] * 320), False)  # -20 dBFS
    clock.now += 0.5
    # A quiet frame does not pull the meter down faster than its release.
    levels.feed_frame(RAW, b64([0] * 320), True)
    assert levels.reading(RAW).level_db == pytest.approx(-20 - RELEASE_DB_PER_S * 0.5, abs=0.01)
    clock.now += 0.1
    assert levels.reading(RAW).level_db == pytest.approx(-20 - RELEASE_DB_PER_S * 0.6, abs=0.01)
    levels.feed_frame(RAW, b64([16384] * 320), False)  # -6 dBFS: straight up
    assert levels.reading(RAW).level_db == pytest.approx(-6.02, abs=0.01)
    clock.now += 60
    assert levels.reading(RAW).level_db == FLOOR_DB


def test_the_peak_holds_then_falls_more_slowly() -> None:
    clock = Clock()
    levels = AudioLevels(clock=clock)
    levels.feed_frame(RAW, b64([16384] * 320), False)  # -6 dBFS peak
    clock.now += PEAK_HOLD_S / 2
    levels.feed_frame(RAW, b64([-3277] * 320), False)  # quieter: the peak stays
    assert levels.reading(RAW).peak_db == pytest.approx(-6.02, abs=0.01)
    clock.now += PEAK_HOLD_S / 2 + 0.2  # 0.2 s past the hold
    r = levels.reading(RAW)
    assert r.peak_db == pytest.approx(-6.02 - PEAK_RELEASE_DB_PER_S * 0.2, abs=0.01)
    assert r.peak_db > r.level_db
    levels.feed_frame(RAW, b64([32767, -32767] * 160), False)  # a new, higher peak
    assert levels.reading(RAW).peak_db == pytest.approx(0.0, abs=0.01)


def test_speaking_follows_the_silent_flag_with_a_short_hold_and_staleness() -> None:
    clock = Clock()
    levels = AudioLevels(clock=clock)
    levels.feed_frame(RAW, b64(sine(8000)), False)
    assert levels.reading(RAW).speaking
    clock.now += SPEAKING_HOLD_S / 2
    levels.feed_frame(RAW, b64(sine(300)), True)  # a gap between words
    assert levels.reading(RAW).speaking
    clock.now += SPEAKING_HOLD_S
    levels.feed_frame(RAW, b64(sine(300)), True)
    r = levels.reading(RAW)
    assert (r.speaking, r.live) == (False, True)
    clock.now += STALE_S + 0.01  # no frames any more
    assert levels.reading(RAW).live is False


def test_reset_empties_every_meter_and_tells_listeners() -> None:
    levels = AudioLevels(clock=Clock())
    calls: list[int] = []
    unsubscribe = levels.subscribe(lambda: calls.append(1))
    levels.set_format(AudioMetadata("sub", "PCM", 16000, 1, 640))
    levels.feed_frame(RAW, b64(sine(8000)), False)
    levels.feed_frame(OTHER, b64(sine(8000)), False)
    assert len(calls) == 3
    assert levels.metadata is not None
    levels.reset()
    assert levels.sources() == ()
    assert levels.metadata is None
    assert levels.reading(RAW) is EMPTY
    assert len(calls) == 4
    levels.reset()  # nothing left to empty: no news
    assert len(calls) == 4
    unsubscribe()
    levels.feed_frame(RAW, b64(sine(8000)), False)
    assert len(calls) == 4


def test_a_failing_listener_does_not_stop_the_frames() -> None:
    levels = AudioLevels(clock=Clock())
    seen: list[int] = []

    def broken() -> None:
        raise RuntimeError("listener bug")

    levels.subscribe(broken)
    levels.subscribe(lambda: seen.append(1))
    levels.feed_frame(RAW, b64(sine(8000)), False)
    assert levels.frames == 1
    assert seen == [1]


def test_an_unusual_format_is_kept_and_still_measured(caplog: pytest.LogCaptureFixture) -> None:
    levels = AudioLevels(clock=Clock())
    levels.set_format(AudioMetadata("sub", "OPUS", 48000, 2, 960))
    assert "levels assume PCM16 mono" in caplog.text
    levels.feed_frame(RAW, b64([-3277] * 480), False)
    assert levels.reading(RAW).level_db == pytest.approx(-20.0, abs=0.01)
