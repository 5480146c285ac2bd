"""The service (the emulator as a separate process) is killed mid-call, then comes back; and
a call that simply ends is not mistaken for a lost one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from reliability_kit import (
    SPEED,
    WAIT,
    EmulatorProcess,
    Notices,
    connected,
    free_port,
    local_profile,
    until,
)

from console.config import Profile
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallState, TranscriptionState
from console.transcript.export import load_json
from console.transcript.journal import replay


async def test_a_killed_service_loses_the_call_keeps_every_final_and_a_restart_works(
    emulator_process: EmulatorProcess,
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    info = await emulator_process.start()
    # A long periodic check: the broken transcript stream is what must reveal the loss here.
    rt = await make_runtime(Profile.local(info, speed=SPEED), call_check_interval=60.0)
    session = await connected(rt)
    seen = Notices(session)
    await until(lambda: len(session.transcript.finals) >= 3, what="three finals")

    await emulator_process.kill()
    received = [(p.raw_id, p.text) for p in session.transcript.finals]
    state = await session.wait_for(lambda s: s.call is not CallState.CONNECTED, WAIT)

    # The operator is told, in words, that the call is lost and the transcript kept.
    assert state.call is CallState.DISCONNECTED
    assert state.transcription is TranscriptionState.STOPPED
    lost = seen.titled("Call lost")
    assert len(lost) == 1
    assert lost[0].level == "warning"
    assert "cannot be reached" in lost[0].text
    assert "kept" in lost[0].text
    assert state.last_error == lost[0].text
    assert [m.kind for m in session.transcript.markers][-1] == "call_disconnected"

    # Every Final survived, in the live transcript, a saved file and the journal.
    finals = [(p.raw_id, p.text) for p in session.transcript.finals]
    assert finals == received
    out = session.save(tmp_path / "lost-call.json")
    assert [(p.raw_id, p.text) for p in load_json(out).finals] == finals
    assert session.journal is not None
    assert [(p.raw_id, p.text) for p in replay(session.journal.path).finals] == finals
    assert session.can_start_transcription() == (False, "Place or answer a call first.")

    # The service comes back on the same port with the same key: a new call just works.
    again = await emulator_process.start()
    assert again["connection_string"] == info["connection_string"]
    second = await connected(rt)
    await until(lambda: len(second.transcript.finals) >= 1, what="a final on the new call")
    await second.hang_up()
    await second.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    assert second.state.last_error is None


async def test_a_call_without_transcription_is_found_lost_by_the_periodic_check(
    emulator_process: EmulatorProcess,
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    info = await emulator_process.start()
    rt = await make_runtime(Profile.local(info, speed=SPEED), call_check_interval=0.5)
    session = await connected(rt, transcribe=False)
    seen = Notices(session)
    await emulator_process.kill()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    assert [n.title for n in seen.items] == ["Call lost"]
    assert session.state.last_error == seen.items[0].text
    allowed, _ = session.can_start_transcription()
    assert not allowed


async def test_a_remote_hang_up_is_an_end_not_a_loss(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    # The stream closes as the call ends and the call is checked at once, while the service's
    # CallDisconnected is still being retried (the callback listener is briefly down): the
    # operator must still read that the call ended, not that it was lost.
    emu = await make_emulator()
    rt = await make_runtime(local_profile(emu, callback_port=free_port()))
    session = await connected(rt)
    seen = Notices(session)
    await until(lambda: len(session.transcript.finals) >= 1)
    assert session.state.call_connection_id is not None
    await rt.callbacks.stop()
    emu.inject_fault(session.state.call_connection_id, "hangUp")
    await until(lambda: not session.state.stream_connected, what="the stream to close")
    await asyncio.sleep(0.15)  # the check has its answer: the call is over on the service
    await rt.callbacks.start()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    assert "Call ended" in [n.title for n in seen.items]
    assert seen.titled("Call lost") == []
    assert session.state.last_error is None
