"""Child process for the kill test with several calls (not a test module).

Runs the emulator and a console runtime in this process, as the application does, with
journals encrypted by the data dir's keyring key (the keyring is whatever
PYTHON_KEYRING_BACKEND names: the test gives a file). Places three calls with transcription
and prints each Final as the console receives it, one line each:
``FINAL <target> <speaker raw id> <text as JSON>``. It runs until it is killed (or, should the
test never kill it, ends by itself after a while).

Usage: python several_calls_child.py WORK_DIR
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path

from console.acs.streaming import TranscriptionData
from console.config import Preferences, Profile
from console.emulator.server import Emulator, EmulatorConfig
from console.privacy import journal_options
from console.runtime import ConsoleRuntime

SPEED = 10.0
TARGETS = ("+15550111", "+15550112", "+15550113")
GIVE_UP_S = 120.0  # never outlive a test that failed to kill it


def _printer(target: str) -> Callable[[TranscriptionData], None]:
    def on_final(packet: TranscriptionData) -> None:
        # Said only once the console has the Final (journalled before the signal fires).
        text = json.dumps(packet.text)
        print(f"FINAL {target} {packet.participant_raw_id} {text}", flush=True)

    return on_final


async def main(work: Path) -> None:
    data = work / "console"
    data.mkdir(parents=True, exist_ok=True)
    config = EmulatorConfig(
        data_dir=work / "emulator", speed=SPEED, answer_delay=0.5, hangup_after_script=False
    )
    async with Emulator(config) as emu:
        profile = Profile.local(emu.info(), speed=SPEED)
        options = journal_options(Preferences(), data)
        assert options.key is not None, "the keyring gave no journal key"
        async with ConsoleRuntime(profile, data_dir=data, journal_options=options) as rt:
            for target in TARGETS:
                session = rt.new_session()
                session.subscribe(on_final=_printer(target))
                await session.place(target, locale="en-US", start_transcription=True)
            print("PLACED", flush=True)
            await asyncio.sleep(GIVE_UP_S)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
