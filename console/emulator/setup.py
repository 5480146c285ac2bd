"""Validation of call-setup requests (create, answer, connect) into typed settings.

Request validation answers synchronously (HTTP 400/405, as the service does); problems the
service can only find out later (an unusable stream URL, an unknown custom speech model) are
kept and reported as TranscriptionFailed events when transcription starts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from console.emulator.identifiers import kind_of, raw_id_of
from console.emulator.service_error import ServiceError, bad_request
from console.emulator.urls import is_valid_callback_uri

# Region-qualified BCP-47 as Azure Speech uses it: en-US, zh-Hans-CN, es-419.
_LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?-([A-Za-z]{2}|[0-9]{3})$")


def check_locale(locale: object) -> str:
    """A usable locale, or the service's 400/8523 error."""
    if not isinstance(locale, str) or not locale.strip():
        raise ServiceError.from_row("locale_missing")
    if not _LOCALE_RE.match(locale.strip()):
        raise ServiceError.from_row("locale_without_region")
    return locale.strip()


def model_id_of(body: dict[str, Any]) -> str | None:
    """The custom speech model id under its spec name or the one .NET's metadata uses."""
    for key in ("speechModelEndpointId", "speechRecognitionModelEndpointId"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


# --- call intelligence (the preview api-version) -----------------------------------------------

PREVIEW_API_VERSION = "2025-08-15-preview"
# Versions that take the options below: the stable ones (up to 2026-03-12) do not.
PREVIEW_API_VERSIONS = frozenset({PREVIEW_API_VERSION})
MAX_LOCALES = 4  # languages to identify among (Azure Speech's limit at the start of a phrase)
PREVIEW_FIELDS = (
    "locales",
    "enableSentimentAnalysis",
    "piiRedactionOptions",
    "summarizationOptions",
)


@dataclass(frozen=True)
class Intelligence:
    """What a transcription subscription does beyond transcribing (all off by default)."""

    locales: tuple[str, ...] = ()  # identify each phrase's language among these
    sentiment: bool = False
    redaction: bool = False  # mask personal data in text and words
    summary: bool = False  # accepted; the emulator writes no summary

    @property
    def any(self) -> bool:
        return bool(self.locales) or self.sentiment or self.redaction or self.summary

    def metadata(self) -> dict[str, Any]:
        """What the ``TranscriptionMetadata`` packet says of it (as the docs' sample does)."""
        return {
            "locales": list(self.locales),
            "enableSentimentAnalysis": self.sentiment,
            "piiRedactionOptions": {
                "enable": self.redaction,
                "redactionType": "MaskWithCharacter",
            },
        }


def intelligence_of(
    body: dict[str, Any],
    api_version: str,
    *,
    owner: str = "",
    base: Intelligence | None = None,
    updating: bool = False,
) -> Intelligence | None:
    """The preview options of a request body over ``base`` (what it leaves out stays), or
    None when it has none. At a stable api-version any of them is refused with 400 naming the
    field (our choice: the service's handling is not documented); so is ``locales`` in an
    update, which the specification's UpdateTranscriptionRequest does not have."""
    present = [key for key in PREVIEW_FIELDS if key in body]
    if not present:
        return None
    name = f"{owner}.{present[0]}" if owner else present[0]
    if api_version not in PREVIEW_API_VERSIONS:
        raise bad_request(
            f"The field {name} is not supported in api-version {api_version}; it needs "
            f"api-version {PREVIEW_API_VERSION}."
        )
    if updating and "locales" in body:
        raise bad_request(
            "The field locales cannot be updated: stop transcription and start it again with "
            "the new languages."
        )
    out = base or Intelligence()
    prefix = f"{owner}." if owner else ""
    if "locales" in body:
        out = replace(out, locales=_locales(body["locales"], f"{prefix}locales"))
    if "enableSentimentAnalysis" in body:
        sentiment = body["enableSentimentAnalysis"]
        if sentiment is not None and not isinstance(sentiment, bool):
            raise bad_request(f"The field {prefix}enableSentimentAnalysis must be true or false.")
        out = replace(out, sentiment=bool(sentiment))
    if "piiRedactionOptions" in body:
        out = replace(out, redaction=_redaction(body, f"{prefix}piiRedactionOptions"))
    if "summarizationOptions" in body:
        out = replace(out, summary=_summary(body, f"{prefix}summarizationOptions"))
    return out


def _locales(value: object, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"The field {name} must be a list of locales.")
    if len(value) > MAX_LOCALES:
        raise bad_request(f"The field {name} takes at most {MAX_LOCALES} locales.")
    locales = tuple(check_locale(v) for v in value)
    if len({v.lower() for v in locales}) != len(locales):
        raise bad_request(f"The field {name} lists a locale twice.")
    return locales


def _redaction(body: dict[str, Any], name: str) -> bool:
    options = _object(body, "piiRedactionOptions") or {}
    enable = _flag(options, "enable", name)
    kind = options.get("redactionType")
    if kind is not None and (not isinstance(kind, str) or kind.lower() != "maskwithcharacter"):
        raise bad_request(f"The field {name}.redactionType must be 'maskWithCharacter'.")
    return enable


def _summary(body: dict[str, Any], name: str) -> bool:
    options = _object(body, "summarizationOptions") or {}
    if options.get("locale") is not None:
        check_locale(options["locale"])
    return _flag(options, "enableEndCallSummary", name)


def optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise bad_request(f"The field {key} must be a string.")
    return value


@dataclass(frozen=True)
class TranscriptionSetup:
    transport_url: str | None  # None: not set at call setup (start then fails with 8522)
    locale: str
    start: bool
    intermediate: bool
    model_id: str | None
    intelligence: Intelligence = field(default_factory=Intelligence)


@dataclass(frozen=True)
class MediaSetup:
    transport_url: str | None
    content_type: str
    audio_channel_type: str
    audio_format: str
    start: bool


@dataclass(frozen=True)
class CallSetup:
    origin: str  # "create" | "answer" | "connect"
    callback_uri: str
    operation_context: str | None
    api_version: str
    targets: tuple[str, ...] = ()
    source: str | None = None
    source_caller_id: str | None = None  # E.164 value
    source_display_name: str | None = None
    answered_by: str | None = None
    cognitive_endpoint: str | None = None
    transcription: TranscriptionSetup | None = None
    media: MediaSetup | None = None
    incoming_call_context: str | None = None
    call_locator: dict[str, str] | None = None


def _object(body: dict[str, Any], key: str) -> dict[str, Any] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request(f"The field {key} must be an object.")
    return value


def _flag(body: dict[str, Any], key: str, owner: str) -> bool:
    value = body.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"The field {owner}.{key} must be true or false.")
    return value


def _transcription(body: dict[str, Any], api_version: str) -> TranscriptionSetup | None:
    opts = _object(body, "transcriptionOptions")
    if opts is None:
        return None
    transport = opts.get("transportType")
    if not isinstance(transport, str) or transport.lower() != "websocket":
        raise bad_request("The field transcriptionOptions.transportType must be 'websocket'.")
    url = opts.get("transportUrl")
    if url is not None and not isinstance(url, str):
        raise bad_request("The field transcriptionOptions.transportUrl must be a string.")
    intelligence = intelligence_of(opts, api_version, owner="transcriptionOptions")
    intelligence = intelligence or Intelligence()
    # With languages to identify among, the locale may be left out: the first one stands in.
    locale = opts.get("locale")
    if locale is None and intelligence.locales:
        locale = intelligence.locales[0]
    return TranscriptionSetup(
        transport_url=url or None,
        locale=check_locale(locale),
        start=_flag(opts, "startTranscription", "transcriptionOptions"),
        intermediate=_flag(opts, "enableIntermediateResults", "transcriptionOptions"),
        model_id=model_id_of(opts),
        intelligence=intelligence,
    )


def _media(body: dict[str, Any]) -> MediaSetup | None:
    opts = _object(body, "mediaStreamingOptions")
    if opts is None:
        return None
    transport = opts.get("transportType")
    if not isinstance(transport, str) or transport.lower() != "websocket":
        raise bad_request("The field mediaStreamingOptions.transportType must be 'websocket'.")
    channels = opts.get("audioChannelType")
    if not isinstance(channels, str) or channels.lower() not in ("mixed", "unmixed"):
        raise bad_request("The field mediaStreamingOptions.audioChannelType must be mixed/unmixed.")
    audio_format = str(opts.get("audioFormat") or "pcm16KMono")
    if audio_format.lower() not in ("pcm16kmono", "pcm24kmono"):
        raise bad_request("The field mediaStreamingOptions.audioFormat is not supported.")
    url = opts.get("transportUrl")
    return MediaSetup(
        transport_url=url if isinstance(url, str) and url else None,
        content_type=str(opts.get("contentType") or "audio"),
        audio_channel_type=channels.lower(),
        audio_format=audio_format,
        start=_flag(opts, "startMediaStreaming", "mediaStreamingOptions"),
    )


def _common(body: dict[str, Any], api_version: str) -> dict[str, Any]:
    callback = body.get("callbackUri")
    if callback is None:
        raise bad_request("The CallbackUri field is required.")
    if not is_valid_callback_uri(callback):
        raise bad_request("The field CallbackUri is invalid.")
    intelligence = _object(body, "callIntelligenceOptions") or {}
    cognitive = intelligence.get("cognitiveServicesEndpoint")
    if cognitive is not None and not (isinstance(cognitive, str) and cognitive.startswith("http")):
        raise bad_request("The field CognitiveServicesEndpoint is invalid.")
    return {
        "callback_uri": callback,
        "operation_context": optional_str(body, "operationContext"),
        "cognitive_endpoint": cognitive or None,
        "transcription": _transcription(body, api_version),
        "media": _media(body),
    }


def parse_create(body: dict[str, Any], api_version: str) -> CallSetup:
    targets_raw = body.get("targets")
    if not isinstance(targets_raw, list) or not targets_raw:
        raise bad_request("The Targets field is required.")
    targets = []
    for item in targets_raw:
        raw = raw_id_of(item)
        if raw is None or kind_of(raw) == "unknown":
            raise bad_request("Invalid target identifier.")
        targets.append(raw)
    caller = _object(body, "sourceCallerIdNumber")
    caller_value = caller.get("value") if caller else None
    if any(kind_of(t) == "phoneNumber" for t in targets) and not caller_value:
        raise bad_request("SourceCallerIdNumber is required when a target is a phone number.")
    common = _common(body, api_version)
    return CallSetup(
        origin="create",
        api_version=api_version,
        targets=tuple(targets),
        source=raw_id_of(_object(body, "source")),
        source_caller_id=caller_value if isinstance(caller_value, str) else None,
        source_display_name=optional_str(body, "sourceDisplayName"),
        **common,
    )


def parse_answer(body: dict[str, Any], api_version: str) -> CallSetup:
    context = body.get("incomingCallContext")
    if not isinstance(context, str) or not context:
        raise bad_request("The IncomingCallContext field is required.")
    common = _common(body, api_version)
    return CallSetup(
        origin="answer",
        api_version=api_version,
        incoming_call_context=context,
        answered_by=raw_id_of(_object(body, "answeredBy")),
        **common,
    )


def parse_connect(body: dict[str, Any], api_version: str) -> CallSetup:
    locator = _object(body, "callLocator")
    found = None
    if locator:
        for key in ("serverCallId", "groupCallId", "roomId"):
            value = locator.get(key)
            if isinstance(value, str) and value:
                found = {"kind": str(locator.get("kind") or ""), key: value}
                break
    if found is None:
        raise bad_request("The CallLocator field is required.")
    common = _common(body, api_version)
    return CallSetup(origin="connect", api_version=api_version, call_locator=found, **common)
