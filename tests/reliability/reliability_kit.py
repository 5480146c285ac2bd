"""Helpers for the reliability tests: ports, waits, child-process emulators, sessions."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

from console.config import Profile
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState, Notice, TranscriptionState
from tests.waiting import until as until  # re-exported for the fault tests

SPEED = 20.0  # call time runs 20x faster than the wall clock
WAIT = 10.0  # seconds any single expected thing may take
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A loopback port that was free a moment ago (for components that need a fixed one)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def console_env(**extra: str) -> dict[str, str]:
    """The environment for a console child process: this checkout importable, unbuffered."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **extra}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    return env


class Notices:
    """What the event log would show for a session."""

    def __init__(self, session: CallSession) -> None:
        self.items: list[Notice] = []
        session.subscribe(on_notice=self.items.append)

    def titled(self, title: str) -> list[Notice]:
        return [n for n in self.items if n.title == title]


class EmulatorProcess:
    """The emulator CLI as a child process on a fixed port and data dir."""

    def __init__(self, data_dir: Path, port: int, *, speed: float = SPEED, **options: Any) -> None:
        self.data_dir = data_dir
        self.port = port
        self.speed = speed
        self.options = {"scenario": "support-call", "answer-delay": 0.5, **options}
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, timeout: float = 20.0) -> dict[str, Any]:
        """Start it and wait until it serves; returns its emulator.json."""
        self.starts += 1
        log = self.data_dir.parent / f"emulator-{self.port}-{self.starts}.log"
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        args = [f"--{k}={v}" for k, v in self.options.items()]
        with log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "console", "emulator",
                "--port", str(self.port), "--data-dir", str(self.data_dir),
                "--speed", str(self.speed), *args,
                stdout=out, stderr=asyncio.subprocess.STDOUT, env=console_env(),
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while b"ACS emulator running at" not in log.read_bytes():
            if self.proc.returncode is not None or loop.time() > deadline:
                raise AssertionError(f"the emulator did not start:\n{log.read_text()}")
            await asyncio.sleep(0.05)
        return json.loads((self.data_dir / "emulator.json").read_text(encoding="utf-8"))

    async def kill(self) -> None:
        """SIGKILL (TerminateProcess on Windows): no cleanup, sockets torn down by the OS."""
        assert self.proc is not None
        self.proc.kill()
        await self.proc.wait()

    async def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def local_profile(emu: Emulator, **kw: Any) -> Profile:
    return Profile.local(emu.info(), speed=emu.config.speed, **kw)


async def connected(
    rt: ConsoleRuntime, *, transcribe: bool = True, target: str = "+15550100"
) -> CallSession:
    """A new session with a connected call (transcription active when asked)."""
    session = rt.new_session()
    await session.place(target, locale="en-US", start_transcription=transcribe)
    if transcribe:
        await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    else:
        await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    return session
