"""CallSession: one call, end to end, with no UI.

Places or answers the call through :mod:`console.acs.calls`, tracks its state from the callback
events, starts/stops/updates transcription, feeds transcript packets into the model and the
journal (and streamed audio frames into the level meters of :mod:`console.audio_levels`, never
the journal), and tells subscribers (a window, the headless runner, a test) what changed — state
snapshots and operator-facing notices — through plain callbacks or an async iterator.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from console.acs import events as ev
from console.acs.calls import (
    CallInfo,
    CallService,
    CallServiceError,
    MediaStreamingSettings,
    TranscriptionSettings,
)
from console.acs.errors import explain, explain_media_failure
from console.acs.identifiers import InvalidTargetError, short_label, validate_target
from console.acs.locales import validate_locale
from console.acs.streaming import (
    AudioData,
    AudioMetadata,
    Packet,
    TranscriptionData,
    TranscriptionMetadata,
)
from console.audio_levels import AudioLevels
from console.transcript.export import export
from console.transcript.journal import Journal
from console.transcript.model import Transcript

if TYPE_CHECKING:
    from console.listener.websocket import StreamConnection

log = logging.getLogger(__name__)

# Locale picks arriving closer together than this collapse into one update request.
LOCALE_DEBOUNCE_S = 0.25
# A connected call is looked up on the service this often (None: only when its transcript
# stream closes unexpectedly), so a service that vanished shows as a lost call, not a call
# that stays "connected" forever.
CALL_CHECK_INTERVAL_S: float | None = 10.0
# How long one look may take, how soon a failed look is repeated, and how many failures in a
# row mean the service is gone: refused connections are decisive sooner than slow answers.
CALL_CHECK_TIMEOUT_S = 3.0
_RECHECK_S = 0.5
_LOST_AFTER = {"network": 2, "timeout": 3}
# When the service says the call ended, its CallDisconnected event gets this long to arrive.
_END_GRACE_S = 5.0
# CloudEvent ids remembered to drop a redelivered callback (delivery is at least once).
_SEEN_EVENTS = 1024

# Why a save failed, in the operator's words, by errno name (not every platform has them all).
_SAVE_REASONS = {
    getattr(errno, name): text
    for name, text in (
        ("ENOSPC", "the disk is full"),
        ("EDQUOT", "the disk quota is used up"),
        ("EFBIG", "the file is larger than this location allows (a disk or size limit)"),
        ("EROFS", "the location is read-only"),
        ("EACCES", "there is no permission to write there"),
        ("EPERM", "writing there is not permitted (the folder may be read-only or locked)"),
        ("ENOENT", "the folder does not exist"),
        ("ENOTDIR", "part of the path is not a folder"),
        ("EISDIR", "that name is a folder"),
        ("ENAMETOOLONG", "the file name is too long"),
    )
    if hasattr(errno, name)
}


class CallState(Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class TranscriptionState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    ACTIVE = "active"
    STOPPING = "stopping"
    FAILED = "failed"


class MediaStreamingState(Enum):
    OFF = "off"  # not asked for on this call
    REQUESTED = "requested"  # asked for at call setup; the service has not started it yet
    ACTIVE = "active"
    STOPPED = "stopped"
    FAILED = "failed"


_LIVE_CALL = (CallState.CONNECTING, CallState.CONNECTED, CallState.DISCONNECTING)
_MEDIA_ON = (MediaStreamingState.REQUESTED, MediaStreamingState.ACTIVE)


@dataclass(frozen=True, slots=True)
class Notice:
    """An entry for the event log, in operator language."""

    at: float
    level: str  # "info" | "warning" | "error"
    title: str
    text: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SessionState:
    call: CallState = CallState.IDLE
    transcription: TranscriptionState = TranscriptionState.STOPPED
    target: str | None = None
    call_connection_id: str | None = None
    connected_at: float | None = None
    requested_locale: str | None = None
    confirmed_locale: str | None = None
    stream_connected: bool = False  # a transcript stream is open
    media_streaming: MediaStreamingState = MediaStreamingState.OFF
    audio_connected: bool = False  # an audio stream is open
    last_error: str | None = None


class SessionError(Exception):
    """An action was refused or failed; the message is operator-facing."""


class SaveError(OSError):
    """Saving failed. ``strerror`` is the reason in operator words, ``operator_text`` the whole
    message; any earlier file at the path is unchanged (saves are atomic)."""

    def __init__(self, code: int | None, reason: str, path: Path) -> None:
        super().__init__(code, reason, str(path))
        self.path = path

    @property
    def operator_text(self) -> str:
        return (
            f"The transcript was not saved to {self.path}: {self.strerror}. Any earlier file "
            "there is unchanged and the transcript is still held (and autosaved), so save it "
            "somewhere else."
        )

    def __str__(self) -> str:
        return self.operator_text


class Endpoints(Protocol):
    """Where ACS should call this console back (public URLs for Azure, loopback for local)."""

    def callback_url(self, **query: str) -> str: ...

    def transcription_url(self, **query: str) -> str: ...

    def audio_url(self, **query: str) -> str: ...


StateListener = Callable[[SessionState], None]
NoticeListener = Callable[[Notice], None]
FinalListener = Callable[[TranscriptionData], None]


class CallSession:
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
    ) -> None:
        self.id = uuid.uuid4().hex
        self.calls = calls
        self.endpoints = endpoints
        self.transcript = Transcript(call_info={"clock_rate": call_time_factor})
        self.journal: Journal | None = None
        self._journal_dir = journal_dir
        self._clock = clock
        self._speech_model = speech_model_endpoint_id
        self.state = SessionState(requested_locale=validate_locale(default_locale))
        self._state_listeners: list[StateListener] = []
        self._notice_listeners: list[NoticeListener] = []
        self._final_listeners: list[FinalListener] = []
        self._locale_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._streams: set[int] = set()  # open transcript streams
        self._audio_streams: set[int] = set()
        self.packets_applied = 0
        # Ask for audio streaming at call setup; its frames only feed the level meters.
        self.stream_audio = stream_audio
        self.audio = AudioLevels()
        self._unfollow: Callable[[], None] = lambda: None
        self._check_interval = call_check_interval
        self._check_now = asyncio.Event()
        self._watch_task: asyncio.Task[None] | None = None
        self._seen_events: OrderedDict[str, None] = OrderedDict()
        self.duplicate_events = 0

    # --- subscription -----------------------------------------------------------------------

    def subscribe(
        self,
        on_state: StateListener | None = None,
        on_notice: NoticeListener | None = None,
        on_final: FinalListener | None = None,
    ) -> Callable[[], None]:
        """Register plain callbacks; returns a function that unsubscribes them."""
        pairs = [
            (self._state_listeners, on_state),
            (self._notice_listeners, on_notice),
            (self._final_listeners, on_final),
        ]
        for listeners, fn in pairs:
            if fn is not None:
                listeners.append(fn)

        def unsubscribe() -> None:
            for listeners, fn in pairs:
                if fn is not None and fn in listeners:
                    listeners.remove(fn)

        return unsubscribe

    async def updates(self, maxsize: int = 1000) -> AsyncIterator[SessionState | Notice]:
        """Async iterator over state changes and notices; a slow reader drops the oldest."""
        queue: asyncio.Queue[SessionState | Notice] = asyncio.Queue(maxsize)

        def put(item: SessionState | Notice) -> None:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(item)

        unsubscribe = self.subscribe(put, put)
        try:
            while True:
                yield await queue.get()
        finally:
            unsubscribe()

    async def wait_for(
        self, predicate: Callable[[SessionState], bool], timeout: float = 10.0
    ) -> SessionState:
        """Wait until the state satisfies ``predicate``; raise TimeoutError otherwise."""
        if predicate(self.state):
            return self.state
        done: asyncio.Future[SessionState] = asyncio.get_running_loop().create_future()

        def check(state: SessionState) -> None:
            if not done.done() and predicate(state):
                done.set_result(state)

        unsubscribe = self.subscribe(on_state=check)
        try:
            return await asyncio.wait_for(done, timeout)
        finally:
            unsubscribe()

    def _set(self, **changes: Any) -> None:
        new = replace(self.state, **changes)
        if new == self.state:
            return
        self.state = new
        for fn in list(self._state_listeners):
            try:
                fn(new)
            except Exception:
                log.exception("state listener failed")

    def _notice(self, level: str, title: str, text: str, detail: str = "") -> Notice:
        notice = Notice(self._clock(), level, title, text, detail)
        log.log(
            {"error": logging.ERROR, "warning": logging.WARNING}.get(level, logging.INFO),
            "%s: %s",
            title,
            text,
        )
        for fn in list(self._notice_listeners):
            try:
                fn(notice)
            except Exception:
                log.exception("notice listener failed")
        return notice

    def _fail(self, title: str, text: str, detail: str = "") -> SessionError:
        self._notice("error", title, text, detail)
        return SessionError(text)

    # --- guards -------------------------------------------------------------------------------

    def can_start_transcription(self) -> tuple[bool, str]:
        s = self.state
        if s.call in (CallState.IDLE, CallState.DISCONNECTED, CallState.FAILED):
            return False, "Place or answer a call first."
        if s.call is CallState.CONNECTING:
            return False, "Wait until the call is connected."
        if s.call is CallState.DISCONNECTING:
            return False, "The call is ending."
        if s.transcription in (TranscriptionState.ACTIVE, TranscriptionState.STARTING):
            return False, "Transcription is already running."
        if s.transcription is TranscriptionState.STOPPING:
            return False, "Transcription is stopping."
        return True, ""

    def can_stop_transcription(self) -> tuple[bool, str]:
        if self.state.call is not CallState.CONNECTED:
            return False, "There is no connected call."
        if self.state.transcription not in (TranscriptionState.ACTIVE, TranscriptionState.STARTING):
            return False, "Transcription is not running."
        return True, ""

    def _validated_locale(self, locale: str, title: str) -> str:
        try:
            return validate_locale(locale)
        except ValueError as exc:
            raise self._fail(title, str(exc)) from exc

    # --- actions ------------------------------------------------------------------------------

    def _open_journal(self, call_info: dict[str, Any]) -> None:
        self.transcript.call_info.update(call_info)
        if self._journal_dir is None or self.journal is not None:
            return
        try:
            self.journal = Journal.create(self._journal_dir, self.transcript.call_info)
            self._unfollow = self.journal.follow(self.transcript)
        except OSError as exc:
            self._notice(
                "warning",
                "Autosave unavailable",
                f"The transcript cannot be autosaved ({exc.strerror or exc}); save it manually.",
            )

    def _media_settings(self) -> MediaStreamingSettings | None:
        if not self.stream_audio:
            return None
        return MediaStreamingSettings(
            transport_url=self.endpoints.audio_url(session=self.id),
            start=True,
            audio_channel="unmixed",
            sample_rate=16000,
        )

    def _transcription_settings(self, locale: str, start: bool) -> TranscriptionSettings:
        return TranscriptionSettings(
            transport_url=self.endpoints.transcription_url(session=self.id),
            locale=locale,
            start=start,
            intermediate_results=True,
            speech_model_endpoint_id=self._speech_model,
        )

    async def place(self, target: str, *, locale: str, start_transcription: bool = False) -> None:
        if self.state.call in _LIVE_CALL:
            raise self._fail("Cannot place the call", "A call is already in progress.")
        try:
            raw_target = validate_target(target)
        except InvalidTargetError as exc:
            raise self._fail("Cannot place the call", str(exc)) from exc
        locale = self._validated_locale(locale, "Cannot place the call")
        self._begin_call("outbound", raw_target, locale)
        self._notice("info", "Calling", f"Calling {short_label(raw_target)}…", raw_target)
        await self._set_up_call(
            "Call failed",
            lambda callback_url, transcription, media, context: self.calls.create_call(
                target,
                callback_url,
                transcription=transcription,
                media_streaming=media,
                operation_context=context,
            ),
            locale,
            start_transcription,
        )

    async def answer(
        self, incoming: ev.IncomingCall, *, locale: str, start_transcription: bool
    ) -> None:
        if self.state.call in _LIVE_CALL:
            raise self._fail("Cannot answer", "A call is already in progress.")
        locale = self._validated_locale(locale, "Cannot answer")
        self._begin_call("inbound", incoming.from_raw_id or "unknown caller", locale)
        await self._set_up_call(
            "Answer failed",
            lambda callback_url, transcription, media, context: self.calls.answer_call(
                incoming.incoming_call_context,
                callback_url,
                transcription=transcription,
                media_streaming=media,
                operation_context=context,
            ),
            locale,
            start_transcription,
        )

    def _begin_call(self, direction: str, target: str, locale: str) -> None:
        self._set(
            call=CallState.CONNECTING, target=target, requested_locale=locale, last_error=None
        )
        self._open_journal({"direction": direction, "target": target, "locale": locale})

    async def _set_up_call(
        self,
        failure_title: str,
        request: Callable[
            [str, TranscriptionSettings, MediaStreamingSettings | None, str], Awaitable[CallInfo]
        ],
        locale: str,
        start_transcription: bool,
    ) -> None:
        """Create or answer the call with transcription (and audio streaming, if on)
        configured, since the service needs their transport URLs at call setup; transcription
        starts at once if asked, audio streaming always does."""
        media = self._media_settings()
        try:
            info = await request(
                self.endpoints.callback_url(session=self.id),
                self._transcription_settings(locale, start_transcription),
                media,
                f"console:{self.id}",
            )
        except CallServiceError as exc:
            self._set(call=CallState.FAILED, last_error=exc.operator_text)
            raise self._fail(failure_title, exc.operator_text, str(exc)) from exc
        self._set(call_connection_id=info.call_connection_id)
        if media is not None and self.state.media_streaming is MediaStreamingState.OFF:
            self._set(media_streaming=MediaStreamingState.REQUESTED)
        if start_transcription:
            self._set(transcription=TranscriptionState.STARTING)

    async def start_transcription(self, locale: str | None = None) -> None:
        allowed, reason = self.can_start_transcription()
        if not allowed:
            raise self._fail("Cannot start transcription", reason)
        locale = self._validated_locale(
            locale or self.state.requested_locale or "", "Cannot start transcription"
        )
        assert self.state.call_connection_id is not None
        self._set(transcription=TranscriptionState.STARTING, requested_locale=locale)
        try:
            await self.calls.start_transcription(
                self.state.call_connection_id,
                locale=locale,
                operation_context=f"start:{locale}",
                speech_model_endpoint_id=self._speech_model,
            )
        except CallServiceError as exc:
            self._set(transcription=TranscriptionState.FAILED, last_error=exc.operator_text)
            raise self._fail("Transcription failed", exc.operator_text, str(exc)) from exc

    async def stop_transcription(self) -> None:
        allowed, reason = self.can_stop_transcription()
        if not allowed:
            raise self._fail("Cannot stop transcription", reason)
        assert self.state.call_connection_id is not None
        self._cancel_locale_task()
        self._set(transcription=TranscriptionState.STOPPING)
        try:
            await self.calls.stop_transcription(
                self.state.call_connection_id, operation_context="stop"
            )
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
        previous = s.media_streaming
        self._set(media_streaming=MediaStreamingState.REQUESTED)
        try:
            await self.calls.start_media_streaming(s.call_connection_id, operation_context="audio")
        except CallServiceError as exc:
            self._set(media_streaming=previous)
            raise self._fail("Audio streaming not started", exc.operator_text, str(exc)) from exc

    async def stop_media_streaming(self) -> None:
        s = self.state
        if (
            s.call is not CallState.CONNECTED
            or s.call_connection_id is None
            or s.media_streaming not in _MEDIA_ON
        ):
            raise self._fail("Cannot stop audio streaming", "Audio is not streaming.")
        try:
            await self.calls.stop_media_streaming(s.call_connection_id, operation_context="audio")
        except CallServiceError as exc:
            raise self._fail("Audio streaming not stopped", exc.operator_text, str(exc)) from exc

    def request_locale(self, locale: str) -> None:
        """Ask for a new locale; a request superseded before it was sent is cancelled."""
        locale = self._validated_locale(locale, "Cannot change the language")
        self._set(requested_locale=locale)
        self._cancel_locale_task()
        if self.state.transcription not in (TranscriptionState.ACTIVE, TranscriptionState.STARTING):
            return  # used at the next start; nothing to send now
        self._locale_task = self._spawn(self._send_locale(locale))

    async def set_locale(self, locale: str) -> None:
        self.request_locale(locale)
        task = self._locale_task
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _cancel_locale_task(self) -> None:
        if self._locale_task is not None and not self._locale_task.done():
            self._locale_task.cancel()
        self._locale_task = None

    async def _send_locale(self, locale: str) -> None:
        await asyncio.sleep(LOCALE_DEBOUNCE_S)
        ccid = self.state.call_connection_id
        if ccid is None or locale != self.state.requested_locale:
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

    async def hang_up(self, *, for_everyone: bool = True) -> None:
        if self.state.call not in _LIVE_CALL or self.state.call_connection_id is None:
            raise self._fail("Cannot hang up", "There is no call to hang up.")
        self._cancel_locale_task()
        self._set(call=CallState.DISCONNECTING)
        try:
            await self.calls.hang_up(self.state.call_connection_id, for_everyone=for_everyone)
        except CallServiceError as exc:
            if exc.kind in ("not_found", "network", "timeout"):
                # The service no longer has the call (or is gone): the call is over for us.
                self._call_ended("lost", exc.operator_text)
                return
            self._set(call=CallState.CONNECTED, last_error=exc.operator_text)
            raise self._fail("Hang up failed", exc.operator_text, str(exc)) from exc

    def rename_participant(self, raw_id: str, name: str) -> None:
        name = name.strip()
        if not name:
            return
        self.transcript.rename(raw_id, name)  # the journal follows the transcript

    def save(self, path: Path, fmt: str | None = None) -> Path:
        """Write the transcript atomically; raises :class:`SaveError` (an OSError) in plain
        words when the location cannot take it, leaving any earlier file untouched."""
        try:
            return export(self.transcript, path, fmt)
        except OSError as exc:
            reason = _SAVE_REASONS.get(exc.errno or 0) or (exc.strerror or str(exc)).lower()
            log.info("saving to %s failed: %s", path, exc)
            raise SaveError(exc.errno, reason, Path(path)) from exc

    def close(self, *, keep_for_recovery: bool = False) -> None:
        """Forget the call: cancel background work and close the journal.

        ``keep_for_recovery`` leaves the journal unfinished, so the next start offers it for
        recovery (for a transcript that could not be saved)."""
        self._cancel_locale_task()
        self._stop_watch()
        for task in list(self._tasks):
            task.cancel()
        self.audio.reset()
        if self.journal is not None:
            self._unfollow()
            self.journal.close(clean=not keep_for_recovery)
            self.journal = None

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- inputs from the listeners -----------------------------------------------------------

    def handle_events(self, events: list[ev.CallEvent]) -> None:
        for event in events:
            if self._already_seen(event):
                continue
            now = self._clock()
            if self.journal is not None:
                self.journal.append_event(event.raw, received_at=now)
            try:
                # Markers and participants come from the model's own projection of the event,
                # the same one a journal replay uses.
                self.transcript.apply_event(event.raw, received_at=now)
                self._apply_event(event, now)
            except Exception:
                log.exception("event %s could not be applied", event.type)

    def _already_seen(self, event: ev.CallEvent) -> bool:
        """A redelivered callback (same CloudEvent id): applied once, never twice."""
        if not event.id:
            return False
        seen = self._seen_events
        if event.id in seen:
            self.duplicate_events += 1
            log.info("ignored a repeated delivery of %s (%s)", event.type, event.id)
            return True
        seen[event.id] = None
        if len(seen) > _SEEN_EVENTS:
            seen.popitem(last=False)
        return False

    def _apply_event(self, e: ev.CallEvent, now: float) -> None:
        if isinstance(e, ev.CallConnected):
            self._set(
                call=CallState.CONNECTED,
                connected_at=now,
                call_connection_id=e.call_connection_id or self.state.call_connection_id,
            )
            who = short_label(self.state.target) if self.state.target else "the other party"
            self._notice("info", "Call connected", f"Connected to {who}.", _detail(e))
            self._start_watch()
        elif isinstance(e, ev.ParticipantsUpdated):
            pass  # the model learns them
        elif isinstance(e, ev.CallDisconnected):
            self._call_ended("ended", "The call has ended.")
        elif isinstance(e, ev.CreateCallFailed | ev.AnswerFailed | ev.ConnectFailed):
            r = e.result
            exp = explain(
                r.code if r else None,
                r.sub_code if r else None,
                r.message if r else None,
                event=e.type,
            )
            self._set(call=CallState.FAILED, last_error=exp.text)
            self._notice("error", "Call failed", exp.text, _detail(e))
        elif isinstance(e, ev.TranscriptionStarted):
            self._set(transcription=TranscriptionState.ACTIVE, last_error=None)
            self._notice("info", "Transcription started", "Live transcription is on.", _detail(e))
        elif isinstance(e, ev.TranscriptionStopped):
            self._set(transcription=TranscriptionState.STOPPED)
            self._notice("info", "Transcription stopped", "Live transcription is off.", _detail(e))
        elif isinstance(e, ev.TranscriptionUpdated | ev.TranscriptionResumed):
            self._transcription_updated(e, now)
        elif isinstance(e, ev.TranscriptionFailed):
            r = e.result
            exp = explain(
                r.code if r else None,
                r.sub_code if r else None,
                r.message if r else None,
                event=e.type,
                status_details=e.transcription_status_details,
            )
            self._set(transcription=TranscriptionState.FAILED, last_error=exp.text)
            self._notice("error", exp.title or "Transcription failed", exp.text, _detail(e))
        elif isinstance(e, ev.MediaStreamingEvent):
            self._media_event(e)
        elif isinstance(e, ev.UnknownEvent):
            self._notice(
                "info", "Event", f"Received {e.type or 'an unrecognised event'}.", _detail(e)
            )
        else:
            self._notice("info", e.type, f"{e.type} received.", _detail(e))

    def _media_event(self, e: ev.MediaStreamingEvent) -> None:
        if isinstance(e, ev.MediaStreamingStarted):
            self._set(media_streaming=MediaStreamingState.ACTIVE)
            self._notice(
                "info",
                "Audio streaming started",
                "The call's audio is streaming to this console; the level meters are live.",
                _detail(e),
            )
        elif isinstance(e, ev.MediaStreamingStopped):
            self._set(media_streaming=MediaStreamingState.STOPPED)
            self.audio.reset()
            self._notice(
                "info",
                "Audio streaming stopped",
                "The level meters are off. The call and its transcription continue.",
                _detail(e),
            )
        elif isinstance(e, ev.MediaStreamingFailed):
            self._set(media_streaming=MediaStreamingState.FAILED)
            self.audio.reset()
            self._notice(
                "warning",
                "Audio streaming failed",
                explain_media_failure(e.status_details, e.result.message if e.result else None),
                _detail(e),
            )
        else:
            self._notice("info", e.type, f"{e.type} received.", _detail(e))

    def _transcription_updated(self, e: Any, now: float) -> None:
        details = (e.transcription_status_details or "").lower()
        if details == "transcriptionlocaleupdated":
            ctx = e.operation_context or ""
            locale = (
                ctx.split(":", 1)[1] if ctx.startswith("locale:") else self.state.requested_locale
            )
            self._confirm_locale(locale, now)
        elif details == "streamconnectioninterrupted":
            self._notice(
                "warning",
                "Transcript connection interrupted",
                "The service lost its connection to the console; it is reconnecting.",
                _detail(e),
            )
        elif details == "streamconnectionreestablished":
            self._notice(
                "info", "Transcript connection restored", "Transcription continues.", _detail(e)
            )
        else:
            self._notice("info", "Transcription updated", details or "updated", _detail(e))
        if self.state.transcription is TranscriptionState.STARTING:
            self._set(transcription=TranscriptionState.ACTIVE)

    def _confirm_locale(self, locale: str | None, now: float) -> None:
        if not locale:
            return
        with contextlib.suppress(ValueError):
            locale = validate_locale(locale)
        if locale == self.state.confirmed_locale:
            return
        previous = self.state.confirmed_locale
        self._set(confirmed_locale=locale)
        self.transcript.set_locale_confirmed(locale, now)
        if previous is not None:
            self._notice("info", "Language changed", f"Transcribing in {locale} (was {previous}).")

    def _call_ended(self, how: str, text: str) -> None:
        if self.state.call in (CallState.DISCONNECTED, CallState.FAILED, CallState.IDLE):
            return
        self._cancel_locale_task()
        self._stop_watch()
        if how != "ended":  # a CallDisconnected event already marked a normal end
            self.transcript.add_marker("call_disconnected", self._clock(), how)
        media = self.state.media_streaming
        self.audio.reset()
        self._set(
            call=CallState.DISCONNECTED,
            transcription=TranscriptionState.STOPPED,
            stream_connected=False,
            media_streaming=MediaStreamingState.STOPPED if media in _MEDIA_ON else media,
            audio_connected=False,
            last_error=text if how != "ended" else self.state.last_error,
        )
        level = "info" if how == "ended" else "warning"
        title = "Call ended" if how == "ended" else "Call lost"
        self._notice(level, title, text)

    def call_lost(self, reason: str) -> None:
        """The service became unreachable: keep the transcript, mark the call lost."""
        self._call_ended("lost", reason)

    # --- liveness -------------------------------------------------------------------------------

    def _start_watch(self) -> None:
        if self._watch_task is None or self._watch_task.done():
            self._check_now.clear()
            self._watch_task = self._spawn(self._watch_call())

    def _stop_watch(self) -> None:
        task, self._watch_task = self._watch_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    def check_call_now(self) -> None:
        """Look the call up on the service at once (e.g. its transcript stream broke)."""
        self._check_now.set()

    async def _watch_call(self) -> None:
        """Look the connected call up now and then; a service that is gone means a lost call."""
        failures = 0
        wait = self._check_interval
        while self.state.call is CallState.CONNECTED:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._check_now.wait(), wait)
            self._check_now.clear()
            ccid = self.state.call_connection_id
            if self.state.call is not CallState.CONNECTED or ccid is None:
                return
            try:
                info = await self.calls.probe_call(ccid, timeout=CALL_CHECK_TIMEOUT_S)
            except CallServiceError as exc:
                if self.state.call is not CallState.CONNECTED:
                    return
                if exc.kind == "not_found":
                    await self._ended_on_service("the service no longer knows this call")
                    return
                if exc.kind in _LOST_AFTER:
                    failures += 1
                    if failures >= _LOST_AFTER[exc.kind]:
                        self._lost("the Call Automation service cannot be reached", exc)
                        return
                    wait = _RECHECK_S
                    continue
                log.info("call check inconclusive: %s", exc)
                wait = self._check_interval
                continue
            failures = 0
            wait = self._check_interval
            if (info.state or "").lower().endswith("disconnected"):
                await self._ended_on_service("the service ended the call without a notice")
                return

    async def _ended_on_service(self, why: str) -> None:
        # The call is over on the service; its CallDisconnected event may still be on the way
        # (a remote hang-up closes the stream first), and is the better news to give.
        with contextlib.suppress(TimeoutError):
            await self.wait_for(lambda s: s.call is not CallState.CONNECTED, _END_GRACE_S)
        if self.state.call is CallState.CONNECTED:
            self._lost(why, None)

    def _lost(self, why: str, exc: CallServiceError | None) -> None:
        log.info("call lost: %s (%s)", why, exc)
        self._call_ended(
            "lost",
            f"The call was lost: {why}. Every final line received so far is kept; save the "
            "transcript, then place a new call when the service is back.",
        )

    def stream_opened(self, conn: StreamConnection) -> None:
        if conn.kind == "audio":
            self._audio_streams.add(conn.id)
            self._set(audio_connected=True)
            return
        self._streams.add(conn.id)
        self._set(stream_connected=True)

    def stream_closed(self, conn: StreamConnection, code: int | None, reason: str) -> None:
        if conn.kind == "audio":
            self._audio_streams.discard(conn.id)
            if not self._audio_streams:
                self.audio.reset()  # no audio arrives any more: the meters read empty
                self._set(audio_connected=False)
            return
        self._streams.discard(conn.id)
        self._set(stream_connected=bool(self._streams))
        if (
            not self._streams
            and self.state.call is CallState.CONNECTED
            and self.state.transcription in (TranscriptionState.ACTIVE, TranscriptionState.STARTING)
        ):
            # Not a stop we asked for: either the service reconnects, or it is gone.
            self.check_call_now()

    def handle_packet(self, conn: StreamConnection | None, frame: str, packet: Packet) -> None:
        # The per-packet hot path: keep it to the model, the journal and the final listeners.
        now = self._clock()
        if packet.__class__ is TranscriptionData:
            change = self.transcript.apply_packet(packet, received_at=now)  # type: ignore[arg-type]
            if change is None:
                return  # a duplicate or a late hypothesis: not applied, not journalled
            self.packets_applied += 1
            final = change.kind == "final"
            if self.journal is not None:
                self.journal.append_packet(frame, received_at=now, final=final)
            if final:
                for fn in self._final_listeners:
                    fn(packet)  # type: ignore[arg-type]
        elif isinstance(packet, AudioData):
            # Audio only feeds the level meters: never the transcript or the journal.
            if self.state.call not in _LIVE_CALL:
                return  # frames still in flight after the call ended
            if self.audio.feed(packet) and packet.participant_raw_id:
                # Someone is heard before they are transcribed: they get their pane now.
                self.transcript.learn_participants((packet.participant_raw_id,))
        elif isinstance(packet, AudioMetadata):
            self.audio.set_format(packet)
            if self.state.media_streaming is MediaStreamingState.REQUESTED:
                self._set(media_streaming=MediaStreamingState.ACTIVE)
        elif isinstance(packet, TranscriptionMetadata):
            self.transcript.apply_metadata(packet, received_at=now)
            if self.journal is not None:
                self.journal.append_packet(frame, received_at=now, final=True)
            self._confirm_locale(packet.locale, now)
            if self.state.transcription is TranscriptionState.STARTING:
                self._set(transcription=TranscriptionState.ACTIVE)


def _detail(e: ev.CallEvent) -> str:
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
