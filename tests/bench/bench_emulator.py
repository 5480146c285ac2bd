"""Benchmark: one emulator process holding many concurrent calls streaming in real time.

Run: python tests/bench/bench_emulator.py [--calls 50] [--window 30] [--scenario conference]
[--speed 1]

Starts ``acs-console emulator --speed 1`` (real time; a higher ``--speed`` is a stress test) as
a child process (so its CPU is its own), places
``--calls`` calls through the real SDK with transcription (intermediates on) started at setup,
and receives every stream on its own connection to a real ``websockets`` server in this
process, parsing each packet. Once every stream is up it measures for ``--window`` seconds:

- packets/s delivered (all calls, and per call),
- the emulator's CPU (user+system, from /proc on Linux) as % of one core and per packet,
- real-time lag: how late each Final arrives after the end of its utterance on the call
  clock, relative to the earliest Final of that call (p50/p99/max) — near zero when the
  emulator keeps up.

Not a test: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aiohttp import web  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402

from console.acs.calls import CallService, CallServiceOptions, TranscriptionSettings  # noqa: E402
from console.acs.streaming import TICKS_PER_SECOND  # noqa: E402

TARGETS = "+1555{:07d}"


@dataclass
class Stream:
    packets: int = 0
    finals: list[tuple[float, float]] = field(default_factory=list)  # (arrival, utterance end)


class Receiver:
    """The application side: callbacks answered 200, one WebSocket per call, packets parsed."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.streams: dict[str, Stream] = {}
        self.callbacks = 0
        self.counting = False

    async def callback(self, request: web.Request) -> web.Response:
        await request.read()
        self.callbacks += 1
        return web.Response(status=200)

    async def handler(self, ws: ServerConnection) -> None:
        stream = self.streams.setdefault(ws.request.path, Stream())
        async for frame in ws:
            packet = json.loads(frame)
            if not self.counting:
                continue
            stream.packets += 1
            data = packet.get("transcriptionData")
            if data and data.get("resultStatus") == "Final":
                end = (data["offset"] + data["duration"]) / TICKS_PER_SECOND / self.speed
                stream.finals.append((time.monotonic(), end))

    def total(self) -> int:
        return sum(s.packets for s in self.streams.values())


def cpu_seconds(pid: int) -> float | None:
    """User+system CPU of a live process (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_emulator(
    data: Path, scenario: str, speed: float
) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    log = data / "emulator.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                sys.executable, "-m", "console", "emulator", "--port", "0",
                "--data-dir", str(data / "emulator"), "--speed", str(speed), "--scenario", scenario,
                "--answer-delay", "0.5",
            ],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while b"ACS emulator running at" not in log.read_bytes():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the emulator did not start:\n{log.read_text()}")
        time.sleep(0.05)
    info = json.loads((data / "emulator" / "emulator.json").read_text(encoding="utf-8"))
    return proc, info


def lags(receiver: Receiver) -> list[float]:
    out: list[float] = []
    for stream in receiver.streams.values():
        if not stream.finals:
            continue
        base = min(arrival - end for arrival, end in stream.finals)
        out.extend(arrival - end - base for arrival, end in stream.finals)
    return sorted(out)


async def bench(calls: int, window: float, scenario: str, speed: float, data: Path) -> None:
    emulator, info = start_emulator(data, scenario, speed)
    receiver = Receiver(speed)
    app = web.Application()
    app.router.add_post("/callbacks", receiver.callback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    callback_url = f"http://127.0.0.1:{runner.addresses[0][1]}/callbacks"
    options = CallServiceOptions(
        connection_verify=info["cert_path"],
        caller_id="+15550199",
        cognitive_services_endpoint="https://emulated-speech.cognitiveservices.azure.com/",
    )
    try:
        async with (
            serve(receiver.handler, "127.0.0.1", 0, compression=None, max_queue=None) as ws,
            CallService(info["connection_string"], options) as service,
        ):
            ws_port = ws.sockets[0].getsockname()[1]

            async def place(n: int) -> None:
                transcription = TranscriptionSettings(
                    transport_url=f"ws://127.0.0.1:{ws_port}/call/{n}", locale="en-US", start=True
                )
                await service.create_call(
                    TARGETS.format(n), callback_url, transcription=transcription
                )

            started = time.monotonic()
            await asyncio.gather(*(place(n) for n in range(calls)))
            while len(receiver.streams) < calls:
                if time.monotonic() - started > 60:
                    raise SystemExit(f"only {len(receiver.streams)} of {calls} streams opened")
                await asyncio.sleep(0.05)
            setup = time.monotonic() - started
            await asyncio.sleep(1.0)  # let every call get past its first words

            receiver.counting = True
            cpu0, own0, t0 = cpu_seconds(emulator.pid), time.process_time(), time.monotonic()
            await asyncio.sleep(window)
            receiver.counting = False
            cpu1, own1, t1 = cpu_seconds(emulator.pid), time.process_time(), time.monotonic()
            open_streams = len(receiver.streams)
    finally:
        await runner.cleanup()
        emulator.terminate()
        emulator.wait(30)

    elapsed = t1 - t0
    packets = receiver.total()
    total_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    pace = "real time" if speed == 1 else f"{speed:g}x real time"
    print(f"emulator: {calls} concurrent calls, scenario {scenario!r}, speed {speed:g} ({pace})")
    print(f"  calls placed and streaming after {setup:.1f} s; {open_streams} streams open")
    print(f"  window {elapsed:.1f} s: {packets:,} packets, {receiver.callbacks} callbacks in all")
    rate = packets / elapsed
    print(f"  packets/s delivered: {rate:,.0f} ({rate / calls:.1f} per call)")
    if cpu0 is not None and cpu1 is not None:
        cpu = cpu1 - cpu0
        print(
            f"  emulator CPU: {cpu:.2f} s = {100 * cpu / elapsed:.1f}% of one core, "
            f"{1e6 * cpu / max(packets, 1):.0f} us per packet"
        )
    print(
        f"  emulator CPU over its whole life (rusage): "
        f"{total_cpu.ru_utime + total_cpu.ru_stime:.2f} s"
    )
    print(f"  receiver CPU (this process): {100 * (own1 - own0) / elapsed:.1f}% of one core")
    lag = lags(receiver)
    if lag:
        p50, p99 = statistics.median(lag), lag[min(len(lag) - 1, int(0.99 * len(lag)))]
        print(
            f"  real-time lag of {len(lag)} finals: p50 {1000 * p50:.0f} ms, "
            f"p99 {1000 * p99:.0f} ms, max {1000 * lag[-1]:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("--window", type=float, default=30.0, help="seconds measured")
    parser.add_argument("--scenario", default="conference")
    parser.add_argument("--speed", type=float, default=1.0, help="1 = real time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(args.calls, args.window, args.scenario, args.speed, Path(tmp)))


if __name__ == "__main__":
    main()
