"""The WebSocket packet parser: documented packets, malformed and hostile frames."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.acs.streaming import (
    TICKS_PER_SECOND,
    AudioData,
    AudioMetadata,
    DtmfData,
    Packet,
    ResultStatus,
    TranscriptionData,
    TranscriptionMetadata,
    Unparsed,
    Word,
    parse_packet,
)

PACKET_TYPES = (
    TranscriptionMetadata,
    TranscriptionData,
    AudioMetadata,
    AudioData,
    DtmfData,
    Unparsed,
)

METADATA = {
    "kind": "TranscriptionMetadata",
    "transcriptionMetadata": {
        "subscriptionId": "0c9e2d1a-0000-4000-8000-000000000001",
        "locale": "en-us",
        "callConnectionId": "401f3500-7e2a-4c11-9b0e-1a2b3c4d5e6f",
        "correlationId": "9d2e0000-0000-0000-0000-000000000001",
    },
}

DATA = {
    "kind": "TranscriptionData",
    "transcriptionData": {
        "text": "Hello, I need help.",
        "format": "display",
        "confidence": 0.91,
        "offset": 12000000,
        "duration": 15000000,
        "words": [
            {"text": "hello", "offset": 12000000, "duration": 4000000},
            {"text": "i", "offset": 16500000, "duration": 1000000},
        ],
        "participantRawID": "4:+15550100",
        "resultStatus": "Final",
    },
}


def data_frame(**fields: Any) -> str:
    """The documented TranscriptionData packet with some fields replaced (None removes)."""
    body = dict(DATA["transcriptionData"])
    for key, value in fields.items():
        if value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": body})


def unparsed(frame: str | bytes) -> Unparsed:
    result = parse_packet(frame)
    assert isinstance(result, Unparsed), result
    assert result.reason
    return result


# -- documented packets -----------------------------------------------------------------------


def test_transcription_metadata() -> None:
    result = parse_packet(json.dumps(METADATA))
    assert result == TranscriptionMetadata(
        subscription_id="0c9e2d1a-0000-4000-8000-000000000001",
        locale="en-us",
        call_connection_id="401f3500-7e2a-4c11-9b0e-1a2b3c4d5e6f",
        correlation_id="9d2e0000-0000-0000-0000-000000000001",
        speech_model_endpoint_id=None,
    )


@pytest.mark.parametrize("key", ["speechRecognitionModelEndpointId", "speechModelEndpointId"])
def test_metadata_speech_model_under_either_name(key: str) -> None:
    doc = json.loads(json.dumps(METADATA))
    doc["transcriptionMetadata"][key] = "model-guid"
    result = parse_packet(json.dumps(doc))
    assert isinstance(result, TranscriptionMetadata)
    assert result.speech_model_endpoint_id == "model-guid"


def test_metadata_with_missing_fields_still_parses() -> None:
    result = parse_packet('{"kind":"TranscriptionMetadata","transcriptionMetadata":{}}')
    assert result == TranscriptionMetadata("", "", "", "")


def test_transcription_data_final() -> None:
    result = parse_packet(json.dumps(DATA))
    assert isinstance(result, TranscriptionData)
    assert result.text == "Hello, I need help."
    assert result.participant_raw_id == "4:+15550100"
    assert result.result_status is ResultStatus.FINAL
    assert result.is_final
    assert result.confidence == pytest.approx(0.91)
    assert result.format == "display"
    assert result.words == (Word("hello", 12000000, 4000000), Word("i", 16500000, 1000000))
    # Ticks of 100 ns: the phrase starts at 1.2 s and lasts 1.5 s.
    assert result.offset / TICKS_PER_SECOND == pytest.approx(1.2)
    assert result.duration / TICKS_PER_SECOND == pytest.approx(1.5)


def test_bytes_frame_parses_like_text() -> None:
    assert parse_packet(json.dumps(DATA).encode()) == parse_packet(json.dumps(DATA))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("Final", ResultStatus.FINAL),
        ("final", ResultStatus.FINAL),
        ("FINAL", ResultStatus.FINAL),
        (" final ", ResultStatus.FINAL),
        ("Intermediate", ResultStatus.INTERMEDIATE),
        ("intermediate", ResultStatus.INTERMEDIATE),
        ("INTERMEDIATE", ResultStatus.INTERMEDIATE),
    ],
)
def test_result_status_is_case_insensitive(status: str, expected: ResultStatus) -> None:
    result = parse_packet(data_frame(resultStatus=status))
    assert isinstance(result, TranscriptionData)
    assert result.result_status is expected
    assert result.is_final is (expected is ResultStatus.FINAL)


@pytest.mark.parametrize("status", ["partial", "", 1, True, ["Final"]])
def test_unknown_result_status_is_unparsed(status: Any) -> None:
    result = unparsed(data_frame(resultStatus=status))
    assert result.kind == "TranscriptionData"
    assert "resultStatus" in result.reason


def test_missing_result_status_is_unparsed() -> None:
    assert "resultStatus" in unparsed(data_frame(resultStatus=None)).reason


def test_intermediate_without_words_and_confidence() -> None:
    # The shape the .NET SDK tests use for intermediate results.
    frame = json.dumps(
        {
            "kind": "TranscriptionData",
            "transcriptionData": {
                "text": "hello i",
                "format": "display",
                "offset": 12000000,
                "duration": 5500000,
                "participantRawID": "4:+15550100",
                "resultStatus": "Intermediate",
            },
        }
    )
    result = parse_packet(frame)
    assert isinstance(result, TranscriptionData)
    assert result.words == ()
    assert result.confidence is None
    assert not result.is_final


def test_null_words_and_confidence_are_missing() -> None:
    result = parse_packet(
        json.dumps(
            {
                "kind": "TranscriptionData",
                "transcriptionData": {
                    "text": "x",
                    "participantRawID": "4:+1",
                    "resultStatus": "final",
                    "words": None,
                    "confidence": None,
                    "offset": None,
                },
            }
        )
    )
    assert isinstance(result, TranscriptionData)
    assert (result.words, result.confidence, result.offset) == ((), None, 0)


def test_participant_raw_id_alternative_spelling() -> None:
    frame = data_frame(participantRawID=None, participantRawId="8:acs:user")
    result = parse_packet(frame)
    assert isinstance(result, TranscriptionData)
    assert result.participant_raw_id == "8:acs:user"


def test_missing_participant_is_unparsed() -> None:
    assert "participantRawID" in unparsed(data_frame(participantRawID=None)).reason


def test_float_ticks_are_truncated_to_int() -> None:
    result = parse_packet(data_frame(offset=1.9e7, duration=2.5))
    assert isinstance(result, TranscriptionData)
    assert (result.offset, result.duration) == (19000000, 2)


def test_kind_is_case_insensitive_and_pascal_case_body_is_found() -> None:
    frame = json.dumps({"Kind": "DTMFDATA", "DtmfData": {"data": "5"}})
    assert parse_packet(frame) == DtmfData("5")


def test_audio_packets() -> None:
    meta = parse_packet(
        '{"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"7a1d","encoding":"PCM",'
        '"sampleRate":16000,"channels":1,"length":640}}'
    )
    assert meta == AudioMetadata("7a1d", "PCM", 16000, 1, 640)
    data = parse_packet(
        '{"kind":"AudioData","audioData":{"timestamp":"2026-01-15T10:00:03.120Z",'
        '"participantRawID":"4:+15550100","data":"AAAA","silent":false}}'
    )
    assert data == AudioData("AAAA", "2026-01-15T10:00:03.120Z", "4:+15550100", False)
    odd = parse_packet('{"kind":"AudioData","audioData":{"silent":"yes"}}')
    assert odd == AudioData("", "", None, False)


def test_dtmf_without_data_is_unparsed() -> None:
    assert unparsed('{"kind":"DtmfData","dtmfData":{}}').kind == "DtmfData"


# -- malformed input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("", "not JSON"),
        ("   ", "not JSON"),
        ("hello", "not JSON"),
        ("{'kind': 'TranscriptionData'}", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        ('"TranscriptionData"', "not a JSON object"),
        ("null", "not a JSON object"),
        ("42", "not a JSON object"),
        ("{}", "no 'kind'"),
        ('{"kind": 5}', "no 'kind'"),
        ('{"kind": null, "transcriptionData": {}}', "no 'kind'"),
        ('{"kind": "TranscriptionData"}', "missing 'transcriptionData'"),
        ('{"kind": "TranscriptionData", "transcriptionData": [1]}', "missing 'transcriptionData'"),
        ('{"kind": "TranscriptionData", "transcriptionData": "text"}', "missing"),
    ],
)
def test_malformed_frames(frame: str, reason: str) -> None:
    assert reason in unparsed(frame).reason


def test_unknown_kind_is_named() -> None:
    result = unparsed('{"kind": "RecognizeData", "recognizeData": {}}')
    assert result.kind == "RecognizeData"
    assert "unknown kind" in result.reason


def test_unknown_kind_name_is_bounded() -> None:
    result = unparsed(json.dumps({"kind": "K" * 10_000}))
    assert result.kind is not None
    assert len(result.kind) <= 60
    assert len(result.reason) < 100


@pytest.mark.parametrize(
    ("fields", "word"),
    [
        ({"text": None}, "text"),
        ({"text": 5}, "text"),
        ({"offset": "12"}, "offset"),
        ({"offset": True}, "offset"),
        ({"duration": [1]}, "duration"),
        ({"confidence": 1.5}, "confidence"),
        ({"confidence": -0.1}, "confidence"),
        ({"confidence": "high"}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"words": "hello i"}, "words"),
        ({"words": [1]}, "word"),
        ({"words": [{"offset": 1}]}, "text"),
        ({"words": [{"text": "a", "offset": "x"}]}, "offset"),
        ({"format": 3}, "format"),
    ],
)
def test_wrong_field_types_are_unparsed(fields: dict[str, Any], word: str) -> None:
    result = unparsed(data_frame(**fields))  # None removes the field
    assert word in result.reason
    assert result.kind == "TranscriptionData"


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_unparsed(token: str) -> None:
    for field in ("offset", "duration", "confidence"):
        frame = data_frame().replace(f'"{field}": ', f'"{field}": {token}, "_was": ', 1)
        assert field in unparsed(frame).reason


def test_huge_integer_is_unparsed_not_a_crash() -> None:
    frame = data_frame().replace('"offset": 12000000', '"offset": ' + "9" * 5000)
    assert "not JSON" in unparsed(frame).reason


def test_truncated_frames_are_unparsed() -> None:
    frame = json.dumps(DATA)
    for cut in range(len(frame)):
        result = unparsed(frame[:cut])
        assert result.reason.startswith("not JSON")
        assert result.excerpt == frame[:cut][:200]
    # The same for bytes, cut anywhere, including inside a multi-byte character.
    raw = data_frame(text="Grüße, 你好 👋").encode()
    for cut in range(len(raw)):
        assert isinstance(parse_packet(raw[:cut]), Unparsed)
    assert isinstance(parse_packet(raw), TranscriptionData)


@pytest.mark.parametrize(
    "frame",
    [
        b"\xff\xfe\xfd",
        b"\x80\x81",
        b'{"kind": "TranscriptionData", "transcriptionData": {"text": "\xe9"}}',
        b"\xc3",
    ],
)
def test_non_utf8_bytes_are_unparsed(frame: bytes) -> None:
    result = unparsed(frame)
    assert result.reason.startswith("not JSON")
    assert isinstance(result.excerpt, str)
    assert "\ufffd" in result.excerpt


def test_utf16_bytes_are_understood() -> None:
    # json.loads detects UTF-16/32 in bytes; such a frame is still a usable packet.
    result = parse_packet(json.dumps(DATA).encode("utf-16"))
    assert isinstance(result, TranscriptionData)


def test_excerpt_is_bounded() -> None:
    frame = "x" * 1_000_000
    assert len(unparsed(frame).excerpt) == 200
    assert len(unparsed(frame.encode()).excerpt) == 200


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_deep_nesting_is_unparsed_not_a_crash(depth: int) -> None:
    assert isinstance(parse_packet("[" * depth + "]" * depth), Unparsed)
    nested = '{"a":' * depth + "1" + "}" * depth
    assert isinstance(parse_packet(nested), Unparsed)


def test_deep_nesting_in_an_ignored_field_keeps_the_packet() -> None:
    frame = data_frame().replace('"format"', '"extra": ' + "[" * 200 + "]" * 200 + ', "format"')
    result = parse_packet(frame)
    assert isinstance(result, TranscriptionData)
    assert result.text == "Hello, I need help."


def test_unknown_extra_fields_are_ignored() -> None:
    frame = data_frame(sentiment={"score": 1}, speakerId="s1")
    assert parse_packet(frame) == parse_packet(json.dumps(DATA))


@pytest.mark.parametrize(
    "frame",
    [
        data_frame(format="__null__").replace('"__null__"', "null"),
        '{"kind":"TranscriptionMetadata","transcriptionMetadata":{"subscriptionId":null,'
        '"locale":"en-us","callConnectionId":"c","correlationId":"k"}}',
    ],
)
def test_null_optional_string_uses_the_default(frame: str) -> None:
    assert not isinstance(parse_packet(frame), Unparsed)


# -- properties: never raises, always a packet ------------------------------------------------


def check_packet(result: Packet) -> None:
    assert isinstance(result, PACKET_TYPES)
    if isinstance(result, Unparsed):
        assert result.reason
        assert isinstance(result.excerpt, str)
        assert len(result.excerpt) <= 200


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_never_raises(frame: str) -> None:
    check_packet(parse_packet(frame))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_never_raise(frame: bytes) -> None:
    check_packet(parse_packet(frame))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=15,
)
kinds = st.sampled_from(
    [
        "TranscriptionMetadata",
        "TranscriptionData",
        "transcriptiondata",
        "AudioMetadata",
        "AudioData",
        "DtmfData",
        "Other",
    ]
)
field_names = st.sampled_from(
    [
        "text",
        "participantRawID",
        "resultStatus",
        "offset",
        "duration",
        "confidence",
        "words",
        "format",
        "subscriptionId",
        "locale",
        "data",
        "sampleRate",
        "silent",
    ]
)
bodies = st.dictionaries(field_names, json_values, max_size=8)


@settings(max_examples=200, deadline=None)
@given(kinds, bodies, st.sampled_from(["lower", "upper", "missing"]))
def test_any_structured_frame_never_raises(kind: str, body: dict[str, Any], key_case: str) -> None:
    key = kind[0].lower() + kind[1:]
    if key_case == "upper":
        key = kind[0].upper() + kind[1:]
    doc: dict[str, Any] = {"kind": kind}
    if key_case != "missing":
        doc[key] = body
    check_packet(parse_packet(json.dumps(doc)))


words = st.lists(
    st.builds(
        Word,
        st.text(max_size=10),
        st.integers(min_value=0, max_value=10**12),
        st.integers(min_value=0, max_value=10**9),
    ),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(max_size=50),
    raw_id=st.text(min_size=1, max_size=30),
    final=st.booleans(),
    offset=st.integers(min_value=0, max_value=10**15),
    duration=st.integers(min_value=0, max_value=10**10),
    confidence=st.none() | st.floats(min_value=0.0, max_value=1.0),
    word_list=words,
)
def test_valid_transcription_data_round_trips(
    text: str,
    raw_id: str,
    final: bool,
    offset: int,
    duration: int,
    confidence: float | None,
    word_list: list[Word],
) -> None:
    body: dict[str, Any] = {
        "text": text,
        "participantRawID": raw_id,
        "resultStatus": "Final" if final else "Intermediate",
        "offset": offset,
        "duration": duration,
        "words": [{"text": w.text, "offset": w.offset, "duration": w.duration} for w in word_list],
    }
    if confidence is not None:
        body["confidence"] = confidence
    result = parse_packet(json.dumps({"kind": "TranscriptionData", "transcriptionData": body}))
    assert result == TranscriptionData(
        text=text,
        participant_raw_id=raw_id,
        result_status=ResultStatus.FINAL if final else ResultStatus.INTERMEDIATE,
        offset=offset,
        duration=duration,
        confidence=confidence,
        words=tuple(word_list),
    )
    assert confidence is None or not math.isnan(result.confidence or 0.0)


@pytest.mark.parametrize("frame", [None, 5, 1.5, ["kind"], {"kind": "TranscriptionData"}])
def test_non_text_frames_are_unparsed_not_raised(frame: object) -> None:
    result = parse_packet(frame)  # type: ignore[arg-type]
    assert isinstance(result, Unparsed)
    assert "not text" in result.reason


def test_bytearray_and_memoryview_parse_like_bytes() -> None:
    raw = json.dumps(DATA).encode()
    assert parse_packet(bytearray(raw)) == parse_packet(raw)
    assert parse_packet(memoryview(raw)) == parse_packet(raw)


def test_lone_surrogates_become_replacement_characters() -> None:
    frame = data_frame(text="caf\\ud800e").replace("\\\\ud800", "\\ud800")
    result = parse_packet(frame)
    assert not isinstance(result, Unparsed)
    assert "\ufffd" in result.text
    result.text.encode("utf-8")  # must be encodable for the journal and exports


def test_a_text_frame_with_a_bom_parses() -> None:
    assert parse_packet("\ufeff" + json.dumps(DATA)) == parse_packet(json.dumps(DATA))


# --- the preview fields: sentiment and the identified language ---------------------------------


def _final(**extra: Any) -> str:
    body = {**DATA["transcriptionData"], **extra}
    return json.dumps({"kind": "TranscriptionData", "transcriptionData": body})


def test_a_final_without_the_preview_fields_has_neither() -> None:
    packet = parse_packet(json.dumps(DATA))
    assert isinstance(packet, TranscriptionData)
    assert (packet.sentiment, packet.language) == (None, None)


@pytest.mark.parametrize(
    ("fields", "sentiment", "language"),
    [
        (
            {"sentimentAnalysisResult": {"sentiment": "neutral"}, "languageIdentified": "en-US"},
            "neutral",
            "en-US",
        ),
        ({"sentimentAnalysisResult": {"sentiment": "Negative"}}, "negative", None),
        ({"sentimentAnalysisResult": {"Sentiment": "MIXED"}}, "mixed", None),
        ({"sentimentAnalysisResult": "positive"}, "positive", None),  # a bare string
        ({"sentimentAnalysisResult": {"sentiment": " Furious "}}, "Furious", None),  # kept
        ({"sentimentAnalysisResult": {"sentiment": ""}}, None, None),
        ({"sentimentAnalysisResult": {"score": 0.2}}, None, None),
        ({"sentimentAnalysisResult": 3}, None, None),
        ({"languageIdentified": "es-es"}, None, "es-es"),  # as sent: the model canonicalises
        ({"languageIdentified": ""}, None, None),
        ({"languageIdentified": 7}, None, None),
        ({"SentimentAnalysisResult": {"sentiment": "positive"}}, "positive", None),
        ({"LANGUAGEIDENTIFIED": "fr-FR"}, None, "fr-FR"),
    ],
)
def test_the_preview_fields_in_any_case_unknown_values_kept(
    fields: dict[str, Any], sentiment: str | None, language: str | None
) -> None:
    packet = parse_packet(_final(**fields))
    assert isinstance(packet, TranscriptionData)
    assert (packet.sentiment, packet.language) == (sentiment, language)
    assert packet.text == DATA["transcriptionData"]["text"]


def test_the_preview_fields_on_the_validating_path_too() -> None:
    # Non-ASCII text takes the validating path; the fields come through the same.
    frame = _final(
        text="¿Dónde está?",
        sentimentAnalysisResult={"sentiment": "neutral"},
        languageIdentified="es-ES",
    )
    packet = parse_packet(frame)
    assert isinstance(packet, TranscriptionData)
    assert (packet.text, packet.sentiment, packet.language) == ("¿Dónde está?", "neutral", "es-ES")


def test_an_intermediate_can_carry_the_identified_language() -> None:
    body = {
        "text": "hola",
        "format": "display",
        "offset": 1,
        "duration": 2,
        "participantRawID": "4:+15550100",
        "resultStatus": "Intermediate",
        "languageIdentified": "es-ES",
    }
    packet = parse_packet(json.dumps({"kind": "TranscriptionData", "transcriptionData": body}))
    assert isinstance(packet, TranscriptionData)
    assert packet.language == "es-ES"


def test_metadata_says_what_the_service_does_beyond_transcribing() -> None:
    body = {
        **METADATA["transcriptionMetadata"],
        "locales": ["en-US", "es-ES", 5, ""],
        "enableSentimentAnalysis": True,
        "piiRedactionOptions": {"enable": False, "redactionType": "MaskWithCharacter"},
    }
    packet = parse_packet(
        json.dumps({"kind": "TranscriptionMetadata", "transcriptionMetadata": body})
    )
    assert isinstance(packet, TranscriptionMetadata)
    assert packet.locales == ("en-US", "es-ES")
    assert (packet.sentiment_analysis, packet.pii_redaction) == (True, False)
    plain = parse_packet(json.dumps(METADATA))
    assert isinstance(plain, TranscriptionMetadata)
    assert (plain.locales, plain.sentiment_analysis, plain.pii_redaction) == ((), None, None)
