"""Listeners bind loopback unless told otherwise; a public bind must be asked for and is logged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reliability_kit import console_env


def run(tmp_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "console", "run", "--target", "+15550100", "--duration", "10",
            "--speed", "20", "--out", str(tmp_path / "call.json"),
            "--data-dir", str(tmp_path / "data"), *extra,
        ],
        capture_output=True, text=True, timeout=60, check=False, env=console_env(),
    )  # fmt: skip


def test_a_public_bind_is_refused_unless_asked_for_and_then_logged(tmp_path: Path) -> None:
    refused = run(tmp_path, "--listen-host", "0.0.0.0")
    assert refused.returncode == 1
    assert "Refusing to bind the callback listener to 0.0.0.0" in refused.stderr
    assert "non-loopback binding is explicitly enabled" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (tmp_path / "call.json").exists()

    allowed = run(tmp_path, "--listen-host", "0.0.0.0", "--allow-non-loopback")
    assert allowed.returncode == 0, allowed.stderr
    assert "listens on non-loopback address 0.0.0.0: reachable from the network" in allowed.stderr
    assert (tmp_path / "call.json").exists()


def test_by_default_everything_listens_on_loopback_only(tmp_path: Path) -> None:
    proc = run(tmp_path, "-v")
    assert proc.returncode == 0, proc.stderr
    assert "listening: {'callbacks': 'http://127.0.0.1:" in proc.stderr
    assert "'transcripts': 'ws://127.0.0.1:" in proc.stderr
    assert "ACS emulator listening on https://127.0.0.1:" in proc.stderr
    assert "non-loopback" not in proc.stderr
