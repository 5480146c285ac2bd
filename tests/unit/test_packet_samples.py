"""Every published packet sample (the SDKs' tests, the docs) parses, its values intact.

The samples are kept verbatim in ``tests/fixtures/packets`` (sources in SOURCES.md): lowercase
``en-us``, an offset above 2**53, ``…`` inside base64, ``final`` as well as ``Final``, and the
preview fields (``sentimentAnalysisResult``, ``languageIdentified``; the metadata's ``locales``,
``enableSentimentAnalysis``, ``piiRedactionOptions``), which come through.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from console.acs.streaming import (
    AudioData,
    AudioMetadata,
    DtmfData,
    ResultStatus,
    TranscriptionData,
    TranscriptionMetadata,
    Unparsed,
    parse_packet,
)

PACKETS = Path(__file__).resolve().parents[1] / "fixtures" / "packets"
_TYPES: dict[str, type[Any]] = {
    "transcriptionmetadata": TranscriptionMetadata,
    "transcriptiondata": TranscriptionData,
    "audiometadata": AudioMetadata,
    "audiodata": AudioData,
    "dtmfdata": DtmfData,
}


def _samples() -> list[Any]:
    found = []
    for file in sorted(PACKETS.glob("*.json")):
        doc = json.loads(file.read_text(encoding="utf-8"))
        for sample in doc["samples"]:
            found.append(pytest.param(sample["text"], id=f"{file.stem}:{sample['name']}"))
    return found


SAMPLES = _samples()


def test_every_source_is_here() -> None:
    sources = {p.stem.split(".")[0] for p in PACKETS.glob("*.json")}
    assert {
        "azure-sdk-for-net",
        "azure-sdk-for-java",
        "azure-sdk-for-js",
        "azure-sdk-for-python",
        "azure-docs",
    } <= sources
    assert len(SAMPLES) >= 25


@pytest.mark.parametrize("text", SAMPLES)
def test_sample_parses_with_its_values(text: str) -> None:
    raw = json.loads(text)  # the standard library's reading is the reference
    kind = raw["kind"]
    body = raw[kind[0].lower() + kind[1:]]
    packet = parse_packet(text)
    assert not isinstance(packet, Unparsed), packet
    assert isinstance(packet, _TYPES[kind.lower()])
    if isinstance(packet, TranscriptionData):
        assert packet.text == body["text"]
        assert packet.participant_raw_id == body["participantRawID"]
        assert packet.result_status.value.lower() == body["resultStatus"].lower()
        assert packet.offset == body.get("offset", 0)  # exact, even above 2**53
        assert packet.duration == body.get("duration", 0)
        assert packet.confidence == body.get("confidence")
        words = body.get("words") or []
        assert [w.text for w in packet.words] == [w["text"] for w in words]
        assert [w.offset for w in packet.words] == [w.get("offset", 0) for w in words]
        assert packet.sentiment == (body.get("sentimentAnalysisResult") or {}).get("sentiment")
        assert packet.language == body.get("languageIdentified")
    elif isinstance(packet, TranscriptionMetadata):
        assert packet.subscription_id == body["subscriptionId"]
        assert packet.locale == body["locale"]  # as sent: the docs' "en-us" stays lowercase
        assert packet.call_connection_id == body["callConnectionId"]
        assert packet.correlation_id == body["correlationId"]
        model = body.get("speechRecognitionModelEndpointId") or body.get("speechModelEndpointId")
        assert packet.speech_model_endpoint_id == model
        assert packet.locales == tuple(body.get("locales") or ())
        assert packet.sentiment_analysis == body.get("enableSentimentAnalysis")
        assert packet.pii_redaction == (body.get("piiRedactionOptions") or {}).get("enable")
    elif isinstance(packet, AudioMetadata):
        assert (packet.subscription_id, packet.encoding) == (
            body["subscriptionId"],
            body["encoding"],
        )
        assert (packet.sample_rate, packet.channels, packet.length) == (
            body["sampleRate"],
            body["channels"],
            body["length"],
        )
    elif isinstance(packet, AudioData):
        assert packet.data == body["data"]  # not decoded: "…" inside the docs' base64 is kept
        assert packet.timestamp == body["timestamp"]
        assert packet.participant_raw_id == body.get("participantRawID")
        assert packet.silent is body.get("silent", False)
    else:
        assert isinstance(packet, DtmfData)
        assert packet.data == body["data"]


def test_the_docs_offset_survives_exactly() -> None:
    (text,) = [
        p.values[0]
        for p in SAMPLES
        if "real-time-transcription-python" in str(p.id) and "Data" in str(p.id)
    ]
    packet = parse_packet(text)
    assert isinstance(packet, TranscriptionData)
    assert packet.offset == 2516998782481234400  # above 2**53: a float would round it
    assert packet.offset > 2**53
    assert packet.duration == 0  # the sample has none
    assert packet.result_status is ResultStatus.FINAL


def test_both_spellings_of_final_and_an_intermediate_without_words() -> None:
    statuses = {}
    for p in SAMPLES:
        raw = json.loads(p.values[0])
        if raw["kind"] == "TranscriptionData":
            packet = parse_packet(p.values[0])
            assert isinstance(packet, TranscriptionData)
            statuses[raw["transcriptionData"]["resultStatus"]] = packet
    assert statuses["final"].result_status is ResultStatus.FINAL
    assert statuses["Final"].result_status is ResultStatus.FINAL
    intermediate = statuses["Intermediate"]
    assert intermediate.result_status is ResultStatus.INTERMEDIATE
    assert intermediate.words == ()
    assert intermediate.confidence is None


def test_the_preview_fields_of_the_samples_come_through() -> None:
    found = {}
    for p in SAMPLES:
        packet = parse_packet(p.values[0])
        if isinstance(packet, TranscriptionData) and packet.sentiment:
            found[str(p.id).split(":")[0]] = (packet.sentiment, packet.language)
    # The JS SDK's test sample and the docs' AI preview sample.
    assert found["azure-sdk-for-js.streamingData.spec"] == ("neutral", "en-US")
    assert found["azure-docs.real-time-transcription-java.ai-preview"] == ("neutral", None)
