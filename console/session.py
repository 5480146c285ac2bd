"""CallSession: one call, end to end, with no UI.

Places or answers the call through :mod:`console.acs.calls`, feeds each typed callback event to
the pure reducer (:mod:`console.call.reducer`) and carries out what it decides, feeds transcript
packets into the model and the journal (audio frames only into the level meters), and tells
subscribers (a window, the headless runner, a test) what changed through three signals:
``state_changed``, ``notices`` and ``finals``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from console.acs import events as ev
from console.acs.calls import (
    CallInfo,
    CallService,
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
from console.call.locale_switch import LocaleSwitcher
from console.call.state import (
    MEDIA_ON,
    CallState,
    MediaStreamingState,
    Notice,
    SessionError,
    SessionState,
    TranscriptionState,
    can_start_transcription,
    can_stop_transcription,
)
from console.call.watchdog import CALL_CHECK_INTERVAL_S
from console.transcript.alerts import AlertRules, record_rules
from console.transcript.saving import SaveError, save
from console.transcript.timeline import MarkerKind

__all__ = [
    "CallSession",
    "CallState",
    "Endpoints",
    "IntelligenceSettings",
    "MediaStreamingState",
    "Notice",
    "SaveError",
    "SessionError",
    "SessionState",
    "TranscriptionState",
]

log = logging.getLogger(__name__)

SetUp = Callable[
    [str, TranscriptionSettings, MediaStreamingSettings | None, str], Awaitable[CallInfo]
]


class Endpoints(Protocol):
    """Where ACS should call this console back (public URLs for Azure, loopback for local)."""

    def callback_url(self, **query: str) -> str: ...

    def transcription_url(self, **query: str) -> str: ...

    def audio_url(self, **query: str) -> str: ...


class CallSession(CallIntake):
    def __init__(
        self,
        calls: CallService,
        endpoints: Endpoints,
        *,
        journal_dir: Path | None = None,
        default_locale: str = "en-US",
        speech_model_endpoint_id: str | None = None,
        call_time_factor: float = 1.0,
        clock: Callable[[], float] = time.time,
        call_check_interval: float | None = CALL_CHECK_INTERVAL_S,
        stream_audio: bool = False,
        intelligence: IntelligenceSettings | None = None,
        alert_rules: AlertRules | None = None,
    ) -> None:
        super().__init__(
            SessionState(requested_locale=validate_locale(default_locale)),
            calls,
            journal_dir=journal_dir,
            call_time_factor=call_time_factor,
            clock=clock,
            call_check_interval=call_check_interval,
        )
        self.id = uuid.uuid4().hex
        self.endpoints = endpoints
        self._speech_model = speech_model_endpoint_id or None
        # Ask for audio streaming at call setup; its frames only feed the level meters.
        self.stream_audio = stream_audio
        self._locales = LocaleSwitcher(self._send_locale)
        self._start_on_connect: str | None = None  # a locale, for a 1:1 call with an ACS user
        # What the service is asked for beyond transcription (ValueError when unusable), and
        # the alert rules; both recorded with the call (journal header, JSON export).
        self.intelligence = (intelligence or IntelligenceSettings()).checked()
        if alert_rules is not None:
            self.alert_watcher.set_rules(alert_rules)
        record_rules(self.transcript, self.alert_watcher.rules)
        self.transcript.call_info["intelligence"] = self.intelligence.to_dict()

    def _connected(self) -> None:
        if self._start_on_connect is not None:
            locale, self._start_on_connect = self._start_on_connect, None
            self._spawn(self._quietly(self.start_transcription(locale)))

    def _call_over(self) -> None:
        self._locales.cancel()

    def can_start_transcription(self) -> tuple[bool, str]:
        return can_start_transcription(self.state)

    def can_stop_transcription(self) -> tuple[bool, str]:
        return can_stop_transcription(self.state)

    def _locale(self, locale: str, title: str) -> str:
        try:
            code = validate_locale(locale)
        except ValueError as exc:
            raise self._fail(title, str(exc)) from exc
        if (notice := unlisted_notice(code)) is not None:
            self._notice("info", "Locale not in the list", notice)
        return code

    # --- setting the call up ------------------------------------------------------------------

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

    # --- transcription, audio, locale, hang-up ------------------------------------------------

    async def start_transcription(self, locale: str | None = None) -> None:
        allowed, reason = self.can_start_transcription()
        if not allowed:
            raise self._fail("Cannot start transcription", reason)
        locale = self._locale(
            locale or self.state.requested_locale or "", "Cannot start transcription"
        )
        ccid = self.state.call_connection_id
        assert ccid is not None
        self._set(transcription=TranscriptionState.STARTING, requested_locale=locale)
        try:
            await self.calls.start_transcription(
                ccid,
                locale=locale,
                operation_context=f"start:{locale}",
                speech_model_endpoint_id=self._speech_model,
                intelligence=self._asked(),
            )
        except CallServiceError as exc:
            self._set(transcription=TranscriptionState.FAILED, last_error=exc.operator_text)
            raise self._fail("Transcription failed", exc.operator_text, str(exc)) from exc

    async def stop_transcription(self) -> None:
        allowed, reason = self.can_stop_transcription()
        if not allowed:
            raise self._fail("Cannot stop transcription", reason)
        ccid = self.state.call_connection_id
        assert ccid is not None
        self._locales.cancel()
        self._set(transcription=TranscriptionState.STOPPING)
        try:
            await self.calls.stop_transcription(ccid, operation_context="stop")
        except CallServiceError as exc:
            self._set(transcription=TranscriptionState.ACTIVE, last_error=exc.operator_text)
            raise self._fail("Could not stop transcription", exc.operator_text, str(exc)) from exc

    async def start_media_streaming(self) -> None:
        """Resume audio streaming on a call set up with it (after it was stopped)."""
        s = self.state
        if s.call is not CallState.CONNECTED or s.call_connection_id is None:
            raise self._fail("Cannot start audio streaming", "There is no connected call.")
        if s.media_streaming is MediaStreamingState.OFF:
            raise self._fail(
                "Cannot start audio streaming",
                "This call was placed with audio streaming off; turn it on in Settings for the "
                "next call.",
            )
        self._set(media_streaming=MediaStreamingState.REQUESTED)
        try:
            await self.calls.start_media_streaming(s.call_connection_id, operation_context="audio")
        except CallServiceError as exc:
            self._set(media_streaming=s.media_streaming)
            raise self._fail("Audio streaming not started", exc.operator_text, str(exc)) from exc

    async def stop_media_streaming(self) -> None:
        s = self.state
        if s.call is not CallState.CONNECTED or s.media_streaming not in MEDIA_ON:
            raise self._fail("Cannot stop audio streaming", "Audio is not streaming.")
        assert s.call_connection_id is not None
        try:
            await self.calls.stop_media_streaming(s.call_connection_id, operation_context="audio")
        except CallServiceError as exc:
            raise self._fail("Audio streaming not stopped", exc.operator_text, str(exc)) from exc

    def can_request_locale(self) -> tuple[bool, str]:
        """Whether the locale can be chosen now (not while the service identifies languages)."""
        if self.intelligence.locales and self.state.transcription.running:
            return False, (
                "The service is identifying the language among "
                f"{', '.join(self.intelligence.locales)}; turn language detection off to "
                "transcribe in one language."
            )
        return True, ""

    def request_locale(self, locale: str) -> None:
        """Ask for a new locale; a request superseded before it was sent is cancelled."""
        allowed, reason = self.can_request_locale()
        if not allowed:
            raise self._fail("Cannot change the language", reason)
        locale = self._locale(locale, "Cannot change the language")
        self._set(requested_locale=locale)
        self._locales.cancel()
        if self.state.transcription.running:
            self._locales.request(locale)  # else it is used at the next start

    async def set_locale(self, locale: str) -> None:
        self.request_locale(locale)
        await self._locales.wait()

    async def _send_locale(self, locale: str) -> None:
        ccid = self.state.call_connection_id
        if ccid is None:
            return
        try:
            await self.calls.update_transcription(
                ccid,
                locale=locale,
                operation_context=f"locale:{locale}",
                speech_model_endpoint_id=self._speech_model,
            )
        except CallServiceError as exc:
            self._set(last_error=exc.operator_text)
            self._fail("Language not changed", exc.operator_text, str(exc))

    # --- call intelligence (the service's preview features) ----------------------------------

    def _asked(self) -> IntelligenceSettings | None:
        return self.intelligence if self.intelligence.requested else None

    async def set_intelligence(self, settings: IntelligenceSettings) -> None:
        """Change what the service is asked for. While transcription runs, sentiment,
        redaction and the summary are updated in place; other languages to detect among stop
        and start transcription again (the service cannot update them), marked in the
        transcript. Otherwise the settings apply from the next start."""
        try:
            settings = settings.checked()
        except ValueError as exc:
            raise self._fail("Cannot change the call intelligence", str(exc)) from exc
        old, self.intelligence = self.intelligence, settings
        self.transcript.call_info["intelligence"] = settings.to_dict()
        ccid = self.state.call_connection_id
        if settings == old or ccid is None or not self.state.transcription.running:
            return
        if settings.locales != old.locales:
            try:
                await self.stop_transcription()
            except SessionError:
                self.intelligence = old  # still transcribing as before
                self.transcript.call_info["intelligence"] = old.to_dict()
                raise
            await self.wait_for(lambda s: s.transcription is not TranscriptionState.STOPPING, 30)
            detail = ", ".join(settings.locales) or "off"
            self.transcript.add_marker(MarkerKind.LANGUAGES_CHANGED, self._clock(), detail)
            await self.start_transcription()
            return
        try:
            await self.calls.update_transcription(
                ccid,
                locale=None,
                operation_context="intelligence",
                speech_model_endpoint_id=self._speech_model,
                intelligence=settings,
            )
        except CallServiceError as exc:
            self.intelligence = old
            self.transcript.call_info["intelligence"] = old.to_dict()
            raise self._fail("Settings not changed", exc.operator_text, str(exc)) from exc

    def set_alert_rules(self, rules: AlertRules) -> None:
        """New alert rules from the next Final on (raises AlertRuleError in plain words)."""
        self.alert_watcher.set_rules(rules)
        record_rules(self.transcript, self.alert_watcher.rules)

    async def hang_up(self, *, for_everyone: bool = True) -> None:
        if not self.state.call.live or self.state.call_connection_id is None:
            raise self._fail("Cannot hang up", "There is no call to hang up.")
        self._locales.cancel()
        self._set(call=CallState.DISCONNECTING)
        try:
            await self.calls.hang_up(self.state.call_connection_id, for_everyone=for_everyone)
        except CallServiceError as exc:
            if exc.kind in ("not_found", "network", "timeout"):
                # The service no longer has the call (or is gone): the call is over for us.
                self._finish("lost", exc.operator_text)
                return
            self._set(call=CallState.CONNECTED, last_error=exc.operator_text)
            raise self._fail("Hang up failed", exc.operator_text, str(exc)) from exc

    def rename_participant(self, raw_id: str, name: str) -> None:
        if name.strip():
            self.transcript.rename(raw_id, name.strip())  # the journal follows the transcript

    def save(self, path: Path, fmt: str | None = None) -> Path:
        """Write the transcript atomically; raises :class:`SaveError` in plain words."""
        return save(self.transcript, path, fmt)
