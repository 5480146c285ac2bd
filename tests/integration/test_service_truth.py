"""What the real service would break, handled by the console: the custom speech model on every
request, a 1:1 call with an ACS user (no transcription at setup), a call that connects after its
setup request failed. The real SDK against the emulator; the requests are read on the way out
by a policy in the SDK's own pipeline, after its signing."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from azure.core.pipeline.policies import SansIOHTTPPolicy

from console.acs.calls import CallServiceOptions
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallState, Notice, TranscriptionState
from tests.waiting import local, until

CUSTOM_MODEL = "11111111-2222-3333-4444-555555555555"
ACS_USER = "8:acs:11111111-1111-1111-1111-111111111111_00000099-aaaa-bbbb-cccc-000000000042"
WAIT = 10.0


class Requests(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Every Call Automation request as it leaves the console: method, path and JSON body."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, Any]]] = []

    def on_request(self, request: Any) -> None:
        http = request.http_request
        body = http.body
        doc = json.loads(body) if body else {}
        path = http.url.split("?", 1)[0].split("/calling/", 1)[-1]
        self.seen.append((http.method, path, doc))

    def bodies(self, suffix: str) -> list[dict[str, Any]]:
        return [
            doc for method, path, doc in self.seen if method == "POST" and path.endswith(suffix)
        ]


def _options(recorder: Requests) -> CallServiceOptions:
    return CallServiceOptions(extra={"per_retry_policies": [recorder]})


async def test_the_custom_speech_model_is_sent_at_setup_start_and_update(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(custom_speech_models=(CUSTOM_MODEL,), scenario="multilingual")
    recorder = Requests()
    rt = await make_runtime(
        local(emu), call_options=_options(recorder), speech_model_endpoint_id=CUSTOM_MODEL
    )
    session = rt.new_session()
    await session.place("+15550100", locale="en-US")
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    await session.start_transcription("en-US")
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    await session.set_locale("fr-FR")
    await session.wait_for(lambda s: s.confirmed_locale == "fr-FR", WAIT)

    (create,) = recorder.bodies("callConnections")
    assert create["transcriptionOptions"]["speechModelEndpointId"] == CUSTOM_MODEL
    (start,) = recorder.bodies(":startTranscription")
    assert start["speechModelEndpointId"] == CUSTOM_MODEL
    (update,) = recorder.bodies(":updateTranscription")
    assert update == {
        "locale": "fr-FR",
        "speechModelEndpointId": CUSTOM_MODEL,
        "operationContext": "locale:fr-FR",
    }
    # The service echoes the model it transcribes with.
    metadata = session.transcript.metadata
    assert metadata is not None
    assert metadata.speech_model_endpoint_id == CUSTOM_MODEL

    # And when answering a call.
    answering = rt.new_session()
    rang: list[Any] = []
    rt.on_incoming_call(rang.append)
    await emu.ring("+15550142", webhook_url=rt.eventgrid_url)
    await until(lambda: rang, what="the incoming call")
    await answering.answer(rang[0], locale="en-US", start_transcription=True)
    await answering.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    (answer,) = recorder.bodies("callConnections:answer")
    assert answer["transcriptionOptions"]["speechModelEndpointId"] == CUSTOM_MODEL
    assert answer["transcriptionOptions"]["startTranscription"] is True


async def test_a_one_to_one_call_with_an_acs_user_starts_transcription_after_it_connects(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator()
    recorder = Requests()
    rt = await make_runtime(local(emu), call_options=_options(recorder))
    session = rt.new_session()
    notices: list[Notice] = []
    session.subscribe(on_notice=notices.append)
    await session.place(ACS_USER, locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)

    (create,) = recorder.bodies("callConnections")
    # ACS does not support transcription at setup here: never asked for.
    assert create["transcriptionOptions"]["startTranscription"] is False
    (start,) = recorder.bodies(":startTranscription")
    assert start["locale"] == "en-US"
    titles = [n.title for n in notices]
    assert titles.index("Transcription starts on connect") < titles.index("Call connected")
    why = next(n for n in notices if n.title == "Transcription starts on connect")
    assert "one-to-one call with an ACS user" in why.text
    await session.wait_for(lambda s: s.stream_connected, WAIT)
