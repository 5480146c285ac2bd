"""Two consoles started at once on the same data dir and the same listener ports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from reliability_kit import console_env, free_port

from console.transcript.export import load_json
from console.transcript.journal import find_unfinished, replay
from tests.journal_keys import file_keyring_env, journal_key


def _run_args(out: Path, data: Path, ports: list[str]) -> list[str]:
    return [
        sys.executable, "-m", "console", "run", "--target", "+15550100",
        "--scenario", "support-call", "--duration", "40", "--speed", "20",
        "--out", str(out), "--data-dir", str(data), *ports,
    ]  # fmt: skip


def test_the_second_console_says_why_and_the_first_ones_call_is_intact(tmp_path: Path) -> None:
    data = tmp_path / "data"  # fresh: both also race to create the emulator's keys in it
    ports = ["--callback-port", str(free_port()), "--ws-port", str(free_port())]
    keys = tmp_path / "keyring.json"  # one keyring: both race to create the journal key too
    procs = [
        subprocess.Popen(
            _run_args(tmp_path / f"call{n}.json", data, ports),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=console_env(**file_keyring_env(keys)),
        )
        for n in (1, 2)
    ]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        results.append((proc.returncode, out, err))

    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    winner = next(n for n, (code, _, _) in enumerate(results, 1) if code == 0)
    _, out, _ = results[winner - 1]
    _, _, refused = results[2 - winner]

    # The second one says why, in words, without a traceback, and wrote nothing.
    assert "is already in use" in refused
    assert "choose another" in refused
    assert "Traceback" not in refused
    assert not (tmp_path / f"call{3 - winner}.json").exists()

    # The first one's call is whole: every reported Final saved, one journal, closed cleanly.
    reported = [line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("FINAL ")]
    assert len(reported) >= 3
    saved = load_json(tmp_path / f"call{winner}.json")
    assert [p.text for p in saved.finals] == reported
    journals = sorted((data / "journals").glob("*.jsonl"))
    assert len(journals) == 1
    key = journal_key(keys, data)
    assert [p.text for p in replay(journals[0], key=key).finals] == reported
    last = json.loads(journals[0].read_text(encoding="utf-8").splitlines()[-1])
    assert last["type"] == "closed"
    assert find_unfinished(data, key=key) == []
