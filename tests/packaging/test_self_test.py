"""``acs-console --self-test`` from the source tree, as CI runs it on the wheel and bundle."""

from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

from console.transcript.export import load_json
from tests.packaging.conftest import acs_console

JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.")


def test_self_test_passes_and_writes_everything_under_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = acs_console("--self-test", "--verbose", "--data-dir", str(data))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "self-test passed" in proc.stdout
    for step in ("call connected", "transcription on", "Final received and shown", "call ended"):
        assert step in proc.stdout

    # The transcript it saved is a real one, with the Finals it says it received.
    saved = load_json(data / "self-test.json")
    count = int(re.search(r"(\d+) Final\(s\) received", proc.stdout).group(1))
    assert len(saved.finals) == count >= 1
    assert saved.finals[0].text.startswith("Thank you for calling Contoso")

    # The log (DEBUG, with the SDK's and websockets' request detail) is under the data dir and
    # holds no access key or token.
    log_text = (data / "logs" / "acs-console.log").read_text(encoding="utf-8")
    assert "DEBUG" in log_text
    assert "Call connected" in log_text
    key = json.loads((data / "emulator" / "identity.json").read_text())["access_key"]
    assert key not in log_text
    assert not JWT.search(log_text)


def test_self_test_without_data_dir_leaves_nothing_behind(tmp_path: Path) -> None:
    home, scratch = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    scratch.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), TMPDIR=str(scratch))
    proc = acs_console("--self-test", env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "now removed" in proc.stdout
    assert list(scratch.iterdir()) == []
    left = [p for p in home.rglob("*") if "acs" in p.name.lower()]
    assert left == []


def test_self_test_failure_exits_nonzero_with_the_reason(tmp_path: Path) -> None:
    proc = acs_console(
        "--self-test", "--scenario", "no-such-scenario", "--data-dir", str(tmp_path / "data")
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("acs-console self-test FAILED:")
    assert "no-such-scenario: no such scenario" in last
    assert "self-test passed" not in proc.stdout


def test_self_test_reports_a_taken_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = acs_console(
            "--self-test", "--callback-port", str(port), "--data-dir", str(tmp_path / "data")
        )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("acs-console self-test FAILED: the emulator or listeners could not")
    assert str(port) in last or "in use" in last
