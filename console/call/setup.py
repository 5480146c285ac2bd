"""Setting a call up: placing it, answering it, joining one in progress.

The service needs the transcription (and audio) transport URLs at call setup, so each way in
builds them the same way; a one-to-one call with an ACS user has transcription started right
after it connects instead, since the service cannot start it at setup there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from console.acs import events as ev
from console.acs.calls import (
    CallInfo,
    CallLocator,
    CallServiceError,
    MediaStreamingSettings,
    TranscriptionSettings,
)
from console.acs.identifiers import (
    IdentifierKind,
    InvalidTargetError,
    kind_of,
    short_label,
    validate_target,
)
from console.acs.intelligence import IntelligenceSettings
from console.acs.locales import unlisted_notice, validate_locale
from console.call.intake import CallIntake
from console.call.state import CallState, MediaStreamingState, TranscriptionState

log = logging.getLogger("console.session")

SetUp = Callable[
    [str, TranscriptionSettings, MediaStreamingSettings | None, str], Awaitable[CallInfo]
]


class Endpoints(Protocol):
    """Where ACS should call this console back (public URLs for Azure, loopback for local)."""

    def callback_url(self, **query: str) -> str: ...

    def transcription_url(self, **query: str) -> str: ...

    def audio_url(self, **query: str) -> str: ...


class CallSetup(CallIntake):
    # Set by the session.
    id: str
    endpoints: Endpoints
    stream_audio: bool
    _speech_model: str | None
    _start_on_connect: str | None
    intelligence: IntelligenceSettings

    def _asked(self) -> IntelligenceSettings | None:
        """The call intelligence to ask for, when any of it is on."""
        return self.intelligence if self.intelligence.requested else None

    def _locale(self, locale: str, title: str) -> str:
        try:
            code = validate_locale(locale)
        except ValueError as exc:
            raise self._fail(title, str(exc)) from exc
        if (notice := unlisted_notice(code)) is not None:
            self._notice("info", "Locale not in the list", notice)
        return code

    async def place(self, target: str, *, locale: str, start_transcription: bool = False) -> None:
        if self.state.call.live:
            raise self._fail("Cannot place the call", "A call is already in progress.")
        try:
            raw_target = validate_target(target)
        except InvalidTargetError as exc:
            raise self._fail("Cannot place the call", str(exc)) from exc
        locale = self._locale(locale, "Cannot place the call")
        self._begin("outbound", raw_target, locale)
        self._notice("info", "Calling", f"Calling {short_label(raw_target)}…", raw_target)

        await self._set_up(
            "Call failed",
            lambda cb, t, m, ctx: self.calls.create_call(
                target, cb, transcription=t, media_streaming=m, operation_context=ctx
            ),
            locale,
            start_transcription,
        )

    async def answer(
        self, incoming: ev.IncomingCall, *, locale: str, start_transcription: bool
    ) -> None:
        if self.state.call.live:
            raise self._fail("Cannot answer", "A call is already in progress.")
        locale = self._locale(locale, "Cannot answer")
        self._begin("inbound", incoming.from_raw_id or "unknown caller", locale)

        context = incoming.incoming_call_context or ""
        await self._set_up(
            "Answer failed",
            lambda cb, t, m, ctx: self.calls.answer_call(
                context, cb, transcription=t, media_streaming=m, operation_context=ctx
            ),
            locale,
            start_transcription,
        )

    async def join(
        self, locator: CallLocator, *, locale: str, start_transcription: bool = False
    ) -> None:
        """Join a call already in progress (a supervisor transcribing someone else's call)."""
        if self.state.call.live:
            raise self._fail("Cannot join", "A call is already in progress.")
        locale = self._locale(locale, "Cannot join")
        label = {"server_call_id": "server call", "group_call_id": "group call"}
        self._begin("joined", f"{label.get(locator.kind, 'room')} {locator.id}", locale)
        self._set(joined=True)
        await self._set_up(
            "Join failed",
            lambda cb, t, m, ctx: self.calls.connect_call(
                locator, cb, transcription=t, media_streaming=m, operation_context=ctx
            ),
            locale,
            start_transcription,
        )

    def _begin(self, direction: str, target: str, locale: str) -> None:
        self._set(
            call=CallState.CONNECTING, target=target, requested_locale=locale, last_error=None
        )
        self._open_journal({"direction": direction, "target": target, "locale": locale})

    async def _set_up(self, title: str, request: SetUp, locale: str, start: bool) -> None:
        """Create or answer the call with transcription (and audio streaming, if on)
        configured, since the service needs their transport URLs at call setup; transcription
        starts at once if asked, audio streaming always does."""
        if start and kind_of(self.state.target) is IdentifierKind.COMMUNICATION_USER:
            # ACS does not start transcription at setup in a 1:1 call with an ACS user.
            start, self._start_on_connect = False, locale
            self._notice(
                "info",
                "Transcription starts on connect",
                "The service cannot start transcription while setting up a one-to-one call "
                "with an ACS user, so it is started as soon as the call connects.",
            )
        media = None
        if self.stream_audio:
            url = self.endpoints.audio_url(session=self.id)
            media = MediaStreamingSettings(transport_url=url, audio_channel="unmixed")
        transcription = TranscriptionSettings(
            transport_url=self.endpoints.transcription_url(session=self.id),
            locale=locale,
            start=start,
            intermediate_results=True,
            speech_model_endpoint_id=self._speech_model,
            intelligence=self._asked(),
        )
        callback = self.endpoints.callback_url(session=self.id)
        try:
            info = await request(callback, transcription, media, f"console:{self.id}")
        except CallServiceError as exc:
            if exc.kind == "timeout" and self.state.call is CallState.CONNECTED:
                # Only the answer was lost: the call connected meanwhile, and it is this one.
                log.info("the call connected although its setup request timed out: %s", exc)
                return
            self._set(call=CallState.FAILED, last_error=exc.operator_text)
            raise self._fail(title, exc.operator_text, str(exc)) from exc
        self._set(call_connection_id=info.call_connection_id)
        if media is not None and self.state.media_streaming is MediaStreamingState.OFF:
            self._set(media_streaming=MediaStreamingState.REQUESTED)
        if start:
            self._set(transcription=TranscriptionState.STARTING)
