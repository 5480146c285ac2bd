"""The call reducer as a plain function: a state and a typed event in, the next state, notices
and effects out. No asyncio, no emulator."""

from __future__ import annotations

from typing import Any

import pytest

from console.acs.events import parse_event
from console.call.reducer import Effect, Step, ended, reduce_event
from console.call.state import (
    CallState,
    MediaStreamingState,
    SessionState,
    TranscriptionState,
    can_start_transcription,
    can_stop_transcription,
)
from console.signals import Signal

NOW = 1_800_000_000.0
CONNECTED = SessionState(
    call=CallState.CONNECTED,
    target="4:+15550100",
    call_connection_id="cc-1",
    requested_locale="en-US",
    confirmed_locale="en-US",
    transcription=TranscriptionState.ACTIVE,
    media_streaming=MediaStreamingState.ACTIVE,
)


def event(kind: str, **data: Any) -> Any:
    return parse_event(
        {
            "id": f"id-{kind}",
            "source": "calling/callConnections/cc-1",
            "type": f"Microsoft.Communication.{kind}",
            "data": {"callConnectionId": "cc-1", **data},
        }
    )


def transcription(kind: str, details: str, **data: Any) -> Any:
    status = kind[0].lower() + kind[1:]
    return event(
        kind,
        transcriptionUpdate={"transcriptionStatus": status, "transcriptionStatusDetails": details},
        **data,
    )


def test_connected_starts_the_watch_and_says_who() -> None:
    step = reduce_event(
        SessionState(call=CallState.CONNECTING, target="4:+15550100"), event("CallConnected"), NOW
    )
    assert step.state.call is CallState.CONNECTED
    assert step.state.connected_at == NOW
    assert step.state.call_connection_id == "cc-1"
    assert step.effects == {Effect.WATCH}
    assert [(n.title, n.text) for n in step.notices] == [
        ("Call connected", "Connected to +15550100.")
    ]


def test_a_call_whose_setup_failed_is_hung_up_when_it_connects_after_all() -> None:
    step = reduce_event(SessionState(call=CallState.FAILED), event("CallConnected"), NOW)
    assert step.effects == {Effect.HANG_UP_LATE}
    assert step.state.call is CallState.FAILED  # still failed: it is not this session's call


def test_disconnected_ends_everything_once() -> None:
    step = reduce_event(CONNECTED, event("CallDisconnected"), NOW)
    s = step.state
    assert (s.call, s.transcription, s.media_streaming) == (
        CallState.DISCONNECTED,
        TranscriptionState.STOPPED,
        MediaStreamingState.STOPPED,
    )
    assert step.effects == {Effect.ENDED}
    again = reduce_event(s, event("CallDisconnected"), NOW)
    assert again.state == s
    assert not again.effects
    assert [n.title for n in again.notices] == []


def test_a_lost_call_keeps_its_reason() -> None:
    step = Step(CONNECTED)
    ended(step, "lost", "The call was lost: gone.")
    assert step.state.last_error == "The call was lost: gone."
    assert [(n.level, n.title) for n in step.notices] == [("warning", "Call lost")]


def test_a_locale_update_confirms_the_locale_from_the_operation_context() -> None:
    state = SessionState(
        call=CallState.CONNECTED,
        transcription=TranscriptionState.ACTIVE,
        requested_locale="fr-FR",
        confirmed_locale="en-US",
    )
    e = transcription(
        "TranscriptionUpdated", "transcriptionLocaleUpdated", operationContext="locale:fr-fr"
    )
    step = reduce_event(state, e, NOW)
    assert step.state.confirmed_locale == "fr-FR"  # canonical, whatever case came back
    assert step.locale == "fr-FR"
    assert Effect.LOCALE in step.effects
    assert [n.text for n in step.notices] == ["Transcribing in fr-FR (was en-US)."]
    # The same locale confirmed again (any case) is no news.
    state = step.state
    same = reduce_event(
        state,
        transcription(
            "TranscriptionUpdated", "transcriptionLocaleUpdated", operationContext="locale:FR-fr"
        ),
        NOW,
    )
    assert same.state == state
    assert not same.notices


@pytest.mark.parametrize(
    ("details", "level", "title"),
    [
        ("streamConnectionInterrupted", "warning", "Transcript connection interrupted"),
        ("streamConnectionReestablished", "info", "Transcript connection restored"),
    ],
)
def test_stream_interruptions_are_told(details: str, level: str, title: str) -> None:
    step = reduce_event(CONNECTED, transcription("TranscriptionUpdated", details), NOW)
    assert [(n.level, n.title) for n in step.notices] == [(level, title)]
    assert step.state.transcription is TranscriptionState.ACTIVE


def test_a_transcription_failure_is_explained() -> None:
    e = transcription(
        "TranscriptionFailed",
        "streamConnectionUnsuccessful",
        resultInformation={"code": 500, "subCode": 8578, "message": "WebSocket failed."},
    )
    step = reduce_event(CONNECTED, e, NOW)
    assert step.state.transcription is TranscriptionState.FAILED
    (notice,) = step.notices
    assert notice.level == "error"
    assert step.state.last_error == notice.text
    assert "8578" in notice.detail


def test_media_streaming_stopping_resets_the_meters() -> None:
    e = event("MediaStreamingStopped", mediaStreamingUpdate={"contentType": "Audio"})
    step = reduce_event(CONNECTED, e, NOW)
    assert step.state.media_streaming is MediaStreamingState.STOPPED
    assert step.effects == {Effect.AUDIO_RESET}


def test_unknown_events_are_noted_not_applied() -> None:
    step = reduce_event(CONNECTED, event("PlayCompleted"), NOW)
    assert step.state == CONNECTED
    assert [n.text for n in step.notices] == ["Received PlayCompleted."]


def test_guards_say_why_an_action_is_not_possible() -> None:
    idle = SessionState()
    assert can_start_transcription(idle) == (False, "Place or answer a call first.")
    assert can_stop_transcription(CONNECTED) == (True, "")
    assert can_start_transcription(CONNECTED) == (False, "Transcription is already running.")


def test_a_failing_listener_is_counted_and_the_others_still_hear() -> None:
    signal: Signal[int] = Signal("test")
    heard: list[int] = []

    def broken(value: int) -> None:
        raise RuntimeError("listener bug")

    signal.connect(broken)
    disconnect = signal.connect(heard.append)
    signal.emit(1)
    signal.emit(2)
    assert heard == [1, 2]
    assert signal.failures == 2
    disconnect()
    signal.emit(3)
    assert heard == [1, 2]
    assert len(signal) == 1
