"""One call failing never changes another call's state or transcript.

Three calls transcribe at once (the real ConsoleRuntime, the real emulator through the real
SDK, over loopback); the middle one gets a fault of each kind the service has: its transcript
stream drops, its transcription fails, the other party hangs up. The calls either side keep
their state field for field, and keep transcribing: each gets a Final that can only have
arrived after the fault. The faulted call shows its failure.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from reliability_kit import WAIT, Notices, connected, local_profile, until

from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState, SessionState, TranscriptionState

AGENT = "8:acs:7c2f3e1a-9b4d-4e8f-a1c3-5d6e7f809a1b_00000021-4f3a-8b2c-9d0e-1f2a3b4c5d6e"
TARGETS = ("+15550101", "+15550102", "+15550103")


def _watched(state: SessionState) -> tuple[Any, ...]:
    """What the window shows of a call (its row, its controls, the stream health)."""
    return (
        state.call,
        state.transcription,
        state.call_connection_id,
        state.requested_locale,
        state.confirmed_locale,
        state.stream_connected,
        state.last_error,
        state.held,
    )


class History:
    """Every state a call publishes from now on."""

    def __init__(self, session: CallSession) -> None:
        self.states: list[SessionState] = []
        self.undo = session.subscribe(on_state=self.states.append)


def _shows_the_failure(kind: str, session: CallSession, seen: Notices, states: History) -> bool:
    s = session.state
    if kind == "dropTranscriptStream":
        # The stream was seen gone, and the service said it came back.
        lost = any(not st.stream_connected for st in states.states)
        return lost and bool(seen.titled("Transcript connection restored"))
    if kind == "transcriptionFailed":
        failed = s.transcription is TranscriptionState.FAILED and s.last_error is not None
        return failed and any(n.level == "error" for n in seen.items)
    return s.call is CallState.DISCONNECTED and bool(seen.titled("Call ended"))


FAULTS = [
    pytest.param("dropTranscriptStream", {}, id="transcript-stream-dropped"),
    pytest.param("transcriptionFailed", {"key": "service_shutdown"}, id="transcription-failed"),
    pytest.param("hangUp", {}, id="call-disconnected"),
]


@pytest.mark.parametrize(("kind", "params"), FAULTS)
async def test_a_fault_in_the_middle_call_leaves_the_calls_either_side_alone(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    kind: str,
    params: dict[str, Any],
) -> None:
    emu = await make_emulator(hangup_after_script=False, speed=10.0)
    rt = await make_runtime(local_profile(emu))
    first, middle, last = calls = [await connected(rt, target=t) for t in TARGETS]
    for call in calls:
        await call.wait_for(lambda s: s.stream_connected and s.confirmed_locale == "en-US", WAIT)
    await until(lambda: all(c.transcript.finals for c in calls), what="all three talking")

    others = (first, last)
    before = {c.id: _watched(c.state) for c in others}
    histories = {c.id: History(c) for c in calls}
    notices = {c.id: Notices(c) for c in calls}
    finals_at_fault = {c.id: len(c.transcript.finals) for c in calls}
    assert middle.state.call_connection_id is not None
    emu.inject_fault(middle.state.call_connection_id, kind, **params)

    await until(
        lambda: _shows_the_failure(kind, middle, notices[middle.id], histories[middle.id]),
        what=f"the middle call showing {kind}",
    )
    # Both others keep transcribing: a Final each, received after the fault was injected.
    for call in others:
        await until(
            lambda c=call: len(c.transcript.finals) > finals_at_fault[c.id],
            what=f"a Final on {call.state.target} after the fault",
        )
    for call in others:
        s = call.state
        assert _watched(s) == before[call.id], call.state.target
        assert (s.call, s.transcription) == (CallState.CONNECTED, TranscriptionState.ACTIVE)
        assert (s.confirmed_locale, s.stream_connected, s.last_error) == ("en-US", True, None)
        # Not a single state in between differed either (no flicker the window would show).
        assert [_watched(st) for st in histories[call.id].states] in (
            [],
            [before[call.id]] * len(histories[call.id].states),
        )
        assert [n.title for n in notices[call.id].items if n.level != "info"] == []
        # Only its own parties speak in it.
        speakers = {p.raw_id for p in call.transcript.finals}
        assert speakers <= {AGENT, call.state.target}, speakers

    if kind == "dropTranscriptStream":
        # The faulted call recovers on its own.
        await until(
            lambda: len(middle.transcript.finals) > finals_at_fault[middle.id],
            what="the middle call transcribing again",
        )
        assert middle.state.transcription is TranscriptionState.ACTIVE
    for history in histories.values():
        history.undo()
