"""kill -9 with three calls open: the next start offers all three, each complete.

A child process (emulator and console runtime in one process, journals encrypted with the
keyring's key) transcribes three calls at once and prints every Final as the console receives
it. The test SIGKILLs it mid-call, then does what the next start does: lists the unfinished
journals and replays each with the data dir's key from the keyring. Every Final the child
reported before it died is in its own call's recovered transcript, and in no other.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from reliability_kit import console_env

from console import privacy
from console.config import Preferences
from tests.file_keyring import FILE_ENV, FileKeyring
from tests.journal_keys import file_keyring_env

CHILD = Path(__file__).with_name("several_calls_child.py")
TARGETS = ("+15550111", "+15550112", "+15550113")  # as the child places them
FINALS_EACH = 4  # Finals every call must have reported before the kill
READ_LIMIT_S = 90.0  # a generous bound on the whole read, not a timing assertion


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The keyring file the child stores its journal key in; this process reads it too, as
    the next start of the console would read the desktop keyring."""
    path = tmp_path / "keyring.json"
    monkeypatch.setenv(FILE_ENV, str(path))
    before = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    try:
        yield path
    finally:
        keyring.set_keyring(before)


def _run_until_killed(work: Path, keys: Path) -> dict[str, list[tuple[str, str]]]:
    """Start the child, read its Finals until each call reported enough, SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, str(CHILD), str(work)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=console_env(**file_keyring_env(keys)),
    )
    reported: dict[str, list[tuple[str, str]]] = {t: [] for t in TARGETS}
    deadline = time.monotonic() + READ_LIMIT_S
    try:
        assert proc.stdout is not None
        while min(len(r) for r in reported.values()) < FINALS_EACH:
            if time.monotonic() > deadline:
                break
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("FINAL "):
                _, target, raw_id, text = line.rstrip("\n").split(" ", 3)
                reported[target].append((raw_id, json.loads(text)))
        proc.send_signal(signal.SIGKILL)  # mid-call: no hang-up, no journal closed
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    counts = {t: len(r) for t, r in reported.items()}
    assert min(counts.values()) >= FINALS_EACH, f"too few Finals reported: {counts}"
    return reported


def test_three_calls_killed_mid_call_are_all_offered_and_complete(
    tmp_path: Path, file_keyring: Path
) -> None:
    reported = _run_until_killed(tmp_path / "work", file_keyring)
    data = tmp_path / "work" / "console"

    offered = privacy.unfinished_journals(data, Preferences())
    assert sorted(info.call.get("target", "") for info in offered) == sorted(
        f"4:{t}" for t in TARGETS
    )
    for info in offered:
        assert info.encrypted
        assert info.error == ""
        target = str(info.call["target"]).removeprefix("4:")
        recovered = privacy.recover(info.path, data)
        got = Counter((p.raw_id, p.text) for p in recovered.finals)
        missing = Counter(reported[target]) - got
        assert not missing, f"{target}: reported but not recovered: {missing}"
        # Nothing of another call's: its customer is the only one of the three in it.
        speakers = {p.raw_id for p in recovered.finals}
        assert not speakers & {f"4:{t}" for t in TARGETS if t != target}, speakers
        assert f"4:{target}" in speakers
        assert info.finals >= len(reported[target])
