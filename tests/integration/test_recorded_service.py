"""The emulator answers like the recorded service: every recorded flow replayed with the SDK.

Each test drives the emulator through the operations of one live-test recording of the real
service (``tests/fixtures/recordings``, sources in SOURCES.md), with the client the recording's
test used (sync or aio) and the recorded identities, then compares, request by request, the
status and the body's keys, types and enums, and the callbacks with those the recorded test
received (``tests/fixtures/events``), field by field. ``recorded_service`` says how.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from azure.communication.callautomation import (
    CallAutomationClient as SyncClient,
)
from azure.communication.callautomation import (
    CommunicationUserIdentifier,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    StreamingTransportType,
    TranscriptionOptions,
)
from azure.communication.callautomation.aio import CallAutomationClient as AioClient

from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder
from tests.integration.recorded_service import (
    FIXTURES,
    Exchange,
    ExchangeLog,
    Roles,
    event_differences,
    exchange_differences,
    incoming_call_differences,
    load_events,
    load_recording,
)

COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"
SCENARIO = FIXTURES / "scenarios" / "two-acs-users.json"
_MEDIA = "test_e2e_media_client"
_CALLS = "test_e2e_callautomation_client"


def _sync(test: str) -> str:
    kind = _MEDIA if "media" in test or "transcription" in test or "hold" in test else _CALLS
    cls = (
        "TestMediaAutomatedLiveTest"
        if kind == _MEDIA
        else "TestCallAutomationClientAutomatedLiveTest"
    )
    return f"{kind}.py{cls}{test}"


def _aio(test: str) -> str:
    kind = _MEDIA if "media" in test or "transcription" in test or "hold" in test else _CALLS
    cls = (
        "TestMediaAutomatedLiveTestAsync"
        if kind == _MEDIA
        else "TestCallAutomationClientAutomatedLiveTestAsync"
    )
    return f"{kind}_async.py{cls}{test}"


class Sdk:
    """One identity's client, sync or aio, with every response logged; ``run(fn)`` calls
    ``fn(client)`` (in a thread for the sync client, whose calls block)."""

    def __init__(self, emu: Emulator, *, aio: bool, source: str, log: ExchangeLog) -> None:
        options: dict[str, Any] = {
            "connection_verify": str(emu.cert_path),
            "source": CommunicationUserIdentifier(source),
            "raw_response_hook": log.hook,
            "retry_total": 0,
        }
        self.aio = aio
        cls = AioClient if aio else SyncClient
        self.client: Any = cls.from_connection_string(emu.connection_string, **options)

    async def run(self, fn: Callable[[Any], Any]) -> Any:
        if self.aio:
            return await fn(self.client)
        return await asyncio.to_thread(fn, self.client)

    async def close(self) -> None:
        if self.aio:
            await self.client.close()
        else:
            self.client.close()


@dataclass
class Replay:
    emu: Emulator
    receiver: Receiver
    ws: WsRecorder
    recording: str
    events: str
    aio: bool
    # Recorded operations the emulator does not emulate, left out of the comparison.
    skip: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.recorded = [e for e in load_recording(self.recording) if e.operation not in self.skip]
        create = next(e for e in self.recorded if e.operation == "POST /calling/callConnections")
        self.caller = create.request["source"]["id"]
        self.target = create.request["targets"][0]["rawId"]
        self.log = ExchangeLog()  # only the caller's side: what the recording holds
        self.answers = ExchangeLog()
        self.a = Sdk(self.emu, aio=self.aio, source=self.caller, log=self.log)
        self.b = Sdk(self.emu, aio=self.aio, source=self.target, log=self.answers)
        self.legs: list[str] = []  # the caller's call connections

    async def close(self) -> None:
        await self.a.close()
        await self.b.close()

    @property
    def url(self) -> str:
        return self.receiver.url()

    async def create(self, **options: Any) -> Any:
        target = CommunicationUserIdentifier(self.target)
        props = await self.a.run(lambda c: c.create_call(target, self.url, **options))
        self.legs.append(props.call_connection_id)
        return props

    async def answer(self) -> None:
        """The target's side: its incoming call, answered as the recorded test does."""
        event = await self.emu.ring(
            self.caller, to=self.target, webhook_url=self.receiver.eventgrid_url
        )
        context = event["data"]["incomingCallContext"]
        answered = await self.b.run(lambda c: c.answer_call(context, self.url))
        # The answer is part of the recording: log it in order.
        self.log.exchanges.append(self.answers.exchanges.pop())
        await self.receiver.wait_for("CallConnected", answered.call_connection_id)

    async def on(self, call_id: str, fn: Callable[[Any], Any]) -> Any:
        return await self.a.run(lambda c: fn(c.get_call_connection(call_id)))

    def differences(self) -> list[str]:
        found = exchange_differences(self.recorded, self.log.exchanges)
        incoming, recorded_events = load_events(self.events)
        posted = [
            c.event for c in self.receiver.callbacks if c.data["callConnectionId"] in self.legs
        ]
        found += event_differences(
            recorded_events,
            posted,
            recorded_roles=Roles(
                {incoming["from"]["rawId"]: "caller", incoming["to"]["rawId"]: "target"}
            ),
            posted_roles=Roles({self.caller: "caller", self.target: "target"}),
        )
        delivered = [
            e["data"]
            for d in self.receiver.eventgrid
            for e in d.body
            if e["eventType"] == "Microsoft.Communication.IncomingCall"
        ]
        found += incoming_call_differences(incoming, delivered[-1])
        return found

    def answered(self, operation: str, number: int = 1) -> Exchange:
        hits = [e for e in self.log.exchanges if e.operation == operation]
        return hits[number - 1]


def assert_same(replay: Replay) -> None:
    differences = replay.differences()
    assert not differences, "the emulator differs from the recorded service:\n  " + "\n  ".join(
        differences
    )


@pytest.fixture
async def replay_with(
    make_emulator: Callable[..., Awaitable[Emulator]], receiver: Receiver, ws_server: WsRecorder
) -> Any:
    emu = await make_emulator(scenario=str(SCENARIO), hangup_after_script=False)
    made: list[Replay] = []

    def make(recording: str, events: str, *, aio: bool, skip: tuple[str, ...] = ()) -> Replay:
        replay = Replay(emu, receiver, ws_server, recording, events, aio, skip)
        made.append(replay)
        return replay

    yield make
    for replay in made:
        await replay.close()


# --- the flows --------------------------------------------------------------------------------


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "aio"])
async def test_start_update_stop_transcription(replay_with: Any, aio: bool) -> None:
    test = "test_start_stop_transcription_in_call"
    name = _aio(test) if aio else _sync(test)
    r: Replay = replay_with(f"{name}.json", f"{name}.event.json", aio=aio)
    props = await r.create(
        cognitive_services_endpoint=COGNITIVE,
        transcription=TranscriptionOptions(
            transport_url=r.ws.url(),
            transport_type=StreamingTransportType.WEBSOCKET,
            locale="en-US",
            start_transcription=False,
        ),
    )
    call_id = props.call_connection_id
    await r.answer()
    await r.receiver.wait_for("CallConnected", call_id)
    await r.on(call_id, lambda c: c.start_transcription(locale="en-ca"))
    await r.receiver.wait_for("TranscriptionStarted", call_id)
    await r.on(call_id, lambda c: c.get_call_properties())
    await r.on(call_id, lambda c: c.update_transcription(locale="en-gb"))
    await r.receiver.wait_for("TranscriptionUpdated", call_id)
    await r.on(call_id, lambda c: c.stop_transcription())
    await r.receiver.wait_for("TranscriptionStopped", call_id)
    await r.on(call_id, lambda c: c.get_call_properties())
    await r.on(call_id, lambda c: c.hang_up(True))
    await r.receiver.wait_for("CallDisconnected", call_id)
    assert_same(r)

    # The ties the recording shows between the values, beyond their shapes.
    start_op = "POST /calling/callConnections/{call}:startTranscription"
    stop_op = "POST /calling/callConnections/{call}:stopTranscription"
    get_op = "GET /calling/callConnections/{call}"
    subscription = r.answered(start_op).response["subscriptionId"]
    assert r.answered(stop_op).response == {"subscriptionId": subscription}
    during, after = r.answered(get_op, 1).response, r.answered(get_op, 2).response
    assert during["transcriptionSubscription"]["id"] == subscription
    assert during["transcriptionSubscription"]["locale"] == "en-ca"  # as started (see README)
    assert after["transcriptionSubscription"] == {
        "id": subscription,
        "state": "inactive",
        "subscribedResultTypes": ["final"],
        "locale": "en-US",  # the call's own, back after the stop, as recorded
    }


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "aio"])
async def test_start_stop_media_streaming(replay_with: Any, aio: bool) -> None:
    test = "test_start_stop_media_streaming_in_a_call"
    name = _aio(test) if aio else _sync(test)
    r: Replay = replay_with(f"{name}.json", f"{name}.event.json", aio=aio)
    props = await r.create(
        media_streaming=MediaStreamingOptions(
            transport_url=r.ws.url().replace("transcription", "audio"),
            transport_type=StreamingTransportType.WEBSOCKET,
            content_type=MediaStreamingContentType.AUDIO,
            audio_channel_type=MediaStreamingAudioChannelType.MIXED,
            start_media_streaming=False,
        ),
    )
    call_id = props.call_connection_id
    await r.answer()
    await r.receiver.wait_for("CallConnected", call_id)
    await r.on(call_id, lambda c: c.start_media_streaming())
    await r.receiver.wait_for("MediaStreamingStarted", call_id)
    await r.on(call_id, lambda c: c.get_call_properties())
    await r.on(call_id, lambda c: c.stop_media_streaming())
    await r.receiver.wait_for("MediaStreamingStopped", call_id)
    await r.on(call_id, lambda c: c.get_call_properties())
    await r.on(call_id, lambda c: c.hang_up(True))
    await r.receiver.wait_for("CallDisconnected", call_id)
    assert_same(r)


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "aio"])
async def test_create_answer_and_terminate(replay_with: Any, aio: bool) -> None:
    test = "test_create_VOIP_call_and_answer_then_hangup"
    name = _aio(test) if aio else _sync(test)
    r: Replay = replay_with(f"{name}.json", f"{name}.event.json", aio=aio)
    props = await r.create()
    call_id = props.call_connection_id
    await r.answer()
    await r.receiver.wait_for("CallConnected", call_id)
    await r.on(call_id, lambda c: c.hang_up(True))
    await r.receiver.wait_for("CallDisconnected", call_id)
    assert_same(r)


@pytest.mark.parametrize("aio", [False, True], ids=["sync", "aio"])
async def test_connect_to_the_call_in_progress(replay_with: Any, aio: bool) -> None:
    test = "test_create_VOIP_call_and_connect_call_then_hangup"
    name = _aio(test + "_async") if aio else _sync(test)
    r: Replay = replay_with(f"{name}.json", f"{name}.event.json", aio=aio)
    props = await r.create()
    call_id = props.call_connection_id
    await r.answer()
    await r.receiver.wait_for("CallConnected", call_id)
    now = await r.on(call_id, lambda c: c.get_call_properties())
    joined = await r.a.run(lambda c: c.connect_call(r.url, server_call_id=now.server_call_id))
    r.legs.append(joined.call_connection_id)
    await r.receiver.wait_for("CallConnected", joined.call_connection_id)
    await r.on(call_id, lambda c: c.hang_up(True))
    # Terminating the call ends every connection to it.
    await r.receiver.wait_for("CallDisconnected", call_id)
    await r.receiver.wait_for("CallDisconnected", joined.call_connection_id)
    assert_same(r)


async def test_hold_and_unhold(replay_with: Any) -> None:
    test = "test_add_and_hold_unhold_participant_in_a_call"
    name = _aio(test)
    r: Replay = replay_with(
        f"{name}.json",
        f"{name}.event.json",
        aio=True,
        # Adding a participant is not emulated; the hold does not depend on it.
        skip=("POST /calling/callConnections/{call}/participants:add",),
    )
    props = await r.create()
    call_id = props.call_connection_id
    await r.answer()
    await r.receiver.wait_for("CallConnected", call_id)
    await r.receiver.wait_for("ParticipantsUpdated", call_id)
    target = CommunicationUserIdentifier(r.target)

    def held(c: Any) -> bool:
        return any(p["isOnHold"] for p in c.data["participants"])

    await r.on(call_id, lambda c: c.hold(target, operation_context="hold_add_target_participant"))
    await r.receiver.wait_for("ParticipantsUpdated", call_id, where=held)
    on_hold = await r.on(call_id, lambda c: c.get_participant(target))
    await r.on(
        call_id, lambda c: c.unhold(target, operation_context="unhold_add_target_participant")
    )
    await r.receiver.wait_for("ParticipantsUpdated", call_id, count=3)
    back = await r.on(call_id, lambda c: c.get_participant(target))
    await r.on(call_id, lambda c: c.hang_up(True))
    await r.receiver.wait_for("CallDisconnected", call_id)
    assert (on_hold.is_on_hold, back.is_on_hold) == (True, False)
    assert_same(r)
