"""Child process for the full-location test (not a test module).

Places a real call (emulator and console in this process), saves the transcript, lets it grow,
then saves again while RLIMIT_FSIZE keeps any file from growing past the first save's size —
so the write really fails (EFBIG) the way a full disk fails a write midway. Prints a JSON report
on stdout. The limit applies to this process only, hence a child.

Usage: python full_disk_child.py WORK_DIR
"""

from __future__ import annotations

import asyncio
import json
import resource
import signal
import sys
from pathlib import Path
from typing import Any

from console.config import Profile
from console.emulator.server import Emulator, EmulatorConfig
from console.runtime import ConsoleRuntime
from console.session import CallState, SaveError, TranscriptionState

SPEED = 20.0


async def _until(predicate: Any, timeout: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.02)


async def main(work: Path) -> dict[str, Any]:
    (work / "console").mkdir(parents=True)
    (work / "out").mkdir()
    out = work / "out" / "call.json"
    config = EmulatorConfig(data_dir=work / "emulator", speed=SPEED, answer_delay=0.5)
    async with Emulator(config) as emu:
        profile = Profile.local(emu.info(), speed=SPEED)
        async with ConsoleRuntime(profile, data_dir=work / "console") as rt:
            session = rt.new_session()
            await session.place("+15550100", locale="en-US", start_transcription=True)
            await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, 10)
            await _until(lambda: len(session.transcript.finals) >= 3)
            session.save(out)
            first = len(session.transcript.finals)
            await _until(lambda: len(session.transcript.finals) >= first + 3)
            await session.hang_up()
            await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, 10)

            soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, do not kill us
            resource.setrlimit(resource.RLIMIT_FSIZE, (out.stat().st_size, hard))
            try:
                session.save(out)
                error: dict[str, Any] | None = None
            except SaveError as exc:
                error = {"errno": exc.errno, "reason": exc.strerror, "text": exc.operator_text}
            finally:
                resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
            assert session.journal is not None
            return {
                "error": error,
                "first_save_finals": first,
                "finals": [p.text for p in session.transcript.finals],
                "journal": str(session.journal.path),
            }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1])))))
