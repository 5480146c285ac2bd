"""Benchmark: packets/s through listener -> parser -> model -> journal, beside a bare loop.

Run: python tests/bench/bench_listener.py [--frames 150000] [--rounds 3]

A sender in another process streams the same pre-built ACS transcript packets (a realistic
mix: ten growing Intermediates per Final, three speakers) as fast as one WebSocket allows to

- bare:    a plain ``websockets`` server whose handler only counts frames, and
- console: the console's TranscriptServer feeding a CallSession (parse, apply to the
           transcript model, append to the journal, fsync per Final in the background),

alternating the two, and prints the median rate of each and their ratio (target >= 0.7).
Not a test: nothing here is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
for path in (ROOT, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_model import frames  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.asyncio.server import ServerConnection, serve  # noqa: E402

from console.acs.calls import CallService  # noqa: E402
from console.acs.streaming import Packet  # noqa: E402
from console.listener.websocket import StreamConnection, TranscriptServer  # noqa: E402
from console.session import CallSession  # noqa: E402

FAKE_CS = "endpoint=https://127.0.0.1:9/;accesskey=YmVuY2htYXJr"  # never contacted


def _send(url: str, count: int, ready: mp.synchronize.Event) -> None:
    per_final = 11
    data = [f for f, _ in frames(count // per_final + 1, per_final - 1)][:count]

    async def run() -> None:
        # The sender offers permessage-deflate, as a generic client does; the server decides.
        async with connect(url, max_queue=None) as ws:
            ready.set()
            for frame in data:
                await ws.send(frame)

    asyncio.run(run())


class _Endpoints:
    def callback_url(self, **query: str) -> str:
        return "http://127.0.0.1:9/unused"

    def transcription_url(self, **query: str) -> str:
        return "ws://127.0.0.1:9/unused"


class _Sink:
    """Routes frames to the session, as ConsoleRuntime does."""

    def __init__(self, session: CallSession) -> None:
        self.session = session
        self.frames = 0
        self.done = asyncio.Event()

    def stream_opened(self, conn: StreamConnection) -> None:
        self.session.stream_opened(conn)

    def packet(self, conn: StreamConnection, frame: str, packet: Packet) -> None:
        self.session.handle_packet(frame, packet)

    def stream_closed(self, conn: StreamConnection, code: int | None, reason: str) -> None:
        self.done.set()


async def _start_sender(url: str, count: int) -> mp.Process:
    ctx = mp.get_context("spawn")  # no forked copy of a running event loop
    ready = ctx.Event()
    proc = ctx.Process(target=_send, args=(url, count, ready), daemon=True)
    proc.start()
    await asyncio.to_thread(ready.wait, 60)  # the loop must keep serving the handshake
    return proc


async def bare(count: int, compression: str | None) -> float:
    received = 0
    done = asyncio.Event()
    first = last = 0.0

    async def handler(ws: ServerConnection) -> None:
        nonlocal received, first, last
        async for _ in ws:
            if received == 0:
                first = time.perf_counter()
            received += 1
        last = time.perf_counter()
        done.set()

    async with serve(handler, "127.0.0.1", 0, compression=compression, max_size=1 << 20) as server:
        port = server.sockets[0].getsockname()[1]
        proc = await _start_sender(f"ws://127.0.0.1:{port}/", count)
        await done.wait()
        await asyncio.to_thread(proc.join)
    return received / (last - first)


async def console(count: int, data_dir: Path) -> tuple[float, int]:
    calls = CallService(FAKE_CS)
    session = CallSession(calls, _Endpoints(), journal_dir=data_dir)
    session._open_journal({"direction": "outbound", "target": "4:+15550100"})
    sink = _Sink(session)
    first = 0.0
    original = sink.packet

    def timed(conn: StreamConnection, frame: str, packet: Packet) -> None:
        nonlocal first
        if not first:
            first = time.perf_counter()
        original(conn, frame, packet)
        sink.frames += 1

    sink.packet = timed  # type: ignore[method-assign]
    async with TranscriptServer(sink, secret="b" * 32, verifier=None) as server:
        proc = await _start_sender(server.url("transcription"), count)
        await sink.done.wait()
        last = time.perf_counter()
        await asyncio.to_thread(proc.join)
    finals = session.transcript.final_count
    session.close()
    await calls.close()
    return sink.frames / (last - first), finals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    plain: list[float] = []
    default: list[float] = []
    console_rates: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.rounds):
            default.append(asyncio.run(bare(args.frames, "deflate")))
            plain.append(asyncio.run(bare(args.frames, None)))
            rate, finals = asyncio.run(console(args.frames, Path(tmp) / f"r{n}"))
            console_rates.append(rate)
    d, p, c = (statistics.median(x) for x in (default, plain, console_rates))
    print(f"{args.frames:,} frames per run, {args.rounds} rounds, median packets/s")
    print(f"{'receiver':<56}{'packets/s':>11}{'console/x':>11}")
    print(f"{'bare websockets loop, library defaults (deflate)':<56}{d:>11,.0f}{c / d:>11.2f}")
    print(f"{'bare websockets loop, compression off (as ours)':<56}{p:>11,.0f}{c / p:>11.2f}")
    print(f"{'console: listener -> parser -> model -> journal':<56}{c:>11,.0f}")
    print(f"(finals applied per console run: {finals:,}; target: console >= 0.70 x bare)")


if __name__ == "__main__":
    main()
