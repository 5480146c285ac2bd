"""Callback CloudEvents and Event Grid deliveries, parsed into typed, frozen events.

ACS posts a JSON array of CloudEvents 1.0 to the callback URI. Each element goes through
``azure.core.messaging.CloudEvent.from_dict`` (the SDK ships no event parser) and then becomes
one of the dataclasses below. Parsing is tolerant per element: a missing or mistyped field
becomes None, an element that is not a usable CloudEvent or has a type this console does not
know becomes :class:`UnknownEvent`, and nothing in one element can make the others fail.

Incoming calls arrive separately from Event Grid (in the Event Grid schema or, for a
subscription made with the CloudEvents 1.0 schema, as CloudEvents), handled by
:func:`parse_event_grid_body`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from azure.core.messaging import CloudEvent

from console.acs.errors import Explanation, explain
from console.acs.identifiers import IdentifierKind, kind_of, raw_id_from_model

log = logging.getLogger(__name__)

TYPE_PREFIX = "Microsoft.Communication."
_SUBJECT_CALL = re.compile(r"callConnections/([^/?#]+)")
_CLOUD_EVENT_KEYS = (
    "id",
    "source",
    "type",
    "specversion",
    "time",
    "subject",
    "data",
    "data_base64",
    "dataschema",
    "datacontenttype",
)


class EventParseError(ValueError):
    """The body as a whole is unusable: not JSON, or not the JSON shape the route takes."""


# ---------------------------------------------------------------------------------------------
# Callback events


@dataclass(frozen=True)
class ResultInformation:
    code: int | None
    sub_code: int | None
    message: str | None

    @property
    def text(self) -> str:
        """``"200/7000 The conversation has ended."``: what a transcript marker records."""
        text = f"{self.code}/{self.sub_code}" if self.code is not None else ""
        return f"{text} {self.message}".strip() if self.message else text


@dataclass(frozen=True)
class EventParticipant:
    raw_id: str
    kind: IdentifierKind
    is_muted: bool | None = None
    is_on_hold: bool | None = None
    display_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallEvent:
    """Fields every callback event carries; subclasses add their event-specific data."""

    type: str = ""  # short name, e.g. "TranscriptionFailed"
    id: str | None = None
    time: datetime | None = None
    call_connection_id: str | None = None
    server_call_id: str | None = None
    correlation_id: str | None = None
    operation_context: str | None = None
    result: ResultInformation | None = None
    # The element as received (normally the CloudEvent dict), for the journal and diagnostics.
    raw: Any = field(default=None, compare=False, repr=False)

    def explain(self) -> Explanation | None:
        """Operator-facing text for this event's result, or None when it carries none."""
        if self.result is None:
            return None
        return explain(self.result.code, self.result.sub_code, self.result.message, event=self.type)


@dataclass(frozen=True, kw_only=True)
class CallConnected(CallEvent):
    type: str = "CallConnected"


@dataclass(frozen=True, kw_only=True)
class CallDisconnected(CallEvent):
    type: str = "CallDisconnected"


@dataclass(frozen=True, kw_only=True)
class ParticipantsUpdated(CallEvent):
    type: str = "ParticipantsUpdated"
    participants: tuple[EventParticipant, ...] = ()
    sequence_number: int | None = None


@dataclass(frozen=True, kw_only=True)
class CreateCallFailed(CallEvent):
    type: str = "CreateCallFailed"


@dataclass(frozen=True, kw_only=True)
class AnswerFailed(CallEvent):
    type: str = "AnswerFailed"


@dataclass(frozen=True, kw_only=True)
class ConnectFailed(CallEvent):
    type: str = "ConnectFailed"


@dataclass(frozen=True, kw_only=True)
class TranscriptionEvent(CallEvent):
    """Base of the Transcription* events (``transcriptionUpdate`` in the data)."""

    transcription_status: str | None = None
    transcription_status_details: str | None = None

    def explain(self) -> Explanation | None:
        if self.result is None:
            return None
        r = self.result
        return explain(
            r.code,
            r.sub_code,
            r.message,
            event=self.type,
            status_details=self.transcription_status_details,
        )


@dataclass(frozen=True, kw_only=True)
class TranscriptionStarted(TranscriptionEvent):
    type: str = "TranscriptionStarted"


@dataclass(frozen=True, kw_only=True)
class TranscriptionUpdated(TranscriptionEvent):
    type: str = "TranscriptionUpdated"


@dataclass(frozen=True, kw_only=True)
class TranscriptionStopped(TranscriptionEvent):
    type: str = "TranscriptionStopped"


@dataclass(frozen=True, kw_only=True)
class TranscriptionFailed(TranscriptionEvent):
    type: str = "TranscriptionFailed"


@dataclass(frozen=True, kw_only=True)
class TranscriptionResumed(TranscriptionEvent):
    type: str = "TranscriptionResumed"


@dataclass(frozen=True, kw_only=True)
class MediaStreamingEvent(CallEvent):
    """Base of the MediaStreaming* events (``mediaStreamingUpdate`` in the data)."""

    content_type: str | None = None
    status: str | None = None
    status_details: str | None = None


@dataclass(frozen=True, kw_only=True)
class MediaStreamingStarted(MediaStreamingEvent):
    type: str = "MediaStreamingStarted"


@dataclass(frozen=True, kw_only=True)
class MediaStreamingStopped(MediaStreamingEvent):
    type: str = "MediaStreamingStopped"


@dataclass(frozen=True, kw_only=True)
class MediaStreamingFailed(MediaStreamingEvent):
    type: str = "MediaStreamingFailed"


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(CallEvent):
    """An element kept as received: an unknown type, or not a usable CloudEvent.

    ``type`` is the short name when the type has the ``Microsoft.Communication.`` prefix,
    otherwise the type as received ("" when there was none); ``reason`` says why it is here.
    """

    reason: str = ""


# ---------------------------------------------------------------------------------------------
# Field helpers: wrong types become None, never an exception.


def _str(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _id(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) and value else None


def _int(obj: Mapping[str, Any], key: str) -> int | None:
    value = obj.get(key)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    # REST error bodies carry codes as strings; accept the same here.
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        return int(value.strip())
    return None


def _bool(obj: Mapping[str, Any], key: str) -> bool | None:
    value = obj.get(key)
    return value if isinstance(value, bool) else None


def _dict(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _result(data: Mapping[str, Any]) -> ResultInformation | None:
    info = data.get("resultInformation")
    if not isinstance(info, Mapping):
        return None
    return ResultInformation(_int(info, "code"), _int(info, "subCode"), _str(info, "message"))


def _participants(data: Mapping[str, Any]) -> tuple[EventParticipant, ...]:
    items = data.get("participants")
    if not isinstance(items, list):
        return ()
    out = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        raw_id = raw_id_from_model(item.get("identifier"))
        if raw_id is None:
            # A participant with no identity cannot be shown or matched to transcript text.
            log.debug("participant without an identifier skipped")
            continue
        identifier = item.get("identifier")
        name = _str(item, "displayName") or (
            _str(identifier, "displayName") if isinstance(identifier, Mapping) else None
        )
        out.append(
            EventParticipant(
                raw_id,
                kind_of(raw_id),
                _bool(item, "isMuted"),
                _bool(item, "isOnHold"),
                name.strip() if name and name.strip() else None,
            )
        )
    return tuple(out)


def _transcription_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    update = _dict(data, "transcriptionUpdate")
    return {
        "transcription_status": _str(update, "transcriptionStatus"),
        "transcription_status_details": _str(update, "transcriptionStatusDetails"),
    }


def _media_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    update = _dict(data, "mediaStreamingUpdate")
    return {
        "content_type": _str(update, "contentType"),
        "status": _str(update, "mediaStreamingStatus"),
        "status_details": _str(update, "mediaStreamingStatusDetails"),
    }


def _participants_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "participants": _participants(data),
        "sequence_number": _int(data, "sequenceNumber"),
    }


def _no_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    return {}


_Extra = Callable[[Mapping[str, Any]], dict[str, Any]]
# lower-cased short type -> (class, extra-field builder)
_TYPES: dict[str, tuple[type[CallEvent], _Extra]] = {
    cls.__name__.lower(): (cls, extra)
    for cls, extra in (
        (CallConnected, _no_fields),
        (CallDisconnected, _no_fields),
        (ParticipantsUpdated, _participants_fields),
        (CreateCallFailed, _no_fields),
        (AnswerFailed, _no_fields),
        (ConnectFailed, _no_fields),
        (TranscriptionStarted, _transcription_fields),
        (TranscriptionUpdated, _transcription_fields),
        (TranscriptionStopped, _transcription_fields),
        (TranscriptionFailed, _transcription_fields),
        (TranscriptionResumed, _transcription_fields),
        (MediaStreamingStarted, _media_fields),
        (MediaStreamingStopped, _media_fields),
        (MediaStreamingFailed, _media_fields),
    )
}


def _data_dict(data: Any) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    # data_base64 decodes to bytes; some senders put a JSON string in data.
    if isinstance(data, bytes | str):
        try:
            decoded = json.loads(data)
        except (ValueError, RecursionError):
            return {}
        return decoded if isinstance(decoded, Mapping) else {}
    return {}


def _cloud_event(element: Mapping[str, Any]) -> CloudEvent[Any]:
    """``CloudEvent.from_dict``; when that rejects only an optional attribute, retry without it."""
    try:
        return CloudEvent.from_dict(dict(element))
    except Exception as first:
        source, type_ = element.get("source"), element.get("type")
        if not isinstance(source, str) or not isinstance(type_, str):
            raise
        # e.g. a time without an offset, an extension with upper-case letters, or both data
        # and data_base64: the event is still usable without that attribute.
        clean = {k: element[k] for k in _CLOUD_EVENT_KEYS if k in element and k != "time"}
        if "data" in clean:
            clean.pop("data_base64", None)
        for key in ("id", "specversion", "subject", "datacontenttype", "dataschema"):
            if key in clean and not isinstance(clean[key], str):
                del clean[key]
        log.debug("CloudEvent retried without bad attributes: %s", first)
        return CloudEvent.from_dict(clean)


def _short_type(type_: str) -> str:
    if type_[: len(TYPE_PREFIX)].lower() == TYPE_PREFIX.lower():
        return type_[len(TYPE_PREFIX) :]
    return type_


def _unknown(element: Any, reason: str) -> UnknownEvent:
    type_ = element.get("type") if isinstance(element, Mapping) else None
    data = _data_dict(element.get("data")) if isinstance(element, Mapping) else {}
    return UnknownEvent(
        type=_short_type(type_) if isinstance(type_, str) else "",
        id=_id(element, "id") if isinstance(element, Mapping) else None,
        time=_time(element.get("time")) if isinstance(element, Mapping) else None,
        **_common(data, element.get("subject") if isinstance(element, Mapping) else None),
        raw=element,
        reason=reason,
    )


def _common(data: Mapping[str, Any], subject: Any) -> dict[str, Any]:
    call_id = _id(data, "callConnectionId")
    if call_id is None and isinstance(subject, str):
        # The subject/source is "calling/callConnections/{id}" when data lacks the id.
        match = _SUBJECT_CALL.search(subject)
        call_id = match.group(1) if match else None
    return {
        "call_connection_id": call_id,
        "server_call_id": _id(data, "serverCallId"),
        "correlation_id": _id(data, "correlationId"),
        "operation_context": _str(data, "operationContext"),
        "result": _result(data),
    }


def parse_event(element: Any) -> CallEvent:
    """One array element to a typed event. Never raises."""
    if not isinstance(element, Mapping):
        return _unknown(element, "not a JSON object")
    try:
        event = _cloud_event(element)
    except Exception as exc:
        return _unknown(element, f"not a valid CloudEvent: {str(exc)[:120]}")
    if not isinstance(event.type, str):
        return _unknown(element, "'type' is not a string")
    try:
        data = _data_dict(event.data)
        short = _short_type(event.type)
        common = {
            # CloudEvent invents a uuid when the id is missing; report what was received.
            "id": _id(element, "id"),
            # Own parse first: azure-core reads only the first digit of an offset's hours
            # ("+02:00" becomes UTC); the SDK's value is the fallback.
            "time": _time(element.get("time")) or _time(event.time),
            "raw": element,
            **_common(data, event.subject if isinstance(event.subject, str) else event.source),
        }
        if len(short) == len(event.type):
            return UnknownEvent(type=short, reason="not a Communication event", **common)
        entry = _TYPES.get(short.lower())
        if entry is None:
            return UnknownEvent(type=short, reason="unknown event type", **common)
        cls, extra = entry
        return cls(**common, **extra(data))
    except Exception as exc:  # a bug here must cost one event, not the whole delivery
        log.exception("callback event could not be parsed")
        return _unknown(element, f"parse error: {exc.__class__.__name__}")


# ACS posts one event per callback; Event Grid batches at most 5000 events per delivery.
MAX_EVENTS_PER_DELIVERY = 5000


def _load_json(body: bytes | str, what: str) -> Any:
    if isinstance(body, bytes | bytearray | memoryview):
        try:
            body = bytes(body).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise EventParseError(f"{what} body is not UTF-8") from exc
    if not isinstance(body, str):
        raise EventParseError(f"{what} body is not text")
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise EventParseError(f"{what} body is not JSON: {exc.__class__.__name__}") from exc


def _checked_array(doc: Any, what: str) -> list[Any]:
    if not isinstance(doc, list):
        raise EventParseError(f"{what} body is not a JSON array")
    if len(doc) > MAX_EVENTS_PER_DELIVERY:
        # Each element becomes an event object; a body of many tiny elements must not turn a
        # 1 MB request into hundreds of MB and seconds of loop time.
        raise EventParseError(
            f"{what} body has {len(doc)} elements (at most {MAX_EVENTS_PER_DELIVERY})"
        )
    return doc


def _load_array(body: bytes | str, what: str) -> list[Any]:
    return _checked_array(_load_json(body, what), what)


def parse_callback_body(body: bytes | str) -> list[CallEvent]:
    """A callback POST body (a JSON array of CloudEvents) to typed events, in order.

    Raises :class:`EventParseError` only when the body is not JSON or not an array; every
    element, however broken, comes back as an event (:class:`UnknownEvent` at worst).
    """
    return [parse_event(element) for element in _load_array(body, "callback")]


# ---------------------------------------------------------------------------------------------
# Event Grid (incoming calls)

SUBSCRIPTION_VALIDATION_TYPE = "Microsoft.EventGrid.SubscriptionValidationEvent"
INCOMING_CALL_TYPE = "Microsoft.Communication.IncomingCall"


@dataclass(frozen=True, kw_only=True)
class EventGridEvent:
    event_type: str = ""
    id: str | None = None
    topic: str | None = None
    subject: str | None = None
    event_time: datetime | None = None
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class SubscriptionValidation(EventGridEvent):
    """The Event Grid handshake; answer 200 with ``{"validationResponse": validation_code}``."""

    event_type: str = SUBSCRIPTION_VALIDATION_TYPE
    validation_code: str | None = None
    validation_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class IncomingCall(EventGridEvent):
    event_type: str = INCOMING_CALL_TYPE
    to_raw_id: str | None = None
    from_raw_id: str | None = None
    caller_display_name: str | None = None
    server_call_id: str | None = None
    incoming_call_context: str | None = None  # opaque; answer_call takes it as is
    correlation_id: str | None = None
    custom_context: Mapping[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class OtherEventGridEvent(EventGridEvent):
    """Any other delivery, kept as received."""


def parse_event_grid_event(element: Any) -> EventGridEvent:
    """One Event Grid event (Event Grid or CloudEvents schema) to a typed event. Never raises."""
    if not isinstance(element, Mapping):
        return OtherEventGridEvent(raw=element)
    # An Event Grid subscription can also use the CloudEvents schema (type/time instead of
    # eventType/eventTime); accept both.
    event_type = _str(element, "eventType") or _str(element, "type") or ""
    common: dict[str, Any] = {
        "event_type": event_type,
        "id": _id(element, "id"),
        "topic": _str(element, "topic") or _str(element, "source"),
        "subject": _str(element, "subject"),
        "event_time": _time(element.get("eventTime", element.get("time"))),
        "raw": element,
    }
    data = _data_dict(element.get("data"))
    lowered = event_type.lower()
    if lowered == SUBSCRIPTION_VALIDATION_TYPE.lower():
        return SubscriptionValidation(
            **common,
            validation_code=_id(data, "validationCode"),
            validation_url=_id(data, "validationUrl"),
        )
    if lowered == INCOMING_CALL_TYPE.lower():
        custom = data.get("customContext")
        return IncomingCall(
            **common,
            to_raw_id=raw_id_from_model(data.get("to")),
            from_raw_id=raw_id_from_model(data.get("from")),
            caller_display_name=_str(data, "callerDisplayName"),
            server_call_id=_id(data, "serverCallId"),
            incoming_call_context=_id(data, "incomingCallContext"),
            correlation_id=_id(data, "correlationId"),
            custom_context=custom if isinstance(custom, Mapping) else None,
        )
    return OtherEventGridEvent(**common)


def parse_event_grid_body(body: bytes | str) -> list[EventGridEvent]:
    """An Event Grid POST body to typed events, in order.

    The Event Grid schema posts a JSON array; the CloudEvents 1.0 schema posts one event object
    (``application/cloudevents+json``) or an array (``application/cloudevents-batch+json``).
    Raises :class:`EventParseError` when the body is not JSON, or neither an object nor an array.
    """
    doc = _load_json(body, "Event Grid")
    if isinstance(doc, Mapping):
        # A lone object must at least say what it is; an array's elements are tolerated
        # one by one instead.
        if not any(isinstance(doc.get(key), str) for key in ("type", "eventType")):
            raise EventParseError("Event Grid body is a JSON object without an event type")
        return [parse_event_grid_event(doc)]
    if not isinstance(doc, list):
        raise EventParseError("Event Grid body is not a JSON array or event object")
    return [parse_event_grid_event(element) for element in _checked_array(doc, "Event Grid")]
