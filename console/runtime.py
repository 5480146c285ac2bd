"""ConsoleRuntime: the embedded listeners and the call service for one profile.

Starts the callback receiver and the transcript (and audio) WebSocket server on the asyncio loop,
builds the URLs ACS must call (loopback for the emulator, the public tunnel bases for Azure), and
routes each incoming event and packet to the CallSession it belongs to. No Qt.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from console.acs.auth import AuthSettings, JwtVerifier, new_url_secret
from console.acs.calls import CallService, CallServiceError, CallServiceOptions
from console.acs.events import CallConnected, CallEvent, IncomingCall
from console.acs.intelligence import IntelligenceSettings
from console.acs.streaming import Packet, TranscriptionMetadata
from console.call.watchdog import CALL_CHECK_INTERVAL_S
from console.config import EventGridSecret, EventGridSecretStore, Profile
from console.listener.callbacks import CallbackAddress, CallbackServer
from console.listener.common import LogLimiter, url_host
from console.listener.websocket import StreamConnection, TranscriptServer
from console.logs import register_connection_string, register_secret
from console.session import CallSession
from console.signals import Signal
from console.transcript.alerts import AlertRules
from console.transcript.journal import JournalOptions

log = logging.getLogger(__name__)


# Packets of the audio streams (by class name): counted apart from the transcript's packets,
# which they would otherwise swamp (50 frames a second per speaker).
_AUDIO_PACKETS = ("AudioMetadata", "AudioData", "DtmfData")


@dataclass(frozen=True, slots=True)
class RuntimeStats:
    packets_received: int  # transcript packets
    packets_rejected: int  # unparsed, binary or oversized frames
    auth_rejected: int  # handshakes and callbacks refused for a bad token or secret
    streams_open: int  # transcript streams
    events_received: int
    audio_packets: int = 0
    audio_streams_open: int = 0
    # Input dropped at routing: naming another call than the one its URL is for, or a call
    # this console does not hold (an ended one, an unknown one). Never applied to any call.
    misrouted: int = 0
    unrouted: int = 0


class _PublicEndpoints:
    """URLs handed to ACS: the local listeners, or the tunnel's public bases for Azure."""

    def __init__(self, runtime: ConsoleRuntime) -> None:
        self._rt = runtime

    def callback_url(self, **query: str) -> str:
        rt = self._rt
        local = rt.callbacks.callback_url(**query)
        return _rebase(local, rt.profile.public_callback_base)

    def transcription_url(self, **query: str) -> str:
        rt = self._rt
        local = rt.transcripts.url("transcription", **query)
        return _rebase(local, rt.profile.public_websocket_base)

    def audio_url(self, **query: str) -> str:
        rt = self._rt
        local = rt.transcripts.url("audio", **query)
        return _rebase(local, rt.profile.public_websocket_base)


def _rebase(local_url: str, public_base: str | None) -> str:
    """Swap scheme://host:port of a listener URL for the public base (a dev tunnel)."""
    if not public_base:
        return local_url
    parts = urlsplit(local_url)
    tail = parts.path + (f"?{parts.query}" if parts.query else "")
    return public_base.rstrip("/") + tail


class ConsoleRuntime:
    def __init__(
        self,
        profile: Profile,
        *,
        data_dir: Path,
        default_locale: str = "en-US",
        call_options: CallServiceOptions | None = None,
        call_check_interval: float | None = CALL_CHECK_INTERVAL_S,
        speech_model_endpoint_id: str | None = None,
        journal_options: JournalOptions | None = None,
        intelligence: IntelligenceSettings | None = None,
        alert_rules: AlertRules | None = None,
    ) -> None:
        self.profile = profile
        # What new sessions ask the service for beyond transcription, and their alert rules
        # (Settings; a session can be given its own).
        self.intelligence = intelligence or IntelligenceSettings()
        self.alert_rules = alert_rules or AlertRules()
        # How sessions journal their calls (console.privacy.journal_options builds it from the
        # Settings); shared, so "journals are not encrypted" is told once per runtime.
        self.journal_options = journal_options or JournalOptions()
        # Sent at every call setup and transcription request of new sessions, unless a
        # session is given its own.
        self.speech_model_endpoint_id = speech_model_endpoint_id
        self.data_dir = data_dir
        self.default_locale = default_locale
        self.call_check_interval = call_check_interval
        # Whether new calls ask for audio streaming (level meters); the profile's choice
        # unless a session is told otherwise.
        self.stream_audio = profile.stream_audio
        self._secret = new_url_secret()
        # The Event Grid subscription made in Azure carries its URL: that secret is kept (in
        # the keyring, per data dir); the callback and WebSocket secrets are new per start.
        self._eventgrid = (
            EventGridSecretStore(data_dir).load()
            if profile.kind == "azure"
            else EventGridSecret(new_url_secret(), persistent=False)
        )
        # Whatever ends up in a log line, these never do.
        register_connection_string(profile.connection_string)
        register_secret(self._secret)
        register_secret(self._eventgrid.value)
        self._verifier = JwtVerifier(
            AuthSettings(
                audience=profile.audience,
                issuer=profile.issuer,
                jwks_url=profile.jwks_url,
                ca_file=profile.jwks_ca_file,
            )
        )
        options = call_options or CallServiceOptions()
        options.connection_verify = profile.connection_verify
        options.caller_id = profile.caller_id
        options.cognitive_services_endpoint = profile.cognitive_services_endpoint
        self.calls = CallService(profile.connection_string, options)
        self.callbacks = CallbackServer(
            on_events=self._on_events,
            on_incoming_call=self._on_incoming_call,
            secret=self._secret,
            verifier=self._verifier,
            eventgrid_secret=self._eventgrid.value,
            host=profile.listen_host,
            port=profile.callback_port,
            allow_non_loopback=profile.allow_non_loopback,
        )
        self.transcripts = TranscriptServer(
            self,
            secret=self._secret,
            verifier=self._verifier,
            host=profile.listen_host,
            port=profile.ws_port,
            allow_non_loopback=profile.allow_non_loopback,
        )
        self.endpoints = _PublicEndpoints(self)
        self._sessions: dict[str, CallSession] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.unrouted_events = 0  # events for no session of this console (counted, dropped)
        self.unrouted_packets = 0
        self.misrouted = 0  # input naming another call than the one its URL is for (dropped)
        self._streams: dict[int, CallSession] = {}  # open streams, by the session they feed
        self._refused_streams: dict[int, str] = {}  # refused streams: why (MISROUTED, UNROUTED)
        self._unnamed: set[int] = set()  # streams naming no call yet (until their metadata)
        self._log = LogLimiter(log)  # forged input must not flood the log
        self._by_call: dict[str, CallSession] = {}
        self.incoming_calls: Signal[IncomingCall] = Signal("incoming calls")
        self._started = False

    async def __aenter__(self) -> ConsoleRuntime:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        await self.callbacks.start()
        try:
            await self.transcripts.start()
        except BaseException:
            await self.callbacks.stop()
            raise
        self._started = True
        log.info("listening: %s", self.addresses())

    async def stop(self) -> None:
        if self._tasks:  # late calls being hung up get a moment to reach the service
            await asyncio.wait(list(self._tasks), timeout=5)
        for session in list(self._sessions.values()):
            session.close()
        self._sessions.clear()
        self._by_call.clear()
        if self._started:
            await self.transcripts.stop()
            await self.callbacks.stop()
            self._started = False
        await self.calls.close()
        await self._verifier.close()

    # --- sessions ---------------------------------------------------------------------------

    def new_session(
        self,
        *,
        speech_model_endpoint_id: str | None = None,
        stream_audio: bool | None = None,
        intelligence: IntelligenceSettings | None = None,
        alert_rules: AlertRules | None = None,
    ) -> CallSession:
        session = CallSession(
            self.calls,
            self.endpoints,
            journal_dir=self.data_dir,
            default_locale=self.default_locale,
            speech_model_endpoint_id=speech_model_endpoint_id or self.speech_model_endpoint_id,
            call_time_factor=self.profile.call_time_factor,
            call_check_interval=self.call_check_interval,
            stream_audio=self.stream_audio if stream_audio is None else stream_audio,
            journal_options=self.journal_options,
            intelligence=intelligence or self.intelligence,
            alert_rules=alert_rules or self.alert_rules,
        )
        self._sessions[session.id] = session

        def track(state: Any) -> None:
            if state.call_connection_id:
                self._by_call[state.call_connection_id] = session

        session.subscribe(on_state=track)
        return session

    def discard_session(self, session: CallSession, *, keep_for_recovery: bool = False) -> None:
        """Forget a session; ``keep_for_recovery`` leaves its journal for File ▸ Recover."""
        session.close(keep_for_recovery=keep_for_recovery)
        self._sessions.pop(session.id, None)
        for ccid in [k for k, v in self._by_call.items() if v is session]:
            del self._by_call[ccid]
        # Its streams still open feed no call any more: what they bring is counted, not used.
        for conn_id in [k for k, v in self._streams.items() if v is session]:
            del self._streams[conn_id]
            self._refused_streams[conn_id] = UNROUTED

    def on_incoming_call(self, callback: Callable[[IncomingCall], None]) -> Callable[[], None]:
        return self.incoming_calls.connect(callback)

    async def decline(self, incoming: IncomingCall) -> None:
        """Reject a ringing call; raises CallServiceError (operator_text) on failure."""
        await self.calls.reject_call(incoming.incoming_call_context, reason="busy")

    @property
    def eventgrid_url(self) -> str:
        """The full public Event Grid URL (its secret included) to subscribe IncomingCall to."""
        return _rebase(self.callbacks.eventgrid_url, self.profile.public_callback_base)

    @property
    def eventgrid_secret(self) -> EventGridSecret:
        """Whether the Event Grid URL outlives this session (and if not, why)."""
        return self._eventgrid

    def rotate_eventgrid_secret(self) -> str:
        """A new Event Grid URL, served from now on; returns it. The Event Grid subscription
        must be updated to it (the old URL is refused)."""
        if self.profile.kind == "azure":
            self._eventgrid = EventGridSecretStore(self.data_dir).rotate()
        else:
            self._eventgrid = EventGridSecret(new_url_secret(), persistent=False)
        register_secret(self._eventgrid.value)
        self.callbacks.set_eventgrid_secret(self._eventgrid.value)
        return self.eventgrid_url

    def addresses(self) -> dict[str, str]:
        """Where the listeners are bound (for the status bar), without the URL secret."""
        cb, ws = self.callbacks, self.transcripts
        return {
            "callbacks": f"http://{url_host(cb.host)}:{cb.port}",
            "transcripts": f"ws://{url_host(ws.host)}:{ws.port}",
        }

    def stats(self) -> RuntimeStats:
        ws = self.transcripts.stats
        cb = self.callbacks.stats
        audio = sum(ws.packets.get(name, 0) for name in _AUDIO_PACKETS)
        audio_streams = sum(1 for c in self.transcripts.connections if c.kind == "audio")
        return RuntimeStats(
            packets_received=ws.packets_total - audio,
            packets_rejected=ws.unparsed_total + ws.binary + ws.oversized + ws.invalid_text,
            auth_rejected=ws.auth_rejected + cb.auth_rejected,
            streams_open=ws.connections_open - audio_streams,
            events_received=cb.events_total,
            audio_packets=audio,
            audio_streams_open=audio_streams,
            misrouted=self.misrouted,
            unrouted=self.unrouted_events + self.unrouted_packets,
        )

    # --- routing ------------------------------------------------------------------------------
    # Input names its call up to three ways: the URL the console gave the service for that call
    # (``?session=…``), the service's ``x-ms-call-connection-id`` header, and the call connection
    # id inside it (an event's ``callConnectionId``, a stream's metadata). A valid token proves
    # the sender is the service, not which call it means: input is applied only when every name
    # it gives is the same live call. Otherwise it is dropped and counted, never applied to
    # another call: ``misrouted`` when its names disagree (or name a live call on the URL of
    # one that is gone), ``unrouted`` when it names no call this console holds.

    def _route(self, named: str | None, ccid: str | None) -> CallSession | str:
        """The session input named ``named`` (a session id) and ``ccid`` belongs to, or why
        none: MISROUTED or UNROUTED."""
        owner = self._by_call.get(ccid) if ccid else None
        if not named:
            return owner if owner is not None else UNROUTED
        session = self._sessions.get(named)
        if session is None:  # a call that is gone (or never was) on this console
            return MISROUTED if owner is not None else UNROUTED
        own = session.state.call_connection_id
        if ccid and ((own and ccid != own) or (owner is not None and owner is not session)):
            return MISROUTED
        return session

    def _on_events(self, events: list[CallEvent], address: CallbackAddress) -> None:
        for event in events:
            ccid = event.call_connection_id
            header = address.call_connection_id
            named = address.query.get("session") or _context_session(event)
            target: CallSession | str = MISROUTED
            if not (header and ccid and header != ccid):
                target = self._route(named, ccid or header)
            if isinstance(target, CallSession):
                if ccid:
                    self._by_call.setdefault(ccid, target)
                target.handle_events([event])
            elif target == MISROUTED:
                self.misrouted += 1
                self._log.warning(
                    "misrouted-event",
                    "refused event %s naming call %s (header %s) on the URL of session %s",
                    event.type, ccid, header, named,
                )  # fmt: skip
            else:
                self._unrouted(event, named)

    def _unrouted(self, event: CallEvent, named: str | None) -> None:
        """An event for no session: counted and logged, never applied to another call. A call
        this console placed whose session is gone (its setup failed, the operator moved on)
        connecting after all is hung up, not left running."""
        self.unrouted_events += 1
        ccid = event.call_connection_id
        self._log.warning("unrouted-event", "event %s for an unknown call %s", event.type, ccid)
        # A session of this console that is gone (never a live one: that would be misrouting).
        ours = bool(named) and named not in self._sessions
        if isinstance(event, CallConnected) and ours and ccid:
            log.warning("a call placed by this console connected late; hanging it up")
            task = asyncio.get_running_loop().create_task(self._hang_up_orphan(ccid))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _hang_up_orphan(self, call_connection_id: str) -> None:
        try:
            await self.calls.hang_up(call_connection_id)
        except CallServiceError as exc:
            log.warning("the late call %s could not be hung up: %s", call_connection_id, exc)

    def _on_incoming_call(self, incoming: IncomingCall) -> None:
        self.incoming_calls.emit(incoming)

    # PacketSink for the transcript server. A stream is routed once, when it opens (one that
    # names no call then, by its metadata); metadata naming another call refuses the rest of
    # it. Whichever session was told a stream opened is told it closed (or was refused), so no
    # stream is left counted as open.
    def stream_opened(self, conn: StreamConnection) -> None:
        named, ccid = conn.query.get("session"), conn.call_connection_id
        if not named and not ccid:
            self._unnamed.add(conn.id)  # older or proxied streams name the call in metadata
            return
        self._open_stream(conn, self._route(named, ccid), ccid)

    def _open_stream(self, conn: StreamConnection, target: CallSession | str, ccid: Any) -> None:
        if isinstance(target, CallSession):
            self._streams[conn.id] = target
            target.stream_opened(conn)
        else:
            self._refuse_stream(conn, target, ccid)

    def _refuse_stream(self, conn: StreamConnection, why: str, ccid: str | None) -> None:
        self._refused_streams[conn.id] = why
        session = self._streams.pop(conn.id, None)
        if session is not None:
            session.stream_closed(conn)
        self._log.warning(
            f"{why}-stream",
            "refused %s stream %d naming call %s on the URL of session %s (%s)",
            conn.kind, conn.id, ccid, conn.query.get("session"), why,
        )  # fmt: skip

    def packet(self, conn: StreamConnection, frame: str, packet: Packet) -> None:
        if conn.id in self._unnamed and isinstance(packet, TranscriptionMetadata):
            self._unnamed.discard(conn.id)
            ccid = packet.call_connection_id or None
            self._open_stream(conn, self._route(None, ccid), ccid)
        why = self._refused_streams.get(conn.id)
        session = self._streams.get(conn.id)
        if why is not None or session is None:
            if (why or UNROUTED) == MISROUTED:
                self.misrouted += 1
            else:
                self.unrouted_packets += 1
            return
        if isinstance(packet, TranscriptionMetadata):
            named = packet.call_connection_id
            owner = self._by_call.get(named) if named else None
            own = session.state.call_connection_id
            if named and ((own and named != own) or (owner is not None and owner is not session)):
                # A stream that says it carries another call's transcript: none of it is used.
                self._refuse_stream(conn, MISROUTED, named)
                self.misrouted += 1
                return
        session.handle_packet(frame, packet)

    def stream_closed(self, conn: StreamConnection, code: int | None, reason: str) -> None:
        self._unnamed.discard(conn.id)
        self._refused_streams.pop(conn.id, None)
        session = self._streams.pop(conn.id, None)
        if session is not None:
            session.stream_closed(conn)


MISROUTED = "misrouted"
UNROUTED = "unrouted"


def _context_session(event: CallEvent) -> str | None:
    """The session an event's operation context names (``console:<id>``, set at call setup)."""
    context = event.operation_context or ""
    if not context.startswith("console:"):
        return None
    return context.split(":", 1)[1] or None
