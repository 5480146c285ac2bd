"""WebSocket packets that ACS streams to the transport URL, parsed into typed values.

One tolerant parser for every packet kind. It never raises: anything it cannot make sense of
comes back as :class:`Unparsed` with a reason, so a server loop can count and log it and go on.
Offsets and durations stay in the wire unit, ticks of 100 ns (``TICKS_PER_SECOND``).

The preview api-version's fields are read too: a Final's ``sentimentAnalysisResult.sentiment``
and ``languageIdentified``, and the metadata's ``locales``, ``enableSentimentAnalysis`` and
``piiRedactionOptions``. Keys in either case; a sentiment the parser does not know is kept as
given (the service's values are ``positive``, ``negative``, ``neutral`` and ``mixed``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, NamedTuple

_fast_loads: Callable[[str | bytes], Any]
try:  # about 3x faster than json.loads on ACS packets; optional
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _fast_loads = json.loads

TICKS_PER_SECOND = 10_000_000
# Longest raw excerpt kept on an Unparsed result: enough to diagnose, never a memory hazard.
_EXCERPT = 200


class ResultStatus(Enum):
    INTERMEDIATE = "Intermediate"
    FINAL = "Final"


class Word(NamedTuple):
    """One recognised word (a tuple: cheap to build per packet, immutable)."""

    text: str
    offset: int  # ticks
    duration: int  # ticks


@dataclass(frozen=True, slots=True)
class TranscriptionMetadata:
    subscription_id: str
    locale: str
    call_connection_id: str
    correlation_id: str
    speech_model_endpoint_id: str | None = None
    # Preview: the languages identified among, and whether sentiment and redaction are on
    # (None: the packet does not say).
    locales: tuple[str, ...] = ()
    sentiment_analysis: bool | None = None
    pii_redaction: bool | None = None


# Not frozen: a frozen dataclass's __init__ costs ~2 µs more per packet on the hot path.
# Treat instances as immutable all the same.
@dataclass(slots=True)
class TranscriptionData:
    text: str
    participant_raw_id: str
    result_status: ResultStatus
    offset: int = 0  # ticks
    duration: int = 0  # ticks
    confidence: float | None = None
    words: tuple[Word, ...] = ()
    format: str = "display"
    sentiment: str | None = None  # preview: "positive" | "negative" | "neutral" | "mixed" | …
    language: str | None = None  # preview: the identified language, as sent ("en-US")

    @property
    def is_final(self) -> bool:
        return self.result_status is ResultStatus.FINAL


@dataclass(frozen=True, slots=True)
class AudioMetadata:
    subscription_id: str
    encoding: str
    sample_rate: int
    channels: int
    length: int


@dataclass(frozen=True, slots=True)
class AudioData:
    data: str  # base64 PCM16LE, decoded only by whoever needs the samples
    timestamp: str = ""
    participant_raw_id: str | None = None
    silent: bool = False


@dataclass(frozen=True, slots=True)
class DtmfData:
    data: str


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A frame the parser could not use; ``kind`` is set when the frame named one."""

    reason: str
    kind: str | None = None
    excerpt: str = ""


Packet = TranscriptionMetadata | TranscriptionData | AudioMetadata | AudioData | DtmfData | Unparsed


class _Bad(Exception):
    """A field failed validation; the message becomes the Unparsed reason."""


def _str(obj: dict[str, Any], key: str, *, default: str | None = None) -> str:
    value = obj.get(key)
    if value is None:
        if default is None:
            raise _Bad(f"missing field {key!r}")
        return default
    if not isinstance(value, str):
        raise _Bad(f"field {key!r} is not a string")
    return value


def _text(obj: dict[str, Any], key: str) -> str:
    """A display string; lone surrogates (legal in JSON, not in UTF-8) become U+FFFD."""
    value = _str(obj, key)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return value


def _opt_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _int(obj: dict[str, Any], key: str, *, default: int = 0) -> int:
    value = obj.get(key)
    # Exact type checks: the per-packet hot path, and a bool offset is malformed, not 0/1 ticks.
    if type(value) is int:
        return value
    if value is None:
        return default
    if type(value) is float and math.isfinite(value):
        return int(value)
    raise _Bad(f"field {key!r} is not a finite number")


def _confidence(obj: dict[str, Any]) -> float | None:
    value = obj.get("confidence")
    if value is None:
        return None
    if (type(value) is float or type(value) is int) and 0.0 <= value <= 1.0:
        return float(value)
    raise _Bad("field 'confidence' is not a number between 0 and 1")


def _words(obj: dict[str, Any]) -> tuple[Word, ...]:
    raw = obj.get("words")
    if raw is None:
        return ()
    if type(raw) is not list:
        raise _Bad("field 'words' is not a list")
    words = []
    for item in raw:
        if type(item) is not dict:
            raise _Bad("a word is not an object")
        text = item.get("text")
        if type(text) is not str or not text.isascii():
            text = _text(item, "text")  # validates, and cleans lone surrogates
        offset = item.get("offset")
        duration = item.get("duration")
        if type(offset) is not int:
            offset = _int(item, "offset")
        if type(duration) is not int:
            duration = _int(item, "duration")
        words.append(Word(text, offset, duration))
    return tuple(words)


_STATUS_EXACT = {"Final": ResultStatus.FINAL, "Intermediate": ResultStatus.INTERMEDIATE}


def _result_status(obj: dict[str, Any]) -> ResultStatus:
    value = obj.get("resultStatus")
    exact = _STATUS_EXACT.get(value) if type(value) is str else None
    if exact is not None:
        return exact
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered == "final":
            return ResultStatus.FINAL
        if lowered == "intermediate":
            return ResultStatus.INTERMEDIATE
    raise _Bad(f"unknown resultStatus {value!r}")


_SENTIMENTS = {s: s for s in ("positive", "negative", "neutral", "mixed")}
_SENTIMENT_KEY = "sentimentAnalysisResult"
_LANGUAGE_KEY = "languageIdentified"
# The keys of a complete standard Final: a body with more has something else in it.
_STANDARD_KEYS = 8


def _any_case(obj: dict[str, Any], key: str) -> Any:
    """``obj[key]`` in any spelling of its case (None when absent)."""
    value = obj.get(key)
    if value is not None:
        return value
    lowered = key.lower()
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return None


def _sentiment(value: Any) -> str | None:
    """``{"sentiment": "negative"}`` -> "negative"; a bare string is taken too. Known values
    in lower case; anything else kept as given (stripped); no usable text: None."""
    if isinstance(value, dict):
        value = _any_case(value, "sentiment")
    if not isinstance(value, str) or not value.strip():
        return None
    text: str = value.strip()
    return _SENTIMENTS.get(text.lower(), text)


def _language(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _preview(body: dict[str, Any], sentiment: Any, language: Any) -> tuple[str | None, str | None]:
    """The preview fields; their keys in another case only searched for when the body has
    keys beyond a standard Final's."""
    if sentiment is None and language is None and len(body) > _STANDARD_KEYS:
        sentiment = _any_case(body, _SENTIMENT_KEY)
        language = _any_case(body, _LANGUAGE_KEY)
    return _sentiment(sentiment), _language(language)


def _flag(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _transcription_metadata(body: dict[str, Any]) -> TranscriptionMetadata:
    locales = _any_case(body, "locales")
    pii = _any_case(body, "piiRedactionOptions")
    return TranscriptionMetadata(
        subscription_id=_str(body, "subscriptionId", default=""),
        locale=_str(body, "locale", default=""),
        call_connection_id=_str(body, "callConnectionId", default=""),
        correlation_id=_str(body, "correlationId", default=""),
        speech_model_endpoint_id=_opt_str(body, "speechRecognitionModelEndpointId")
        or _opt_str(body, "speechModelEndpointId"),
        locales=tuple(x.strip() for x in locales if isinstance(x, str) and x.strip())
        if isinstance(locales, list)
        else (),
        sentiment_analysis=_flag(_any_case(body, "enableSentimentAnalysis")),
        pii_redaction=_flag(_any_case(pii, "enable")) if isinstance(pii, dict) else None,
    )


def _transcription_data(body: dict[str, Any]) -> TranscriptionData:
    # Fast path for the well-formed packet (the per-packet hot path): exact type checks only;
    # anything unusual takes the validating path below, which names the problem.
    text = body.get("text")
    raw_id = body.get("participantRawID")
    status = body.get("resultStatus")
    status = _STATUS_EXACT.get(status) if type(status) is str else None
    offset = body.get("offset", 0)
    duration = body.get("duration", 0)
    confidence = body.get("confidence")
    fmt = body.get("format", "display")
    if (
        type(text) is str
        and text.isascii()
        and type(raw_id) is str
        and status is not None
        and type(offset) is int
        and type(duration) is int
        and type(fmt) is str
        and (confidence is None or (type(confidence) is float and 0.0 <= confidence <= 1.0))
    ):
        words = _words(body) if body.get("words") else ()
        sentiment = body.get(_SENTIMENT_KEY)
        language = body.get(_LANGUAGE_KEY)
        if sentiment is None and language is None and len(body) <= _STANDARD_KEYS:
            return TranscriptionData(text, raw_id, status, offset, duration, confidence, words, fmt)
        return TranscriptionData(
            text,
            raw_id,
            status,
            offset,
            duration,
            confidence,
            words,
            fmt,
            *_preview(body, sentiment, language),
        )
    return _transcription_data_checked(body)


def _transcription_data_checked(body: dict[str, Any]) -> TranscriptionData:
    sentiment, language = _preview(body, body.get(_SENTIMENT_KEY), body.get(_LANGUAGE_KEY))
    return TranscriptionData(
        text=_text(body, "text"),
        participant_raw_id=_str(body, "participantRawID", default=body.get("participantRawId")),
        result_status=_result_status(body),
        offset=_int(body, "offset"),
        duration=_int(body, "duration"),
        confidence=_confidence(body),
        words=_words(body),
        format=_str(body, "format", default="display"),
        sentiment=sentiment,
        language=language,
    )


def _audio_metadata(body: dict[str, Any]) -> AudioMetadata:
    return AudioMetadata(
        subscription_id=_str(body, "subscriptionId", default=""),
        encoding=_str(body, "encoding", default="PCM"),
        sample_rate=_int(body, "sampleRate", default=16000),
        channels=_int(body, "channels", default=1),
        length=_int(body, "length"),
    )


def _audio_data(body: dict[str, Any]) -> AudioData:
    silent = body.get("silent", False)
    return AudioData(
        data=_str(body, "data", default=""),
        timestamp=_str(body, "timestamp", default=""),
        participant_raw_id=_opt_str(body, "participantRawID") or _opt_str(body, "participantRawId"),
        silent=silent if isinstance(silent, bool) else False,
    )


def _dtmf(body: dict[str, Any]) -> DtmfData:
    return DtmfData(_str(body, "data"))


# kind (lower-cased) -> (body key, builder)
_KINDS: dict[str, tuple[str, Callable[[dict[str, Any]], Packet]]] = {
    "transcriptionmetadata": ("transcriptionMetadata", _transcription_metadata),
    "transcriptiondata": ("transcriptionData", _transcription_data),
    "audiometadata": ("audioMetadata", _audio_metadata),
    "audiodata": ("audioData", _audio_data),
    "dtmfdata": ("dtmfData", _dtmf),
}


def _excerpt(frame: str | bytes) -> str:
    if isinstance(frame, bytes):
        return frame[:_EXCERPT].decode("utf-8", "replace")
    return frame[:_EXCERPT].encode("utf-8", "replace").decode("utf-8")


def _slow_loads(frame: str | bytes) -> Any:
    """The standard parser: orjson refuses some JSON it takes (lone surrogates, huge
    integers, NaN, a BOM), and it has the last word on what is JSON."""
    if isinstance(frame, str) and frame.startswith("\ufeff"):
        frame = frame[1:]
    try:
        return json.loads(frame)
    except (ValueError, TypeError, RecursionError) as exc:
        return Unparsed(f"not JSON: {exc.__class__.__name__}", None, _excerpt(frame))


def parse_packet(frame: str | bytes) -> Packet:
    """Parse one WebSocket text frame. Never raises; bad input gives :class:`Unparsed`."""
    cls = frame.__class__
    if cls is not str and cls is not bytes:
        if isinstance(frame, bytearray | memoryview):
            frame = bytes(frame)
        elif not isinstance(frame, str | bytes):
            return Unparsed(f"not text: {type(frame).__name__}")
    try:
        doc = _fast_loads(frame)
    except ValueError:
        doc = _slow_loads(frame)
        if isinstance(doc, Unparsed):
            return doc
    if doc.__class__ is not dict:
        return Unparsed("not a JSON object", None, _excerpt(frame))
    # Fast path: the service's own spelling.
    kind = doc.get("kind")
    if kind == "TranscriptionData":
        body = doc.get("transcriptionData")
        if body.__class__ is dict:
            try:
                return _transcription_data(body)
            except _Bad as exc:
                return Unparsed(str(exc), kind, _excerpt(frame))
    if kind is None:
        kind = doc.get("Kind")
    if not isinstance(kind, str):
        return Unparsed("no 'kind' field", None, _excerpt(frame))
    entry = _KINDS.get(kind.lower())
    if entry is None:
        return Unparsed(f"unknown kind {kind[:60]!r}", kind[:60], _excerpt(frame))
    key, build = entry
    # The service uses camelCase body keys; bidirectional messages use PascalCase.
    body = doc.get(key, doc.get(key[0].upper() + key[1:]))
    if not isinstance(body, dict):
        return Unparsed(f"missing {key!r} object", kind, _excerpt(frame))
    try:
        packet: Packet = build(body)
    except _Bad as exc:
        return Unparsed(str(exc), kind, _excerpt(frame))
    return packet
