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
from collections.abc import Callable
from pathlib import Path

from console.acs.calls import (
    CallService,
    CallServiceError,
)
from console.acs.intelligence import IntelligenceSettings
from console.acs.locales import validate_locale
from console.call.locale_switch import LocaleSwitcher
from console.call.setup import CallSetup, Endpoints
from console.call.state import (
    MEDIA_ON,
    CallState,
    MediaStreamingState,
    Notice,
    SessionError,
    SessionState,
    TranscriptionState,
    can_change_locale,
    can_start_transcription,
    can_stop_transcription,
)
from console.call.watchdog import CALL_CHECK_INTERVAL_S
from console.transcript.alerts import AlertRules, record_rules
from console.transcript.journal import JournalOptions
from console.transcript.redacted import redact_transcript
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


class CallSession(CallSetup):
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
        journal_options: JournalOptions | None = None,
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
            journal_options=journal_options,
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

    async def hold(self, raw_id: str, *, on_hold: bool = True) -> None:
        """Put a participant on hold (their transcript and audio stop), or resume them."""
        ccid = self.state.call_connection_id
        if self.state.call is not CallState.CONNECTED or ccid is None:
            raise self._fail("Cannot hold", "There is no connected call.")
        try:
            await self.calls.hold(ccid, raw_id, on_hold=on_hold)
        except CallServiceError as exc:
            raise self._fail(exc.operation or "Hold failed", exc.operator_text, str(exc)) from exc

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
        """Whether the language can be chosen now: not on a joined call, nor while the service
        identifies the language."""
        allowed, reason = can_change_locale(self.state)
        if allowed and self.intelligence.locales and self.state.transcription.running:
            return False, (
                "The service is identifying the language among "
                f"{', '.join(self.intelligence.locales)}; turn language detection off to "
                "transcribe in one language."
            )
        return allowed, reason

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

    def _record_intelligence(self, settings: IntelligenceSettings) -> None:
        self.intelligence = settings
        self.transcript.call_info["intelligence"] = settings.to_dict()

    async def set_intelligence(self, settings: IntelligenceSettings) -> None:
        """Change what the service is asked for. While transcription runs, sentiment,
        redaction and the summary are updated in place; other languages to detect among stop
        and start transcription again (the service cannot update them), marked in the
        transcript. Otherwise the settings apply from the next start."""
        try:
            settings = settings.checked()
        except ValueError as exc:
            raise self._fail("Cannot change the call intelligence", str(exc)) from exc
        old = self.intelligence
        self._record_intelligence(settings)
        ccid = self.state.call_connection_id
        if settings == old or ccid is None or not self.state.transcription.running:
            return
        if settings.locales != old.locales:
            try:
                await self.stop_transcription()
            except SessionError:
                self._record_intelligence(old)  # still transcribing as before
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
            self._record_intelligence(old)
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

    def save(self, path: Path, fmt: str | None = None, *, redact: bool = False) -> Path:
        """Write the transcript atomically; raises :class:`SaveError` in plain words.
        ``redact`` writes a redacted copy (the transcript held stays as it is)."""
        transcript = redact_transcript(self.transcript).transcript if redact else self.transcript
        return save(transcript, path, fmt)
