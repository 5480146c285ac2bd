"""``acs-console run`` as a user runs it: a real process, the embedded emulator, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.transcript.export import load_json
from console.transcript.journal import find_unfinished, replay
from tests.console_process import acs_console
from tests.journal_keys import file_keyring_env, journal_key


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


def test_run_with_sentiment_and_redaction_prints_alerts_as_they_fire(tmp_path: Path) -> None:
    out = tmp_path / "call.json"
    proc = acs_console(
        "run",
        "--target", "+15550100",
        "--duration", "120",
        "--scenario", "support-call",
        "--speed", "40",
        "--sentiment",
        "--service-redaction",
        "--alert", "cancel my account",
        "--alert", "refund*",
        "--out", str(out),
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    alerts = [line for line in proc.stderr.splitlines() if line.startswith("ALERT ")]
    assert any(" +15550100: cancel my account: " in line for line in alerts), alerts
    assert any(": 3 negative turns in a row: " in line for line in alerts), alerts
    assert any(": refund*: " in line for line in alerts), alerts
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == 2
    assert doc["call"]["intelligence"]["sentiment"] is True
    assert doc["call"]["alert_rules"]["phrases"] == ["cancel my account", "refund*"]
    assert [a["rule"] for a in doc["alerts"]][:2] == [
        "cancel my account",
        "3 negative turns in a row",
    ]
    assert {f["sentiment"] for f in doc["finals"]} >= {"negative", "neutral"}
    assert all(f["language"] is None for f in doc["finals"])
    assert any("4472" not in f["text"] and "****" in f["text"] for f in doc["finals"])
    # Alerts are for the supervisor: on stderr, never mixed into the Finals on stdout.
    assert not any(line.startswith("ALERT") for line in proc.stdout.splitlines())


def test_run_writes_the_format_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "call.out"
    proc = acs_console(
        "run", "--target", "8:acs:test-user", "--duration", "20", "--speed", "40",
        "--format", "srt", "--out", str(out), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert out.read_text(encoding="utf-8").startswith("1\n00:00:")


BAD_RUN_INPUTS = [
    (["--target", "call mum"], "--target", "phone number"),
    (["--locale", "en"], "--locale", "has no region"),
    (["--locale", "en-US-NancyNeural"], "--locale", "voice name"),
    (["--scenario", "nosuch"], "--scenario", "no such scenario"),
    (["--speed", "0"], "--speed", "greater than 0"),
    (["--speed", "fast"], "--speed", "not a number"),
    (["--duration", "-5"], "--duration", "greater than 0"),
    (["--switch-locale", "xx@5s"], "--switch-locale", "has no region"),
    (["--switch-locale", "es-ES@soon"], "--switch-locale", "bad time"),
    (["--switch-locale", "es-ES@90s"], "--switch-locale", "after the call's end"),
    (["--out", "{tmp}/x.docx"], "--out", "unknown suffix"),
    (["--out", "{tmp}/no-such-folder/o.json"], "--out", "does not exist"),
    (["--out", "{tmp}"], "--out", "is a folder"),
    (["--callback-port", "70000"], "--callback-port", "0 to 65535"),
    (["--audio", "4:+15550100=/no/such.wav"], "--audio", "cannot read"),
    (["--audio", "no-equals-sign.wav"], "--audio", "expected PARTICIPANT=FILE.wav"),
    (["--format", "docx"], "--format", "invalid choice"),
    (["--detect-languages", "en-US"], "--detect-languages", "at least two languages"),
    (["--detect-languages", "en-US,es-ES,fr-FR,de-DE,it-IT"], "--detect-languages", "at most 4"),
    (["--detect-languages", "en-US,es"], "--detect-languages", "has no region"),
    (["--detect-languages", "en-US,en-us"], "--detect-languages", "given twice"),
    (
        ["--detect-languages", "en-US,es-ES", "--switch-locale", "es-ES@5s"],
        "--switch-locale",
        "identifies the language",
    ),
    (["--alert", "re:(oops"], "--alert", "not a regular expression"),
    (["--alert", "  "], "--alert", "empty"),
    (["--negative-streak", "-1"], "--negative-streak", "0 (never) to 100"),
    (["--negative-streak", "three"], "--negative-streak", "not a whole number"),
]


@pytest.mark.parametrize(("extra", "argument", "problem"), BAD_RUN_INPUTS)
def test_bad_input_is_refused_before_anything_starts(
    tmp_path: Path, extra: list[str], argument: str, problem: str
) -> None:
    args = {"--target": "+15550100", "--out": str(tmp_path / "x.json"), "--duration": "60"}
    given = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    for flag, value in zip(given[::2], given[1::2], strict=True):
        args[flag] = value
    argv = [item for pair in args.items() for item in pair if pair[0] not in given[::2]]
    proc = acs_console("run", *argv, *given, "--data-dir", str(tmp_path / "data"))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"acs-console run: error: {argument}: "), last
    assert problem in last
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""  # no call placed: no Final ever printed
    # Nothing written: no transcript, not even the data folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_emulator_and_the_window_refuse_bad_input_the_same_way(tmp_path: Path) -> None:
    for argv, argument in (
        (["emulator", "--speed", "-1"], "--speed"),
        (["emulator", "--scenario", "nosuch"], "--scenario"),
        (["emulator", "--port", "99999"], "--port"),
        (["--scenario", "nosuch"], "--scenario"),  # the window: refused before it opens
        (["--callback-port", "x"], "--callback-port"),
    ):
        proc = acs_console(*argv, "--data-dir", str(tmp_path / "data"))
        assert proc.returncode == 2, argv
        command = "acs-console emulator" if argv[0] == "emulator" else "acs-console"
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith(f"{command}: error: {argument}: "), last
        assert "Traceback" not in proc.stderr
    assert not (tmp_path / "data").exists()


def test_a_scenario_file_that_does_not_parse_is_named_with_its_position(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 1, "name": "x",\n "participants": [}\n', encoding="utf-8")
    proc = acs_console(
        "run", "--target", "+15550100", "--out", str(tmp_path / "x.json"),
        "--scenario", str(bad), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("acs-console run: error: --scenario: ")
    assert "bad.json" in last
    assert "line 2 column 19" in last


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
    keys = tmp_path / "keyring.json"  # the run's journal key outlives it, as in a desktop keyring
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "console", "run",
            "--target", "+15550100", "--scenario", "conference", "--speed", "10",
            "--duration", "170", "--out", str(tmp_path / "never.json"), "--data-dir", str(data),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **file_keyring_env(keys)},
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

    key = journal_key(keys, data)
    unfinished = find_unfinished(data, key=key)
    assert len(unfinished) == 1
    recovered = [p.text for p in replay(unfinished[0].path, key=key).finals]
    assert recovered[: len(reported)] == reported
    assert not (tmp_path / "never.json").exists()
    header = json.loads(unfinished[0].path.read_text(encoding="utf-8").splitlines()[0])
    assert header["type"] == "header"
    assert header["sealed"]["alg"] == "AES-256-GCM"  # encrypted at rest


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
