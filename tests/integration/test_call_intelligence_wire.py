"""Call intelligence on the wire: the real SDK pipeline (its HMAC signing, retries and policies)
against the emulator, each request read as it leaves by a policy in that pipeline.

With an option asked for, create, answer, connect, start and update go at api-version
2025-08-15-preview and their bodies validate against the REST specification of that version
(``tests/fixtures/spec``, with ``additionalProperties: false`` added so a misspelt key fails).
Without one, every request is at the stable version with none of the new keys. The emulator
refuses the options at the stable version, naming the field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from console.acs.calls import (
    CallLocator,
    CallService,
    CallServiceOptions,
    TranscriptionSettings,
)
from console.acs.intelligence import PREVIEW_API_VERSION, IntelligenceSettings
from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, signed_request
from tests.waiting import until

SPEC = Path(__file__).resolve().parents[1] / "fixtures" / "spec"
STABLE = "2026-03-12"
COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"
CALLEE = "+15550100"
MASKING = {"enable": True, "redactionType": "maskWithCharacter"}
NEW_KEYS = {"locales", "enableSentimentAnalysis", "piiRedactionOptions", "summarizationOptions"}

LANGUAGES = IntelligenceSettings(locales=("en-US", "es-ES", "fr-FR"))
SENTIMENT = IntelligenceSettings(sentiment=True)
REDACTION = IntelligenceSettings(service_redaction=True)
SUMMARY = IntelligenceSettings(end_call_summary=True)
EVERYTHING = IntelligenceSettings(("en-US", "de-DE"), True, True, True)


# --- the specification as JSON Schema ---------------------------------------------------------

# Which definition each request body is, by the path it is posted to.
REQUESTS = {
    "callConnections": "CreateCallRequest",
    "callConnections:answer": "AnswerCallRequest",
    "callConnections:connect": "ConnectRequest",
    ":startTranscription": "StartTranscriptionRequest",
    ":updateTranscription": "UpdateTranscriptionRequest",
    ":stopTranscription": "StopTranscriptionRequest",
}


def _load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((SPEC / name).read_text(encoding="utf-8"))
    return doc


def _definitions() -> dict[str, Any]:
    """Both files' definitions in one namespace, as strict JSON Schema (draft 4, as Swagger 2):
    the aliases of common.json replaced by what they name, a discriminated base type replaced by
    the choice of its derived types (each with the base's properties merged in), and
    ``additionalProperties: false`` on every object that has properties."""
    common = _load("common.json")["definitions"]
    spec = _load("communicationservicescallautomation.json")["definitions"]
    defs = copy.deepcopy(common)
    for name, schema in spec.items():
        ref = schema.get("$ref", "")
        if ref.startswith("../../../Common/stable/2025-06-30/common.json#/definitions/"):
            defs[name] = copy.deepcopy(common[ref.rsplit("/", 1)[1]])
        else:
            defs[name] = copy.deepcopy(schema)
    derived: dict[str, list[str]] = {}
    for name, schema in list(defs.items()):
        for part in schema.pop("allOf", []):
            base_name = part["$ref"].rsplit("/", 1)[1]
            base = spec[base_name]
            schema["properties"] = {**base.get("properties", {}), **schema.get("properties", {})}
            schema["required"] = sorted({*base.get("required", []), *schema.get("required", [])})
            value = schema.get("x-ms-discriminator-value")
            if value is not None:
                schema["properties"][base["discriminator"]] = {"enum": [value]}
            derived.setdefault(base_name, []).append(name)
    for base_name, names in derived.items():
        defs[base_name] = {"anyOf": [{"$ref": f"#/definitions/{n}"} for n in names]}
    for schema in defs.values():
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
    return defs


DEFINITIONS = _definitions()


def validate(definition: str, body: dict[str, Any]) -> None:
    schema = {"definitions": DEFINITIONS, "$ref": f"#/definitions/{definition}"}
    jsonschema.Draft4Validator(schema).validate(body)


def keys(value: Any) -> Iterator[str]:
    """Every key of a JSON value, at any depth."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


# --- reading the requests as they leave --------------------------------------------------------


class Requests(SansIOHTTPPolicy):  # type: ignore[type-arg]
    """Every Call Automation request after the SDK built and signed it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, dict[str, Any]]] = []

    def on_request(self, request: Any) -> None:
        http = request.http_request
        url = urlsplit(http.url)
        version = parse_qs(url.query).get("api-version", [""])[0]
        doc = json.loads(http.body) if http.body else {}
        self.seen.append((http.method, url.path.split("/calling/", 1)[-1], version, doc))

    def posts(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        """(api-version, body) of every POST of this kind (a key of REQUESTS)."""
        return [
            (version, doc)
            for method, path, version, doc in self.seen
            if method == "POST" and _kind(path) == kind
        ]

    def check_all(self) -> None:
        """Every body validates against its definition in the specification."""
        checked = 0
        for method, path, _, doc in self.seen:
            if method == "POST" and _kind(path) in REQUESTS:  # terminate has no body
                validate(REQUESTS[_kind(path)], doc)
                checked += 1
        assert checked


def _kind(path: str) -> str:
    for suffix in (":answer", ":connect"):
        if path == f"callConnections{suffix}":
            return f"callConnections{suffix}"
    if path == "callConnections":
        return "callConnections"
    return ":" + path.rsplit(":", 1)[-1] if ":" in path else path


def service(emu: Emulator, recorder: Requests) -> CallService:
    return CallService(
        emu.connection_string,
        CallServiceOptions(
            connection_verify=str(emu.cert_path),
            cognitive_services_endpoint=COGNITIVE,
            caller_id="+15550199",
            retry_total=0,
            extra={"per_retry_policies": [recorder]},
        ),
    )


def setup(ws: WsRecorder, intelligence: IntelligenceSettings | None) -> TranscriptionSettings:
    return TranscriptionSettings(transport_url=ws.url(), locale="en-US", intelligence=intelligence)


async def _connected(emu: Emulator, ccid: str) -> None:
    await until(lambda: emu.calls.get(ccid).state == "connected", what="the call to connect")


# --- the schema machinery itself --------------------------------------------------------------


def test_the_specification_refuses_a_misspelt_or_foreign_key() -> None:
    validate("StartTranscriptionRequest", {"locale": "en-US", "enableSentimentAnalysis": True})
    with pytest.raises(jsonschema.ValidationError, match="enableSentimentAnalysys"):
        validate("StartTranscriptionRequest", {"enableSentimentAnalysys": True})
    with pytest.raises(jsonschema.ValidationError, match="locales"):
        validate("UpdateTranscriptionRequest", {"locales": ["en-US", "es-ES"]})
    with pytest.raises(jsonschema.ValidationError, match="redactionTyp"):
        validate("StartTranscriptionRequest", {"piiRedactionOptions": {"redactionTyp": "x"}})
    create = {
        "targets": [{"rawId": "4:+15550100", "phoneNumber": {"value": "+15550100"}}],
        "callbackUri": "https://app.example/cb",
        "transcriptionOptions": {"transportType": "websocket", "locale": "en-US", "locales": []},
    }
    validate("CreateCallRequest", create)
    create["transcriptionOptions"]["local"] = "en-US"
    with pytest.raises(jsonschema.ValidationError):
        validate("CreateCallRequest", create)


# --- each option, at the preview version --------------------------------------------------------


@pytest.mark.parametrize(
    "intelligence",
    [LANGUAGES, SENTIMENT, REDACTION, SUMMARY, EVERYTHING],
    ids=["locales", "sentiment", "redaction", "summary", "all"],
)
async def test_each_option_goes_on_create_start_and_update_at_the_preview_version(
    make_emulator: Callable[..., Awaitable[Emulator]],
    receiver: Receiver,
    ws_server: WsRecorder,
    intelligence: IntelligenceSettings,
) -> None:
    emu = await make_emulator()
    recorder = Requests()
    async with service(emu, recorder) as calls:
        info = await calls.create_call(
            CALLEE, receiver.url(), transcription=setup(ws_server, intelligence)
        )
        ccid = info.call_connection_id
        await _connected(emu, ccid)
        await calls.start_transcription(ccid, locale="en-US", intelligence=intelligence)
        await calls.update_transcription(ccid, locale=None, intelligence=intelligence)
        await calls.stop_transcription(ccid)
        await calls.hang_up(ccid)

    recorder.check_all()
    ((create_version, create),) = recorder.posts("callConnections")
    ((start_version, start),) = recorder.posts(":startTranscription")
    ((update_version, update),) = recorder.posts(":updateTranscription")
    assert create_version == start_version == update_version == PREVIEW_API_VERSION
    options = create["transcriptionOptions"]
    assert options["locale"] == start["locale"] == "en-US"
    if intelligence.locales:
        assert options["locales"] == start["locales"] == list(intelligence.locales)
    else:
        assert "locales" not in options
        assert "locales" not in start
    assert "locales" not in update  # the specification's update has none
    if intelligence.sentiment:
        assert options["enableSentimentAnalysis"] is start["enableSentimentAnalysis"] is True
    else:
        assert "enableSentimentAnalysis" not in options
    assert update["enableSentimentAnalysis"] is intelligence.sentiment  # said, on or off
    if intelligence.service_redaction:
        assert options["piiRedactionOptions"] == start["piiRedactionOptions"] == MASKING
        assert update["piiRedactionOptions"] == MASKING
    else:
        assert "piiRedactionOptions" not in options
        assert update["piiRedactionOptions"] == {"enable": False}
    if intelligence.end_call_summary:
        summary = {"enableEndCallSummary": True, "locale": "en-US"}
        assert options["summarizationOptions"] == start["summarizationOptions"] == summary
    else:
        assert "summarizationOptions" not in options
    # What does not ask for them stays on the stable version, without their keys.
    preview = {"callConnections", ":startTranscription", ":updateTranscription"}
    others = [(v, doc) for m, p, v, doc in recorder.seen if _kind(p) not in preview or m != "POST"]
    assert len(others) >= 2  # stopping transcription, hanging up
    for version, doc in others:
        assert version == STABLE
        assert not NEW_KEYS & set(keys(doc))


async def test_answer_and_connect_carry_the_options_at_the_preview_version(
    make_emulator: Callable[..., Awaitable[Emulator]],
    receiver: Receiver,
    ws_server: WsRecorder,
) -> None:
    emu = await make_emulator()
    recorder = Requests()
    async with service(emu, recorder) as calls:
        event = await emu.ring("+15550142", webhook_url=receiver.eventgrid_url)
        answered = await calls.answer_call(
            event["data"]["incomingCallContext"],
            receiver.url(),
            transcription=setup(ws_server, EVERYTHING),
        )
        joined = await calls.connect_call(
            CallLocator("server_call_id", "aHR0cHM6Ly9leGFtcGxlLmludmFsaWQvY29udi9qb2lu"),
            receiver.url(),
            transcription=setup(ws_server, EVERYTHING),
        )
        for ccid in (answered.call_connection_id, joined.call_connection_id):
            await _connected(emu, ccid)
            await calls.hang_up(ccid)

    recorder.check_all()
    for suffix in ("callConnections:answer", "callConnections:connect"):
        ((version, body),) = recorder.posts(suffix)
        assert version == PREVIEW_API_VERSION
        options = body["transcriptionOptions"]
        assert options["locales"] == ["en-US", "de-DE"]
        assert options["enableSentimentAnalysis"] is True
        assert options["piiRedactionOptions"] == {
            "enable": True,
            "redactionType": "maskWithCharacter",
        }
        assert options["summarizationOptions"] == {"enableEndCallSummary": True, "locale": "en-US"}


async def test_without_an_option_everything_is_stable_and_has_none_of_the_new_keys(
    make_emulator: Callable[..., Awaitable[Emulator]],
    receiver: Receiver,
    ws_server: WsRecorder,
) -> None:
    emu = await make_emulator()
    recorder = Requests()
    off = IntelligenceSettings()
    async with service(emu, recorder) as calls:
        info = await calls.create_call(CALLEE, receiver.url(), transcription=setup(ws_server, off))
        ccid = info.call_connection_id
        await _connected(emu, ccid)
        await calls.start_transcription(ccid, locale="en-US", intelligence=off)
        await calls.update_transcription(ccid, locale="fr-FR")
        await calls.stop_transcription(ccid)
        event = await emu.ring("+15550142", webhook_url=receiver.eventgrid_url)
        answered = await calls.answer_call(
            event["data"]["incomingCallContext"],
            receiver.url(),
            transcription=setup(ws_server, None),
        )
        await calls.hang_up(ccid)
        await calls.hang_up(answered.call_connection_id)

    assert {version for _, _, version, _ in recorder.seen} == {STABLE}
    for _, _, _, body in recorder.seen:
        assert not NEW_KEYS & set(keys(body)), body
    recorder.check_all()  # the stable bodies are within the preview's shapes too


# --- the emulator's side ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("locales", ["en-US", "es-ES"]),
        ("enableSentimentAnalysis", True),
        ("piiRedactionOptions", {"enable": True, "redactionType": "maskWithCharacter"}),
        ("summarizationOptions", {"enableEndCallSummary": True, "locale": "en-US"}),
    ],
)
async def test_the_emulator_refuses_each_option_at_the_stable_version_naming_it(
    emulator: Emulator, receiver: Receiver, ws_server: WsRecorder, field: str, value: Any
) -> None:
    body = {
        "targets": [{"rawId": "4:+15550100", "phoneNumber": {"value": "+15550100"}}],
        "sourceCallerIdNumber": {"value": "+15550199"},
        "callbackUri": receiver.url(),
        "callIntelligenceOptions": {"cognitiveServicesEndpoint": COGNITIVE},
        "transcriptionOptions": {
            "transportType": "websocket",
            "transportUrl": ws_server.url(),
            "locale": "en-US",
            field: value,
        },
    }
    status, answer = await signed_request(emulator, "POST", "/calling/callConnections", body)
    assert status == 400
    message = answer["error"]["message"]
    assert f"transcriptionOptions.{field}" in message
    assert STABLE in message
    assert PREVIEW_API_VERSION in message

    del body["transcriptionOptions"][field]
    status, made = await signed_request(emulator, "POST", "/calling/callConnections", body)
    assert status == 201
    ccid = made["callConnectionId"]
    await until(lambda: emulator.calls.get(ccid).state == "connected", what="the call")
    status, answer = await signed_request(
        emulator, "POST", f"/calling/callConnections/{ccid}:startTranscription", {field: value}
    )
    assert status == 400
    assert f"field {field} is not supported in api-version {STABLE}" in answer["error"]["message"]
