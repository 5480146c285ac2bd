"""Calls: the state machine (connecting → connected → disconnected), participants, events.

A call's people come from the scenario. The parties the application dialled (or the caller of an
answered call) take the place of the scenario participant of the same kind, so the number that
was called is the one whose speech is transcribed; anyone without a counterpart joins silent.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from console.acs.errors import row
from console.emulator.cloudevents import CallIds, cloud_event, result_information
from console.emulator.identifiers import identifier_model, kind_of
from console.emulator.listening import CallListening
from console.emulator.media import MediaStreaming
from console.emulator.recognition import speech_problem
from console.emulator.scenario import Scenario
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

_OK = result_information(200, 0, "")
_DRAIN_BEFORE_HANGUP = 10.0  # wall seconds
_ENDED = result_information(200, 7000, "The conversation has ended. DiagCode: 0#7000.@")
_NO_ANSWER = result_information(
    408, 10004, "Call failed, the target did not answer. DiagCode: 408#10004.@"
)
_SETUP_FAILED = {"create": "CreateCallFailed", "answer": "AnswerFailed", "connect": "ConnectFailed"}
# Seconds of call time an answered or joined call takes to connect.
_QUICK_CONNECT = 0.3
# The remote party hangs up this long (call time) after the script's last words.
_HANGUP_AFTER_SCRIPT = 2.0
# Ended calls kept so late requests get "call terminated" rather than "not found".
_KEEP_ENDED = 500

FAULT_KINDS = (
    "dropTranscriptStream",
    "transcriptionFailed",
    "hangUp",
    "participantLeft",
    "participantJoined",
)


@dataclass
class Participant:
    raw_id: str
    is_muted: bool = False
    is_on_hold: bool = False

    def model(self) -> dict[str, Any]:
        return {
            "identifier": identifier_model(self.raw_id),
            "isMuted": self.is_muted,
            "isOnHold": self.is_on_hold,
        }


def cast_scenario(scenario: Scenario, people: list[str]) -> tuple[Scenario, list[str]]:
    """Give the scenario's roles to the call's real parties; returns the scenario and everyone."""
    mapping: dict[str, str] = {}
    free = [p.raw_id for p in scenario.participants]
    extras: list[str] = []
    for raw in people:
        if raw in free:
            free.remove(raw)
            continue
        match = next((p for p in free if kind_of(p) == kind_of(raw)), None)
        if match is None:
            if raw not in extras:
                extras.append(raw)
            continue
        free.remove(match)
        mapping[match] = raw
    if mapping:

        def swap(raw_id: str) -> str:
            return mapping.get(raw_id, raw_id)

        scenario = replace(
            scenario,
            participants=tuple(replace(p, raw_id=swap(p.raw_id)) for p in scenario.participants),
            utterances=tuple(replace(u, speaker=swap(u.speaker)) for u in scenario.utterances),
            faults=tuple(
                replace(f, params={**f.params, "rawId": swap(str(f.params["rawId"]))})
                if "rawId" in f.params
                else f
                for f in scenario.faults
            ),
        )
    return scenario, [p.raw_id for p in scenario.participants] + extras


def new_server_call_id() -> str:
    locator = f"https://emulator.invalid/conv/{uuid.uuid4()}?i=1"
    return base64.urlsafe_b64encode(locator.encode()).decode().rstrip("=")


class Call:
    def __init__(
        self,
        registry: CallRegistry,
        setup: CallSetup,
        *,
        ids: CallIds,
        people: list[str],
        targets: tuple[str, ...],
    ) -> None:
        self.registry = registry
        self.setup = setup
        self.ids = ids
        self.config = registry.config
        self.tokens = registry.tokens
        self.targets = targets
        self.state = "connecting"
        self.scenario, everyone = cast_scenario(registry.scenario, people)
        self.participants = [Participant(raw) for raw in everyone]
        self.sequence = 0
        self.conversation: Conversation | None = None
        # The call's audio and its recogniser (scenario recordings, audio participants).
        self.listening: CallListening | None = None
        self.transcription = (
            Transcription(self, setup.transcription) if setup.transcription else None
        )
        self.media = MediaStreaming(self, setup.media) if setup.media else None
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- plumbing -------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"{name}-{self.ids.call_connection_id[:8]}")
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("Call task %s failed", task.get_name(), exc_info=task.exception())

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

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "callConnectionId": self.ids.call_connection_id,
            "serverCallId": self.ids.server_call_id,
            "correlationId": self.ids.correlation_id,
            "targets": [identifier_model(t) for t in self.targets],
            "callConnectionState": self.state,
            "callbackUri": self.setup.callback_uri,
        }
        if self.setup.source_caller_id:
            props["sourceCallerIdNumber"] = {"value": self.setup.source_caller_id}
        if self.setup.source_display_name:
            props["sourceDisplayName"] = self.setup.source_display_name
        if self.setup.source:
            props["source"] = identifier_model(self.setup.source)
        if self.setup.answered_by:
            props["answeredBy"] = {"id": self.setup.answered_by}
        if self.transcription is not None:
            props["transcriptionSubscription"] = self.transcription.properties()
        if self.media is not None:
            props["mediaStreamingSubscription"] = self.media.properties()
        return props

    def listen(self) -> CallListening:
        """The call's audio, created when the first audio participant joins."""
        if self.listening is None:
            problem = speech_problem()
            if problem is not None:
                raise bad_request(problem)
            self.listening = CallListening(
                replace(self.scenario, participants=(), utterances=()), self.registry.engine()
            )
            self.registry.engine().warm_up()
            if self.transcription is not None:
                self.transcription.hear(self.listening)
        return self.listening

    def add_participant(self, raw_id: str) -> None:
        """Someone joins mid-call (an audio participant): ParticipantsUpdated, as the service
        posts."""
        if any(p.raw_id == raw_id for p in self.participants):
            return
        self.participants.append(Participant(raw_id))
        self._participants_updated()

    def participant(self, raw_id: str) -> Participant:
        for p in self.participants:
            if p.raw_id == raw_id:
                return p
        raise ServiceError(404, "NotFound", "Participant not found.")

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
        self.state = "connected"
        conversation = Conversation(self.scenario, speed=self.config.speed, seed=self.config.seed)
        conversation.start()
        self.conversation = conversation
        if self.scenario.has_audio:
            problem = speech_problem()
            if problem is None:
                self.listening = CallListening(self.scenario, self.registry.engine())
                self.registry.engine().warm_up()
            else:
                log.warning("Recordings play as their script: %s", problem)
        self.emit("CallConnected", _OK, operation_context=self.setup.operation_context)
        self._participants_updated()
        if self.transcription is not None and self.transcription.setup.start:
            self._start_transcription_on_connect()
        if self.media is not None and self.media.setup.start:
            self.media.start(None, None)
        self.spawn(self._run_faults(), name="faults")
        if self.config.hangup_after_script:
            self.spawn(self._hang_up_after_script(), name="script-end")

    def _start_transcription_on_connect(self) -> None:
        assert self.transcription is not None
        if self.transcription.setup.transport_url is None:
            self.transcription.fail("transcription_url_not_set")
        elif self.setup.cognitive_endpoint is None:
            self.transcription.fail("cognitive_not_set")
        else:
            self.transcription.start()

    def _participants_updated(self) -> None:
        self.sequence += 1
        self.emit(
            "ParticipantsUpdated",
            _OK,
            participants=[p.model() for p in self.participants],
            sequenceNumber=self.sequence,
        )

    def hang_up(self, result: dict[str, Any] = _ENDED) -> None:
        """The call ends (the application hung up, terminated, or the remote party left)."""
        if self.state == "disconnected":
            return
        self.emit("CallDisconnected", result)
        self._finish()

    def _finish(self) -> None:
        self.state = "disconnected"
        self.registry.retire(self)

    async def close(self) -> None:
        """Stop everything the call runs (its WebSockets, its timers)."""
        self.state = "disconnected"
        closers = []
        if self.transcription is not None:
            closers.append(self.transcription.close())
        if self.media is not None:
            closers.append(self.media.close())
        await asyncio.gather(*closers, return_exceptions=True)
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await settle(*tasks)

    # --- scripted and injected faults ---------------------------------------------------------

    async def _run_faults(self) -> None:
        assert self.conversation is not None
        for fault in self.scenario.faults:
            await self.conversation.wait_until(fault.at)
            if self.state != "connected":
                return
            try:
                self.apply_fault(fault.kind, dict(fault.params))
            except ServiceError as exc:
                log.warning("Scenario fault %s at %.1fs not applied: %s", fault.kind, fault.at, exc)

    async def _hang_up_after_script(self) -> None:
        assert self.conversation is not None
        await self.conversation.wait_until(self.scenario.duration + _HANGUP_AFTER_SCRIPT)
        # What was said before the hang-up is still delivered: a feed running behind (a fast
        # --speed, a slow consumer) gets a bounded moment to send its last Finals.
        deadline = asyncio.get_running_loop().time() + _DRAIN_BEFORE_HANGUP
        # The feed has no completion event to wait on; a short bounded poll is enough here.
        while (  # noqa: ASYNC110
            self.state == "connected"
            and self.transcription is not None
            and self.transcription.stream is not None
            and not self.transcription.stream.feed_finished
            and asyncio.get_running_loop().time() < deadline
        ):
            await asyncio.sleep(0.05)
        if self.state == "connected":
            self.hang_up()

    def apply_fault(self, kind: str, params: dict[str, Any]) -> None:
        """Make something go wrong now; ServiceError when it cannot apply."""
        if self.state != "connected":
            raise bad_request("Faults apply only to a connected call.")
        if kind == "hangUp":
            self.hang_up()
        elif kind == "dropTranscriptStream":
            if self.transcription is None or not self.transcription.drop():
                raise bad_request("No transcription stream is connected on this call.")
        elif kind == "transcriptionFailed":
            key = str(params.get("key", "unknown_internal"))
            try:
                row(key)
            except KeyError:
                raise bad_request(f"Unknown transcription code key {key!r}.") from None
            if self.transcription is None or not self.transcription.running:
                raise bad_request("Transcription is not running on this call.")
            self.transcription.fail(key)
        elif kind in ("participantLeft", "participantJoined"):
            raw_id = params.get("rawId")
            if not isinstance(raw_id, str) or not raw_id:
                raise bad_request(f"{kind} needs params.rawId.")
            present = any(p.raw_id == raw_id for p in self.participants)
            if kind == "participantLeft":
                if not present:
                    raise bad_request(f"{raw_id} is not in the call.")
                self.participants = [p for p in self.participants if p.raw_id != raw_id]
            else:
                if present:
                    raise bad_request(f"{raw_id} is already in the call.")
                self.participants.append(Participant(raw_id))
            self._participants_updated()
        else:
            raise bad_request(f"Unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)}).")


class CallRegistry:
    def __init__(
        self,
        config: EmulatorConfig,
        *,
        delivery: CallbackDelivery,
        tokens: TokenIssuer,
        scenario: Scenario,
        incoming: IncomingCalls,
    ) -> None:
        self.config = config
        self.delivery = delivery
        self.tokens = tokens
        self.scenario = scenario
        self.incoming = incoming
        self.calls: dict[str, Call] = {}
        self._ended: list[str] = []
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

    def _new_ids(
        self, *, server_call_id: str | None = None, correlation_id: str | None = None
    ) -> CallIds:
        return CallIds(
            call_connection_id=str(uuid.uuid4()),
            server_call_id=server_call_id or new_server_call_id(),
            correlation_id=correlation_id or str(uuid.uuid4()),
        )

    def create(self, setup: CallSetup) -> Call:
        call = Call(
            self, setup, ids=self._new_ids(), people=list(setup.targets), targets=setup.targets
        )
        self.calls[call.ids.call_connection_id] = call
        reachable = not any(t in self._unreachable for t in setup.targets)
        call.begin(self.config.answer_delay, reachable=reachable)
        return call

    def answer(self, setup: CallSetup) -> Call:
        assert setup.incoming_call_context is not None
        ringing = self.incoming.take(setup.incoming_call_context)
        ids = self._new_ids(
            server_call_id=ringing.server_call_id, correlation_id=ringing.correlation_id
        )
        call = Call(self, setup, ids=ids, people=[ringing.caller], targets=(ringing.callee,))
        self.calls[call.ids.call_connection_id] = call
        call.begin(_QUICK_CONNECT, reachable=True)
        return call

    def connect(self, setup: CallSetup) -> Call:
        locator = setup.call_locator or {}
        ids = self._new_ids(server_call_id=locator.get("serverCallId"))
        call = Call(self, setup, ids=ids, people=[], targets=())
        self.calls[call.ids.call_connection_id] = call
        call.begin(_QUICK_CONNECT, reachable=True)
        return call

    def retire(self, call: Call) -> None:
        """The call ended: release its resources in the background, remember it for a while."""
        task = asyncio.create_task(call.close(), name="call-close")
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        self._ended.append(call.ids.call_connection_id)
        while len(self._ended) > _KEEP_ENDED:
            self.calls.pop(self._ended.pop(0), None)

    def active(self) -> list[Call]:
        return [c for c in self.calls.values() if c.state != "disconnected"]

    async def close(self) -> None:
        """Emulator shutdown: calls vanish without further events."""
        calls = list(self.calls.values())
        await asyncio.gather(*(c.close() for c in calls), return_exceptions=True)
        await settle(*self._closing)
        if self._engine is not None:
            engine, self._engine = self._engine, None
            await engine.close()


def _normalise_target(target: str) -> str:
    target = target.strip()
    return "4:" + target if target.startswith("+") else target
