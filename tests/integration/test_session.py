"""CallSession end to end: the real SDK against the emulator, through the real listeners."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pysrt
import pytest
import webvtt

from console.acs.calls import CallServiceError
from console.acs.events import IncomingCall
from console.emulator.scenario import load_scenario
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import (
    CallSession,
    CallState,
    Notice,
    SessionError,
    TranscriptionState,
)
from console.transcript.export import load_json
from console.transcript.timeline import Phrase, PhraseChanged, PhraseStatus
from tests.waiting import local, until

WAIT = 10.0


class Recorder:
    """What a UI would see: notices, and every phrase change of the transcript."""

    def __init__(self, session: CallSession) -> None:
        self.notices: list[Notice] = []
        self.changes: list[PhraseChanged] = []
        session.subscribe(on_notice=self.notices.append)
        session.transcript.subscribe(
            lambda c: self.changes.append(c) if isinstance(c, PhraseChanged) else None
        )

    def titles(self) -> list[str]:
        return [n.title for n in self.notices]


async def connected_session(
    rt: ConsoleRuntime, target: str = "+15550100", **kw: Any
) -> CallSession:
    session = rt.new_session()
    await session.place(target, locale=kw.pop("locale", "en-US"), **kw)
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    return session


def finals_after(session: CallSession, at: float) -> list[Phrase]:
    return [p for p in session.transcript.finals if p.received_at > at]


async def test_a_call_end_to_end_with_a_locale_switch_and_every_export(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    emu = await make_emulator(scenario="multilingual", answer_delay=0.5)
    rt = await make_runtime(local(emu))
    session = await connected_session(rt)
    seen = Recorder(session)
    assert session.state.connected_at is not None

    await session.start_transcription("en-US")
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    await until(lambda: len(session.transcript.finals) >= 3)
    assert session.state.confirmed_locale == "en-US"

    # An intermediate was shown in place, then settled by its Final (same phrase object).
    finals = [c.phrase for c in seen.changes if c.kind == PhraseStatus.FINAL]
    intermediate_ids = {c.phrase.id for c in seen.changes if c.kind == PhraseStatus.INTERMEDIATE}
    assert any(f.id in intermediate_ids for f in finals)
    assert all(p.locale == "en-US" for p in session.transcript.finals)

    wall_switch = time.time()
    await session.set_locale("es-ES")
    await session.wait_for(lambda s: s.confirmed_locale == "es-ES", WAIT)

    def spanish_finals() -> list[Phrase]:
        return [p for p in finals_after(session, wall_switch) if p.locale == "es-ES"]

    await until(lambda: len(spanish_finals()) >= 2)

    spanish = {u.text["es-ES"].lower() for u in load_scenario("multilingual").utterances}
    new = spanish_finals()
    assert any(p.text.lower() in spanish for p in new), [p.text for p in new]
    markers = [m for m in session.transcript.markers if m.kind == "locale_changed"]
    assert [m.detail for m in markers][-1] == "es-ES"

    # Every participant who spoke got their own finals.
    speakers = {p.raw_id for p in session.transcript.finals}
    assert len(speakers) >= 2
    assert {p.raw_id for p in session.transcript.participants} >= speakers

    await session.stop_transcription()
    await session.wait_for(lambda s: s.transcription is TranscriptionState.STOPPED, WAIT)
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    assert "Call ended" in seen.titles()

    texts = [p.text for p in session.transcript.finals]
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("txt", "json", "vtt", "srt", "csv"):
        session.save(out / f"call.{fmt}")
    assert [p.text for p in load_json(out / "call.json").finals] == texts
    vtt = webvtt.read(str(out / "call.vtt"))
    assert [c.text for c in vtt] == texts
    assert {c.voice for c in vtt} <= {p.display_name for p in session.transcript.participants}
    assert len(pysrt.open(str(out / "call.srt"))) == len(texts)
    rows = list(csv.DictReader(io.StringIO((out / "call.csv").read_text(encoding="utf-8"))))
    assert [r["text"] for r in rows] == texts
    txt = (out / "call.txt").read_text(encoding="utf-8")
    assert all(t in txt for t in texts)


async def test_answering_an_incoming_call_starts_transcription_at_answer_time(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.2)
    rt = await make_runtime(local(emu))
    rung: list[IncomingCall] = []
    rt.on_incoming_call(rung.append)
    await emu.ring("+15550123", webhook_url=rt.eventgrid_url)
    await until(lambda: rung)
    assert rung[0].from_raw_id == "4:+15550123"

    assert rt.stats().events_received == 0  # Event Grid deliveries are not call events

    # A second caller is declined: the service forgets that call.
    await emu.ring("+15550124", webhook_url=rt.eventgrid_url)
    await until(lambda: len(rung) == 2)
    await rt.decline(rung[1])
    with pytest.raises(CallServiceError):
        await rt.new_session().calls.answer_call(
            rung[1].incoming_call_context, "http://127.0.0.1:9/"
        )

    session = rt.new_session()
    await session.answer(rung[0], locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    assert session.state.call is CallState.CONNECTED
    await until(lambda: len(session.transcript.finals) >= 1)
    stats = rt.stats()
    assert stats.packets_received >= 2  # metadata, then data
    assert stats.packets_rejected == 0
    assert stats.auth_rejected == 0
    assert stats.streams_open == 1
    assert stats.events_received >= 2
    await session.hang_up()


async def test_starting_before_the_call_connects_is_refused_without_a_round_trip(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(answer_delay=600.0)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    seen = Recorder(session)
    await session.place("8:acs:operator-test", locale="en-US")
    assert session.state.call is CallState.CONNECTING
    allowed, reason = session.can_start_transcription()
    assert not allowed
    assert "connected" in reason
    with pytest.raises(SessionError, match="Wait until the call is connected"):
        await session.start_transcription()
    assert seen.notices[-1].level == "error"
    summary = emu.call_summary(emu.calls.get(session.state.call_connection_id))
    assert summary["transcription"]["state"] != "active"


async def test_a_locale_without_region_is_refused_with_a_clear_message(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    with pytest.raises(SessionError, match="region"):
        await session.place("+15550100", locale="en")
    assert session.state.call is CallState.IDLE
    session = await connected_session(rt)
    await session.start_transcription("en-US")
    with pytest.raises(SessionError, match="voice"):
        session.request_locale("en-US-NancyNeural")
    assert session.state.requested_locale == "en-US"


async def test_rapid_locale_changes_send_only_the_last(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="multilingual", answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = await connected_session(rt)
    await session.start_transcription("en-US")
    await session.wait_for(lambda s: s.confirmed_locale == "en-US", WAIT)
    updates: list[Any] = []
    session.subscribe(
        on_notice=lambda n: updates.append(n) if n.title == "Language changed" else None
    )
    for locale in ("fr-FR", "de-DE", "es-ES", "fr-FR", "de-DE"):
        session.request_locale(locale)
        await asyncio.sleep(0.01)
    assert session.state.confirmed_locale == "en-US"  # requested is not confirmed
    await session.wait_for(lambda s: s.confirmed_locale == "de-DE", WAIT)
    summary = emu.call_summary(emu.calls.get(session.state.call_connection_id))
    assert summary["transcription"]["locale"].lower() == "de-de"
    # A positive control: one more change must be confirmed after any the burst could have
    # sent, so if the burst had sent more than one, it would show before this one.
    await session.set_locale("es-ES")
    await session.wait_for(lambda s: s.confirmed_locale == "es-ES", WAIT)
    assert [n.text for n in updates] == [
        "Transcribing in de-DE (was en-US).",
        "Transcribing in es-ES (was de-DE).",
    ]


async def test_a_transcription_failure_reaches_the_operator_in_plain_words(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = await connected_session(rt)
    seen = Recorder(session)
    await session.start_transcription("en-US")
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    emu.inject_fault(
        session.state.call_connection_id, "transcriptionFailed", key="service_shutdown"
    )
    await session.wait_for(lambda s: s.transcription is TranscriptionState.FAILED, WAIT)
    error = [n for n in seen.notices if n.level == "error"][-1]
    assert "8580" not in error.text  # operator words, not codes
    assert "8580" in error.detail  # the code is there on demand
    assert session.state.last_error == error.text
    allowed, _ = session.can_start_transcription()
    assert allowed  # the operator can try again


async def test_a_call_that_cannot_be_placed_says_why(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(answer_delay=0.2, unreachable_targets=("+15550000",))
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    seen = Recorder(session)
    await session.place("+15550000", locale="en-US")
    await session.wait_for(lambda s: s.call is CallState.FAILED, WAIT)
    assert seen.notices[-1].level == "error"
    assert session.state.last_error
    with pytest.raises(SessionError, match=r"phone number|user id"):
        await rt.new_session().place("hello", locale="en-US")


async def test_the_journal_records_every_final_and_replays_it(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    from console.transcript.journal import find_unfinished, replay

    emu = await make_emulator(answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = await connected_session(rt)
    await session.start_transcription("en-US")
    await until(lambda: len(session.transcript.finals) >= 3)
    assert session.journal is not None
    path = session.journal.path
    # A journal still held by a running console is not offered to another for recovery.
    assert path not in [j.path for j in find_unfinished(rt.data_dir)]
    rebuilt = replay(path)
    live = [(p.raw_id, p.text) for p in session.transcript.finals]
    assert [(p.raw_id, p.text) for p in rebuilt.finals] == live
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert any(r["type"] == "event" for r in lines)
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    rt.discard_session(session)
    assert lines[-1]["type"] != "closed"
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[-1])["type"] == "closed"
    assert path not in [j.path for j in find_unfinished(rt.data_dir)]


async def test_stream_drops_mid_call_lose_and_duplicate_no_final(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", answer_delay=0.2, speed=30.0)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    seen = Recorder(session)
    await session.place("+15550100", locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    ccid = session.state.call_connection_id
    for n in (3, 8):
        await until(lambda n=n: len(session.transcript.finals) >= n, 20)
        emu.inject_fault(ccid, "dropTranscriptStream")
        await until(lambda: "Transcript connection restored" in seen.titles(), WAIT)
        seen.notices.clear()
    # The remote party hangs up when the script is over.
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, 30)
    script = [u.text["en-US"] for u in load_scenario("support-call").utterances]
    got = [p.text for p in sorted(session.transcript.finals, key=lambda p: p.start)]
    assert got == script
    assert session.transcript.open_intermediates() == ()
