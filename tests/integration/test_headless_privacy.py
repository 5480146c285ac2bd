"""Privacy on the command line, as a user runs it (real processes, the embedded emulator, real
files): ``run --redact``, the journal redacted at rest and encrypted, logs without transcript
text at ``-v``, and ``acs-console redact``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from console.acs.streaming import TICKS_PER_SECOND, TranscriptionData, parse_packet
from console.transcript.export import export, load_json
from console.transcript.journal import replay
from console.transcript.model import Transcript
from tests.console_process import acs_console
from tests.journal_keys import file_keyring_env, journal_key

ROOT = Path(__file__).resolve().parents[2]
# What the support call's caller says that must not be kept (account digits, a spelled name):
# the service's display form writes the spoken digits as numbers.
ACCOUNT = "4472 910 83"
SPELLED = "W H I T F I E L D"
# Phrases only the transcript holds: none of them may reach a log.
DISTINCTIVE = [
    "charged twice",
    "Contoso Internet",
    "billing history",
    "Whitfield",
    ACCOUNT,
    SPELLED,
    "payment card",
]


def finals(stdout: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in stdout.splitlines() if line.startswith("FINAL ")]


def test_run_redact_masks_the_file_and_the_final_lines_and_the_journal_at_rest(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "settings.json").write_text(json.dumps({"redact_at_rest": True}), encoding="utf-8")
    keys = tmp_path / "keyring.json"
    out = tmp_path / "call.json"
    proc = acs_console(
        "run", "--target", "+15550100", "--duration", "60", "--speed", "20", "--redact",
        "--out", str(out), "--data-dir", str(data), env=file_keyring_env(keys),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = finals(proc.stdout)
    assert "Sure, it's, uh, [ACCOUNT]. This is the second mistake this year." in lines
    assert "Dana Whitfield. That's [SPELLED]. Fix this today or I cancel my account." in lines
    assert ACCOUNT not in proc.stdout
    assert SPELLED not in proc.stdout

    saved = out.read_text(encoding="utf-8")
    assert ACCOUNT not in saved
    assert SPELLED not in saved
    doc = json.loads(saved)
    assert doc["redaction"] == {"by": ["console"], "entities": {"ACCOUNT": 1, "SPELLED": 1}}
    assert [p.text for p in load_json(out).finals] == lines

    [journal] = (data / "journals").glob("*.jsonl")
    raw = journal.read_bytes()
    assert b"Contoso" not in raw  # encrypted
    assert json.loads(raw.splitlines()[0])["sealed"]["alg"] == "AES-256-GCM"
    recovered = replay(journal, key=journal_key(keys, data))
    assert [p.text for p in recovered.finals] == lines  # kept redacted, as shown
    assert recovered.call_info["redacted_at_rest"] is True


LOGGED_RUN = textwrap.dedent(
    """
    import sys
    from pathlib import Path

    import console.cli as cli
    from console.logs import install_file_log

    setup = cli._setup_logging

    def setup_with_file(verbose):
        setup(verbose)
        install_file_log(Path(sys.argv[1]), verbose=verbose)

    cli._setup_logging = setup_with_file
    sys.exit(cli.main(sys.argv[2:]))
    """
)


def test_logs_never_hold_transcript_text_even_at_verbose(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    proc = subprocess.run(
        [
            sys.executable, "-c", LOGGED_RUN, str(logs),
            "run", "--target", "+15550100", "--duration", "90", "--speed", "20", "-v",
            "--out", str(tmp_path / "call.json"), "--data-dir", str(tmp_path / "data"),
        ],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    said = finals(proc.stdout)
    assert len(said) >= 8
    assert sum(phrase in proc.stdout for phrase in DISTINCTIVE) == len(DISTINCTIVE)
    log = (logs / "acs-console.log").read_text(encoding="utf-8")
    # ALERT lines are the run's own output on stderr (they quote the Final, as FINAL lines do)
    logged = "\n".join(line for line in proc.stderr.splitlines() if not line.startswith("ALERT "))
    assert " DEBUG " in log  # verbose: the file log has the debug detail
    assert "journal started" in log
    for where, text in (("the log file", log), ("stderr", logged)):
        for phrase in [*DISTINCTIVE, *said]:
            assert phrase not in text, f"{phrase!r} in {where}"


# --- acs-console redact ----------------------------------------------------------------------

CARD = "4111 1111 1111 1111"


def saved_transcript(path: Path) -> Path:
    t = Transcript(call_info={"target": "4:+15550100"}, call_started_at=1_700_000_000.0)
    for n, text in enumerate(
        [f"My card is {CARD}.", "Thanks. And your e-mail?", "dana dot whitfield at contoso dot com"]
    ):
        start = 2.0 + n * 4
        body = {
            "text": text,
            "format": "display",
            "offset": round(start * TICKS_PER_SECOND),
            "duration": 30_000_000,
            "participantRawID": "4:+15550100",
            "resultStatus": "Final",
        }
        packet = parse_packet(json.dumps({"kind": "TranscriptionData", "transcriptionData": body}))
        assert isinstance(packet, TranscriptionData)
        t.apply_packet(packet, received_at=1_700_000_000.0 + start + 1)
    return export(t, path, "json")


def test_redact_writes_a_redacted_copy_in_the_format_asked_for(tmp_path: Path) -> None:
    saved = saved_transcript(tmp_path / "saved.json")
    before = saved.read_bytes()

    proc = acs_console("redact", str(saved), "--out", str(tmp_path / "copy.txt"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f"Wrote {tmp_path / 'copy.txt'} (TXT); masked 1 CARD, 1 EMAIL"
    )
    text = (tmp_path / "copy.txt").read_text(encoding="utf-8")
    assert "Redacted by the console: personal data masked (console: CARD 1, EMAIL 1)" in text
    assert "My card is [CARD]." in text
    assert "4111" not in text
    assert "whitfield" not in text

    proc = acs_console(
        "redact", str(saved), "--out", str(tmp_path / "copy.out"), "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "copy.out").read_text(encoding="utf-8"))
    assert doc["redaction"] == {"by": ["console"], "entities": {"CARD": 1, "EMAIL": 1}}
    assert [f["text"] for f in doc["finals"]][2] == "[EMAIL]"
    assert saved.read_bytes() == before  # the input is never changed

    for fmt in ("vtt", "srt", "csv"):
        proc = acs_console("redact", str(saved), "--out", str(tmp_path / f"copy.{fmt}"))
        assert proc.returncode == 0, proc.stderr
        assert "4111" not in (tmp_path / f"copy.{fmt}").read_text(encoding="utf-8-sig")


def test_redact_replaces_an_existing_file_only_with_force(tmp_path: Path) -> None:
    saved = saved_transcript(tmp_path / "saved.json")
    out = tmp_path / "copy.json"
    out.write_text("keep me", encoding="utf-8")
    proc = acs_console("redact", str(saved), "--out", str(out))
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"acs-console redact: error: --out: {out} exists; add --force to replace it"
    assert out.read_text(encoding="utf-8") == "keep me"
    proc = acs_console("redact", str(saved), "--out", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["redaction"]["by"] == ["console"]


@pytest.mark.parametrize(
    ("extra", "argument", "problem"),
    [
        (["--out", "{tmp}/copy.docx"], "--out", "unknown suffix"),
        (["--out", "{tmp}/copy"], "--out", "has no suffix"),
        (["--out", "{tmp}/no-such-folder/copy.txt"], "--out", "does not exist"),
        (["--out", "{tmp}"], "--out", "is a folder"),
        (["--out", "{tmp}/copy.txt", "--format", "docx"], "--format", "invalid choice"),
    ],
)
def test_redact_refuses_bad_arguments_before_reading_anything(
    tmp_path: Path, extra: list[str], argument: str, problem: str
) -> None:
    saved = saved_transcript(tmp_path / "saved.json")
    given = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    proc = acs_console("redact", str(saved), *given)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"acs-console redact: error: {argument}: "), last
    assert problem in last
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["saved.json"]


def test_redact_says_in_one_line_when_the_input_is_unreadable_or_not_a_transcript(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "missing.json"
    journal = tmp_path / "call.jsonl"
    journal.write_text(
        '{"t":1.0,"type":"header","format":1,"call":{}}\n{"t":2.0,"type":"closed"}\n',
        encoding="utf-8",
    )
    other = tmp_path / "other.json"
    other.write_text('{"format": 99}', encoding="utf-8")
    for path, problem in (
        (missing, "cannot be read"),
        (journal, "is not a JSON transcript"),
        (other, "unsupported transcript format 99"),
        (tmp_path, "cannot be read"),
    ):
        proc = acs_console("redact", str(path), "--out", str(tmp_path / "copy.txt"))
        assert proc.returncode == 1, (path, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("acs-console redact: ")
        assert problem in lines[0]
        assert not (tmp_path / "copy.txt").exists()
