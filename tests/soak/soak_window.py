"""Soak: a long conversation through the real window, offscreen, at high speed.

Run: python tests/soak/soak_window.py [--hours 4] [--speed 120] [--speakers 8]

Builds an N-hour scripted conversation for 8 participants, plays it on the embedded emulator at
``--speed`` times real time, and drives the real MainWindow on the real runtime (the SDK, the
listeners, the transcript model, the journal, the coalesced repaint) exactly as an operator
would: place the call, start transcription (intermediates on), wait for the remote party to hang
up at the end of the script, save JSON. Prints RSS and per-packet CPU at the start and the end,
and whether the saved transcript equals the script, Final for Final. Exits 0 only if it does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from console.config import Preferences, Profile  # noqa: E402
from console.emulator.server import Emulator, EmulatorConfig  # noqa: E402
from console.runtime import ConsoleRuntime  # noqa: E402
from console.session import CallState, TranscriptionState  # noqa: E402
from console.transcript.export import load_json  # noqa: E402
from console.ui.main_thread_gc import MainThreadCollector  # noqa: E402
from console.ui.main_window import MainWindow  # noqa: E402

TARGET = "+15550100100"
SENTENCES = [
    "Thanks, I can see the order on my screen now.",
    "Could you read me the reference number again, please?",
    "The delivery was scheduled for Tuesday morning.",
    "Let me check with the warehouse and come back to you.",
    "That should be fine, as long as the invoice matches.",
    "I will send a confirmation email after this call.",
    "We had the same problem with the previous shipment.",
    "Can everyone see the shared document?",
    "The numbers for the third quarter look better than expected.",
    "I'm not sure that covers the installation costs.",
    "Okay, let's move on to the next item on the list.",
    "Sorry, you broke up for a second there.",
]


def participants(count: int) -> list[dict[str, str]]:
    people = [{"raw_id": f"4:{TARGET}", "display_name": "Caller"}]
    for n in range(1, count):
        if n % 3 == 0:
            raw = f"8:orgid:00000000-0000-4000-8000-{n:012d}"
        else:
            raw = f"8:acs:soak0000-0000-0000-0000-000000000001_{n:08d}-0000-0000-0000-000000000000"
        people.append({"raw_id": raw, "display_name": f"Speaker {n}"})
    return people


def build_scenario(hours: float, speakers: int, seed: int = 7) -> dict[str, object]:
    rng = random.Random(seed)
    people = participants(speakers)
    utterances = []
    # Silence at the start: the operator clicks Start after the call connects, and at a high
    # speed that click takes many seconds of call time.
    t = 120.0
    last_end: dict[str, float] = {}
    while t < hours * 3600:
        who = rng.choice(people)["raw_id"]
        t = max(t, last_end.get(who, 0.0) + 0.3)
        text = rng.choice(SENTENCES)
        words = len(text.split())
        duration = words / 2.5 + 0.6
        utterances.append(
            {
                "speaker": who,
                "start": round(t, 2),
                "text": text,
                "confidence": round(rng.uniform(0.35, 0.98), 2),
            }
        )
        last_end[who] = t + duration
        # Mostly one at a time, sometimes two people overlap.
        t += duration * (0.5 if rng.random() < 0.2 else 1.0) + rng.uniform(0.2, 1.2)
    return {
        "format": 1,
        "name": "soak",
        "description": f"{hours} h, {speakers} speakers, generated",
        "options": {"revision_rate": 0.1},
        "participants": people,
        "utterances": utterances,
    }


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mb: float
    packets: int


def rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def sample(runtime: ConsoleRuntime) -> Sample:
    return Sample(time.monotonic(), time.process_time(), rss_mb(), runtime.stats().packets_received)


async def soak(args: argparse.Namespace, work: Path) -> int:
    scenario = build_scenario(args.hours, args.speakers)
    path = work / "soak.json"
    path.write_text(json.dumps(scenario), encoding="utf-8")
    script = [u["text"] for u in sorted(scenario["utterances"], key=lambda u: u["start"])]
    cfg = EmulatorConfig(
        data_dir=work / "emulator", scenario=path, speed=args.speed, answer_delay=0.2
    )
    samples: list[Sample] = []
    async with Emulator(cfg) as emu:
        profile = Profile.local(emu.info(), speed=args.speed)
        async with ConsoleRuntime(profile, data_dir=work) as runtime:
            window = MainWindow(runtime, prefs=Preferences(), data_dir=work)
            window.resize(1440, 900)
            window.show()
            try:
                cc = window.call_controls
                cc.target.lineEdit().setText(TARGET)
                cc.call_button.click()
                session = await wait_for_session(window)
                await session.wait_for(lambda s: s.call is CallState.CONNECTED, 30)
                window.transcription.toggle.click()
                await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, 30)
                total = args.hours * 3600 / args.speed
                print(
                    f"soak: {args.hours} h of call time, {args.speakers} speakers, "
                    f"{len(script):,} utterances, ~{total:.0f} s at {args.speed}x",
                    flush=True,
                )
                while session.state.call is CallState.CONNECTED:
                    samples.append(sample(runtime))
                    await asyncio.sleep(max(1.0, total / 40))
                samples.append(sample(runtime))
                await window.tasks.wait()
                out = work / "soak-transcript.json"
                window.files.save_to(out, "json")
            finally:
                window.shutdown()
                window.hide()
                window.deleteLater()
    saved = [p.text for p in sorted(load_json(out).finals, key=lambda p: p.start)]
    report(samples, script, saved)
    return 0 if saved == script else 1


async def wait_for_session(window: MainWindow) -> object:
    for _ in range(500):
        if window.session is not None:
            return window.session
        await asyncio.sleep(0.01)
    raise RuntimeError("the window did not start a call")


def report(samples: list[Sample], script: list[str], saved: list[str]) -> None:
    def cost(a: Sample, b: Sample) -> float:
        n = b.packets - a.packets
        return (b.cpu - a.cpu) / n * 1e6 if n else float("nan")

    q = max(1, len(samples) // 4)
    head, tail = samples[: q + 1], samples[-(q + 1) :]
    print(f"{'':28}{'start':>12}{'end':>12}")
    print(f"{'RSS (MB)':28}{samples[0].rss_mb:>12.1f}{samples[-1].rss_mb:>12.1f}")
    print(
        f"{'CPU per packet (us) *':28}{cost(head[0], head[-1]):>12.1f}"
        f"{cost(tail[0], tail[-1]):>12.1f}"
    )
    wall = samples[-1].wall - samples[0].wall
    print(f"packets {samples[-1].packets:,} in {wall:.0f} s; peak RSS {peak_mb():.1f} MB")
    print("* process CPU (window, runtime and emulator share it) over the first/last quarter")
    print(f"finals: script {len(script):,}, saved {len(saved):,}")
    if saved == script:
        print("MATCH: the saved transcript equals the script")
        return
    print("MISMATCH")
    for n, (a, b) in enumerate(zip(script, saved, strict=False)):
        if a != b:
            print(f"  first difference at final {n}: script {a!r}, saved {b!r}")
            break


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--speed", type=float, default=120.0)
    parser.add_argument("--speakers", type=int, default=8)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(["acs-console-soak"])
    MainThreadCollector.install(app)  # as the application does: cycles die on this thread
    loop = qasync.QEventLoop(app)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            return loop.run_until_complete(soak(args, Path(tmp)))
        finally:
            loop.close()


if __name__ == "__main__":
    sys.exit(main())
