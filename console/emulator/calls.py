"""Call connections: the application's legs on emulated calls, and the registry of both.

A call connection (``Call``) goes connecting → connected → disconnected and owns what the
application set up on it: callback URI, transcription, media streaming. What the people on the
call say and do lives in its ``ServerCall``, shared by every connection to that call.

The properties the REST layer shows follow the service's recordings: a create response carries
``source`` and ``sourceDisplayName`` and no ``serverCallId``; a connect response neither;
``mediaStreamingSubscription`` is always there (``disabled`` without media streaming), and a GET
always shows both subscriptions (``{"state": "disabled", ...}`` when not set up).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from console.emulator.call_tasks import CallTasks
from console.emulator.cloudevents import CallIds, cloud_event, result_information
from console.emulator.identifiers import identifier_model, kind_of
from console.emulator.listening import CallListening
from console.emulator.media import MediaStreaming
from console.emulator.participants import Participant
from console.emulator.scenario import Scenario
from console.emulator.server_call import ENDED_BY_APPLICATION, OK, ServerCall
from console.emulator.service_error import ServiceError, bad_request, not_found
from console.emulator.setup import CallSetup
from console.emulator.speech import Conversation
from console.emulator.transcription import Transcription, settle

if TYPE_CHECKING:
    from console.emulator.config import EmulatorConfig
    from console.emulator.delivery import CallbackDelivery
    from console.emulator.eventgrid import IncomingCalls
    from console.emulator.recognition.recognizer import Engine
    from console.emulator.tokens import TokenIssuer

log = logging.getLogger(__name__)

_NO_ANSWER = result_information(
    408, 10004, "Call failed, the target did not answer. DiagCode: 408#10004.@"
)
_SETUP_FAILED = {"create": "CreateCallFailed", "answer": "AnswerFailed", "connect": "ConnectFailed"}
# Seconds of call time an answered or joined call takes to connect.
_QUICK_CONNECT = 0.3
# Ended connections and calls kept so late requests get "call terminated" rather than "not
# found".
_KEEP_ENDED = 500


def new_server_call_id() -> str:
    locator = f"https://emulator.invalid/conv/{uuid.uuid4()}?i=1"
    return base64.urlsafe_b64encode(locator.encode()).decode().rstrip("=")


class Call:
    def __init__(
        self,
        registry: CallRegistry,
        server: ServerCall,
        setup: CallSetup,
        *,
        targets: tuple[str, ...],
        source: str | None,
    ) -> None:
        self.registry = registry
        self.server = server
        self.setup = setup
        self.ids = CallIds(
            call_connection_id=str(uuid.uuid4()),
            server_call_id=server.server_call_id,
            correlation_id=server.correlation_id,
        )
        self.config = registry.config
        self.tokens = registry.tokens
        self.targets = targets
        self.source = source  # the raw id shown as `source` (None: not shown)
        self.state = "connecting"
        self.transcription = (
            Transcription(self, setup.transcription) if setup.transcription else None
        )
        self.media = MediaStreaming(self, setup.media) if setup.media else None
        # The service reports a media subscription (disabled) even when none was asked for.
        self._idle_media_id = str(uuid.uuid4())
        self._tasks = CallTasks(self.ids.call_connection_id[:8])
        server.legs.append(self)

    # --- what the call it is on holds -----------------------------------------------------

    @property
    def conversation(self) -> Conversation | None:
        return self.server.conversation

    @property
    def listening(self) -> CallListening | None:
        return self.server.listening

    @property
    def scenario(self) -> Scenario:
        return self.server.scenario

    @property
    def participants(self) -> list[Participant]:
        return self.server.participants

    def listen(self) -> CallListening:
        return self.server.listen()

    def add_participant(self, raw_id: str) -> None:
        self.server.add_participant(raw_id)

    def participant(self, raw_id: str) -> Participant:
        return self.server.participant(raw_id)

    @property
    def one_to_one_with_acs_user(self) -> bool:
        """A two-party call whose other party is an ACS (client SDK) user, where the service
        does not support ``startTranscription: true``."""
        if self.setup.origin == "create":
            return len(self.targets) == 1 and kind_of(self.targets[0]) == "communicationUser"
        if self.setup.origin == "answer":
            return self.source is not None and kind_of(self.source) == "communicationUser"
        return False

    # --- plumbing -------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro, name=name)

    def emit(
        self,
        short_type: str,
        result: dict[str, Any] | None,
        *,
        operation_context: str | None = None,
        callback_uri: str | None = None,
        **extra: Any,
    ) -> None:
        if self.state == "disconnected" and short_type != "CallDisconnected":
            return  # nothing about a call reaches the application after it ended
        event = cloud_event(
            short_type,
            self.ids,
            version=self.setup.api_version,
            result=result,
            operation_context=operation_context,
            **extra,
        )
        url = callback_uri or self.setup.callback_uri
        self.registry.delivery.post(self.ids.call_connection_id, url, event)

    # --- what the REST layer shows ----------------------------------------------------------

    def properties(self, *, setup_response: bool = False) -> dict[str, Any]:
        """CallConnectionProperties: for a GET, or (``setup_response``) the body answering the
        create/answer/connect request, whose fields differ as recorded."""
        origin = self.setup.origin
        props: dict[str, Any] = {"callConnectionId": self.ids.call_connection_id}
        if not setup_response or origin == "answer":
            props["serverCallId"] = self.ids.server_call_id
        props["targets"] = [identifier_model(t) for t in self.targets]
        props["callConnectionState"] = self.state
        props["callbackUri"] = self.setup.callback_uri
        if self.setup.source_caller_id:
            props["sourceCallerIdNumber"] = {"value": self.setup.source_caller_id}
        if origin == "create" or (origin == "answer" and not setup_response):
            props["sourceDisplayName"] = self.setup.source_display_name or ""
        if self.source is not None:
            props["source"] = identifier_model(self.source)
        props["correlationId"] = self.ids.correlation_id
        if self.setup.answered_by:
            props["answeredBy"] = {"id": self.setup.answered_by}
        props["mediaStreamingSubscription"] = self._media_subscription(full=setup_response)
        if self.transcription is not None:
            if not setup_response or self.transcription.setup.start:
                props["transcriptionSubscription"] = self.transcription.properties()
        elif not setup_response:
            props["transcriptionSubscription"] = {"state": "disabled", "subscribedResultTypes": []}
        return props

    def _media_subscription(self, *, full: bool) -> dict[str, Any]:
        if self.media is not None:
            return self.media.properties()
        if not full:
            return {"state": "disabled"}
        return {"id": self._idle_media_id, "state": "disabled", "subscribedContentTypes": ["audio"]}

    def require_established_or_connecting(self) -> None:
        """Hang-up is allowed while the call still rings, not after it ended."""
        if self.state == "disconnected":
            raise ServiceError.from_row("call_terminated")

    def require_established(self) -> None:
        """The checks the service makes before a mid-call action."""
        if self.state == "disconnected":
            raise ServiceError.from_row("call_terminated")
        if self.state != "connected":
            raise ServiceError.from_row("call_not_established")

    # --- lifecycle ------------------------------------------------------------------------

    def begin(self, delay: float, *, reachable: bool) -> None:
        self.spawn(self._connect_after(delay, reachable), name="connect")

    async def _connect_after(self, delay: float, reachable: bool) -> None:
        await asyncio.sleep(delay / self.config.speed)
        if self.state != "connecting":
            return
        if self.server.ended:
            self.disconnect(ENDED_BY_APPLICATION)
            return
        if not reachable:
            self.emit(
                _SETUP_FAILED[self.setup.origin],
                _NO_ANSWER,
                operation_context=self.setup.operation_context,
            )
            self._finish()
            return
        self._connected()

    def _connected(self) -> None:
        self.server.start()
        self.state = "connected"
        self.emit("CallConnected", OK, operation_context=self.setup.operation_context)
        self.server.participants_updated([self])
        if self.transcription is not None and self.transcription.setup.start:
            if self.one_to_one_with_acs_user:
                # As the service: accepted, never started (no event, no stream).
                log.info(
                    "Call %s: startTranscription at setup is not supported for a 1:1 call with "
                    "an ACS user; transcription not started",
                    self.ids.call_connection_id[:8],
                )
            else:
                self._start_transcription_on_connect()
        if self.media is not None and self.media.setup.start:
            self.media.start(None, None)

    def _start_transcription_on_connect(self) -> None:
        assert self.transcription is not None
        if self.transcription.setup.transport_url is None:
            self.transcription.fail("transcription_url_not_set")
        elif self.setup.cognitive_endpoint is None:
            self.transcription.fail("cognitive_not_set")
        else:
            self.transcription.start()

    def hold(self, raw_id: str, on_hold: bool) -> None:
        self.require_established()
        self.server.set_hold(raw_id, on_hold)

    def hang_up(self) -> None:
        """The application hangs up its connection (DELETE); the call it made ends with it."""
        if self.state == "disconnected":
            return
        self.disconnect(ENDED_BY_APPLICATION)

    def terminate(self) -> None:
        """The application ends the call for everyone (``:terminate``)."""
        if self.state == "disconnected":
            return
        self.server.end(ENDED_BY_APPLICATION)

    def disconnect(self, result: dict[str, Any]) -> None:
        """This connection ends: CallDisconnected with ``result``."""
        if self.state == "disconnected":
            return
        self.emit("CallDisconnected", result)
        self._finish()

    def _finish(self) -> None:
        self.state = "disconnected"
        self.registry.retire(self)
        self.server.leg_left(self)

    async def close(self) -> None:
        """Stop everything the connection runs (its WebSockets, its timers)."""
        self.state = "disconnected"
        closers = []
        if self.transcription is not None:
            closers.append(self.transcription.close())
        if self.media is not None:
            closers.append(self.media.close())
        await asyncio.gather(*closers, return_exceptions=True)
        await self._tasks.cancel_all()

    def apply_fault(self, kind: str, params: dict[str, Any]) -> None:
        """Make something go wrong now; ServiceError when it cannot apply."""
        if self.state != "connected":
            raise bad_request("Faults apply only to a connected call.")
        self.server.apply_fault(kind, params, leg=self)


class CallRegistry:
    def __init__(
        self,
        config: EmulatorConfig,
        *,
        delivery: CallbackDelivery,
        tokens: TokenIssuer,
        scenario: Scenario,
        incoming: IncomingCalls,
        application_id: str = "8:acs:emulator-application",
    ) -> None:
        self.config = config
        self.delivery = delivery
        self.tokens = tokens
        self.scenario = scenario
        self.incoming = incoming
        # Who a call the application places comes from, when the request names no source.
        self.application_id = application_id
        self.calls: dict[str, Call] = {}
        self.servers: dict[str, ServerCall] = {}
        self._ended: list[str] = []
        self._ended_servers: list[str] = []
        self._closing: set[asyncio.Task[None]] = set()
        self._unreachable = {_normalise_target(t) for t in config.unreachable_targets}
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        """The recogniser's decoder thread, shared by every call (started on first use)."""
        if self._engine is None:
            from console.emulator.recognition.recognizer import Engine

            self._engine = Engine()
        return self._engine

    def get(self, call_connection_id: str) -> Call:
        call = self.calls.get(call_connection_id)
        if call is None:
            raise not_found()
        return call

    def _server(
        self,
        *,
        server_call_id: str | None = None,
        correlation_id: str | None = None,
        people: list[str],
        dialled: str | None = None,
        scenario: Scenario | None = None,
        standalone: bool = False,
    ) -> ServerCall:
        server = ServerCall(
            self,
            server_call_id=server_call_id or new_server_call_id(),
            correlation_id=correlation_id or str(uuid.uuid4()),
            scenario=scenario or self.scenario,
            people=people,
            dialled=dialled,
            standalone=standalone,
        )
        self.servers[server.server_call_id] = server
        return server

    def _register(self, call: Call) -> Call:
        self.calls[call.ids.call_connection_id] = call
        return call

    def create(self, setup: CallSetup) -> Call:
        people = ([setup.source] if setup.source else []) + list(setup.targets)
        server = self._server(people=people, dialled=setup.targets[0] if setup.targets else None)
        source = setup.source or self.application_id
        call = self._register(Call(self, server, setup, targets=setup.targets, source=source))
        reachable = not any(t in self._unreachable for t in setup.targets)
        call.begin(self.config.answer_delay, reachable=reachable)
        return call

    def answer(self, setup: CallSetup) -> Call:
        assert setup.incoming_call_context is not None
        ringing = self.incoming.take(setup.incoming_call_context)
        server = self._server(
            server_call_id=ringing.server_call_id,
            correlation_id=ringing.correlation_id,
            people=[ringing.caller],
            dialled=ringing.caller,
        )
        call = self._register(
            Call(self, server, setup, targets=(ringing.callee,), source=ringing.caller)
        )
        call.begin(_QUICK_CONNECT, reachable=True)
        return call

    def connect(self, setup: CallSetup) -> Call:
        """Join the call in progress with that server call id; a call this emulator does not
        know (or a group or room) is started for the occasion."""
        locator = setup.call_locator or {}
        server_call_id = locator.get("serverCallId")
        server = self.servers.get(server_call_id) if server_call_id else None
        if server is None or server.ended:
            if server_call_id and server_call_id in self._ended_servers:
                raise ServiceError.from_row("call_terminated")
            server = self._server(server_call_id=server_call_id, people=[])
        call = self._register(Call(self, server, setup, targets=(), source=None))
        call.begin(_QUICK_CONNECT, reachable=True)
        return call

    def start_existing(
        self, *, server_call_id: str | None = None, scenario: Scenario | None = None
    ) -> ServerCall:
        """A call already in progress, with no connection from the application (Connect joins
        it). 400 when that server call id is in use."""
        if server_call_id is not None:
            if not server_call_id.strip() or len(server_call_id) > 512:
                raise bad_request("A server call id must be 1 to 512 characters.")
            known = self.servers.get(server_call_id)
            if (known is not None and not known.ended) or server_call_id in self._ended_servers:
                raise ServiceError(409, "Conflict", "A call with that server call id exists.")
        server = self._server(
            server_call_id=server_call_id, people=[], scenario=scenario, standalone=True
        )
        server.start()
        log.info("Call %s in progress (no connection yet)", server.server_call_id)
        return server

    def retire(self, call: Call) -> None:
        """A connection ended: release its resources in the background, remember it a while."""
        self._in_background(call.close())
        self._ended.append(call.ids.call_connection_id)
        while len(self._ended) > _KEEP_ENDED:
            self.calls.pop(self._ended.pop(0), None)

    def retire_server(self, server: ServerCall) -> None:
        self._in_background(server.close())
        if self.servers.get(server.server_call_id) is server:
            del self.servers[server.server_call_id]
        self._ended_servers.append(server.server_call_id)
        while len(self._ended_servers) > _KEEP_ENDED:
            self._ended_servers.pop(0)

    def _in_background(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro, name="call-close")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def active(self) -> list[Call]:
        return [c for c in self.calls.values() if c.state != "disconnected"]

    async def close(self) -> None:
        """Emulator shutdown: calls vanish without further events."""
        calls = list(self.calls.values())
        servers = list(self.servers.values())
        await asyncio.gather(*(c.close() for c in calls), return_exceptions=True)
        await asyncio.gather(*(s.close() for s in servers), return_exceptions=True)
        await settle(*self._closing)
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.close()


def _normalise_target(target: str) -> str:
    target = target.strip()
    return "4:" + target if target.startswith("+") else target
