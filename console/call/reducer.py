"""The pure heart of a call session: a state and one typed callback event in, the next state,
the notices for the event log and the effects for the session to carry out, out.

No I/O, no asyncio, no clock: everything it needs arrives as arguments, so each transition is a
plain function call in a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum

from console.acs import events as ev
from console.acs.errors import explain, explain_media_failure
from console.acs.identifiers import short_label
from console.acs.locales import canonical_locale, same_locale
from console.call.state import (
    MEDIA_ON,
    CallState,
    MediaStreamingState,
    SessionState,
    TranscriptionState,
)


class Effect(Enum):
    WATCH = "watch"  # the call connected: start looking it up now and then
    ENDED = "ended"  # the call is over: stop background work, the meters read empty
    AUDIO_RESET = "audio_reset"  # audio frames stopped: the meters read empty
    LOCALE = "locale"  # the service confirmed ``Step.locale``: mark it in the transcript
    HANG_UP_LATE = "hang_up_late"  # a call whose setup already failed connected: end it


@dataclass(frozen=True, slots=True)
class NoticeSpec:
    level: str
    title: str
    text: str
    detail: str = ""


@dataclass(slots=True)
class Step:
    state: SessionState
    notices: list[NoticeSpec] = field(default_factory=list)
    effects: set[Effect] = field(default_factory=set)
    locale: str | None = None

    def set(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]

    def notice(self, level: str, title: str, text: str, detail: str = "") -> None:
        self.notices.append(NoticeSpec(level, title, text, detail))


def detail_of(e: ev.CallEvent) -> str:
    """The event's particulars for the event log's details column."""
    parts = [e.type]
    r = e.result
    if r is not None:
        parts.append(f"code {r.code}/{r.sub_code}")
        if r.message:
            parts.append(repr(r.message))
    details = getattr(e, "transcription_status_details", None) or getattr(e, "status_details", None)
    if details:
        parts.append(f"details {details}")
    if e.operation_context:
        parts.append(f"context {e.operation_context}")
    if e.call_connection_id:
        parts.append(f"call {e.call_connection_id}")
    return " · ".join(parts)


def reduce_event(state: SessionState, e: ev.CallEvent, now: float) -> Step:
    """What one callback event does to a session."""
    step = Step(state)
    detail = detail_of(e)
    if isinstance(e, ev.CallConnected):
        if state.call is CallState.FAILED:
            # Its setup failed (a timed-out request) but the service went ahead with it.
            step.effects.add(Effect.HANG_UP_LATE)
            return step
        step.set(
            call=CallState.CONNECTED,
            connected_at=now,
            call_connection_id=e.call_connection_id or state.call_connection_id,
        )
        who = short_label(state.target) if state.target else "the other party"
        step.notice("info", "Call connected", f"Connected to {who}.", detail)
        step.effects.add(Effect.WATCH)
    elif isinstance(e, ev.ParticipantsUpdated):
        # The transcript learns who they are; the state, who is on hold.
        step.set(held=frozenset(p.raw_id for p in e.participants if p.is_on_hold))
    elif isinstance(e, ev.CallDisconnected):
        ended(step, "ended", "The call has ended.")
    elif isinstance(e, ev.CreateCallFailed | ev.AnswerFailed | ev.ConnectFailed):
        r = e.result or ev.ResultInformation(None, None, None)
        exp = explain(r.code, r.sub_code, r.message, event=e.type)
        step.set(call=CallState.FAILED, last_error=exp.text)
        step.notice("error", "Call failed", exp.text, detail)
    elif isinstance(e, ev.TranscriptionStarted):
        step.set(transcription=TranscriptionState.ACTIVE, last_error=None)
        step.notice("info", "Transcription started", "Live transcription is on.", detail)
    elif isinstance(e, ev.TranscriptionStopped):
        step.set(transcription=TranscriptionState.STOPPED)
        step.notice("info", "Transcription stopped", "Live transcription is off.", detail)
    elif isinstance(e, ev.TranscriptionUpdated | ev.TranscriptionResumed):
        _transcription_updated(step, e, detail)
    elif isinstance(e, ev.TranscriptionFailed):
        failure = e.explain()
        text = failure.text if failure is not None else "Transcription failed."
        title = (failure.title if failure else "") or "Transcription failed"
        step.set(transcription=TranscriptionState.FAILED, last_error=text)
        step.notice("error", title, text, detail)
    elif isinstance(e, ev.MediaStreamingEvent):
        _media_event(step, e, detail)
    elif isinstance(e, ev.UnknownEvent):
        step.notice("info", "Event", f"Received {e.type or 'an unrecognised event'}.", detail)
    else:
        step.notice("info", e.type, f"{e.type} received.", detail)
    return step


def _transcription_updated(step: Step, e: ev.TranscriptionEvent, detail: str) -> None:
    details = (e.transcription_status_details or "").lower()
    if details == "transcriptionlocaleupdated":
        ctx = e.operation_context or ""
        requested = step.state.requested_locale
        confirm_locale(step, ctx.split(":", 1)[1] if ctx.startswith("locale:") else requested)
    elif details == "streamconnectioninterrupted":
        step.notice(
            "warning",
            "Transcript connection interrupted",
            "The service lost its connection to the console; it is reconnecting.",
            detail,
        )
    elif details == "streamconnectionreestablished":
        step.notice("info", "Transcript connection restored", "Transcription continues.", detail)
    else:
        step.notice("info", "Transcription updated", details or "updated", detail)
    if step.state.transcription is TranscriptionState.STARTING:
        step.set(transcription=TranscriptionState.ACTIVE)


def confirm_locale(step: Step, locale: str | None) -> None:
    """The service confirmed ``locale`` (from an update event or a stream's metadata)."""
    if not locale:
        return
    previous = step.state.confirmed_locale
    if same_locale(locale, previous):
        return
    locale = canonical_locale(locale)
    step.set(confirmed_locale=locale)
    step.locale = locale
    step.effects.add(Effect.LOCALE)
    if previous is not None:
        step.notice("info", "Language changed", f"Transcribing in {locale} (was {previous}).")


def _media_event(step: Step, e: ev.MediaStreamingEvent, detail: str) -> None:
    if isinstance(e, ev.MediaStreamingStarted):
        step.set(media_streaming=MediaStreamingState.ACTIVE)
        step.notice(
            "info",
            "Audio streaming started",
            "The service started streaming the call's audio; the level meters move as soon as "
            "someone is heard.",
            detail,
        )
    elif isinstance(e, ev.MediaStreamingStopped):
        step.set(media_streaming=MediaStreamingState.STOPPED)
        step.effects.add(Effect.AUDIO_RESET)
        step.notice(
            "info",
            "Audio streaming stopped",
            "The level meters are off. The call and its transcription continue.",
            detail,
        )
    elif isinstance(e, ev.MediaStreamingFailed):
        step.set(media_streaming=MediaStreamingState.FAILED)
        step.effects.add(Effect.AUDIO_RESET)
        message = e.result.message if e.result else None
        step.notice(
            "warning",
            "Audio streaming failed",
            explain_media_failure(e.status_details, message),
            detail,
        )
    else:
        step.notice("info", e.type, f"{e.type} received.", detail)


def ended(step: Step, how: str, text: str) -> None:
    """The call is over: ``how`` is "ended" (the service said so) or "lost"."""
    s = step.state
    if s.call in (CallState.DISCONNECTED, CallState.FAILED, CallState.IDLE):
        return
    step.effects.add(Effect.ENDED)
    step.set(
        call=CallState.DISCONNECTED,
        transcription=TranscriptionState.STOPPED,
        stream_connected=False,
        media_streaming=MediaStreamingState.STOPPED
        if s.media_streaming in MEDIA_ON
        else s.media_streaming,
        audio_connected=False,
        last_error=text if how != "ended" else s.last_error,
    )
    if how == "ended":
        step.notice("info", "Call ended", text)
    else:
        step.notice("warning", "Call lost", text)
