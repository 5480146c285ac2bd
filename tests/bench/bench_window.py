"""Window benchmark: packet-to-paint latency and event-loop stalls under a synthetic stream.

Drives the real main window offscreen on a qasync loop, feeding the transcript model directly
(as the session does on the same loop), and prints p50/p99 packet-to-paint latency and the
longest event-loop stall for:

* 8 speakers each sending an intermediate 10 times a second (a Final every ~2 s);
* a burst of 2,000 packets/s;
* 8 speakers × 10 Hz again after 20,000 finals (a four-hour call) are on screen.

Run: ``python tests/bench/bench_window.py [--seconds 5]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication

from console.acs.streaming import TICKS_PER_SECOND, ResultStatus, TranscriptionData
from console.config import Preferences
from console.transcript.model import Transcript
from console.ui.main_thread_gc import MainThreadCollector
from console.ui.main_window import MainWindow
from console.ui.theme import apply_theme

WORDS = [
    "thank",
    "you",
    "for",
    "calling",
    "I",
    "can",
    "see",
    "the",
    "payment",
    "on",
    "your",
    "account",
    "and",
    "the",
    "refund",
    "will",
    "be",
    "on",
    "its",
    "way",
    "within",
    "three",
    "to",
    "five",
    "business",
    "days",
    "is",
    "there",
    "anything",
    "else",
    "I",
    "can",
    "help",
    "with",
]
SPEAKERS = [f"4:+1425555{i:04d}" for i in range(8)]


@dataclass
class Probe:
    """Packet apply times by transcript revision; paint times close them."""

    pending: list[tuple[int, float]] = field(default_factory=list)  # (revision, applied at)
    shown: int = 0  # highest revision flushed to the widgets
    latencies: list[float] = field(default_factory=list)

    def applied(self, revision: int) -> None:
        self.pending.append((revision, time.perf_counter()))

    def flushed(self, revision: int) -> None:
        self.shown = max(self.shown, revision)

    def painted(self) -> None:
        now = time.perf_counter()
        keep = []
        for rev, at in self.pending:
            if rev <= self.shown:
                self.latencies.append(now - at)
            else:
                keep.append((rev, at))
        self.pending = keep


class PaintSpy(QObject):
    def __init__(self, probe: Probe) -> None:
        super().__init__()
        self.probe = probe

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.probe.painted()
        return False


class Speaker:
    def __init__(self, raw_id: str, start: float) -> None:
        self.raw_id = raw_id
        self.offset = start
        self.words = 0
        self.goal = 12

    def next_packet(self) -> TranscriptionData:
        self.words += 1
        final = self.words >= self.goal
        text = " ".join(WORDS[(self.words + i) % len(WORDS)] for i in range(self.words))
        packet = TranscriptionData(
            text.capitalize() + ("." if final else ""),
            self.raw_id,
            ResultStatus.FINAL if final else ResultStatus.INTERMEDIATE,
            int(self.offset * TICKS_PER_SECOND),
            int(self.words * 0.4 * TICKS_PER_SECOND),
            0.9 if final else None,
        )
        if final:
            self.offset += self.words * 0.4 + 0.5
            self.words = 0
            self.goal = 8 + (self.goal * 7) % 9
        return packet


async def stall_meter(stop: asyncio.Event, out: list[float]) -> None:
    tick = 0.005
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(tick)
        out.append(time.perf_counter() - t0 - tick)


async def stream(
    t: Transcript, speakers: list[Speaker], rate: float, seconds: float, probe: Probe
) -> int:
    """Apply ``rate`` packets/s round-robin over the speakers, in 5 ms slices."""
    sent = 0
    start = time.perf_counter()
    i = 0
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(elapsed * rate) - sent
        for _ in range(due):
            sp = speakers[i % len(speakers)]
            i += 1
            change = t.apply_packet(sp.next_packet(), received_at=time.time())
            if change is not None:
                probe.applied(t.revision)
            sent += 1
        await asyncio.sleep(0.005)
    return sent


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_case(
    window: MainWindow, name: str, rate: float, seconds: float, prefill: int = 0
) -> tuple[str, int, float, float, float, float]:
    t = Transcript(call_started_at=time.time())
    view = window.transcript_view
    view.set_transcript(t)
    speakers = [Speaker(r, 1.0 + i * 0.3) for i, r in enumerate(SPEAKERS)]
    if prefill:
        for n in range(prefill):
            sp = speakers[n % len(speakers)]
            sp.words = sp.goal - 1
            t.apply_packet(sp.next_packet(), received_at=time.time())
        view.flush()
        await asyncio.sleep(0.5)
    probe = Probe()
    view.flushed.connect(probe.flushed)
    spy = PaintSpy(probe)
    app = QApplication.instance()
    assert app is not None
    app.installEventFilter(spy)
    flushes = view.flush_count
    stop = asyncio.Event()
    stalls: list[float] = []
    meter = asyncio.ensure_future(stall_meter(stop, stalls))
    sent = await stream(t, speakers, rate, seconds, probe)
    await asyncio.sleep(0.3)
    stop.set()
    await meter
    view.flushed.disconnect(probe.flushed)
    app.removeEventFilter(spy)
    lat = [x * 1000 for x in probe.latencies]
    return (
        name,
        sent,
        pct(lat, 0.5),
        pct(lat, 0.99),
        max(stalls) * 1000 if stalls else float("nan"),
        (view.flush_count - flushes) / seconds,
    )


async def open_window() -> MainWindow:
    """The real main window, shown at a large size, with no runtime (nothing is dialled)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "light")
    data_dir = Path(os.environ.get("TMPDIR", "/tmp")) / "acs-console-bench"
    window = MainWindow(None, prefs=Preferences(), data_dir=data_dir)
    window.resize(1600, 1000)
    window.show()
    await asyncio.sleep(0.3)  # laid out and painted once
    return window


async def main(seconds: float) -> None:
    window = await open_window()
    rows = [
        await run_case(window, "8 speakers x 10 Hz", 80, seconds),
        await run_case(window, "burst 2,000 packets/s", 2000, seconds),
        await run_case(window, "8 x 10 Hz after 20,000 finals", 80, seconds, prefill=20_000),
    ]
    header = ("case", "packets", "p50 ms", "p99 ms", "max stall ms", "flush/s")
    print(f"{header[0]:<32} " + " ".join(f"{h:>12}" for h in header[1:]))
    for name, sent, p50, p99, stall, fps in rows:
        print(f"{name:<32} {sent:>12} {p50:>12.1f} {p99:>12.1f} {stall:>12.1f} {fps:>12.1f}")
    window.shutdown()
    window.hide()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Window latency benchmark (offscreen).")
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each case")
    args = parser.parse_args()
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    MainThreadCollector.install(qapp)  # measured as the application runs
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
        runner.run(main(args.seconds))
