"""Journal: exact format, crash recovery (SIGKILL, torn and corrupt lines), unique files."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from console.acs.events import parse_event
from console.acs.streaming import parse_packet
from console.transcript import journal as journal_mod
from console.transcript.journal import (
    Journal,
    JournalError,
    find_unfinished,
    mark_recovered,
    replay,
    replay_with_stats,
)
from console.transcript.model import Transcript
from console.transcript.timeline import MarkerKind, Phrase
from tests.journal_child import APPENDER

ROOT = Path(__file__).resolve().parents[2]
PHONE = "4:+15550100"
AGENT = "8:acs:res_0000agent-1234"
T0 = 1_700_000_000.0


def data_frame(raw_id: str, text: str, offset_s: float, *, final: bool) -> str:
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
            {"text": w, "offset": round(offset_s * 10_000_000) + i, "duration": 1}
            for i, w in enumerate(text.lower().rstrip(".").split())
        ]
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": body})


METADATA = json.dumps(
    {
        "kind": "TranscriptionMetadata",
        "transcriptionMetadata": {
            "subscriptionId": "sub",
            "locale": "en-us",
            "callConnectionId": "cc-1",
            "correlationId": "corr",
        },
    }
)


def cloud_event(kind: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"id-{kind}",
        "source": "calling/callConnections/cc-1",
        "type": f"Microsoft.Communication.{kind}",
        "specversion": "1.0",
        "time": "2026-01-15T10:00:02.1234567+00:00",
        "data": {"callConnectionId": "cc-1", **data},
    }


class Live:
    """What a call session does per input: apply to the transcript, append to the journal."""

    def __init__(self, journal: Journal) -> None:
        self.transcript = Transcript()
        self.journal = journal
        journal.follow(self.transcript)

    def frame(self, frame: str, at: float) -> None:
        packet = parse_packet(frame)
        self.transcript.apply(packet, received_at=at)
        final = getattr(packet, "is_final", False)
        self.journal.append_packet(frame, received_at=at, final=final)

    def event(self, event: dict[str, Any], at: float) -> None:
        self.transcript.apply_event(parse_event(event), received_at=at)
        self.journal.append_event(event, received_at=at)


def phrase_state(p: Phrase) -> dict[str, Any]:
    return {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}


def run_call(live: Live, utterances: int = 6) -> None:
    live.event(cloud_event("CallConnected"), T0)
    live.event(
        cloud_event(
            "ParticipantsUpdated",
            participants=[{"identifier": {"rawId": PHONE}}, {"identifier": {"rawId": AGENT}}],
            sequenceNumber=1,
        ),
        T0 + 0.1,
    )
    live.frame(METADATA, T0 + 0.5)
    live.event(cloud_event("TranscriptionStarted"), T0 + 0.6)
    for n in range(utterances):
        who = PHONE if n % 2 == 0 else AGENT
        base = 1.0 + n * 2.0
        live.frame(data_frame(who, "some", base, final=False), T0 + base + 0.3)
        live.frame(data_frame(who, "some words", base, final=False), T0 + base + 0.6)
        live.frame(data_frame(who, f"Some words number {n}.", base, final=True), T0 + base + 1.0)
        if n == 2:
            live.transcript.set_locale_confirmed("fr-FR", T0 + base + 1.1)
            live.transcript.rename(PHONE, "Caller Alice")
            live.transcript.add_marker(MarkerKind.NOTE, T0 + base + 1.2, "asked for refund")


def test_replay_rebuilds_the_live_transcript(tmp_path: Path) -> None:
    with Journal.create(tmp_path, {"call_connection_id": "cc-1", "target": PHONE}) as journal:
        live = Live(journal)
        run_call(live)
        live.event(cloud_event("CallDisconnected"), T0 + 30)

    rebuilt, stats = replay_with_stats(journal.path)
    original = live.transcript
    assert stats.closed
    assert stats.corrupt_lines == 0
    assert not stats.truncated_tail
    assert stats.call == {"call_connection_id": "cc-1", "target": PHONE}
    assert [phrase_state(p) for p in rebuilt.finals] == [phrase_state(p) for p in original.finals]
    assert [(p.raw_id, p.display_name, p.colour) for p in rebuilt.participants] == [
        (PHONE, "Caller Alice", 0),
        (AGENT, "ACS user …t-1234", 1),
    ]
    # Markers journaled as they happened are not doubled by the events they came from.
    assert [(m.kind, m.at, m.detail) for m in rebuilt.markers] == [
        (m.kind, m.at, m.detail) for m in original.markers
    ]
    assert rebuilt.locale == "fr-FR"
    assert rebuilt.call_started_at == original.call_started_at == T0


def test_lines_follow_the_journal_format(tmp_path: Path) -> None:
    # Spacing and key order as a server might send them: kept byte for byte.
    odd = '{ "transcriptionData": {"text":"Hi.","participantRawID":"4:+1","resultStatus":"final",'
    odd += '"offset":1,"duration":2}, "kind" : "TranscriptionData" }'
    multi_line = json.dumps(json.loads(odd), indent=2)
    with Journal.create(tmp_path, {"who": "test"}) as journal:
        journal.append_packet(odd, received_at=T0 + 1, final=True)
        journal.append_packet(multi_line.encode(), received_at=T0 + 2, final=True)
        journal.append_event(cloud_event("CallConnected"), received_at=T0 + 3)
        journal.append_rename(PHONE, "Alice", at=T0 + 4)
        journal.append_marker("note", at=T0 + 5, detail="hello")
        assert not journal.closed
    assert journal.closed

    raw = journal.path.read_bytes()
    assert raw.endswith(b"\n")
    lines = raw.decode("utf-8").split("\n")[:-1]
    assert len(lines) == 7
    assert f'"packet":{odd}}}' in lines[1]  # the frame text itself, not re-encoded
    records = [json.loads(line) for line in lines]
    assert [r["type"] for r in records] == [
        "header",
        "packet",
        "packet",
        "event",
        "rename",
        "marker",
        "closed",
    ]
    assert all(isinstance(r["t"], float) for r in records)
    assert records[0]["format"] == 1
    assert records[0]["call"] == {"who": "test"}
    assert records[1]["packet"] == json.loads(odd)
    assert records[2]["packet"] == json.loads(odd)  # multi-line frame re-dumped on one line
    assert records[2]["t"] == T0 + 2
    assert records[3]["event"] == cloud_event("CallConnected")
    assert records[4] == {"t": T0 + 4, "type": "rename", "raw_id": PHONE, "name": "Alice"}
    assert records[5] == {"t": T0 + 5, "type": "marker", "kind": "note", "detail": "hello"}
    assert os.stat(journal.path).st_mode & 0o077 == 0  # personal data: owner only
    with pytest.raises(JournalError):
        journal.append_marker("note", at=T0 + 6)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_every_final_appended_before_a_kill_is_recovered(tmp_path: Path) -> None:
    last = 200
    proc = subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(tmp_path), str(ROOT), str(last)],
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
        os.kill(proc.pid, signal.SIGKILL)  # no cleanup, no "closed", maybe a torn line
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pipe in (proc.stdin, proc.stdout):
            if pipe is not None:
                pipe.close()

    assert proc.returncode == -signal.SIGKILL
    transcript, stats = replay_with_stats(path)
    assert [p.text for p in transcript.finals] == [f"Final {n}." for n in range(last + 1)]
    assert stats.corrupt_lines == 0
    assert not stats.closed

    unfinished = find_unfinished(tmp_path)  # the killed process's lock is gone
    assert [info.path for info in unfinished] == [path]
    assert unfinished[0].call == {"child": True}
    assert unfinished[0].finals == last + 1
    assert unfinished[0].size == path.stat().st_size


def write_call(tmp_path: Path, utterances: int = 5) -> Path:
    journal = Journal.create(tmp_path)
    live = Live(journal)
    run_call(live, utterances)
    journal.close(clean=False)  # the process "died": no closed line
    return journal.path


def test_a_line_torn_by_a_crash_is_skipped(tmp_path: Path) -> None:
    path = write_call(tmp_path)
    whole = len(replay(path).finals)
    data = path.read_bytes()
    last_final = data.rindex(b'"resultStatus": "Final"')
    path.write_bytes(data[: last_final + 5])  # cut inside the last Final's line

    transcript, stats = replay_with_stats(path)
    assert stats.truncated_tail
    assert stats.corrupt_lines == 0
    assert [p.text for p in transcript.finals] == [f"Some words number {n}." for n in range(4)]
    assert whole == 5


def test_a_corrupt_middle_line_is_skipped_and_counted(tmp_path: Path) -> None:
    path = write_call(tmp_path)
    lines = path.read_bytes().split(b"\n")
    target = next(i for i, line in enumerate(lines) if b"Some words number 1." in line)
    lines[target] = b'{"t": 1.0, "type": "packet", "packet": {"kind": "Transcr\x00\xff'
    lines.insert(target + 1, b"not json at all")
    path.write_bytes(b"\n".join(lines))

    transcript, stats = replay_with_stats(path)
    assert stats.corrupt_lines == 2
    assert not stats.truncated_tail
    assert [p.text for p in transcript.finals] == [f"Some words number {n}." for n in (0, 2, 3, 4)]


def test_find_unfinished_lists_only_abandoned_journals_newest_first(tmp_path: Path) -> None:
    with Journal.create(tmp_path, {"n": "clean"}) as clean:
        clean.append_packet(data_frame(PHONE, "Bye.", 1, final=True), received_at=T0, final=True)
    older = write_call(tmp_path, utterances=3)
    time.sleep(0.01)
    newer = write_call(tmp_path, utterances=2)
    live = Journal.create(tmp_path, {"n": "live"})  # another console is writing this one
    try:
        infos = find_unfinished(tmp_path)
        assert [i.path for i in infos] == [newer, older]
        assert [i.finals for i in infos] == [2, 3]
        assert infos[0].created_at > infos[1].created_at
        assert infos[0].size == newer.stat().st_size
        with pytest.raises(JournalError):
            mark_recovered(live.path)
    finally:
        live.close()
    assert find_unfinished(tmp_path / "nowhere") == []


def test_mark_recovered_closes_even_a_torn_journal(tmp_path: Path) -> None:
    path = write_call(tmp_path, utterances=3)
    data = path.read_bytes()
    assert data.rstrip().endswith(b'"detail":"asked for refund"}')
    path.write_bytes(data[:-7])  # the last line (the note marker) torn
    assert [i.path for i in find_unfinished(tmp_path)] == [path]
    mark_recovered(path)
    assert find_unfinished(tmp_path) == []
    transcript, stats = replay_with_stats(path)
    assert stats.closed
    assert stats.corrupt_lines == 1  # the torn line, now followed by the closing record
    assert len(transcript.finals) == 3
    assert "note" not in [m.kind for m in transcript.markers]


def test_replay_resolves_hypotheses_left_open_by_a_crash(tmp_path: Path) -> None:
    journal = Journal.create(tmp_path)
    live = Live(journal)
    live.frame(METADATA, T0)
    live.frame(data_frame(PHONE, "Done.", 1, final=True), T0 + 2)
    live.frame(data_frame(PHONE, "and then", 3, final=False), T0 + 4)
    journal.close(clean=False)
    transcript = replay(journal.path)
    assert transcript.open_intermediates() == ()
    assert [p.text for p in transcript.finals] == ["Done."]
    assert len(transcript.abandoned) == 1


def test_two_consoles_never_share_a_journal_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Force the random part of the name to collide: O_EXCL makes the second pick another.
    suffixes = iter(["deadbeef", "deadbeef", "cafef00d"])
    monkeypatch.setattr(journal_mod.secrets, "token_hex", lambda n: next(suffixes))
    monkeypatch.setattr(journal_mod.time, "time", lambda: T0)
    first = Journal.create(tmp_path, {"console": 1})
    second = Journal.create(tmp_path, {"console": 2})
    monkeypatch.undo()
    try:
        assert first.path != second.path
        assert first.path.name.endswith("-deadbeef.jsonl")
        assert second.path.name.endswith("-cafef00d.jsonl")
        first.append_marker("note", at=T0, detail="from one")
        second.append_marker("note", at=T0, detail="from two")
    finally:
        first.close()
        second.close()
    assert json.loads(first.path.read_text().split("\n")[0])["call"] == {"console": 1}
    assert "from two" not in first.path.read_text()
    assert "from one" not in second.path.read_text()


def test_finals_and_events_are_fsynced_off_the_caller_thread(tmp_path: Path) -> None:
    with Journal.create(tmp_path) as journal:
        journal.append_packet(data_frame(PHONE, "x", 1, final=False), received_at=T0, final=False)
        journal.append_packet(data_frame(PHONE, "X.", 1, final=True), received_at=T0, final=True)
        deadline = time.monotonic() + 5
        while journal.fsyncs == 0 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert journal.fsyncs >= 1
        assert journal._syncer.is_alive()
    assert not journal._syncer.is_alive()
