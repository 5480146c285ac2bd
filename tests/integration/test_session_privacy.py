"""A real call's journal kept redacted and encrypted, saving redacted, "never keep", journaling
off, and the one-time notice about unencrypted journals: the real SDK against the emulator,
through the real listeners."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from console.acs.streaming import TranscriptionData
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState, Notice, TranscriptionState
from console.transcript import journal_lines
from console.transcript.journal import JournalOptions, PacketRecord, read_records, replay
from console.transcript.redacted import REDACTED_AT_REST, redact_transcript
from console.transcript.redaction import find_entities
from tests.waiting import WAIT, local, until

Make = Callable[..., Awaitable[ConsoleRuntime]]
MakeEmulator = Callable[..., Awaitable[Emulator]]
UNENCRYPTED = "Journals are not encrypted"


@pytest.fixture(autouse=True)
def no_known_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(journal_lines, "_known", {})


def personal(session: CallSession) -> list[str]:
    """What the call's Finals said that is personal data (as the engine finds it)."""
    return [
        p.text[e.start : e.end] for p in session.transcript.finals for e in find_entities(p.text)
    ]


async def connect(rt: ConsoleRuntime, *, transcribe: bool = False) -> CallSession:
    session = rt.new_session()
    await session.place("+15550100", locale="en-US", start_transcription=transcribe)
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    return session


async def hang_up(session: CallSession) -> None:
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)


async def support_call(rt: ConsoleRuntime) -> CallSession:
    """The support call until the caller has read the account number and spelled a name."""
    session = await connect(rt, transcribe=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    await until(lambda: len(personal(session)) >= 2, 30, "two Finals with personal data")
    await hang_up(session)
    return session


async def test_a_journal_kept_redacted_and_encrypted(
    make_emulator: MakeEmulator, make_runtime: Make
) -> None:
    key = secrets.token_bytes(32)
    emu = await make_emulator()
    rt = await make_runtime(local(emu), journal_options=JournalOptions(redact=True, key=key))
    session = await support_call(rt)
    assert session.journal is not None
    path = session.journal.path
    said = personal(session)
    live = redact_transcript(session.transcript).transcript
    rt.discard_session(session)

    data = path.read_bytes()
    for secret in [*said, "Contoso", "+15550100"]:
        assert secret.encode() not in data, secret
    header = json.loads(data.splitlines()[0])
    assert header["redacted"] is True
    assert header["sealed"]["alg"] == "AES-256-GCM"

    with path.open("rb") as fh:
        packets = [r.packet for r in read_records(fh, key=key) if isinstance(r, PacketRecord)]
    texts = [p.text for p in packets if isinstance(p, TranscriptionData)]
    assert all(p.is_final for p in packets if isinstance(p, TranscriptionData))
    assert not [s for s in said if any(s in t for t in texts)]
    assert "[ACCOUNT]" in " ".join(texts)

    recovered = replay(path, key=key)
    assert [p.text for p in recovered.finals] == [p.text for p in live.finals]
    assert recovered.call_info[REDACTED_AT_REST] is True
    assert recovered.call_info["target"] == "4:+15550100"


async def test_saving_redacted_leaves_the_transcript_held_as_it_is(
    make_emulator: MakeEmulator, make_runtime: Make, tmp_path: Path
) -> None:
    emu = await make_emulator()
    rt = await make_runtime(local(emu))
    session = await support_call(rt)
    said = personal(session)
    path = session.save(tmp_path / "call.json", redact=True)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["redaction"]["by"] == ["console"]
    assert doc["redaction"]["entities"]["ACCOUNT"] >= 1
    saved = path.read_text(encoding="utf-8")
    assert not [s for s in said if s in saved]
    assert personal(session) == said  # what is held (and shown) is not redacted
    plain = session.save(tmp_path / "plain.txt").read_text(encoding="utf-8")
    assert all(s in plain for s in said)


async def test_unencrypted_journals_are_told_once_per_runtime(
    make_emulator: MakeEmulator, make_runtime: Make
) -> None:
    note = "No system keyring is available on this machine. Call journals are stored unencrypted."
    emu = await make_emulator()
    rt = await make_runtime(local(emu), journal_options=JournalOptions(unencrypted_note=note))
    heard: list[list[Notice]] = []
    for _ in range(2):
        session = rt.new_session()
        notices: list[Notice] = []
        heard.append(notices)
        session.subscribe(on_notice=notices.append)
        await session.place("+15550100", locale="en-US")
        await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
        assert session.journal is not None
        assert not session.journal.encrypted
        await hang_up(session)
        rt.discard_session(session)
    first, second = ([n for n in notices if n.title == UNENCRYPTED] for notices in heard)
    assert [(n.level, n.text) for n in first] == [("warning", note)]
    assert second == []
    assert "Call connected" in [n.title for n in heard[1]]  # the second call did get that far


async def test_never_keep_deletes_a_closed_calls_journal_and_keeps_a_crashed_one(
    make_emulator: MakeEmulator, make_runtime: Make
) -> None:
    emu = await make_emulator()
    rt = await make_runtime(local(emu), journal_options=JournalOptions(retention_days=0))
    saved = await connect(rt)
    assert saved.journal is not None
    closed_path = saved.journal.path
    await hang_up(saved)
    rt.discard_session(saved)
    assert not closed_path.exists()

    unsaved = await connect(rt)
    assert unsaved.journal is not None
    kept_path = unsaved.journal.path
    await hang_up(unsaved)
    unsaved.close(keep_for_recovery=True)  # the transcript could not be saved
    assert kept_path.exists()


async def test_journaling_off_writes_no_journal(
    make_emulator: MakeEmulator, make_runtime: Make
) -> None:
    emu = await make_emulator()
    rt = await make_runtime(local(emu), journal_options=JournalOptions(enabled=False))
    session = await connect(rt, transcribe=True)
    await until(lambda: len(session.transcript.finals) >= 1, 30, "a Final")
    assert session.journal is None
    await hang_up(session)
    assert not (rt.data_dir / "journals").exists()
