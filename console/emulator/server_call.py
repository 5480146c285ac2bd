"""A call on the service, as opposed to the application's connection to it.

It holds what every connection to the call shares: the server call id, who is on the call (held
or not), the conversation's clock and audio, and the scripted faults. The application reaches it
through call connections (``calls.Call``, one per leg): a call it creates or answers has one;
Connect adds another to a call in progress. A call the emulator starts by itself (an existing call,
``POST /emulator/calls`` or ``--existing-call``) runs with no connection until one joins.

Sequence numbers of ParticipantsUpdated count every such event posted on the call, whichever
connection it went to, as the service's do (a connection sees gaps when another one got some).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from console.acs.errors import row
from console.emulator.call_tasks import CallTasks
from console.emulator.cloudevents import result_information
from console.emulator.listening import CallListening
from console.emulator.participants import Participant, cast_scenario
from console.emulator.recognition import speech_problem
from console.emulator.scenario import Scenario
from console.emulator.service_error import ServiceError, bad_request
from console.emulator.speech import Conversation

if TYPE_CHECKING:
    from console.emulator.calls import Call, CallRegistry

log = logging.getLogger(__name__)

OK = result_information(200, 0, "")
# The wording the service uses when the call is ended remotely (the other party, the network)
# and when the application ends it (hang up or terminate), as recorded.
ENDED_REMOTELY = result_information(200, 7000, "The conversation has ended. DiagCode: 0#7000.@")
ENDED_BY_APPLICATION = result_information(
    200,
    7000,
    "Call was ended by Azure Communication Service Call Automation API or a server bot. "
    "DiagCode: 0#7000.@",
)
_DRAIN_BEFORE_HANGUP = 10.0  # wall seconds with no new Final and nothing decoding
# The remote party hangs up this long (call time) after the script's last words.
_HANGUP_AFTER_SCRIPT = 2.0

FAULT_KINDS = (
    "dropTranscriptStream",
    "transcriptionFailed",
    "hangUp",
    "participantLeft",
    "participantJoined",
)


class ServerCall:
    def __init__(
        self,
        registry: CallRegistry,
        *,
        server_call_id: str,
        correlation_id: str,
        scenario: Scenario,
        people: list[str],
        dialled: str | None = None,
        standalone: bool = False,
    ) -> None:
        self.registry = registry
        self.server_call_id = server_call_id
        self.correlation_id = correlation_id
        self.config = registry.config
        self.scenario, everyone = cast_scenario(scenario, people, dialled)
        self.participants = [Participant(raw) for raw in everyone]
        self.standalone = standalone  # started by the emulator: it lives on without connections
        self.legs: list[Call] = []
        self.sequence = 0
        self.conversation: Conversation | None = None
        # The call's audio and its recogniser (scenario recordings, audio participants).
        self.listening: CallListening | None = None
        self.ended = False
        self._tasks = CallTasks(self.server_call_id[-8:])

    # --- plumbing -------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro, name=name)

    # --- who is on the call -----------------------------------------------------------------

    @property
    def held(self) -> frozenset[str]:
        """Raw ids of the participants on hold: nothing they say reaches a stream."""
        return frozenset(p.raw_id for p in self.participants if p.is_on_hold)

    def participant(self, raw_id: str) -> Participant:
        for p in self.participants:
            if p.raw_id == raw_id:
                return p
        raise ServiceError(404, "NotFound", "Participant not found.")

    def connected_legs(self) -> list[Call]:
        return [leg for leg in self.legs if leg.state == "connected"]

    def participants_updated(self, legs: Iterable[Call] | None = None) -> None:
        """ParticipantsUpdated to the given connections (default: every connected one)."""
        models = [p.model() for p in self.participants]
        for leg in list(self.connected_legs() if legs is None else legs):
            self.sequence += 1
            leg.emit("ParticipantsUpdated", OK, participants=models, sequenceNumber=self.sequence)

    def add_participant(self, raw_id: str) -> None:
        """Someone joins mid-call (an audio participant): ParticipantsUpdated, as the service
        posts."""
        if any(p.raw_id == raw_id for p in self.participants):
            return
        self.participants.append(Participant(raw_id))
        self.participants_updated()

    def set_hold(self, raw_id: str, on_hold: bool) -> None:
        participant = self.participant(raw_id)
        if participant.is_on_hold != on_hold:
            participant.is_on_hold = on_hold
            log.info("%s is %s on call %s", raw_id, "held" if on_hold else "back", self.tag)
        self.participants_updated()

    @property
    def tag(self) -> str:
        return self.server_call_id[-8:]

    # --- the conversation -------------------------------------------------------------------

    def start(self) -> None:
        """The call is up: its clock starts (once, whichever connection comes first)."""
        if self.conversation is not None:
            return
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
        self.spawn(self._run_faults(), name="faults")
        if self.config.hangup_after_script:
            self.spawn(self._hang_up_after_script(), name="script-end")

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
            for leg in self.legs:
                if leg.transcription is not None:
                    leg.transcription.hear(self.listening)
        return self.listening

    # --- the end --------------------------------------------------------------------------

    def end(self, result: dict[str, Any] = ENDED_REMOTELY) -> None:
        """The call ends for everyone: each connection gets CallDisconnected."""
        if self.ended:
            return
        self.ended = True
        for leg in list(self.legs):
            leg.disconnect(result)
        self.registry.retire_server(self)

    def leg_left(self, leg: Call) -> None:
        """A connection ended; a call the application made ends with its last connection."""
        if leg in self.legs:
            self.legs.remove(leg)
        if not self.legs and not self.standalone and not self.ended:
            self.ended = True
            self.registry.retire_server(self)

    async def close(self) -> None:
        """Stop the call's timers (its connections close their own streams)."""
        self.ended = True
        await self._tasks.cancel_all()

    # --- scripted and injected faults -------------------------------------------------------

    async def _run_faults(self) -> None:
        assert self.conversation is not None
        for fault in self.scenario.faults:
            await self.conversation.wait_until(fault.at)
            if self.ended:
                return
            try:
                self.apply_fault(fault.kind, dict(fault.params))
            except ServiceError as exc:
                log.warning("Scenario fault %s at %.1fs not applied: %s", fault.kind, fault.at, exc)

    async def _hang_up_after_script(self) -> None:
        assert self.conversation is not None
        await self.conversation.wait_until(self.scenario.duration + _HANGUP_AFTER_SCRIPT)
        # What was said before the hang-up is still delivered, as the service (which keeps up
        # with speech) would: a feed running behind (a fast --speed, a slow consumer, a busy
        # recogniser) goes on while it still sends Finals or decodes; one that does neither for
        # _DRAIN_BEFORE_HANGUP seconds is given up on.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _DRAIN_BEFORE_HANGUP
        sent = -1
        # The feed has no completion event to wait on; a short bounded poll is enough here.
        while not self.ended and loop.time() < deadline:
            streams = [
                leg.transcription.stream
                for leg in self.connected_legs()
                if leg.transcription is not None and leg.transcription.stream is not None
            ]
            if all(stream.feed_finished for stream in streams):
                break
            now_sent = sum(stream.finals_sent for stream in streams)
            if now_sent != sent or any(stream.feed_decoding for stream in streams):
                sent, deadline = now_sent, loop.time() + _DRAIN_BEFORE_HANGUP
            await asyncio.sleep(0.05)
        self.end(ENDED_REMOTELY)

    def apply_fault(self, kind: str, params: dict[str, Any], leg: Call | None = None) -> None:
        """Make something go wrong now; ServiceError when it cannot apply. Transcription faults
        hit ``leg`` (default: every connection transcribing)."""
        if kind == "hangUp":
            self.end(ENDED_REMOTELY)
        elif kind == "dropTranscriptStream":
            legs = [leg] if leg is not None else self.connected_legs()
            dropped = [x for x in legs if x.transcription is not None and x.transcription.drop()]
            if not dropped:
                raise bad_request("No transcription stream is connected on this call.")
        elif kind == "transcriptionFailed":
            key = str(params.get("key", "unknown_internal"))
            try:
                row(key)
            except KeyError:
                raise bad_request(f"Unknown transcription code key {key!r}.") from None
            legs = [leg] if leg is not None else self.connected_legs()
            running = [x for x in legs if x.transcription is not None and x.transcription.running]
            if not running:
                raise bad_request("Transcription is not running on this call.")
            for x in running:
                assert x.transcription is not None
                x.transcription.fail(key)
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
            self.participants_updated()
        else:
            raise bad_request(f"Unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)}).")
