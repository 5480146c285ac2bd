"""Benchmark: the local recogniser on the shipped recordings of the spoken support call.

Run: python tests/bench/bench_speech.py [--limit N] [--snr 10] [--speed 1] [--no-sphinx]

Plays every clip of ``support-call-spoken`` (one after another, a second of silence between
them) into the emulator's streaming recogniser in real time (``--speed 2`` plays twice as fast),
exactly as a call's participant would be heard, and prints per condition:

- WER against the script (normalised: case, punctuation, fillers, digits vs number words),
- real-time factor: decoder-thread seconds per second of audio (Finals and Intermediates),
- first-partial latency: speech onset to the first Intermediate (p50 / p90, seconds of audio),
- final latency: end of speech to the Final (p50 / p90),
- the event loop's longest stall meanwhile (decoding runs on a worker thread).

Conditions: the clean recordings, and a noisy copy (white noise at ``--snr`` dB, seeded).
pocketsphinx's bundled US-English model decodes the same clips whole, when it is installed
(``pip install 'acs-transcription-console[speech-tools]'``), for WER and RTF side by side.
Takes about 2 × (audio length / speed) plus the sphinx pass. Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.acs.streaming import TICKS_PER_SECOND  # noqa: E402
from console.emulator.listening import load_recording  # noqa: E402
from console.emulator.recognition.audio import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE  # noqa: E402
from console.emulator.recognition.recognizer import Engine, ParticipantRecognizer  # noqa: E402
from console.emulator.recognition.vad import frame_dbfs  # noqa: E402
from console.emulator.recognition.wer import WerResult, corpus_wer  # noqa: E402
from console.emulator.scenario import load_scenario  # noqa: E402

GAP = 1.0  # seconds of silence between clips


@dataclass
class Clip:
    text: str
    samples: np.ndarray  # int16
    start: float = 0.0  # seconds on the stream
    onset: float = 0.0  # first voiced audio, stream seconds
    offset: float = 0.0  # end of the last voiced audio

    @property
    def end(self) -> float:
        return self.start + self.samples.size / SAMPLE_RATE


@dataclass
class Run:
    name: str
    clips: list[Clip]
    wer: WerResult | None = None
    rtf: float = 0.0
    first_partial: list[float] = field(default_factory=list)
    final: list[float] = field(default_factory=list)
    missed_partials: int = 0
    stall: float = 0.0  # the event loop's longest stall while recognising, seconds


def load_clips(limit: int | None) -> list[Clip]:
    scenario = load_scenario("support-call-spoken")
    clips = []
    for u in scenario.utterances[:limit]:
        assert u.audio is not None
        clips.append(Clip(u.text_for("en-US"), load_recording(u.audio)))
    return clips


def with_noise(clips: list[Clip], snr_db: float, seed: int = 0) -> list[Clip]:
    rng = np.random.default_rng(seed)
    out = []
    for c in clips:
        x = c.samples.astype(np.float64)
        speech_power = np.mean(x[np.abs(x) > 0.01 * 32768] ** 2)
        noise = rng.normal(0, np.sqrt(speech_power / 10 ** (snr_db / 10)), x.size)
        out.append(Clip(c.text, np.clip(x + noise, -32768, 32767).astype(np.int16)))
    return out


def lay_out(clips: list[Clip]) -> np.ndarray:
    """One stream: silence, clip, silence, clip... with each clip's voiced span noted."""
    t = GAP
    pieces = [np.zeros(int(GAP * SAMPLE_RATE), np.int16)]
    for c in clips:
        c.start = t
        levels = [
            frame_dbfs(c.samples[i : i + FRAME_SAMPLES])
            for i in range(0, c.samples.size - FRAME_SAMPLES + 1, FRAME_SAMPLES)
        ]
        voiced = [i for i, lv in enumerate(levels) if lv > -40]
        c.onset = t + (voiced[0] if voiced else 0) * FRAME_SECONDS
        c.offset = t + ((voiced[-1] + 1) if voiced else len(levels)) * FRAME_SECONDS
        pieces += [c.samples, np.zeros(int(GAP * SAMPLE_RATE), np.int16)]
        t = c.end + GAP
    stream = np.concatenate(pieces)
    pad = (-stream.size) % FRAME_SAMPLES
    return np.concatenate([stream, np.zeros(pad, np.int16)])


async def recognise(run: Run, speed: float) -> None:
    stream = lay_out(run.clips)
    engine = Engine()
    engine.warm_up()
    await asyncio.sleep(2.0)  # the model loads before the first word, as on a call
    busy0 = engine.busy_seconds
    packets: list[tuple[float, dict[str, Any]]] = []
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    def stream_time() -> float:
        return (loop.time() - t0) * speed

    recognizer = ParticipantRecognizer(
        "4:+15550100142",
        engine,
        lambda p: packets.append((stream_time(), p["transcriptionData"])),
        locale=lambda: "en-US",
        intermediates=True,
        on_error=lambda exc: print(f"recognition failed: {exc!r}", file=sys.stderr),
    )

    async def watch_loop() -> None:
        while True:  # decoding runs on its own thread: the loop must stay responsive
            began = loop.time()
            await asyncio.sleep(0.01)
            run.stall = max(run.stall, loop.time() - began - 0.01)

    watcher = asyncio.create_task(watch_loop())
    frames = stream.size // FRAME_SAMPLES
    for i in range(frames):
        due = t0 + (i + 1) * FRAME_SECONDS / speed
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        recognizer.push(i, stream[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
    recognizer.flush(frames)
    while not recognizer.idle:  # noqa: ASYNC110 (the recogniser has no completion event)
        await asyncio.sleep(0.05)
    watcher.cancel()
    audio_seconds = sum(c.samples.size for c in run.clips) / SAMPLE_RATE
    run.rtf = (engine.busy_seconds - busy0) / audio_seconds
    await engine.close()
    score(run, packets)


def clip_of(run: Run, offset_ticks: int) -> Clip | None:
    at = offset_ticks / TICKS_PER_SECOND
    return next((c for c in run.clips if c.start - 0.3 <= at < c.end + 0.3), None)


def score(run: Run, packets: list[tuple[float, dict[str, Any]]]) -> None:
    heard: dict[int, list[str]] = {}
    first_partial: dict[int, float] = {}
    for at, p in packets:
        clip = clip_of(run, p["offset"])
        if clip is None:
            continue
        i = run.clips.index(clip)
        if p["resultStatus"] == "Intermediate":
            first_partial.setdefault(i, at)
        else:
            heard.setdefault(i, []).append(p["text"])
            if p["offset"] + p["duration"] >= (clip.offset - 0.5) * TICKS_PER_SECOND:
                run.final.append(at - clip.offset)  # the Final that closes the clip
    for i, clip in enumerate(run.clips):
        if i in first_partial:
            run.first_partial.append(first_partial[i] - clip.onset)
        elif clip.offset - clip.onset > 1.5:
            run.missed_partials += 1
    run.wer = corpus_wer([(c.text, " ".join(heard.get(i, []))) for i, c in enumerate(run.clips)])


def sphinx(clips: list[Clip]) -> tuple[WerResult, float] | None:
    try:
        from pocketsphinx import Decoder
    except ImportError:
        return None
    decoder = Decoder(samprate=SAMPLE_RATE)
    total = 0.0
    pairs = []
    for c in clips:
        began = time.perf_counter()
        decoder.start_utt()
        decoder.process_raw(c.samples.tobytes(), full_utt=True)
        decoder.end_utt()
        total += time.perf_counter() - began
        hyp = decoder.hyp()
        pairs.append((c.text, hyp.hypstr if hyp else ""))
    audio = sum(c.samples.size for c in clips) / SAMPLE_RATE
    return corpus_wer(pairs), total / audio


def pct(values: list[float], q: float) -> str:
    if not values:
        return "—"
    values = sorted(values)
    return f"{values[min(len(values) - 1, int(q * len(values)))]:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N clips")
    parser.add_argument("--snr", type=float, default=10.0, help="noisy copy's SNR in dB")
    parser.add_argument("--speed", type=float, default=1.0, help="play this many times faster")
    parser.add_argument("--no-sphinx", action="store_true", help="skip pocketsphinx")
    args = parser.parse_args()

    clean = load_clips(args.limit)
    noisy = with_noise(clean, args.snr)
    audio = sum(c.samples.size for c in clean) / SAMPLE_RATE
    print(f"support-call-spoken: {len(clean)} clips, {audio:.1f} s of speech, speed {args.speed:g}")
    runs = [
        Run("whisper tiny.en, clean", clean),
        Run(f"whisper tiny.en, {args.snr:g} dB SNR", noisy),
    ]
    for run in runs:
        asyncio.run(recognise(run, args.speed))
    rows = []
    for run in runs:
        assert run.wer is not None
        rows.append(
            (
                run.name,
                f"{100 * run.wer.rate:.1f} %",
                f"{run.rtf:.2f}",
                f"{pct(run.first_partial, 0.5)} / {pct(run.first_partial, 0.9)}",
                f"{pct(run.final, 0.5)} / {pct(run.final, 0.9)}",
                f"{1000 * run.stall:.0f}",
            )
        )
    if not args.no_sphinx:
        for label, clips in (("clean", clean), (f"{args.snr:g} dB SNR", noisy)):
            result = sphinx(clips)
            if result is None:
                print("pocketsphinx is not installed: its rows are left out")
                break
            w, rtf = result
            rows.append(
                (
                    f"pocketsphinx (bundled), {label}",
                    f"{100 * w.rate:.1f} %",
                    f"{rtf:.2f}",
                    "— (whole clip)",
                    "—",
                    "—",
                )
            )
    head = (
        "recogniser", "WER", "RTF", "first partial p50/p90 s", "final p50/p90 s", "loop stall ms"
    )  # fmt: skip
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
    print()
    for r in [head, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    for run in runs:
        if run.missed_partials:
            print(f"{run.name}: {run.missed_partials} clips over 1.5 s had no Intermediate")


if __name__ == "__main__":
    main()
