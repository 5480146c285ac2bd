"""The emulator's call intelligence as raw packets on its transcription WebSocket: identified
languages from the scenario's lines, sentiments, masked personal data and the metadata saying
so; and the requests it refuses, naming the field."""

from __future__ import annotations

import re
from typing import Any

from console.emulator.scenario import load_scenario
from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, signed_request
from tests.waiting import until

PREVIEW = "2025-08-15-preview"
COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"


async def _call(emu: Emulator, receiver: Receiver, ws: WsRecorder, **options: Any) -> str:
    body = {
        "targets": [{"rawId": "4:+15550100", "phoneNumber": {"value": "+15550100"}}],
        "sourceCallerIdNumber": {"value": "+15550199"},
        "callbackUri": receiver.url(),
        "callIntelligenceOptions": {"cognitiveServicesEndpoint": COGNITIVE},
        "transcriptionOptions": {
            "transportType": "websocket",
            "transportUrl": ws.url(),
            "locale": "en-US",
            "startTranscription": True,
            "enableIntermediateResults": True,
            **options,
        },
    }
    status, made = await signed_request(
        emu, "POST", "/calling/callConnections", body, api_version=PREVIEW
    )
    assert status == 201, made
    ccid: str = made["callConnectionId"]
    return ccid


async def test_each_line_comes_in_the_language_it_is_spoken_in(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu: Emulator = await make_emulator(scenario="multilingual", speed=40.0)
    candidates = ["en-US", "es-MX", "fr-FR", "de-DE"]  # es-MX: no line is spoken in Spanish
    await _call(emu, receiver, ws_server, locales=candidates)
    scenario = load_scenario("multilingual")
    conn = await ws_server.wait_finals(len(scenario.utterances), within=30)

    metadata = conn.packets[0]["transcriptionMetadata"]
    assert metadata["locales"] == candidates
    assert metadata["enableSentimentAnalysis"] is False
    assert metadata["piiRedactionOptions"] == {
        "enable": False,
        "redactionType": "MaskWithCharacter",
    }
    for final, line in zip(conn.finals(), scenario.utterances, strict=True):
        spoken = line.spoken_language(scenario.default_locale)
        assert final["languageIdentified"] == spoken
        assert final["text"] == line.text[spoken]
        assert "sentimentAnalysisResult" not in final  # not asked for
    # Intermediates say the language too.
    intermediates = [d for d in conn.data() if d["resultStatus"] == "Intermediate"]
    assert intermediates
    assert all(d["languageIdentified"] in candidates for d in intermediates)


async def test_a_line_in_no_candidate_language_is_heard_as_the_first_candidate_badly(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu: Emulator = await make_emulator(scenario="multilingual", speed=40.0)
    await _call(emu, receiver, ws_server, locales=["es-ES", "de-DE"])
    scenario = load_scenario("multilingual")
    conn = await ws_server.wait_finals(3, within=30)
    first, second, _ = conn.finals()[:3]
    # Spoken in English and French: neither is a candidate.
    assert first["languageIdentified"] == second["languageIdentified"] == "es-ES"
    assert first["text"] == scenario.utterances[0].text["en-US"]  # what was said
    assert first["confidence"] < scenario.utterances[0].confidence / 2


async def test_sentiments_and_masked_personal_data_on_the_support_call(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu: Emulator = await make_emulator(scenario="support-call", speed=60.0)
    await _call(
        emu,
        receiver,
        ws_server,
        enableSentimentAnalysis=True,
        piiRedactionOptions={"enable": True, "redactionType": "maskWithCharacter"},
    )
    scenario = load_scenario("support-call")
    conn = await ws_server.wait_finals(len(scenario.utterances), within=30)
    metadata = conn.packets[0]["transcriptionMetadata"]
    assert metadata["enableSentimentAnalysis"] is True
    assert metadata["piiRedactionOptions"]["enable"] is True
    assert metadata["locales"] == []
    for final, line in zip(conn.finals(), scenario.utterances, strict=True):
        assert final["sentimentAnalysisResult"] == {"sentiment": line.sentiment or "neutral"}
        assert "languageIdentified" not in final
        said = line.text["en-US"]
        assert len(final["text"]) == len(said)
        assert not re.search(r"\d{4}|@", final["text"])
        # The words say what the text says, masked alike.
        for word in final["words"]:
            assert word["text"].strip("*") == "" or word["text"] in said.lower()
    card = next(f for f, u in zip(conn.finals(), scenario.utterances, strict=True)
                if "4111" in u.text["en-US"])  # fmt: skip
    assert "**** **** **** ****" in card["text"]
    assert [w["text"] for w in card["words"] if "*" in w["text"]] == ["****"] * 4
    # Intermediates are masked as they grow.
    growing = [d["text"] for d in conn.data() if d["resultStatus"] == "Intermediate"]
    assert any("****" in t for t in growing)
    assert not any(re.search(r"\d{4} \d{4}", t) for t in growing)


async def test_an_update_changes_the_options_and_a_locale_ends_identification(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu: Emulator = await make_emulator(scenario="multilingual", speed=10.0)
    ccid = await _call(emu, receiver, ws_server, locales=["en-US", "fr-FR"])
    await until(lambda: emu.calls.get(ccid).state == "connected", what="the call")
    path = f"/calling/callConnections/{ccid}:updateTranscription"

    status, answer = await signed_request(
        emu, "POST", path, {"locales": ["de-DE", "en-US"]}, api_version=PREVIEW
    )
    assert status == 400
    assert "locales cannot be updated" in answer["error"]["message"]

    status, _ = await signed_request(
        emu, "POST", path, {"enableSentimentAnalysis": True}, api_version=PREVIEW
    )
    assert status == 202  # no locale needed to change only the options
    transcription = emu.calls.get(ccid).transcription
    assert transcription is not None
    assert transcription.intelligence.sentiment is True
    assert transcription.intelligence.locales == ("en-US", "fr-FR")

    status, _ = await signed_request(emu, "POST", path, {"locale": "de-DE"}, api_version=PREVIEW)
    assert status == 202
    assert transcription.intelligence.locales == ()  # locked to German
    assert transcription.locale == "de-DE"


async def test_unusable_options_are_refused_naming_the_field(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder
) -> None:
    async def refused(**options: Any) -> str:
        body = {
            "targets": [{"rawId": "4:+15550100", "phoneNumber": {"value": "+15550100"}}],
            "sourceCallerIdNumber": {"value": "+15550199"},
            "callbackUri": receiver.url(),
            "transcriptionOptions": {
                "transportType": "websocket",
                "transportUrl": ws_server.url(),
                "locale": "en-US",
                **options,
            },
        }
        status, answer = await signed_request(
            emulator, "POST", "/calling/callConnections", body, api_version=PREVIEW
        )
        assert status == 400
        message: str = answer["error"]["message"]
        return message

    five = ["en-US", "es-ES", "fr-FR", "de-DE", "it-IT"]
    assert "transcriptionOptions.locales takes at most 4" in await refused(locales=five)
    assert "lists a locale twice" in await refused(locales=["en-US", "en-us"])
    assert "must be a list" in await refused(locales="en-US,es-ES")
    assert "redactionType must be 'maskWithCharacter'" in await refused(
        piiRedactionOptions={"enable": True, "redactionType": "removeAll"}
    )
    assert "enableSentimentAnalysis must be true or false" in await refused(
        enableSentimentAnalysis="yes"
    )
