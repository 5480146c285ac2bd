"""Retention of journals with a fake clock: closed ones go after the period, unfinished ones and
live ones stay; the daily sweeper."""

from __future__ import annotations

import asyncio
import json
import secrets
from pathlib import Path

import pytest

from console.transcript import journal_lines
from console.transcript.journal import Journal, JournalError, find_unfinished, mark_recovered
from console.transcript.journal_recovery import DAY_S
from console.transcript.retention import (
    closed_at,
    delete_journal,
    start_sweeper,
    sweep,
)

FINAL = json.dumps(
    {
        "kind": "TranscriptionData",
        "transcriptionData": {
            "text": "Hello.",
            "offset": 0,
            "duration": 10,
            "participantRawID": "4:+15550100",
            "resultStatus": "Final",
        },
    }
)


def journal(data: Path, *, closed_on: float | None, key: bytes | None = None) -> Path:
    """A journal closed at ``closed_on`` (its "closed" record's time), or left unfinished."""
    j = Journal.create(data, {"n": 1}, key=key)
    j.append_packet(FINAL, received_at=1.0, final=True)
    j.close(clean=False)
    if closed_on is not None:
        record = {"t": closed_on, "type": "closed"}
        with j.path.open("ab") as fh:
            fh.write(json.dumps(record, separators=(",", ":")).encode() + b"\n")
    return j.path


NOW = 1_800_000_000.0


def test_closed_journals_go_after_the_period_and_the_rest_stays(tmp_path: Path) -> None:
    old = journal(tmp_path, closed_on=NOW - 8 * DAY_S)
    edge = journal(tmp_path, closed_on=NOW - 7 * DAY_S)
    recent = journal(tmp_path, closed_on=NOW - 6 * DAY_S)
    crashed = journal(tmp_path, closed_on=None)  # unfinished: kept until recovered
    live = Journal.create(tmp_path, {"n": "live"})
    try:
        report = sweep(tmp_path, NOW, 7)
        assert sorted(report.deleted) == sorted([old, edge])
        assert (report.kept, report.unfinished, report.in_use) == (1, 1, 1)
        assert report.failed == []
        assert recent.exists()
        assert crashed.exists()
        assert live.path.exists()
        assert not old.exists()
        assert not edge.exists()
        # A year on, only the unfinished journal and the live one remain.
        later = sweep(tmp_path, NOW + 365 * DAY_S, 7)
        assert later.deleted == [recent]
        assert crashed.exists()
        assert live.path.exists()
    finally:
        live.close()


def test_never_keep_deletes_every_closed_journal(tmp_path: Path) -> None:
    just_now = journal(tmp_path, closed_on=NOW)
    crashed = journal(tmp_path, closed_on=None)
    assert sweep(tmp_path, NOW, 0).deleted == [just_now]
    assert crashed.exists()


def test_retention_of_a_recovered_journal_starts_when_it_is_recovered(tmp_path: Path) -> None:
    crashed = journal(tmp_path, closed_on=None)
    [info] = find_unfinished(tmp_path, retention_days=1)
    assert info.kept_after_closing == (
        "Kept until you recover or discard it, then deleted after 1 day."
    )
    [info] = find_unfinished(tmp_path, retention_days=0)
    assert info.kept_after_closing == "Kept until you recover or discard it, then deleted at once."
    assert find_unfinished(tmp_path)[0].kept_after_closing == ""
    mark_recovered(crashed)
    recovered = closed_at(crashed)
    assert recovered is not None
    assert sweep(tmp_path, recovered + DAY_S - 1, 1).kept == 1
    assert sweep(tmp_path, recovered + DAY_S, 1).deleted == [crashed]


def test_an_encrypted_journal_is_swept_without_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_lines, "_known", {})
    path = journal(tmp_path, closed_on=None, key=secrets.token_bytes(32))
    j = Journal.create(tmp_path, key=secrets.token_bytes(32))
    j.close()  # a cleanly closed sealed journal: its "closed" record is plain
    journal_lines._known.clear()
    closed = closed_at(j.path)
    assert closed is not None
    assert closed_at(path) is None
    assert sweep(tmp_path, closed + 7 * DAY_S, 7).deleted == [j.path]
    assert path.exists()


def test_deleting_a_journal_a_console_is_writing_is_refused(tmp_path: Path) -> None:
    live = Journal.create(tmp_path)
    try:
        with pytest.raises(JournalError):
            delete_journal(live.path)
    finally:
        live.close()
    assert delete_journal(live.path) is True
    assert delete_journal(live.path) is False  # already gone


async def test_the_sweeper_sweeps_at_start_and_then_daily(tmp_path: Path) -> None:
    now = [NOW]
    slept: list[float] = []
    wake = asyncio.Event()
    asleep = asyncio.Event()

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        asleep.set()
        await wake.wait()
        wake.clear()

    first = journal(tmp_path, closed_on=NOW - 7 * DAY_S)
    second = journal(tmp_path, closed_on=NOW - 6 * DAY_S)
    task = start_sweeper(tmp_path, lambda: 7, clock=lambda: now[0], sleep=fake_sleep)
    try:
        await asyncio.wait_for(asleep.wait(), 30)  # the sweep at start is done
        assert not first.exists()
        assert second.exists()
        assert slept == [DAY_S]
        asleep.clear()
        now[0] += DAY_S  # a day later
        wake.set()
        await asyncio.wait_for(asleep.wait(), 30)
        assert not second.exists()
        assert slept == [DAY_S, DAY_S]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_failing_sweep_is_logged_and_tried_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls = 0
    asleep = asyncio.Event()

    def days() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("settings unreadable")
        return 0

    async def fake_sleep(seconds: float) -> None:
        if calls >= 2:
            asleep.set()
            await asyncio.Event().wait()

    gone = journal(tmp_path, closed_on=NOW)
    task = start_sweeper(tmp_path, days, clock=lambda: NOW, sleep=fake_sleep)
    try:
        await asyncio.wait_for(asleep.wait(), 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not gone.exists()
    assert "journal retention sweep failed" in caplog.text
