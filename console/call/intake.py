"""The listening half of a call session: what the service sends about the call.

Callback events are deduplicated, journalled, applied to the transcript and run through the pure
reducer, whose effects are carried out here; transcript and audio streams are tracked; packets go
into the transcript, the journal and the level meters. The operator's half (placing, answering,
transcription, locale, hang-up) is :class:`console.session.CallSession`, built on this.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.acs import events as ev
from console.acs.calls import CallService, CallServiceError
from console.acs.streaming import AudioData, AudioMetadata, Packet, TranscriptionData
from console.acs.streaming import TranscriptionMetadata as Metadata
from console.audio_levels import AudioLevels
from console.call.reducer import Effect, Step, confirm_locale, ended, reduce_event
from console.call.state import (
    CallState,
    MediaStreamingState,
    SessionError,
    SessionState,
    TranscriptionState,
)
from console.call.store import SessionStore
from console.call.watchdog import CALL_CHECK_INTERVAL_S, CALL_CHECK_TIMEOUT_S, CallWatchdog
from console.signals import Signal
from console.transcript.alerts import Alert, AlertWatcher
from console.transcript.insights import Insights
from console.transcript.journal import Journal, JournalError, JournalOptions
from console.transcript.model import Transcript
from console.transcript.retention import delete_journal
from console.transcript.timeline import Phrase

if TYPE_CHECKING:
    from console.listener.websocket import StreamConnection

log = logging.getLogger("console.session")

# When the service says the call ended, its CallDisconnected event gets this long to arrive.
_END_GRACE_S = 5.0
# CloudEvent ids remembered to drop a redelivered callback (delivery is at least once).
_SEEN_EVENTS = 1024


class CallIntake(SessionStore):
    def __init__(
        self,
        state: SessionState,
        calls: CallService,
        *,
        journal_dir: Path | None,
        call_time_factor: float,
        clock: Callable[[], float],
        call_check_interval: float | None = CALL_CHECK_INTERVAL_S,
        journal_options: JournalOptions | None = None,
    ) -> None:
        super().__init__(state, clock)
        self.calls = calls
        self.transcript = Transcript(call_info={"clock_rate": call_time_factor})
        self.journal: Journal | None = None
        self._journal_dir = journal_dir
        # Redacted at rest, encrypted, kept how long (plain, 7 days unless told otherwise).
        self.journal_options = journal_options or JournalOptions()
        self._unfollow: Callable[[], None] = lambda: None
        self.audio = AudioLevels()
        self.packets_applied = 0
        self._heard = False  # a frame with sound in it arrived
        self._tasks: set[asyncio.Task[Any]] = set()
        self._streams: set[int] = set()  # open transcript streams
        self._audio_streams: set[int] = set()
        self._seen_events: OrderedDict[str, None] = OrderedDict()
        self.duplicate_events = 0
        # Live insights and alerts, updated per Final (the rules: CallSession's alert_rules).
        self.insights = Insights()
        self.alert_watcher = AlertWatcher()
        self.alerts: Signal[Alert] = Signal("session alerts")
        self.watchdog = CallWatchdog(
            lambda ccid: self.calls.probe_call(ccid, timeout=CALL_CHECK_TIMEOUT_S),
            lambda: self.state.call_connection_id,
            lambda: self.state.call is CallState.CONNECTED,
            on_ended=self._ended_on_service,
            on_lost=self._lost,
            interval=call_check_interval,
        )

    # Hooks for the operator's half.
    def _connected(self) -> None:
        """The call connected."""

    def _call_over(self) -> None:
        """The call ended or was lost: stop what only a live call needs."""

    def _open_journal(self, call_info: dict[str, Any]) -> None:
        self.transcript.call_info.update(call_info)
        options = self.journal_options
        if self._journal_dir is None or self.journal is not None or not options.enabled:
            return
        try:
            self.journal = Journal.create(
                self._journal_dir, self.transcript.call_info, key=options.key, redact=options.redact
            )
            self._unfollow = self.journal.follow(self.transcript)
        except OSError as exc:
            self._notice(
                "warning",
                "Autosave unavailable",
                f"The transcript cannot be autosaved ({exc.strerror or exc}); save it manually.",
            )
            return
        if options.key is None and options.unencrypted_note and not options.told:
            options.told = True  # once per runtime, not per call
            self._notice("warning", "Journals are not encrypted", options.unencrypted_note)

    def close(self, *, keep_for_recovery: bool = False) -> None:
        """Forget the call: cancel background work and close the journal.

        ``keep_for_recovery`` leaves the journal unfinished, so the next start offers it for
        recovery (for a transcript that could not be saved)."""
        self._call_over()
        self.watchdog.stop()
        for task in list(self._tasks):
            task.cancel()
        self.audio.reset()
        if self.journal is not None:
            self._unfollow()
            self.journal.close(clean=not keep_for_recovery)
            if not keep_for_recovery and self.journal_options.retention_days <= 0:
                try:  # "never keep": a closed call's journal goes at once
                    delete_journal(self.journal.path)
                except (OSError, JournalError) as exc:
                    log.warning("journal %s not deleted: %s", self.journal.path.name, exc)
            self.journal = None

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def handle_events(self, events: list[ev.CallEvent]) -> None:
        for event in events:
            if event.id:  # a redelivered callback (same CloudEvent id) is applied once
                if event.id in self._seen_events:
                    self.duplicate_events += 1
                    log.info("ignored a repeated delivery of %s (%s)", event.type, event.id)
                    continue
                self._seen_events[event.id] = None
                if len(self._seen_events) > _SEEN_EVENTS:
                    self._seen_events.popitem(last=False)
            now = self._clock()
            if self.journal is not None:
                self.journal.append_event(event.raw, received_at=now)
            try:
                self.transcript.apply_event(event, received_at=now)
                self._carry_out(reduce_event(self.state, event, now), event)
            except Exception:
                log.exception("event %s could not be applied", event.type)

    def _carry_out(self, step: Step, event: ev.CallEvent | None = None) -> None:
        """Do what the reducer decided: effects first, then the new state, then the notices."""
        effects = step.effects
        if Effect.ENDED in effects:
            self._call_over()
            self.watchdog.stop()
        if Effect.ENDED in effects or Effect.AUDIO_RESET in effects:
            self.audio.reset()
        if Effect.LOCALE in effects and step.locale:
            self.transcript.set_locale_confirmed(step.locale, self._clock())
        self._publish(step.state)
        for n in step.notices:
            self._notice(n.level, n.title, n.text, n.detail)
        if Effect.WATCH in effects:
            self.watchdog.start()
            self._connected()
        if Effect.HANG_UP_LATE in effects and event is not None and event.call_connection_id:
            self._notice(
                "warning",
                "Late call ended",
                "A call whose setup had failed connected after all; it was hung up.",
                event.call_connection_id,
            )
            self._spawn(self._quietly(self.calls.hang_up(event.call_connection_id)))

    @staticmethod
    async def _quietly(action: Awaitable[None]) -> None:
        """A background action whose failure is already told as a notice."""
        try:
            await action
        except (SessionError, CallServiceError) as exc:
            log.info("background action failed: %s", exc)

    def _finish(self, how: str, text: str) -> None:
        step = Step(self.state)
        ended(step, how, text)
        if how != "ended" and step.effects:  # a CallDisconnected event marks a normal end
            self.transcript.add_marker("call_disconnected", self._clock(), how)
        self._carry_out(step)

    def _lost(self, why: str) -> None:
        self._finish(
            "lost",
            f"The call was lost: {why}. Every final line received so far is kept; save the "
            "transcript, then place a new call when the service is back.",
        )

    async def _ended_on_service(self, why: str) -> None:
        # The call is over on the service; its CallDisconnected event may still be on the way
        # (a remote hang-up closes the stream first), and is the better news to give.
        try:
            await self.wait_for(lambda s: s.call is not CallState.CONNECTED, _END_GRACE_S)
        except TimeoutError:
            self._lost(why)

    def _analyse(self, phrase: Phrase) -> None:
        """A Final into the live insights and alerts (a few µs: tests/bench/bench_insights.py);
        a failure here never stops the packets."""
        try:
            self.insights.add(phrase)
            alerts = self.alert_watcher.add(phrase)
        except Exception:
            log.exception("insights or alerts failed on a Final")
            return
        for alert in alerts:
            self.alerts.emit(alert)

    def stream_opened(self, conn: StreamConnection) -> None:
        if conn.kind == "audio":
            self._audio_streams.add(conn.id)
            self._set(audio_connected=True)
        else:
            self._streams.add(conn.id)
            self._set(stream_connected=True)

    def stream_closed(self, conn: StreamConnection) -> None:
        if conn.kind == "audio":
            self._audio_streams.discard(conn.id)
            if not self._audio_streams:
                self.audio.reset()  # no audio arrives any more: the meters read empty
                self._set(audio_connected=False)
            return
        self._streams.discard(conn.id)
        self._set(stream_connected=bool(self._streams))
        s = self.state
        if not self._streams and s.call is CallState.CONNECTED and s.transcription.running:
            self.watchdog.check_now()  # not a stop we asked for: reconnecting, or gone?

    def handle_packet(self, frame: str, packet: Packet) -> None:
        # The per-packet hot path: keep it to the model, the journal and the final listeners.
        now = self._clock()
        if packet.__class__ is TranscriptionData:  # exact class: the cheapest test
            assert isinstance(packet, TranscriptionData)
            change = self.transcript.apply_packet(packet, received_at=now)
            if change is None:
                return  # a duplicate or a late hypothesis: not applied, not journalled
            self.packets_applied += 1
            final = change.kind == "final"
            if self.journal is not None:
                self.journal.append_packet(frame, received_at=now, final=final, packet=packet)
            if final:
                self._analyse(change.phrase)
                self.finals.emit(packet)
        elif isinstance(packet, AudioData):
            # Audio only feeds the level meters: never the transcript or the journal.
            if not self.state.call.live:
                return  # frames still in flight after the call ended
            frames = self.audio.frames
            if self.audio.feed(packet) and packet.participant_raw_id:
                # Someone is heard before they are transcribed: they get their pane now.
                self.transcript.learn_participants((packet.participant_raw_id,))
            if not packet.silent and not self._heard and self.audio.frames > frames:
                # Said when it is true (someone is heard), not when streaming was asked for.
                self._heard = True
                self._notice(
                    "info",
                    "Call audio arriving",
                    "The call's audio is streaming to this console; the level meters are live.",
                )
        elif isinstance(packet, AudioMetadata):
            self.audio.set_format(packet)
            if self.state.media_streaming is MediaStreamingState.REQUESTED:
                self._set(media_streaming=MediaStreamingState.ACTIVE)
        elif isinstance(packet, Metadata):
            self.transcript.apply_metadata(packet, received_at=now)
            if self.journal is not None:
                self.journal.append_packet(frame, received_at=now, final=True, packet=packet)
            step = Step(self.state)
            confirm_locale(step, packet.locale)
            if step.state.transcription is TranscriptionState.STARTING:
                step.set(transcription=TranscriptionState.ACTIVE)
            self._carry_out(step)
