"""Saving to a full or read-only place, and starting on a data dir that cannot be used.

Each case makes the write fail for real: a file-size limit (RLIMIT_FSIZE, in a child process)
stops a write midway like a full disk; a read-only folder is made with ``chattr +i`` when
running as root (root ignores mode bits) and with ``chmod`` otherwise, and where neither works
sysfs stands in (the one test that needs an earlier file in the folder is then skipped).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from reliability_kit import WAIT, connected, console_env, local_profile, until

from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallState, SaveError
from console.transcript.export import load_json
from console.transcript.journal import find_unfinished, replay
from tests.journal_keys import file_keyring_env, journal_key

HERE = Path(__file__).resolve().parent
SYSFS = Path("/sys/kernel")

pytestmark = pytest.mark.skipif(os.name != "posix", reason="uses POSIX file-system mechanisms")


def acs_console(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=console_env(),
    )


def _refuses_files(folder: Path) -> bool:
    try:
        with tempfile.TemporaryFile(dir=folder):
            return False
    except OSError:
        return True


def _lock(folder: Path) -> Callable[[], None] | None:
    """Make ``folder`` refuse new files; returns how to undo it, or None when impossible."""
    if os.geteuid() == 0:  # root ignores mode bits; the immutable attribute stops root too
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(folder)]).returncode != 0:
            return None

        def undo() -> None:
            subprocess.run([chattr, "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)

        def undo() -> None:
            folder.chmod(0o755)

    if not _refuses_files(folder):
        undo()
        return None
    return undo


@contextlib.contextmanager
def read_only(folder: Path, *, elsewhere: bool = False) -> Iterator[Path]:
    """``folder`` made read-only for real, whoever runs the tests; with ``elsewhere``, when
    that is impossible here (root without chattr), sysfs: a folder nobody can write to."""
    undo = _lock(folder)
    if undo is None:
        if elsewhere and _refuses_files(SYSFS):
            yield SYSFS
            return
        pytest.skip("cannot make a folder read-only here (root without a working chattr +i)")
    try:
        yield folder
    finally:
        undo()


def test_a_full_location_fails_the_save_plainly_and_keeps_the_earlier_file(
    tmp_path: Path,
) -> None:
    work = tmp_path / "work"
    proc = subprocess.run(
        [sys.executable, str(HERE / "full_disk_child.py"), str(work)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=console_env(),
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)

    error = report["error"]
    assert error is not None, "the save over the size limit did not fail"
    assert error["errno"] == errno.EFBIG
    assert "larger than this location allows" in error["text"]
    assert "earlier file there is unchanged" in error["text"]
    # The earlier save is whole, and nothing half-written lies next to it.
    out = work / "out" / "call.json"
    assert len(load_json(out).finals) == report["first_save_finals"]
    assert report["first_save_finals"] < len(report["finals"])
    assert [p.name for p in out.parent.iterdir()] == ["call.json"]
    # The journal holds the whole call.
    assert [p.text for p in replay(report["journal"]).finals] == report["finals"]


async def test_a_read_only_folder_fails_the_save_plainly_and_keeps_the_earlier_file(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    emu = await make_emulator()
    rt = await make_runtime(local_profile(emu))
    session = await connected(rt)
    await until(lambda: len(session.transcript.finals) >= 2)
    folder = tmp_path / "exports"
    folder.mkdir()
    out = session.save(folder / "call.txt")
    earlier = out.read_bytes()
    count = len(session.transcript.finals)
    await until(lambda: len(session.transcript.finals) > count)

    with read_only(folder), pytest.raises(SaveError) as caught:  # an earlier file is there
        session.save(out)
    err = caught.value
    assert err.strerror in (
        "writing there is not permitted (the folder may be read-only or locked)",
        "there is no permission to write there",
    )
    assert str(out) in err.operator_text
    assert out.read_bytes() == earlier
    assert [p.name for p in folder.iterdir()] == ["call.txt"]
    # The transcript is still whole, live and journalled, and saves fine elsewhere.
    assert session.journal is not None
    live = [p.text for p in session.transcript.finals]
    assert [p.text for p in replay(session.journal.path).finals] == live
    assert [p.text for p in load_json(session.save(tmp_path / "elsewhere.json")).finals] == live
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)


def test_an_output_folder_that_cannot_be_written_is_refused_before_dialing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    with read_only(folder, elsewhere=True) as target:
        proc = acs_console(
            "run", "--target", "+15550100", "--duration", "40", "--speed", "20",
            "--out", str(target / "call.json"), "--data-dir", str(tmp_path / "data"),
        )  # fmt: skip
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("acs-console run: error: --out: ")
    assert "cannot be written to" in last
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""  # no call was placed
    assert not (tmp_path / "data").exists()


def test_a_headless_run_that_cannot_save_keeps_the_call_for_recovery(tmp_path: Path) -> None:
    # The folder is there when the run starts and gone by the time it saves.
    folder = tmp_path / "exports"
    folder.mkdir()
    data = tmp_path / "data"
    keys = tmp_path / "keyring.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "console", "run", "--target", "+15550100", "--duration", "40",
         "--speed", "20", "--out", str(folder / "call.json"), "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=console_env(**file_keyring_env(keys)),
    )  # fmt: skip
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the first Final: the call is under way
    assert first.startswith("FINAL"), first
    shutil.rmtree(folder)
    rest, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in stderr
    assert "The transcript was not saved to" in stderr
    assert "the folder does not exist" in stderr
    assert "offered for recovery at the next start" in stderr
    lines = [first, *rest.splitlines()]
    reported = [line.split(": ", 1)[1].rstrip("\n") for line in lines if "FINAL" in line]
    key = journal_key(keys, data)
    unfinished = find_unfinished(data, key=key)
    assert len(unfinished) == 1
    assert str(unfinished[0].path) in stderr
    assert [p.text for p in replay(unfinished[0].path, key=key).finals] == reported


def test_a_read_only_data_dir_at_start_up_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    with read_only(folder, elsewhere=True) as data:
        run = acs_console("run", "--target", "+15550100", "--out", str(tmp_path / "x.json"),
                          "--data-dir", str(data))  # fmt: skip
        emulator = acs_console("emulator", "--port", "0", "--data-dir", str(data))
    assert run.returncode == 2
    assert f"The data folder {data} cannot be used" in run.stderr
    assert "--data-dir" in run.stderr
    assert emulator.returncode == 2
    assert f"The emulator's data folder {data} cannot be used" in emulator.stderr
    for proc in (run, emulator):
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.json").exists()


def test_a_data_dir_that_cannot_be_created_stops_the_emulator_plainly(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    proc = acs_console("emulator", "--port", "0", "--data-dir", str(blocker / "emu"))
    assert proc.returncode == 2
    assert "The emulator's data folder" in proc.stderr
    assert "cannot be used" in proc.stderr
    assert "Traceback" not in proc.stderr
