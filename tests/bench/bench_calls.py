"""Several calls at once through the real window: what the call in view costs, what the calls out
of view cost, how memory grows, and how fast the view switches to a long call.

Drives the real main window offscreen on a qasync loop. Each call is a ``CallSession`` with no
service (as the screenshots build them) held in the window's call list; its packets go through
the session's own packet path (model, final listeners, unread marks) on the loop, as the
listener would deliver them. Prints:

* live: N calls × 4 speakers, Intermediates at 10 Hz per speaker (a Final every ~2 s), one
  call in view: packet-to-paint p50/p99 for the call in view, the longest event-loop stall,
  process CPU seconds per call-minute; the same with the call in view alone;
* hidden: only the calls out of view talk: flushes, blocks written and paint events in the
  transcript area (all must be 0), and CPU per hidden call-minute;
* switch: bringing a call with 2,000 Finals into view while the others talk, from
  ``CallBook.select`` to the first paint of its transcript (p50/max over several switches);
* long run: ``--minutes`` simulated minutes of every call (30 by default), fed ``--speed``
  times faster than real time: RSS growth per call, Finals kept; then switches between two of
  those long calls.

Run: ``python tests/bench/bench_calls.py [--calls 8] [--seconds 10] [--minutes 30] [--speed 120]``.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import qasync
from bench_window import PaintSpy, Probe, Speaker, open_window, pct, stall_meter
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from console.call.state import CallState, TranscriptionState
from console.session import CallSession
from console.ui.call_book import CallEntry
from console.ui.main_thread_gc import MainThreadCollector
from console.ui.main_window import MainWindow
from console.ui.phrase_view import PhraseView

SPEAKERS_PER_CALL = 4
HZ_PER_SPEAKER = 10
SLICE_S = 0.005


class Call:
    """A session in the window's call list and the four speakers who talk on it."""

    def __init__(self, window: MainWindow, index: int) -> None:
        self.session = CallSession(None, None, default_locale="en-US")  # type: ignore[arg-type]
        self.entry: CallEntry = window.calls.add(self.session)
        now = time.time()
        self.session.transcript.call_started_at = now
        self.session._publish(
            replace(
                self.session.state,
                call=CallState.CONNECTED,
                transcription=TranscriptionState.ACTIVE,
                target=f"4:+1425555{index:04d}",
                connected_at=now,
                requested_locale="en-US",
                confirmed_locale="en-US",
                stream_connected=True,
            )
        )
        self.speakers = [
            Speaker(f"4:+1{index:03d}555{s:04d}", 1.0 + s * 0.3) for s in range(SPEAKERS_PER_CALL)
        ]
        self.turn = 0

    def send(self, *, final: bool = False) -> bool:
        """One packet from the next speaker; True when the model took it."""
        sp = self.speakers[self.turn % len(self.speakers)]
        self.turn += 1
        if final:
            sp.words = sp.goal - 1
        before = self.session.transcript.revision
        self.session.handle_packet("", sp.next_packet())
        return self.session.transcript.revision != before


class AreaSpy(QObject):
    """Counts paint events on widgets inside one widget (the transcript area)."""

    def __init__(self, area: QWidget) -> None:
        super().__init__()
        self.area = area
        self.paints = 0
        self.other = 0

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            if isinstance(obj, QWidget) and (obj is self.area or self.area.isAncestorOf(obj)):
                self.paints += 1
            else:
                self.other += 1
        return False


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def blocks(window: MainWindow) -> int:
    return sum(v.document().blockCount() for v in window.transcript_view.views())


async def stream(
    calls: list[Call], seconds: float, shown: Call | None, probe: Probe, speed: float = 1.0
) -> int:
    """Every call's speakers at 10 Hz each (times ``speed``), in 5 ms slices; the call in view
    feeds the probe."""
    rate = SPEAKERS_PER_CALL * HZ_PER_SPEAKER * speed
    sent = 0
    start = time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(elapsed * rate) - sent
        for _ in range(max(0, due)):
            for call in calls:
                if call.send() and call is shown:
                    probe.applied(call.session.transcript.revision)
            sent += 1
        await asyncio.sleep(SLICE_S)
    return sent * len(calls)


async def live(
    window: MainWindow, calls: list[Call], shown: Call, seconds: float
) -> tuple[int, float, float, float, float]:
    """(packets, p50 ms, p99 ms, longest stall ms, CPU s)."""
    app = QApplication.instance()
    assert app is not None
    view = window.transcript_view
    probe = Probe()
    view.flushed.connect(probe.flushed)
    spy = PaintSpy(probe)
    app.installEventFilter(spy)
    stop = asyncio.Event()
    stalls: list[float] = []
    meter = asyncio.ensure_future(stall_meter(stop, stalls))
    cpu = time.process_time()
    sent = await stream(calls, seconds, shown, probe)
    await asyncio.sleep(0.3)
    cpu = time.process_time() - cpu
    stop.set()
    await meter
    view.flushed.disconnect(probe.flushed)
    app.removeEventFilter(spy)
    lat = [x * 1000 for x in probe.latencies]
    return sent, pct(lat, 0.5), pct(lat, 0.99), max(stalls, default=0.0) * 1000, cpu


async def hidden_only(
    window: MainWindow, calls: list[Call], seconds: float, speed: float = 1.0
) -> tuple[int, int, int, int, float]:
    """Only the calls out of view talk: (flushes, blocks written, paints in the transcript area,
    paints elsewhere, CPU seconds)."""
    app = QApplication.instance()
    assert app is not None
    view = window.transcript_view
    spy = AreaSpy(view)
    app.installEventFilter(spy)
    flushes, written = view.flush_count, blocks(window)
    cpu = time.process_time()
    await stream(calls, seconds, None, Probe(), speed)
    cpu = time.process_time() - cpu
    await asyncio.sleep(0.3)
    app.removeEventFilter(spy)
    return view.flush_count - flushes, blocks(window) - written, spy.paints, spy.other, cpu


async def long_run(calls: list[Call], minutes: float, speed: float) -> int:
    """``minutes`` of talk on every call, ``speed`` times faster than real time."""
    rate = SPEAKERS_PER_CALL * HZ_PER_SPEAKER * speed
    total = int(minutes * 60 * SPEAKERS_PER_CALL * HZ_PER_SPEAKER)
    sent = 0
    start = time.perf_counter()
    while sent < total:
        due = min(total, int((time.perf_counter() - start) * rate)) - sent
        for _ in range(due):
            for call in calls:
                call.send()
        sent += max(0, due)
        await asyncio.sleep(SLICE_S)
    return total * len(calls)


async def switches(
    window: MainWindow, targets: list[Call], rounds: int, busy: list[Call]
) -> list[float]:
    """ms from ``CallBook.select`` to the first paint of the new transcript, per switch, while
    the ``busy`` calls talk."""
    app = QApplication.instance()
    assert app is not None
    out: list[float] = []

    class FirstPaint(QObject):
        def __init__(self) -> None:
            super().__init__()
            self.at: float | None = None
            self.seen = asyncio.Event()

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if (
                self.at is None
                and event.type() == QEvent.Type.Paint
                and isinstance(obj, QWidget)
                and isinstance(obj.parent(), PhraseView)
            ):
                self.at = time.perf_counter()
                self.seen.set()
            return False

    talk = asyncio.ensure_future(stream(busy, rounds * 0.5 + 5, None, Probe()))
    for n in range(rounds):
        call = targets[n % len(targets)]
        await asyncio.sleep(0.4)  # the previous view settled (its older text written)
        spy = FirstPaint()
        app.installEventFilter(spy)
        t0 = time.perf_counter()
        window.calls.select(call.entry)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(spy.seen.wait(), 5.0)
        app.removeEventFilter(spy)
        out.append(((spy.at or t0 + 5.0) - t0) * 1000)
    talk.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await talk
    return out


def row(name: str, *cells: object) -> None:
    print(f"  {name:<44} " + "  ".join(str(c) for c in cells))


async def main(args: argparse.Namespace) -> None:
    window = await open_window()
    n, secs = args.calls, args.seconds
    call_min = secs / 60
    print(
        f"{n} calls × {SPEAKERS_PER_CALL} speakers × {HZ_PER_SPEAKER} Hz Intermediates "
        f"(a Final every ~2 s each), one call in view; {secs:g} s per live case"
    )

    # The call in view alone, then with the others talking out of view (each after a warm-up).
    alone = Call(window, 0)
    window.show_session(alone.session)
    await stream([alone], 1.0, None, Probe())
    p1 = await live(window, [alone], alone, secs)
    others = [Call(window, i) for i in range(1, n)]
    everyone = [alone, *others]
    await stream(everyone, 1.0, None, Probe())
    pn = await live(window, everyone, alone, secs)
    flushes, written, area, other, _cpu = await hidden_only(window, others, secs)
    # CPU of talk out of view, fed fast enough to stand out from the idle window's own.
    fast = 60.0
    cpu_idle = (await hidden_only(window, [], secs))[4]
    cpu_h = (await hidden_only(window, others, secs, fast))[4]
    print("live")
    for name, (sent, p50, p99, stall, cpu), k in (
        ("1 call (in view), 0 out of view", p1, 1),
        (f"{n} calls, 1 in view, {n - 1} out of view", pn, n),
    ):
        row(name, f"packets {sent}")
        row("  packet-to-paint p50 / p99 (call in view)", f"{p50:.1f} / {p99:.1f} ms")
        row("  longest event-loop stall", f"{stall:.1f} ms")
        row("  process CPU per call-minute", f"{cpu / (k * call_min):.2f} s")
    print(f"hidden: only the {n - 1} calls out of view talk for {secs:g} s")
    row("  transcript flushes / blocks written", f"{flushes} / {written}")
    row("  paint events in the transcript area", area)
    row("  paint events elsewhere (row clocks, caret, unread marks)", other)
    print("process CPU")
    row("  window, nobody talking (clocks, caret), per minute", f"{cpu_idle / call_min:.2f} s")
    row("  1 call in view, per call-minute (idle included)", f"{p1[4] / call_min:.2f} s")
    row(f"  {n} calls, 1 in view, per minute", f"{pn[4] / call_min:.2f} s")
    hidden = (cpu_h - cpu_idle) / ((n - 1) * call_min * fast)
    row(
        f"  a call out of view, per call-minute ({n - 1} fed {fast:g}× for {secs:g} s)",
        f"{hidden * 1000:.0f} ms",
    )

    # Switching to a call with 2,000 Finals while the others talk.
    big = [Call(window, 100 + i) for i in range(2)]
    for call in big:
        for _ in range(args.switch_finals):
            call.send(final=True)
    times = await switches(window, big, args.switches, everyone)
    print(f"switch: select a call with {args.switch_finals:,} Finals → first paint ({n} talking)")
    row(f"  p50 / max over {len(times)} switches", f"{pct(times, 0.5):.1f} / {max(times):.1f} ms")
    for call in big:
        window.calls.remove(call.entry)

    # Memory over a long run of every call, simulated at an accelerated rate.
    window.show_session(alone.session)
    await asyncio.sleep(0.5)
    gc.collect()
    rss0 = rss_mb()
    t0 = time.perf_counter()
    sent = await long_run(everyone, args.minutes, args.speed)
    wall = time.perf_counter() - t0
    await asyncio.sleep(0.5)
    gc.collect()
    rss1 = rss_mb()
    finals = [c.session.transcript.final_count for c in everyone]
    growth = (rss1 - rss0) / n
    print(
        f"long run: {args.minutes:g} simulated minutes of {n} calls at {args.speed:g}× "
        f"({wall:.1f} s)"
    )
    if args.minutes < 30:
        print(f"  (shorter than 30 minutes: 30-minute figures below are ×{30 / args.minutes:g})")
    row("  packets / Finals kept per call", f"{sent} / {min(finals)}–{max(finals)}")
    row("  RSS before / after", f"{rss0:.0f} / {rss1:.0f} MB")
    row("  RSS growth per call", f"{growth:.1f} MB ({growth * 60 / args.minutes:.1f} MB per hour)")
    if args.minutes < 30:
        row(
            "  RSS growth per call, 30 minutes (extrapolated)",
            f"{growth * 30 / args.minutes:.1f} MB",
        )
    sent, p50, p99, stall, _cpu = await live(window, everyone, alone, secs)
    print(f"live again after the long run ({n} calls, 1 in view, {min(finals):,}+ Finals each)")
    row("  packet-to-paint p50 / p99 (call in view)", f"{p50:.1f} / {p99:.1f} ms")
    row("  longest event-loop stall", f"{stall:.1f} ms")
    times = await switches(window, others[:2], args.switches, everyone)
    print(f"switch: select a call after the long run ({min(finals):,}+ Finals) → first paint")
    row(f"  p50 / max over {len(times)} switches", f"{pct(times, 0.5):.1f} / {max(times):.1f} ms")
    window.shutdown()
    window.hide()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Several calls benchmark (offscreen).")
    parser.add_argument("--calls", type=int, default=8, help="concurrent calls")
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each live case")
    parser.add_argument("--minutes", type=float, default=30.0, help="simulated long-run minutes")
    parser.add_argument("--speed", type=float, default=120.0, help="long-run speed-up")
    parser.add_argument("--switch-finals", type=int, default=2000, help="Finals in a switched call")
    parser.add_argument("--switches", type=int, default=8, help="switches measured")
    args = parser.parse_args()
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    MainThreadCollector.install(qapp)  # measured as the application runs
    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(qapp)) as runner:
        runner.run(main(args))
