"""What the window shows for a session's state: every rendering decision in one pure function
of enums, so the widgets only apply it (and a test can check it without a window)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from console.call.state import (
    CallState,
    SessionState,
    TranscriptionState,
    can_start_transcription,
    can_stop_transcription,
)

APP_TITLE = "ACS Transcription Console"


class StreamHealth(Enum):
    IDLE = "idle"  # no transcription running
    WAITING = "waiting"  # asked for; the service has not connected its stream yet
    CONNECTED = "connected"
    LOST = "lost"  # transcription is on but its stream dropped


@dataclass(frozen=True, slots=True)
class WindowView:
    call: CallState
    connected_at: float | None
    transcription: TranscriptionState
    can_start: tuple[bool, str]
    can_stop: tuple[bool, str]
    requested_locale: str | None
    confirmed_locale: str | None
    failed: bool
    can_call: bool  # another call can be placed while this one goes on
    can_hang_up: bool
    can_hold: bool  # participants can be put on hold (and resumed)
    can_toggle_transcription: bool
    connected_call_id: str | None  # for the participants' audio menu (emulator calls)
    health: StreamHealth
    title: str


def present(
    state: SessionState, *, has_session: bool, has_runtime: bool, finals_shown: int
) -> WindowView:
    if has_session:
        can_start, can_stop = can_start_transcription(state), can_stop_transcription(state)
    else:
        can_start, can_stop = (False, "Place or answer a call first."), (False, "")
    if state.stream_connected:
        health = StreamHealth.CONNECTED
    elif state.transcription is TranscriptionState.ACTIVE:
        health = StreamHealth.LOST if finals_shown else StreamHealth.WAITING
    elif state.transcription is TranscriptionState.STARTING:
        health = StreamHealth.WAITING
    else:
        health = StreamHealth.IDLE
    live = state.call.live
    title = APP_TITLE
    if live and state.target:
        title = f"{state.target.removeprefix('4:')} — {APP_TITLE}"
    return WindowView(
        call=state.call,
        connected_at=state.connected_at,
        transcription=state.transcription,
        can_start=can_start,
        can_stop=can_stop,
        requested_locale=state.requested_locale,
        confirmed_locale=state.confirmed_locale,
        failed=bool(state.last_error),
        can_call=has_runtime,
        can_hang_up=state.call in (CallState.CONNECTING, CallState.CONNECTED),
        can_hold=state.call is CallState.CONNECTED,
        can_toggle_transcription=can_start[0] or can_stop[0],
        connected_call_id=state.call_connection_id if state.call is CallState.CONNECTED else None,
        health=health,
        title=title,
    )
