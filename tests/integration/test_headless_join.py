"""``acs-console run --join`` (and ``--join-group``, ``--join-room``): transcribing a call that is
already in progress, headless.

As a user runs it (a real process, the embedded emulator started with ``--existing-call``), and
in-process against the emulator through the real SDK where the test must see the service's
side: the joined call's language cannot change (the console refuses before the service would,
with 405/8520), and when ``run`` is done the call it joined goes on without it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from console.acs.calls import CallLocator, CallServiceError
from console.emulator.server import Emulator
from console.headless import end_call
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState, SessionError, TranscriptionState
from console.transcript.export import load_json
from tests.console_process import acs_console
from tests.waiting import WAIT, local, until

SERVER_CALL = "aHR0cHM6Ly9leGFtcGxlL2pvaW4tbWUvMQ"
WHO = ("--target", "--join", "--join-group", "--join-room")


def test_run_join_prints_and_saves_the_joined_calls_transcript(tmp_path: Path) -> None:
    out = tmp_path / "joined.json"
    proc = acs_console(
        "run", "--join", SERVER_CALL, "--existing-call", SERVER_CALL,
        "--duration", "40", "--speed", "20",
        "--out", str(out), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"Call connected: Connected to server call {SERVER_CALL}." in proc.stderr
    reported = [line for line in proc.stdout.splitlines() if line.startswith("FINAL ")]
    saved = load_json(out)
    assert len(reported) == len(saved.finals) >= 3
    assert [line.split(": ", 1)[1] for line in reported] == [p.text for p in saved.finals]
    # The people already on the call speak in it (the scenario's agent and customer).
    assert len({p.raw_id for p in saved.finals}) == 2
    assert {p.locale for p in saved.finals} == {"en-US"}
    assert saved.call_info.get("direction") == "joined"


@pytest.mark.parametrize(
    ("option", "label"), [("--join-group", "group call"), ("--join-room", "room")]
)
def test_run_joins_a_group_call_or_a_room(tmp_path: Path, option: str, label: str) -> None:
    ident = "9b1c2e3d-5f60-4a7b-8c9d-0e1f2a3b4c5d"
    out = tmp_path / "joined.json"
    proc = acs_console(
        "run", option, ident, "--duration", "10", "--speed", "40",
        "--out", str(out), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert f"Connected to {label} {ident}." in proc.stderr
    assert out.exists()


def _run_refused(tmp_path: Path, *argv: str) -> str:
    """Run with ``argv``: it must stop at the arguments; returns the last line of stderr."""
    proc = acs_console(
        "run", *argv, "--out", str(tmp_path / "x.json"), "--data-dir", str(tmp_path / "data")
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""  # nothing placed or joined
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written
    return proc.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "given",
    [
        ("--target", "+15550100", "--join", SERVER_CALL),
        ("--join", SERVER_CALL, "--join-group", "g-1"),
        ("--join-group", "g-1", "--join-room", "r-1"),
        ("--target", "+15550100", "--join-room", "r-1"),
    ],
    ids=["target-and-join", "join-and-group", "group-and-room", "target-and-room"],
)
def test_one_call_at_a_time_target_and_joins_exclude_each_other(
    tmp_path: Path, given: tuple[str, ...]
) -> None:
    last = _run_refused(tmp_path, *given)
    second, first = given[2], given[0]
    assert last == f"acs-console run: error: {second}: not allowed with argument {first}", last


def test_one_of_target_or_a_join_is_required(tmp_path: Path) -> None:
    last = _run_refused(tmp_path)
    assert last == f"acs-console run: error: --target: one of {', '.join(WHO)} is required"


@pytest.mark.parametrize("option", ["--join", "--join-group", "--join-room"])
def test_an_empty_call_id_is_refused(tmp_path: Path, option: str) -> None:
    last = _run_refused(tmp_path, option, "  ")
    assert last == f"acs-console run: error: {option}: must not be empty"


def test_a_locale_switch_is_refused_for_a_joined_call_before_anything_starts(
    tmp_path: Path,
) -> None:
    last = _run_refused(
        tmp_path, "--join", SERVER_CALL, "--existing-call", SERVER_CALL,
        "--switch-locale", "es-ES@10s",
    )  # fmt: skip
    assert last.startswith("acs-console run: error: --switch-locale: ")
    assert "joined" in last
    assert "--locale" in last  # what to do instead


# --- in-process: the service's side -------------------------------------------------------


async def _joined(rt: ConsoleRuntime) -> CallSession:
    session = rt.new_session()
    await session.join(
        CallLocator("server_call_id", SERVER_CALL), locale="en-US", start_transcription=True
    )
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    return session


async def test_a_joined_calls_language_cannot_change_and_the_service_agrees(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(existing_calls=(SERVER_CALL,), hangup_after_script=False)
    rt = await make_runtime(local(emu))
    session = await _joined(rt)
    await until(lambda: session.transcript.finals, what="a Final of the joined call")
    assert session.state.joined

    with pytest.raises(SessionError, match="joined") as refused:
        await session.set_locale("es-ES")
    assert "8520" not in str(refused.value)  # the operator's words, not the code
    assert session.state.requested_locale == "en-US"
    ccid = session.state.call_connection_id
    assert ccid is not None
    summary = emu.call_summary(emu.calls.get(ccid))
    assert summary["transcription"]["locale"].lower() == "en-us"  # never asked

    # Sent anyway, the service refuses it as the real one does: 405/8520.
    with pytest.raises(CallServiceError) as failed:
        await rt.calls.update_transcription(ccid, locale="es-ES")
    assert (failed.value.status, failed.value.sub_code) == (405, 8520)
    assert "joined" in failed.value.operator_text
    assert session.state.transcription is TranscriptionState.ACTIVE


async def test_when_run_is_done_the_call_it_joined_goes_on_without_it(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(existing_calls=(SERVER_CALL,), hangup_after_script=False)
    rt = await make_runtime(local(emu))
    first = await _joined(rt)
    await until(lambda: first.transcript.finals, what="a Final of the joined call")

    await end_call(first)  # what run does when --duration is over
    assert first.state.call is CallState.DISCONNECTED
    # The call is someone else's: it goes on, and can be joined again and heard.
    again = await _joined(rt)
    count = len(again.transcript.finals)
    await until(lambda: len(again.transcript.finals) > count, what="a Final after leaving")
    assert again.state.call is CallState.CONNECTED


async def test_when_run_is_done_a_call_it_placed_ends_for_everyone(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(hangup_after_script=False)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    await session.place("+15550100", locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    ccid = session.state.call_connection_id
    assert ccid is not None
    server_call_id = emu.call_summary(emu.calls.get(ccid))["serverCallId"]

    await end_call(session)
    assert session.state.call is CallState.DISCONNECTED
    joiner = rt.new_session()
    with pytest.raises(SessionError):  # it is over for everyone: nothing left to join
        await joiner.join(CallLocator("server_call_id", server_call_id), locale="en-US")
