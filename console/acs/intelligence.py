"""Call intelligence the service offers at api-version ``2025-08-15-preview``: language
identification, sentiment, PII redaction and the end-of-call summary.

SDK 1.6 speaks the stable version (``2026-03-12``) and knows none of these options. The REST
specification of the preview (``WebSocketTranscriptionOptions``, ``StartTranscriptionRequest``,
``UpdateTranscriptionRequest``; a copy is in ``tests/fixtures/spec``) adds to transcription:

- ``locales``: the languages to identify among (not in ``UpdateTranscriptionRequest``: they can
  only change by stopping and starting transcription again),
- ``enableSentimentAnalysis``,
- ``piiRedactionOptions: {enable, redactionType: "maskWithCharacter"}``,
- ``summarizationOptions: {enableEndCallSummary, locale}``,
- and ``speechModelEndpointId``, which the stable version already has (sent as before).

How they go on the wire: through the SDK itself. :class:`~console.acs.calls.CallService` builds
a second SDK client with ``api_version=PREVIEW_API_VERSION`` (the SDK's own constructor takes
it) and sends these requests through it, so authentication (HMAC), retries, logging and the
per-retry policies are the SDK's pipeline, unchanged. The bodies are the SDK's generated request
models, subclassed here with the preview keys added to their ``_attribute_map``; the SDK's own
serializer writes them. Subclassing the models was chosen over raw JSON through
``_client._client.send_request`` because everything else in the body (identifiers, media
streaming, enums) stays the SDK's serialization, the generated operations keep their error
mapping and response models, and the public ``create_call``/``answer_call``/``connect_call``
accept the options unchanged (their transcription options' ``_to_generated`` returns the
subclass). Only a call that asks for one of these options uses the preview client; every other
request is exactly what it was.

Our reading, not documented: when ``locales`` are given, ``locale`` is still sent (the SDK's model
requires it; it is the primary language of the call); at most :data:`MAX_LOCALES` locales (Azure
Speech identifies among at most four at the start of an utterance); an update that changes the
flags always sends both ``enableSentimentAnalysis`` and ``piiRedactionOptions.enable``, so that
turning one off is said rather than implied.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from azure.communication.callautomation._generated._utils.serialization import Model
from azure.communication.callautomation._generated.models import (
    StartTranscriptionRequest,
    UpdateTranscriptionRequest,
    WebSocketTranscriptionOptions,
)

from console.acs.locales import validate_locale

PREVIEW_API_VERSION = "2025-08-15-preview"
MAX_LOCALES = 4
MASK_WITH_CHARACTER = "maskWithCharacter"
# The values the service gives in ``sentimentAnalysisResult.sentiment``.
SENTIMENTS = ("positive", "negative", "neutral", "mixed")


@dataclass(frozen=True, slots=True)
class IntelligenceSettings:
    """What a call asks the service for beyond transcription (all off by default).

    ``locales``: identify the language of each phrase among these (2 to :data:`MAX_LOCALES`);
    ``sentiment``: a sentiment per Final; ``service_redaction``: the service masks personal
    data (card, account and phone numbers, e-mail addresses…) before it sends the text;
    ``end_call_summary``: a summary at the end of the call, in the transcription locale.
    """

    locales: tuple[str, ...] = ()
    sentiment: bool = False
    service_redaction: bool = False
    end_call_summary: bool = False

    @property
    def requested(self) -> bool:
        """Any preview option is on (and the preview api-version is needed)."""
        return (
            bool(self.locales)
            or self.sentiment
            or self.service_redaction
            or (self.end_call_summary)
        )

    def checked(self) -> IntelligenceSettings:
        """The same settings with canonical locales; ValueError in plain words otherwise."""
        return IntelligenceSettings(
            check_locales(self.locales),
            bool(self.sentiment),
            bool(self.service_redaction),
            bool(self.end_call_summary),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "locales": list(self.locales),
            "sentiment": self.sentiment,
            "service_redaction": self.service_redaction,
            "end_call_summary": self.end_call_summary,
        }


def check_locales(locales: Iterable[str]) -> tuple[str, ...]:
    """Languages to identify among: none, or 2 to :data:`MAX_LOCALES` distinct locales."""
    codes: list[str] = []
    for text in locales:
        code = validate_locale(text)
        if code.lower() in (c.lower() for c in codes):
            raise ValueError(f"{code} is given twice")
        codes.append(code)
    if len(codes) == 1:
        raise ValueError(
            "give at least two languages to detect among (one language is just the locale)"
        )
    if len(codes) > MAX_LOCALES:
        raise ValueError(
            f"the service detects among at most {MAX_LOCALES} languages, not {len(codes)}"
        )
    return tuple(codes)


# --- the SDK's request models with the preview keys ------------------------------------------

_AttributeMap = dict[str, dict[str, Any]]


class PiiRedactionOptions(Model):
    _attribute_map: _AttributeMap = {  # noqa: RUF012 (the SDK's own convention)
        "enable": {"key": "enable", "type": "bool"},
        "redaction_type": {"key": "redactionType", "type": "str"},
    }

    def __init__(self, *, enable: bool, redaction_type: str | None = None) -> None:
        super().__init__()
        self.enable = enable
        self.redaction_type = redaction_type


class SummarizationOptions(Model):
    _attribute_map: _AttributeMap = {  # noqa: RUF012 (the SDK's own convention)
        "enable_end_call_summary": {"key": "enableEndCallSummary", "type": "bool"},
        "locale": {"key": "locale", "type": "str"},
    }

    def __init__(self, *, enable_end_call_summary: bool, locale: str | None = None) -> None:
        super().__init__()
        self.enable_end_call_summary = enable_end_call_summary
        self.locale = locale


_FLAGS: _AttributeMap = {
    "enable_sentiment_analysis": {"key": "enableSentimentAnalysis", "type": "bool"},
    # Types the SDK's serializer does not know: it serializes them by their own attribute map.
    "pii_redaction_options": {"key": "piiRedactionOptions", "type": "PreviewPiiRedactionOptions"},
    "summarization_options": {"key": "summarizationOptions", "type": "PreviewSummarization"},
}
_LOCALES: _AttributeMap = {"locales": {"key": "locales", "type": "[str]"}}


@dataclass(slots=True)
class _Fields:
    """The preview attributes of one request (None: not sent)."""

    locales: list[str] | None = None
    enable_sentiment_analysis: bool | None = None
    pii_redaction_options: PiiRedactionOptions | None = None
    summarization_options: SummarizationOptions | None = None


def _fields(
    settings: IntelligenceSettings, locale: str | None, *, explicit: bool, with_locales: bool
) -> _Fields:
    """``explicit``: say every flag, off included (an update); else only what is on."""
    out = _Fields()
    if with_locales and settings.locales:
        out.locales = list(settings.locales)
    if settings.sentiment or explicit:
        out.enable_sentiment_analysis = settings.sentiment
    if settings.service_redaction:
        out.pii_redaction_options = PiiRedactionOptions(
            enable=True, redaction_type=MASK_WITH_CHARACTER
        )
    elif explicit:
        out.pii_redaction_options = PiiRedactionOptions(enable=False)
    if settings.end_call_summary:
        out.summarization_options = SummarizationOptions(
            enable_end_call_summary=True, locale=locale
        )
    elif explicit:
        out.summarization_options = SummarizationOptions(enable_end_call_summary=False)
    return out


def _apply(model: Any, fields: _Fields) -> None:
    model.locales = fields.locales
    model.enable_sentiment_analysis = fields.enable_sentiment_analysis
    model.pii_redaction_options = fields.pii_redaction_options
    model.summarization_options = fields.summarization_options


class PreviewWebSocketTranscriptionOptions(WebSocketTranscriptionOptions):
    """``transcriptionOptions`` of create, answer and connect, with the preview keys."""

    _attribute_map: _AttributeMap = {  # noqa: RUF012 (the SDK's own convention)
        **WebSocketTranscriptionOptions._attribute_map,
        **_LOCALES,
        **_FLAGS,
    }

    def __init__(self, *, intelligence: IntelligenceSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        locale = kwargs.get("locale")
        _apply(self, _fields(intelligence, locale, explicit=False, with_locales=True))


class PreviewStartTranscriptionRequest(StartTranscriptionRequest):
    _attribute_map: _AttributeMap = {  # noqa: RUF012 (the SDK's own convention)
        **StartTranscriptionRequest._attribute_map,
        **_LOCALES,
        **_FLAGS,
    }

    def __init__(self, *, intelligence: IntelligenceSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        locale = kwargs.get("locale")
        _apply(self, _fields(intelligence, locale, explicit=False, with_locales=True))


class PreviewUpdateTranscriptionRequest(UpdateTranscriptionRequest):
    """No ``locales``: the specification's update request has none."""

    _attribute_map: _AttributeMap = {  # noqa: RUF012 (the SDK's own convention)
        **UpdateTranscriptionRequest._attribute_map,
        **_FLAGS,
    }

    def __init__(self, *, intelligence: IntelligenceSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        locale = kwargs.get("locale")
        _apply(self, _fields(intelligence, locale, explicit=True, with_locales=False))
