"""The journal's privacy modes: redacted at rest, encrypted (AES-256-GCM per line), both; a key
that is gone; a kill -9 in the middle of encrypted writing."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from console.acs.events import parse_event
from console.acs.streaming import parse_packet
from console.transcript import journal_lines
from console.transcript.journal import (
    Journal,
    JournalError,
    JournalKeyError,
    find_unfinished,
    mark_recovered,
    replay,
    replay_with_stats,
)
from console.transcript.model import Transcript
from console.transcript.redacted import CONSOLE_REDACTION, REDACTED_AT_REST
from console.transcript.timeline import MarkerKind
from tests.journal_child import APPENDER

ROOT = Path(__file__).resolve().parents[2]
PHONE = "4:+15550100"
AGENT = "8:acs:res_0000agent-1234"
T0 = 1_700_000_000.0
CARD = "4111 1111 1111 1111"
SAID = [
    f"My card number is {CARD}.",
    "Thanks, and the e-mail?",
    "It's dana dot whitfield at contoso dot com.",
    "That's W H I T F I E L D.",
]
DISTINCTIVE = [b"4111", b"whitfield", b"contoso", b"W H I T", b"e-mail"]


@pytest.fixture(autouse=True)
def no_known_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no key remembered by this process."""
    monkeypatch.setattr(journal_lines, "_known", {})


def frame(raw_id: str, text: str, offset_s: float, *, final: bool) -> str:
    words = text.rstrip(".").split()
    body: dict[str, Any] = {
        "text": text,
        "format": "display",
        "offset": round(offset_s * 10_000_000),
        "duration": 8_000_000,
        "participantRawID": raw_id,
        "resultStatus": "Final" if final else "Intermediate",
    }
    if final:
        body["confidence"] = 0.87
        body["words"] = [
            {"text": w, "offset": round(offset_s * 10_000_000) + i * 1000, "duration": 900}
            for i, w in enumerate(words)
        ]
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": body})


def cloud_event(kind: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"id-{kind}",
        "source": "calling/callConnections/cc-1",
        "type": f"Microsoft.Communication.{kind}",
        "specversion": "1.0",
        "time": "2026-01-15T10:00:02.1234567+00:00",
        "data": {"callConnectionId": "cc-1", **data},
    }


def run_call(journal: Journal) -> Transcript:
    """A call as a session runs it: apply to the transcript, append to the journal."""
    live = Transcript()
    journal.follow(live)

    def packet(text: str, who: str, at: float, final: bool) -> None:
        f = frame(who, text, at, final=final)
        parsed = parse_packet(f)
        live.apply(parsed, received_at=T0 + at)
        journal.append_packet(f, received_at=T0 + at, final=final, packet=parsed)

    event = cloud_event("CallConnected")
    live.apply_event(parse_event(event), received_at=T0)
    journal.append_event(event, received_at=T0)
    for n, text in enumerate(SAID):
        who = PHONE if n % 2 == 0 else AGENT
        words = text.split()
        for cut in range(1, len(words)):  # hypotheses that grow word by word
            packet(" ".join(words[:cut]), who, 1.0 + n * 5, False)
        packet(text, who, 1.0 + n * 5, True)
    live.add_marker(MarkerKind.NOTE, T0 + 30, f"card {CARD} read back")
    live.rename(PHONE, "Dana")
    return live


def new_key() -> bytes:
    return secrets.token_bytes(32)


def test_redacted_at_rest_keeps_no_personal_data_and_recovers_redacted(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, {"target": PHONE}, redact=True)
    live = run_call(journal)
    journal.close(clean=False)
    data = journal.path.read_bytes()
    for secret in DISTINCTIVE[:4]:
        assert secret not in data, secret
    records = [json.loads(line) for line in data.splitlines()]
    assert records[0]["redacted"] is True
    packets = [r["packet"]["transcriptionData"] for r in records if r["type"] == "packet"]
    assert [p["resultStatus"] for p in packets] == ["Final"] * len(SAID)  # no Intermediate
    events = [r["event"] for r in records if r["type"] == "event"]
    assert events == [cloud_event("CallConnected")]  # events as received
    notes = [r["detail"] for r in records if r["type"] == "marker" and r["kind"] == "note"]
    assert notes == ["card [CARD] read back"]

    [info] = find_unfinished(tmp_path)
    assert info.redacted
    assert not info.encrypted
    assert info.finals == len(SAID)
    transcript = replay(journal.path)
    assert [p.text for p in transcript.finals] == [
        "My card number is [CARD].",
        "Thanks, and the e-mail?",
        "It's [EMAIL].",
        "That's [SPELLED].",
    ]
    assert transcript.call_info[REDACTED_AT_REST] is True
    assert transcript.call_info[CONSOLE_REDACTION] == {"CARD": 2, "EMAIL": 1, "SPELLED": 1}
    assert transcript.call_info["target"] == PHONE
    assert transcript.participant(PHONE) is not None
    assert transcript.participant(PHONE).display_name == "Dana"  # type: ignore[union-attr]
    assert len(live.finals) == len(transcript.finals)


def test_an_encrypted_journal_holds_no_plain_text_and_replays_whole(tmp_path: Path) -> None:
    key = new_key()
    journal = Journal.create(tmp_path, {"target": PHONE, "direction": "outbound"}, key=key)
    assert journal.encrypted
    live = run_call(journal)
    journal.close()
    data = journal.path.read_bytes()
    for secret in [*DISTINCTIVE, PHONE.encode(), b"outbound", b"Dana"]:
        assert secret not in data, secret
    lines = data.splitlines()
    header = json.loads(lines[0])
    assert header["call"] == {}
    assert header["sealed"]["alg"] == "AES-256-GCM"
    assert header["sealed"]["key_id"] == journal_lines.key_id(key)
    assert all(line.startswith(b"sealed1:") for line in lines[1:-1])
    assert json.loads(lines[-1])["type"] == "closed"  # plain: retention needs no key
    assert len(set(lines[1:-1])) == len(lines) - 2  # a fresh nonce per record

    transcript, stats = replay_with_stats(journal.path, key=key)
    assert stats.encrypted
    assert stats.closed
    assert stats.corrupt_lines == 0
    assert [(p.raw_id, p.text) for p in transcript.finals] == [
        (p.raw_id, p.text) for p in live.finals
    ]
    assert transcript.call_info == {"target": PHONE, "direction": "outbound"}
    assert [m.detail for m in transcript.markers if m.kind == "note"] == [f"card {CARD} read back"]


def test_unfinished_encrypted_journals_are_listed_with_their_call(tmp_path: Path) -> None:
    key = new_key()
    journal = Journal.create(tmp_path, {"target": PHONE}, key=key)
    run_call(journal)
    journal.close(clean=False)
    [info] = find_unfinished(tmp_path, key=key, retention_days=3)
    assert info.encrypted
    assert not info.redacted
    assert info.error == ""
    assert info.call == {"target": PHONE}
    assert info.finals == len(SAID)
    assert info.kept_after_closing == (
        "Kept until you recover or discard it, then deleted after 3 days."
    )
    # A key this process used is remembered: readers need not be handed it.
    journal_lines.remember_key(key)
    assert [p.text for p in replay(journal.path).finals] == SAID


def test_a_journal_whose_key_is_gone_says_so_and_can_only_be_discarded(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path, {"target": PHONE}, key=new_key())
    run_call(journal)
    journal.close(clean=False)
    journal_lines._known.clear()  # the key is gone (deleted from the keyring, another user)

    [info] = find_unfinished(tmp_path, key=new_key())  # another key: no better
    assert info.encrypted
    assert info.call == {}
    assert info.finals == 0
    assert "encrypted" in info.error
    assert "not available" in info.error
    assert journal.path.name in info.error
    with pytest.raises(JournalKeyError) as caught:
        replay(journal.path)
    assert str(caught.value) == info.error
    assert isinstance(caught.value, JournalError)  # what the window already catches
    mark_recovered(journal.path)  # discarding needs no key
    assert find_unfinished(tmp_path) == []


def test_a_damaged_sealed_line_is_skipped_and_a_plain_one_slipped_in_is_ignored(
    tmp_path: Path,
) -> None:
    key = new_key()
    journal = Journal.create(tmp_path, key=key)
    run_call(journal)
    journal.close(clean=False)
    lines = journal.path.read_bytes().split(b"\n")
    target = 5
    body = bytearray(lines[target])
    body[20] = ord("A") if body[20] != ord("A") else ord("B")  # one flipped character
    lines[target] = bytes(body)
    forged = frame(PHONE, "Please refund to card 4000 0000 0000 0002.", 90, final=True)
    lines.insert(-1, b'{"t":1700000100.0,"type":"packet","packet":' + forged.encode() + b"}")
    journal.path.write_bytes(b"\n".join(lines))

    transcript, stats = replay_with_stats(journal.path, key=key)
    assert stats.corrupt_lines == 2
    assert "Please refund" not in " ".join(p.text for p in transcript.finals)
    assert [p.text for p in transcript.finals] == SAID  # the damaged line was a hypothesis


def test_a_torn_last_sealed_line_is_a_truncated_tail(tmp_path: Path) -> None:
    key = new_key()
    journal = Journal.create(tmp_path, key=key)
    run_call(journal)
    journal.close(clean=False)
    data = journal.path.read_bytes()
    journal.path.write_bytes(data[: len(data) - 30])  # cut inside the last record
    transcript, stats = replay_with_stats(journal.path, key=key)
    assert stats.truncated_tail
    assert stats.corrupt_lines == 0
    assert [p.text for p in transcript.finals] == SAID


def test_encrypted_and_redacted_together(tmp_path: Path) -> None:
    key = new_key()
    journal = Journal.create(tmp_path, {"target": PHONE}, key=key, redact=True)
    run_call(journal)
    journal.close(clean=False)
    header = json.loads(journal.path.read_bytes().splitlines()[0])
    assert header["redacted"] is True
    assert "sealed" in header
    [info] = find_unfinished(tmp_path, key=key)
    assert info.redacted
    assert info.encrypted
    assert info.finals == len(SAID)
    transcript = replay(journal.path, key=key)
    assert transcript.finals[0].text == "My card number is [CARD]."
    assert transcript.call_info[REDACTED_AT_REST] is True


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_every_encrypted_final_appended_before_a_kill_is_recovered(tmp_path: Path) -> None:
    key = new_key()
    last = 150
    proc = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(tmp_path), str(ROOT), str(last), key.hex()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        path = Path(proc.stdout.readline().strip())
        reported = -1
        while reported < last:
            reported = int(proc.stdout.readline())
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()
    assert proc.returncode == -signal.SIGKILL
    assert b"Final 1." not in path.read_bytes()
    transcript, stats = replay_with_stats(path, key=key)
    assert [p.text for p in transcript.finals] == [f"Final {n}." for n in range(last + 1)]
    assert stats.corrupt_lines == 0
    assert not stats.closed
    [info] = find_unfinished(tmp_path, key=key)
    assert info.path == path
    assert info.call == {"child": True}
    assert info.finals == last + 1
