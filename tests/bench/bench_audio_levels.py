"""Benchmark: the per-frame cost of audio levels (parse the packet, decode, measure, update).

Run: python tests/bench/bench_audio_levels.py [--frames 20000] [--rounds 5]

ACS streams 50 frames a second per speaker and up to four speakers unmixed: 200 frames/s.
Prints the best per-frame time of each step and the share of one core at 200 frames/s.
Not a test: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import base64
import json
import math
import random
import struct
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.acs.streaming import parse_packet  # noqa: E402
from console.audio_levels import AudioLevels, decode_frame, frame_dbfs  # noqa: E402

RATE = 200  # frames/s: four unmixed speakers


def speech_like(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    return struct.pack(
        f"<{n}h",
        *(
            round(6000 * math.sin(2 * math.pi * 180 * i / 16000) + rng.randint(-800, 800))
            for i in range(n)
        ),
    )


def packet(pcm: bytes, silent: bool) -> str:
    return json.dumps(
        {
            "kind": "AudioData",
            "audioData": {
                "timestamp": "2026-01-15T10:00:03.120Z",
                "participantRawID": "4:+15550100",
                "data": base64.b64encode(pcm).decode("ascii"),
                "silent": silent,
            },
        }
    )


def best(fn: Callable[[], object], number: int, rounds: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=rounds)) / number


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=20000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    levels = AudioLevels()
    levels.subscribe(lambda: None)  # a view's listener: schedule a flush
    for label, samples in (("16 kHz, 640 B", 320), ("24 kHz, 960 B", 480)):
        pcm = speech_like(samples, 1)
        b64 = base64.b64encode(pcm).decode("ascii")
        frame = packet(pcm, False)
        steps = {
            "base64 decode": lambda b64=b64: decode_frame(b64),
            "RMS dBFS": lambda pcm=pcm: frame_dbfs(pcm),
            "feed (decode+measure+meter)": lambda b64=b64: levels.feed_frame("p", b64, False),
            "parse packet + feed": lambda frame=frame: levels.feed(parse_packet(frame)),  # type: ignore[arg-type]
        }
        print(label)
        for name, fn in steps.items():
            t = best(fn, args.frames, args.rounds)
            print(f"  {name:<30} {t * 1e6:7.2f} µs/frame  {t * RATE * 100:6.3f}% of a core")


if __name__ == "__main__":
    main()
