"""Benchmark: the transcript model and journal over a four-hour call.

Run: python tests/bench/bench_model.py [--finals 20000] [--intermediates 10]

Prints packets/s for parsing, apply_packet, journal append (plain, encrypted, redacted at rest,
both) and the whole receive path, the journal's cost per Final in each mode (its Intermediates
included: what the event loop pays), the time to build the timeline and each export, and the
memory a four-hour call holds (tracemalloc, model only). Not a test: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import gc
import json
import secrets
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from console.acs.streaming import parse_packet  # noqa: E402
from console.transcript.export import render  # noqa: E402
from console.transcript.journal import Journal, replay  # noqa: E402
from console.transcript.model import Transcript  # noqa: E402

SPEAKERS = (
    "4:+15550100",
    "8:acs:bench0000-0000-0000-0000-000000000001_0000000a-0000-0000-0000-000000000001",
    "8:orgid:00000000-0000-0000-0000-0000000000aa",
)
SENTENCE = "thanks for calling how can I help you today with your account number please let me "
SENTENCE += "check that the order was shipped on Monday and should arrive soon"
VOCAB = SENTENCE.split()
WORDS_PER_FINAL = 12
SPACING = 7_200_000  # ticks between utterances: 20,000 of them fill four hours


def _frame(body: dict[str, object]) -> str:
    return json.dumps(
        {"kind": "TranscriptionData", "transcriptionData": body}, separators=(",", ":")
    )


def frames(finals: int, intermediates: int) -> Iterator[tuple[str, bool]]:
    """(frame, is_final) for a call: metadata, then per utterance N hypotheses and a Final."""
    metadata = {"subscriptionId": "bench", "locale": "en-us", "callConnectionId": "cc-bench"}
    yield json.dumps({"kind": "TranscriptionMetadata", "transcriptionMetadata": metadata}), False
    for n in range(finals):
        raw = SPEAKERS[n % len(SPEAKERS)]
        offset = n * SPACING
        words = [VOCAB[(n + i) % len(VOCAB)] for i in range(WORDS_PER_FINAL)]
        for i in range(1, intermediates + 1):
            text = " ".join(words[: max(1, i * WORDS_PER_FINAL // intermediates)])
            body = {
                "text": text,
                "format": "display",
                "offset": offset,
                "duration": i * 500_000,
                "participantRawID": raw,
                "resultStatus": "Intermediate",
            }
            yield _frame(body), False
        body = {
            "text": " ".join(words).capitalize() + ".",
            "format": "display",
            "confidence": 0.9 + (n % 10) / 100,
            "offset": offset,
            "duration": 6_000_000,
            "words": [
                {"text": w, "offset": offset + j * 500_000, "duration": 400_000}
                for j, w in enumerate(words)
            ],
            "participantRawID": raw,
            "resultStatus": "Final",
        }
        yield _frame(body), True


def bench(finals: int, intermediates: int) -> None:
    rows: list[tuple[str, int, float]] = []
    total = finals * (intermediates + 1) + 1
    call_start = 1_700_000_000.0

    # Parse every frame once (kept for the apply and append passes).
    t0 = time.perf_counter()
    stream = [(frame, final, parse_packet(frame)) for frame, final in frames(finals, intermediates)]
    rows.append(("parse_packet", total, time.perf_counter() - t0))

    transcript = Transcript(call_started_at=call_start)
    t0 = time.perf_counter()
    for i, (_, _, packet) in enumerate(stream):
        transcript.apply(packet, received_at=call_start + i * 0.06)
    rows.append(("Transcript.apply_packet", total, time.perf_counter() - t0))
    assert transcript.final_count == finals, transcript.final_count

    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal.create(tmp, {"bench": True})
        t0 = time.perf_counter()
        for i, (frame, final, _) in enumerate(stream):
            journal.append_packet(frame, received_at=call_start + i * 0.06, final=final)
        elapsed = time.perf_counter() - t0
        rows.append(("Journal.append_packet", total, elapsed))
        per_final = {"plain": elapsed / finals}
        journal.close()
        size = journal.path.stat().st_size

        # The other modes, as a session appends (with the parsed packet at hand).
        key = secrets.token_bytes(32)
        sealed_path, sealed_size = None, 0
        for mode, options in (
            ("encrypted", {"key": key}),
            ("redacted", {"redact": True}),
            ("encrypted+redacted", {"key": key, "redact": True}),
        ):
            journal_mode = Journal.create(tmp, {"bench": True}, **options)
            t0 = time.perf_counter()
            for i, (frame, final, packet) in enumerate(stream):
                journal_mode.append_packet(
                    frame, received_at=call_start + i * 0.06, final=final, packet=packet
                )
            elapsed = time.perf_counter() - t0
            rows.append((f"append, {mode}", total, elapsed))
            per_final[mode] = elapsed / finals
            journal_mode.close()
            if mode == "encrypted":
                sealed_path = journal_mode.path
                sealed_size = sealed_path.stat().st_size

        t0 = time.perf_counter()
        replayed = replay(journal.path)
        rows.append(("replay (recovery)", total, time.perf_counter() - t0))
        assert replayed.final_count == finals
        assert sealed_path is not None
        t0 = time.perf_counter()
        assert replay(sealed_path, key=key).final_count == finals
        rows.append(("replay, encrypted", total, time.perf_counter() - t0))

        # The whole receive path, as the listener runs it.
        transcript2 = Transcript(call_started_at=call_start)
        journal2 = Journal.create(tmp, {"bench": True})
        raw_frames = [(frame, final) for frame, final, _ in stream]
        t0 = time.perf_counter()
        for i, (frame, final) in enumerate(raw_frames):
            at = call_start + i * 0.06
            packet = parse_packet(frame)
            transcript2.apply(packet, received_at=at)
            journal2.append_packet(frame, received_at=at, final=final)
        rows.append(("parse + apply + append", total, time.perf_counter() - t0))
        journal2.close()

    t0 = time.perf_counter()
    timeline = transcript.timeline()
    rows.append(("timeline()", len(timeline), time.perf_counter() - t0))
    for fmt in ("txt", "json", "vtt", "srt", "csv"):
        t0 = time.perf_counter()
        render(transcript, fmt)
        rows.append((f"render {fmt}", finals, time.perf_counter() - t0))

    del stream, raw_frames, transcript, transcript2, replayed, timeline
    gc.collect()

    # Memory a four-hour call holds: packets are generated on the fly and dropped, as live.
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    model = Transcript(call_started_at=call_start)
    for i, (frame, _) in enumerate(frames(finals, intermediates)):
        model.apply(parse_packet(frame), received_at=call_start + i * 0.06)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(f"\nTranscript benchmark: {finals:,} finals x {intermediates} intermediates")
    print(f"{'measure':<26}{'items':>10}{'seconds':>10}{'items/s':>14}")
    print("-" * 60)
    for name, count, seconds in rows:
        rate = count / seconds if seconds > 0 else float("inf")
        print(f"{name:<26}{count:>10,}{seconds:>10.3f}{rate:>14,.0f}")
    print("-" * 60)
    print(f"{'journal size':<26}{size / 1e6:>20.1f} MB")
    print(f"{'journal size, encrypted':<26}{sealed_size / 1e6:>20.1f} MB")
    print("-" * 60)
    print(f"journal cost per Final (and its {intermediates} intermediates), on the loop:")
    for mode, seconds in per_final.items():
        print(f"  {mode:<24}{seconds * 1e6:>20.1f} µs")
    print(f"{'model memory, retained':<26}{(current - base) / 1e6:>20.1f} MB")
    print(f"{'model memory, peak':<26}{(peak - base) / 1e6:>20.1f} MB")
    print(f"{'per final (retained)':<26}{(current - base) / finals:>20.0f} bytes")
    assert model.final_count == finals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--finals", type=int, default=20_000)
    parser.add_argument("--intermediates", type=int, default=10)
    args = parser.parse_args()
    bench(args.finals, args.intermediates)


if __name__ == "__main__":
    main()
