"""``acs-console run`` as a user runs it: a real process, the embedded emulator, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from console.transcript.export import load_json
from console.transcript.journal import find_unfinished, replay


def acs_console(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_run_places_transcribes_switches_and_saves(tmp_path: Path) -> None:
    out = tmp_path / "call.json"
    proc = acs_console(
        "run",
        "--target", "+15550100",
        "--locale", "en-US",
        "--switch-locale", "fr-FR@45s",
        "--duration", "75",
        "--scenario", "multilingual",
        "--speed", "25",
        "--out", str(out),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    transcript = load_json(out)
    reported = [line for line in proc.stdout.splitlines() if line.startswith("FINAL ")]
    assert len(reported) == len(transcript.finals) >= 5
    locales = [p.locale for p in transcript.finals]
    assert locales[0] == "en-US"
    assert locales[-1] == "fr-FR"
    assert "Language changed" in proc.stderr
    # Only what it was asked to write: no stray files next to the output.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["call.json", "data"]


def test_run_writes_the_format_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "call.out"
    proc = acs_console(
        "run", "--target", "8:acs:test-user", "--duration", "20", "--speed", "40",
        "--format", "srt", "--out", str(out), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").startswith("1\n00:00:")


def test_run_fails_with_the_operator_message(tmp_path: Path) -> None:
    proc = acs_console(
        "run", "--target", "call mum", "--out", str(tmp_path / "x.json"),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 1
    assert "phone number" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "x.json").exists()

    proc = acs_console(
        "run", "--target", "+15550100", "--locale", "en", "--out", str(tmp_path / "x.json"),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 1
    assert "region" in proc.stderr


def test_an_unusable_data_dir_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = acs_console(
        "run", "--target", "+15550100", "--out", str(tmp_path / "x.json"),
        "--data-dir", str(blocker / "data"),
    )  # fmt: skip
    assert proc.returncode == 2
    assert "data folder" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_killed_console_loses_no_reported_final(tmp_path: Path) -> None:
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "console", "run",
            "--target", "+15550100", "--scenario", "conference", "--speed", "10",
            "--duration", "170", "--out", str(tmp_path / "never.json"), "--data-dir", str(data),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    reported: list[str] = []
    deadline = time.monotonic() + 60
    try:
        assert proc.stdout is not None
        while len(reported) < 6 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            if line.startswith("FINAL "):
                reported.append(line.split(": ", 1)[1].rstrip("\n"))
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert len(reported) >= 6, "the console reported too few finals before the deadline"

    unfinished = find_unfinished(data)
    assert len(unfinished) == 1
    recovered = [p.text for p in replay(unfinished[0].path).finals]
    assert recovered[: len(reported)] == reported
    assert not (tmp_path / "never.json").exists()
    header = json.loads(unfinished[0].path.read_text(encoding="utf-8").splitlines()[0])
    assert header["type"] == "header"


def test_a_well_formed_locale_missing_from_the_list_is_sent_with_a_notice(tmp_path: Path) -> None:
    # Azure adds locales; one the console does not know yet must still be usable.
    out = tmp_path / "call.json"
    proc = acs_console(
        "run", "--target", "+15550100", "--locale", "qq-QQ", "--duration", "20",
        "--speed", "40", "--out", str(out), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "qq-QQ is not in this console's list of transcription locales" in proc.stderr
    transcript = load_json(out)
    assert transcript.finals
    assert {p.locale for p in transcript.finals} == {"qq-QQ"}
