"""Callback CloudEvents and Event Grid deliveries parsed into typed events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from azure.communication.callautomation._generated import models as sdk
from hypothesis import given, settings
from hypothesis import strategies as st

from console.acs.events import (
    AnswerFailed,
    CallConnected,
    CallDisconnected,
    CallEvent,
    ConnectFailed,
    CreateCallFailed,
    EventParseError,
    IncomingCall,
    MediaStreamingFailed,
    MediaStreamingStarted,
    MediaStreamingStopped,
    OtherEventGridEvent,
    ParticipantsUpdated,
    ResultInformation,
    SubscriptionValidation,
    TranscriptionFailed,
    TranscriptionResumed,
    TranscriptionStarted,
    TranscriptionStopped,
    TranscriptionUpdated,
    UnknownEvent,
    parse_callback_body,
    parse_event_grid_body,
)
from console.acs.identifiers import IdentifierKind

CALL_ID = "401f3500-7e2a-4c11-9b0e-1a2b3c4d5e6f"


def cloud_event(short_type: str, data: Any, **extra: Any) -> dict[str, Any]:
    """A callback element shaped like the recorded service events."""
    event = {
        "id": "5f0c2b8e-3c7e-4d8a-9a51-0c1d2e3f4a5b",
        "source": f"calling/callConnections/{CALL_ID}",
        "type": f"Microsoft.Communication.{short_type}",
        "data": data,
        "time": "2026-01-15T10:00:02.1234567+00:00",
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": f"calling/callConnections/{CALL_ID}",
    }
    event.update(extra)
    return event


def base_data(short_type: str, code: int = 200, sub_code: int = 0, message: str = "") -> dict:
    return {
        "callConnectionId": CALL_ID,
        "serverCallId": "aHR0cHM6Ly9zZXJ2ZXI",
        "correlationId": "9d2e0000-0000-0000-0000-000000000001",
        "resultInformation": {"code": code, "subCode": sub_code, "message": message},
        "version": "2026-03-12",
        "publicEventType": f"Microsoft.Communication.{short_type}",
    }


def one(element: Any) -> CallEvent:
    events = parse_callback_body(json.dumps([element]))
    assert len(events) == 1
    return events[0]


# -- typed events ---------------------------------------------------------------------------


def test_call_connected_carries_common_fields() -> None:
    element = cloud_event("CallConnected", base_data("CallConnected"))
    event = one(element)
    assert isinstance(event, CallConnected)
    assert event.type == "CallConnected"
    assert event.id == "5f0c2b8e-3c7e-4d8a-9a51-0c1d2e3f4a5b"
    assert event.time == datetime(2026, 1, 15, 10, 0, 2, 123456, tzinfo=UTC)
    assert event.call_connection_id == CALL_ID
    assert event.server_call_id == "aHR0cHM6Ly9zZXJ2ZXI"
    assert event.correlation_id == "9d2e0000-0000-0000-0000-000000000001"
    assert event.operation_context is None  # omitted when the request had none
    assert event.result == ResultInformation(200, 0, "")
    assert event.raw == element


def test_call_disconnected_result() -> None:
    data = base_data(
        "CallDisconnected", 200, 7000, "The conversation has ended. DiagCode: 0#7000.@"
    )
    event = one(cloud_event("CallDisconnected", data))
    assert isinstance(event, CallDisconnected)
    assert event.result == ResultInformation(
        200, 7000, "The conversation has ended. DiagCode: 0#7000.@"
    )


def test_participants_updated_from_sdk_model() -> None:
    # Serialised by the SDK's own generated model, so field names match the service contract.
    data = sdk.ParticipantsUpdated(
        call_connection_id=CALL_ID,
        sequence_number=3,
        participants=[
            sdk.CallParticipant(
                identifier=sdk.CommunicationIdentifierModel(
                    raw_id="4:+15550100",
                    phone_number=sdk.PhoneNumberIdentifierModel(value="+15550100"),
                ),
                is_muted=True,
                is_on_hold=False,
            ),
            sdk.CallParticipant(
                identifier=sdk.CommunicationIdentifierModel(
                    raw_id="8:acs:r1_u1",
                    communication_user=sdk.CommunicationUserIdentifierModel(id="8:acs:r1_u1"),
                ),
            ),
        ],
    ).serialize()
    event = one(cloud_event("ParticipantsUpdated", data))
    assert isinstance(event, ParticipantsUpdated)
    assert event.sequence_number == 3
    phone, user = event.participants
    assert (phone.raw_id, phone.kind, phone.is_muted, phone.is_on_hold) == (
        "4:+15550100",
        IdentifierKind.PHONE_NUMBER,
        True,
        False,
    )
    assert (user.raw_id, user.kind, user.is_muted, user.is_on_hold) == (
        "8:acs:r1_u1",
        "communicationUser",
        None,
        None,
    )


def test_participant_without_raw_id_is_built_from_typed_object() -> None:
    data = {
        "participants": [
            {"identifier": {"phoneNumber": {"value": "+15550100"}}, "isMuted": False},
            {"identifier": {"microsoftTeamsUser": {"userId": "abc", "cloud": "public"}}},
            {"identifier": {"kind": "unknown"}},  # no identity at all: skipped
            "not an object",
        ],
        "sequenceNumber": "not a number",
    }
    event = one(cloud_event("ParticipantsUpdated", data))
    assert isinstance(event, ParticipantsUpdated)
    assert [p.raw_id for p in event.participants] == ["4:+15550100", "8:orgid:abc"]
    assert event.participants[1].kind is IdentifierKind.MICROSOFT_TEAMS_USER
    assert event.sequence_number is None


@pytest.mark.parametrize("cls", [CreateCallFailed, AnswerFailed, ConnectFailed])
def test_setup_failures(cls: type[CallEvent]) -> None:
    name = cls.__name__
    data = base_data(name, 400, 8501, "Call setup failed.") | {"operationContext": "place-1"}
    event = one(cloud_event(name, data))
    assert type(event) is cls
    assert event.operation_context == "place-1"
    explanation = event.explain()
    assert explanation is not None
    assert 'The service said: "Call setup failed."' in explanation.explanation
    assert not explanation.known


@pytest.mark.parametrize(
    ("cls", "status", "details"),
    [
        (TranscriptionStarted, "transcriptionStarted", "subscriptionStarted"),
        (TranscriptionUpdated, "transcriptionUpdated", "transcriptionLocaleUpdated"),
        (TranscriptionStopped, "transcriptionStopped", "subscriptionStopped"),
        (TranscriptionResumed, "transcriptionResumed", "streamConnectionReestablished"),
    ],
)
def test_transcription_events(cls: type[CallEvent], status: str, details: str) -> None:
    name = cls.__name__
    data = base_data(name, 200, 0, "Action completed successfully.") | {
        "transcriptionUpdate": {
            "transcriptionStatus": status,
            "transcriptionStatusDetails": details,
        }
    }
    event = one(cloud_event(name, data))
    assert type(event) is cls
    assert event.transcription_status == status  # type: ignore[attr-defined]
    assert event.transcription_status_details == details  # type: ignore[attr-defined]


def test_transcription_failed_from_sdk_model_explains_itself() -> None:
    data = sdk.TranscriptionFailed(
        call_connection_id=CALL_ID,
        operation_context="start-1",
        result_information=sdk.ResultInformation(
            code=400,
            sub_code=8501,
            message="Action is invalid when call is not in Established state.",
        ),
        transcription_update=sdk.TranscriptionUpdate(
            transcription_status="transcriptionFailed", transcription_status_details="badRequest"
        ),
    ).serialize()
    event = one(cloud_event("TranscriptionFailed", data))
    assert isinstance(event, TranscriptionFailed)
    assert event.transcription_status == "transcriptionFailed"
    assert event.transcription_status_details == "badRequest"
    assert event.operation_context == "start-1"
    explanation = event.explain()
    assert explanation is not None
    assert explanation.key == "call_not_established"
    assert "Wait until the call shows Connected" in explanation.remedy


def test_shared_code_is_resolved_with_status_details() -> None:
    data = base_data("TranscriptionFailed", 400, 8565, "") | {
        "transcriptionUpdate": {
            "transcriptionStatus": "transcriptionFailed",
            "transcriptionStatusDetails": "serviceTimeout",
        }
    }
    explanation = one(cloud_event("TranscriptionFailed", data)).explain()
    assert explanation is not None
    assert explanation.key == "cognitive_timeout"


def test_success_event_explains_as_its_own_row() -> None:
    data = base_data("TranscriptionStopped", 200, 0, "Action completed successfully.")
    explanation = one(cloud_event("TranscriptionStopped", data)).explain()
    assert explanation is not None
    assert explanation.key == "stopped"


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (MediaStreamingStarted, "mediaStreamingStarted"),
        (MediaStreamingStopped, "mediaStreamingStopped"),
        (MediaStreamingFailed, "mediaStreamingFailed"),
    ],
)
def test_media_streaming_events(cls: type[CallEvent], status: str) -> None:
    data = sdk.MediaStreamingStarted(
        call_connection_id=CALL_ID,
        media_streaming_update=sdk.MediaStreamingUpdate(
            content_type="Audio",
            media_streaming_status=status,
            media_streaming_status_details="subscriptionStarted",
        ),
    ).serialize()
    event = one(cloud_event(cls.__name__, data))
    assert type(event) is cls
    assert event.content_type == "Audio"  # type: ignore[attr-defined]
    assert event.status == status  # type: ignore[attr-defined]
    assert event.status_details == "subscriptionStarted"  # type: ignore[attr-defined]


def test_type_match_is_case_insensitive() -> None:
    element = cloud_event("CallConnected", base_data("CallConnected"))
    element["type"] = "microsoft.communication.callconnected"
    assert isinstance(one(element), CallConnected)


# -- unknown and broken elements --------------------------------------------------------------


def test_unknown_communication_type_is_kept_with_short_name() -> None:
    element = cloud_event("PlayCompleted", base_data("PlayCompleted"))
    event = one(element)
    assert isinstance(event, UnknownEvent)
    assert event.type == "PlayCompleted"
    assert event.call_connection_id == CALL_ID
    assert event.raw == element
    assert event.reason == "unknown event type"


def test_foreign_type_is_kept_with_full_name() -> None:
    element = cloud_event("x", {})
    element["type"] = "Contoso.Something"
    event = one(element)
    assert isinstance(event, UnknownEvent)
    assert event.type == "Contoso.Something"


@pytest.mark.parametrize(
    "element",
    [
        5,
        "text",
        None,
        [1, 2],
        {},
        {"type": "Microsoft.Communication.CallConnected"},  # no source
        {"source": "s"},  # no type
        {"source": "s", "type": 7},
    ],
)
def test_element_that_is_no_cloud_event_becomes_unknown(element: Any) -> None:
    event = one(element)
    assert isinstance(event, UnknownEvent)
    assert event.raw == element
    assert event.reason


def test_no_source_keeps_type_and_data_for_diagnostics() -> None:
    element = {"type": "Microsoft.Communication.CallConnected", "data": base_data("x")}
    event = one(element)
    assert isinstance(event, UnknownEvent)
    assert event.type == "CallConnected"
    assert event.call_connection_id == CALL_ID
    assert "CloudEvent" in event.reason


@pytest.mark.parametrize(
    ("time", "expected"),
    [
        ("2026-01-15T10:00:02Z", datetime(2026, 1, 15, 10, 0, 2, tzinfo=UTC)),
        # No offset: from_dict rejects it; the event is kept and the time read as UTC.
        ("2026-01-15T10:00:02", datetime(2026, 1, 15, 10, 0, 2, tzinfo=UTC)),
        (
            "2026-01-15T12:00:02+02:00",
            datetime(2026, 1, 15, 12, 0, 2, tzinfo=timezone(timedelta(hours=2))),
        ),
        ("yesterday", None),
        (12345, None),
        (None, None),
    ],
)
def test_time_variants(time: Any, expected: datetime | None) -> None:
    event = one(cloud_event("CallConnected", base_data("CallConnected"), time=time))
    assert isinstance(event, CallConnected)
    assert event.time == expected


def test_missing_id_stays_missing() -> None:
    element = cloud_event("CallConnected", base_data("CallConnected"))
    del element["id"]
    event = one(element)
    assert isinstance(event, CallConnected)
    assert event.id is None


def test_extension_attribute_that_azure_core_rejects_does_not_lose_the_event() -> None:
    element = cloud_event("CallConnected", base_data("CallConnected"), traceParent="00-abc")
    event = one(element)
    assert isinstance(event, CallConnected)
    assert event.raw["traceParent"] == "00-abc"


def test_wrong_field_types_become_none() -> None:
    data = {
        "callConnectionId": 42,
        "serverCallId": ["x"],
        "correlationId": None,
        "operationContext": {"a": 1},
        "resultInformation": {"code": "400", "subCode": True, "message": 5},
        "transcriptionUpdate": "nope",
    }
    event = one(cloud_event("TranscriptionFailed", data, subject=None))
    assert isinstance(event, TranscriptionFailed)
    # The id falls back to the one in the source path.
    assert event.call_connection_id == CALL_ID
    assert event.server_call_id is None
    assert event.correlation_id is None
    assert event.operation_context is None
    assert event.result == ResultInformation(400, None, None)
    assert event.transcription_status is None
    assert event.transcription_status_details is None


def test_result_information_not_an_object_is_none() -> None:
    data = base_data("CallConnected") | {"resultInformation": "ok"}
    event = one(cloud_event("CallConnected", data))
    assert event.result is None
    assert event.explain() is None


def test_data_missing_null_or_base64() -> None:
    no_data = cloud_event("CallConnected", None)
    del no_data["data"]
    assert one(no_data).call_connection_id == CALL_ID  # from the subject

    null_data = cloud_event("CallConnected", None)
    assert isinstance(one(null_data), CallConnected)

    import base64

    encoded = cloud_event("CallConnected", None)
    del encoded["data"]
    encoded["data_base64"] = base64.b64encode(
        json.dumps(base_data("CallConnected") | {"operationContext": "b64"}).encode()
    ).decode()
    event = one(encoded)
    assert isinstance(event, CallConnected)
    assert event.operation_context == "b64"


def test_order_and_count_are_kept() -> None:
    elements = [
        cloud_event("CallConnected", base_data("CallConnected")),
        7,
        cloud_event("PlayCompleted", {}),
        cloud_event("CallDisconnected", base_data("CallDisconnected")),
    ]
    events = parse_callback_body(json.dumps(elements).encode())
    assert [type(e) for e in events] == [
        CallConnected,
        UnknownEvent,
        UnknownEvent,
        CallDisconnected,
    ]


def test_events_are_immutable() -> None:
    event = one(cloud_event("CallConnected", base_data("CallConnected")))
    with pytest.raises(AttributeError):
        event.call_connection_id = "other"  # type: ignore[misc]


# -- whole-body errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"{}",
        b'"text"',
        b"null",
        b"\xff\xfe\x00garbage",
        "[" * 100_000,
        b'{"eventTime": "2026-01-15T10:00:00Z"}',
    ],
)
def test_bad_body_raises_event_parse_error(body: bytes | str) -> None:
    with pytest.raises(EventParseError):
        parse_callback_body(body)
    with pytest.raises(EventParseError):
        parse_event_grid_body(body)


def test_a_lone_event_object_is_a_callback_error_but_one_event_grid_event() -> None:
    # ACS callbacks are always an array; Event Grid's CloudEvents schema posts one object.
    body = b'{"type": "Microsoft.Communication.CallConnected", "source": "x"}'
    with pytest.raises(EventParseError, match="not a JSON array"):
        parse_callback_body(body)
    (event,) = parse_event_grid_body(body)
    assert event.event_type == "Microsoft.Communication.CallConnected"


def test_event_parse_error_is_a_value_error() -> None:
    assert issubclass(EventParseError, ValueError)


def test_empty_array_and_bom() -> None:
    assert parse_callback_body(b"[]") == []
    assert parse_callback_body("\ufeff[]".encode()) == []


# -- property: nothing in an element can break the delivery -----------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
event_keys = st.sampled_from(
    ["id", "source", "type", "data", "time", "subject", "specversion", "data_base64", "X"]
)
type_values = st.sampled_from(
    [
        "Microsoft.Communication.CallConnected",
        "Microsoft.Communication.ParticipantsUpdated",
        "Microsoft.Communication.TranscriptionFailed",
        "Microsoft.Communication.MediaStreamingStarted",
        "Microsoft.Communication.Nope",
        "",
    ]
)
data_values = st.fixed_dictionaries(
    {},
    optional={
        "callConnectionId": json_values,
        "resultInformation": json_values
        | st.fixed_dictionaries({}, optional={"code": json_values, "subCode": json_values}),
        "participants": st.lists(
            st.fixed_dictionaries({}, optional={"identifier": json_values}), max_size=3
        )
        | json_values,
        "transcriptionUpdate": json_values,
        "sequenceNumber": json_values,
    },
)
elements = (
    st.dictionaries(event_keys, json_values, max_size=6)
    | st.fixed_dictionaries(
        {"source": st.text(max_size=10), "type": type_values},
        optional={"data": data_values | json_values, "time": json_values, "id": json_values},
    )
    | json_values
)


@settings(max_examples=150, deadline=None)
@given(st.lists(elements, max_size=5))
def test_any_array_parses_to_one_event_per_element(items: list[Any]) -> None:
    events = parse_callback_body(json.dumps(items))
    assert len(events) == len(items)
    for event in events:
        assert isinstance(event, CallEvent)
        assert isinstance(event.type, str)
        # Bad input is expected; an internal error while reading it is a bug.
        assert not (isinstance(event, UnknownEvent) and event.reason.startswith("parse error"))


@settings(max_examples=100, deadline=None)
@given(st.lists(elements, max_size=5))
def test_any_event_grid_array_parses(items: list[Any]) -> None:
    events = parse_event_grid_body(json.dumps(items))
    assert len(events) == len(items)


# -- Event Grid -------------------------------------------------------------------------------


def grid_event(event_type: str, data: Any) -> dict[str, Any]:
    return {
        "id": "e1",
        "topic": "/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/"
        "communicationServices/z",
        "subject": "/phonenumber/15550199",
        "eventType": event_type,
        "data": data,
        "eventTime": "2026-01-15T10:00:00.5Z",
        "dataVersion": "1.0",
        "metadataVersion": "1",
    }


def test_subscription_validation() -> None:
    body = [
        grid_event(
            "Microsoft.EventGrid.SubscriptionValidationEvent",
            {"validationCode": "512d38b6-c7b8", "validationUrl": "https://example/validate"},
        )
    ]
    (event,) = parse_event_grid_body(json.dumps(body))
    assert isinstance(event, SubscriptionValidation)
    assert event.validation_code == "512d38b6-c7b8"
    assert event.validation_url == "https://example/validate"
    assert event.id == "e1"
    assert event.event_time == datetime(2026, 1, 15, 10, 0, 0, 500000, tzinfo=UTC)


def test_incoming_call() -> None:
    data = {
        "to": {
            "kind": "phoneNumber",
            "rawId": "4:+15550199",
            "phoneNumber": {"value": "+15550199"},
        },
        "from": {
            "kind": "phoneNumber",
            "rawId": "4:+15550100",
            "phoneNumber": {"value": "+15550100"},
        },
        "callerDisplayName": "Ada",
        "serverCallId": "srv-1",
        "incomingCallContext": "eyJhbGciOi.opaque.context",
        "correlationId": "corr-1",
        "customContext": {"sipHeaders": {"X-Ticket": "42"}, "voipHeaders": {}},
    }
    element = grid_event("Microsoft.Communication.IncomingCall", data)
    (event,) = parse_event_grid_body(json.dumps([element]).encode())
    assert isinstance(event, IncomingCall)
    assert event.to_raw_id == "4:+15550199"
    assert event.from_raw_id == "4:+15550100"
    assert event.caller_display_name == "Ada"
    assert event.server_call_id == "srv-1"
    assert event.incoming_call_context == "eyJhbGciOi.opaque.context"
    assert event.correlation_id == "corr-1"
    assert event.custom_context == {"sipHeaders": {"X-Ticket": "42"}, "voipHeaders": {}}
    assert event.raw == element


def test_incoming_call_identifiers_without_raw_id_and_missing_fields() -> None:
    data = {
        "to": {"communicationUser": {"id": "8:acs:res_user"}},
        "from": {"phoneNumber": {"value": "+15550100"}},
        "customContext": "not an object",
    }
    (event,) = parse_event_grid_body(
        json.dumps([grid_event("Microsoft.Communication.IncomingCall", data)])
    )
    assert isinstance(event, IncomingCall)
    assert (event.to_raw_id, event.from_raw_id) == ("8:acs:res_user", "4:+15550100")
    assert event.incoming_call_context is None
    assert event.caller_display_name is None
    assert event.custom_context is None


def test_incoming_call_in_cloud_event_schema() -> None:
    element = {
        "id": "c1",
        "source": "/subscriptions/x",
        "type": "Microsoft.Communication.IncomingCall",
        "time": "2026-01-15T10:00:00Z",
        "data": {"incomingCallContext": "ctx", "from": {"rawId": "4:+1555"}},
    }
    (event,) = parse_event_grid_body(json.dumps([element]))
    assert isinstance(event, IncomingCall)
    assert event.incoming_call_context == "ctx"
    assert event.from_raw_id == "4:+1555"


def test_a_single_cloud_event_object_is_one_event() -> None:
    # Event Grid's CloudEvents 1.0 schema delivers one event per request unless batching is on.
    element = {
        "specversion": "1.0",
        "id": "c2",
        "source": "/subscriptions/x",
        "type": "Microsoft.Communication.IncomingCall",
        "time": "2026-01-15T10:00:00+02:00",
        "datacontenttype": "application/json",
        "data": {"incomingCallContext": "ctx2", "from": {"rawId": "8:acs:caller"}},
    }
    (event,) = parse_event_grid_body(json.dumps(element).encode())
    assert isinstance(event, IncomingCall)
    assert event.incoming_call_context == "ctx2"
    assert event.from_raw_id == "8:acs:caller"
    assert event.topic == "/subscriptions/x"
    assert event.event_time == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    batch = parse_event_grid_body(json.dumps([element, element]))
    assert [e.incoming_call_context for e in batch] == ["ctx2", "ctx2"]  # type: ignore[attr-defined]


def test_other_event_grid_events_are_kept() -> None:
    element = grid_event("Microsoft.Communication.CallStarted", {"x": 1})
    events = parse_event_grid_body(json.dumps([element, 3, {"eventTime": 5}]))
    assert isinstance(events[0], OtherEventGridEvent)
    assert events[0].event_type == "Microsoft.Communication.CallStarted"
    assert events[0].raw == element
    assert isinstance(events[1], OtherEventGridEvent)
    assert events[1].raw == 3
    assert events[2].event_type == ""
    assert events[2].event_time is None
