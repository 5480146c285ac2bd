"""Raw ids: kind detection and wire models (checked against the SDK), operator input."""

from __future__ import annotations

from typing import Any

import pytest
from azure.communication.callautomation import (
    CommunicationUserIdentifier,
    MicrosoftTeamsAppIdentifier,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
)
from azure.communication.callautomation._generated.models import CommunicationIdentifierModel
from azure.communication.callautomation._shared.models import (
    CommunicationCloudEnvironment,
    CommunicationIdentifierKind,
    identifier_from_raw_id,
)
from azure.communication.callautomation._utils import deserialize_identifier, serialize_identifier

from console.acs.identifiers import (
    IdentifierKind,
    InvalidTargetError,
    identifier_model,
    kind_of,
    raw_id_from_model,
    short_label,
    validate_target,
)

SDK_KIND = {
    CommunicationIdentifierKind.COMMUNICATION_USER: IdentifierKind.COMMUNICATION_USER,
    CommunicationIdentifierKind.PHONE_NUMBER: IdentifierKind.PHONE_NUMBER,
    CommunicationIdentifierKind.MICROSOFT_TEAMS_USER: IdentifierKind.MICROSOFT_TEAMS_USER,
    CommunicationIdentifierKind.MICROSOFT_TEAMS_APP: IdentifierKind.MICROSOFT_TEAMS_APP,
    CommunicationIdentifierKind.UNKNOWN: IdentifierKind.UNKNOWN,
}

RAW_IDS = [
    ("4:+15550100", IdentifierKind.PHONE_NUMBER),
    ("4:anonymous", IdentifierKind.PHONE_NUMBER),
    (
        "8:acs:1b5cc06b-f352-4571-b1e6-d9b259b7c776_00000019-5c37-4d7d",
        IdentifierKind.COMMUNICATION_USER,
    ),
    ("8:gcch-acs:r_u", IdentifierKind.COMMUNICATION_USER),
    ("8:dod-acs:r_u", IdentifierKind.COMMUNICATION_USER),
    ("8:spool:r_u", IdentifierKind.COMMUNICATION_USER),
    ("8:orgid:45ab2481-1c1c-4005-be24-0ffb879b1130", IdentifierKind.MICROSOFT_TEAMS_USER),
    ("8:teamsvisitor:visitor-1", IdentifierKind.MICROSOFT_TEAMS_USER),
    ("8:gcch:u1", IdentifierKind.MICROSOFT_TEAMS_USER),
    ("8:dod:u1", IdentifierKind.MICROSOFT_TEAMS_USER),
    ("28:orgid:app-1", IdentifierKind.MICROSOFT_TEAMS_APP),
    ("28:gcch:app-1", IdentifierKind.MICROSOFT_TEAMS_APP),
    ("28:dod:app-1", IdentifierKind.MICROSOFT_TEAMS_APP),
    ("8:something:else", IdentifierKind.UNKNOWN),
    ("hello", IdentifierKind.UNKNOWN),
    ("8:acs", IdentifierKind.UNKNOWN),
]


@pytest.mark.parametrize(("raw_id", "kind"), RAW_IDS)
def test_kind_of_agrees_with_sdk(raw_id: str, kind: IdentifierKind) -> None:
    assert kind_of(raw_id) is kind
    assert SDK_KIND[identifier_from_raw_id(raw_id).kind] is kind


def test_teams_extension_user_counts_as_acs_user() -> None:
    # The SDK has a separate kind for "8:acs:{resource}_{tenant}_{user}"; for the console it is
    # a Communication Services participant like any other 8:acs: id.
    assert kind_of("8:acs:res_tenant_user") is IdentifierKind.COMMUNICATION_USER


@pytest.mark.parametrize("value", [None, "", 5, "4:", "8:acs:", "8:orgid:", "28:orgid:"])
def test_kind_of_degenerate(value: Any) -> None:
    assert kind_of(value) is IdentifierKind.UNKNOWN


def test_kind_compares_as_wire_string() -> None:
    assert kind_of("4:+1555") == "phoneNumber"


SDK_IDENTIFIERS = [
    PhoneNumberIdentifier("+15550100"),
    CommunicationUserIdentifier("8:acs:resource_user"),
    MicrosoftTeamsUserIdentifier("user-1"),
    MicrosoftTeamsUserIdentifier("user-1", is_anonymous=True),
    MicrosoftTeamsUserIdentifier("user-1", cloud=CommunicationCloudEnvironment.GCCH),
    MicrosoftTeamsUserIdentifier("user-1", cloud=CommunicationCloudEnvironment.DOD),
    MicrosoftTeamsAppIdentifier("app-1"),
    MicrosoftTeamsAppIdentifier("app-1", cloud=CommunicationCloudEnvironment.DOD),
    MicrosoftTeamsAppIdentifier("app-1", cloud=CommunicationCloudEnvironment.GCCH),
]


@pytest.mark.parametrize("identifier", SDK_IDENTIFIERS, ids=lambda i: i.raw_id)
def test_raw_id_from_sdk_serialised_model(identifier: Any) -> None:
    model = serialize_identifier(identifier).serialize()
    assert raw_id_from_model(model) == identifier.raw_id
    # Without rawId the id is rebuilt from the typed sub-object, exactly as the SDK formats it.
    del model["rawId"]
    assert raw_id_from_model(model) == identifier.raw_id


@pytest.mark.parametrize("identifier", SDK_IDENTIFIERS, ids=lambda i: i.raw_id)
def test_identifier_model_deserialises_to_the_same_sdk_identifier(identifier: Any) -> None:
    model = identifier_model(identifier.raw_id)
    assert model["kind"] == SDK_KIND[identifier.kind]
    restored = deserialize_identifier(CommunicationIdentifierModel.deserialize(model))
    assert type(restored) is type(identifier)
    assert restored.raw_id == identifier.raw_id
    assert restored == identifier


def test_raw_id_from_teams_extension_user_model() -> None:
    model = {"teamsExtensionUser": {"userId": "u", "tenantId": "t", "resourceId": "r"}}
    assert raw_id_from_model(model) == "8:acs:r_t_u"
    model["teamsExtensionUser"]["cloud"] = "gcch"
    assert raw_id_from_model(model) == "8:gcch-acs:r_t_u"


@pytest.mark.parametrize(
    "model",
    [
        None,
        "4:+1555",
        [],
        {},
        {"rawId": ""},
        {"rawId": 5},
        {"phoneNumber": "+1555"},
        {"phoneNumber": {"value": 5}},
        {"communicationUser": {}},
        {"microsoftTeamsUser": {"userId": ""}},
        {"teamsExtensionUser": {"userId": "u"}},
        {"kind": "phoneNumber"},
    ],
)
def test_raw_id_from_unusable_model_is_none(model: Any) -> None:
    assert raw_id_from_model(model) is None


def test_identifier_model_for_unknown_raw_id() -> None:
    assert identifier_model("x:y") == {"rawId": "x:y", "kind": "unknown"}


@pytest.mark.parametrize(
    ("raw_id", "label"),
    [
        ("4:+15550100", "+15550100"),
        ("8:acs:resource_00000019-5c37-4d7d-a4f2", "ACS user …d-a4f2"),
        ("8:orgid:abc", "Teams user abc"),
        ("28:orgid:app-123456789", "Teams app …456789"),
        ("odd", "odd"),
    ],
)
def test_short_label(raw_id: str, label: str) -> None:
    assert short_label(raw_id) == label


@pytest.mark.parametrize(
    ("text", "raw_id"),
    [
        ("+14255550100", "4:+14255550100"),
        ("  +1 (425) 555-0100 ", "4:+14255550100"),
        ("+44 20 7946 0958", "4:+442079460958"),
        ("+33.1.23.45.67.89", "4:+33123456789"),
        ("4:+15550100", "4:+15550100"),
        ("8:acs:1b5cc06b-f352_00000019-5c37", "8:acs:1b5cc06b-f352_00000019-5c37"),
        (
            "8:orgid:45ab2481-1c1c-4005-be24-0ffb879b1130",
            "8:orgid:45ab2481-1c1c-4005-be24-0ffb879b1130",
        ),
    ],
)
def test_validate_target_accepts(text: str, raw_id: str) -> None:
    assert validate_target(text) == raw_id


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "Enter who to call"),
        ("   ", "Enter who to call"),
        ("4255550100", "missing the country code"),
        ("(425) 555-0100", "missing the country code"),
        ("4:15550100", "missing the country code"),
        ("+1 425 CALL NOW", "only digits may follow the +"),
        ("+١٢٣٤٥٦٧", "only digits may follow the +"),
        ("+0123456", "country code (not starting with 0)"),
        ("+1234567890123456", "at most 15 digits"),
        ("+1", "at most 15 digits"),
        ("8:acs:", "is incomplete"),
        ("8:orgid:", "is incomplete"),
        ("8:acs:abc def", "contains spaces"),
        ("8:teamsvisitor:x", "cannot be called from this console"),
        ("28:orgid:app", "cannot be called from this console"),
        ("8:gcch-acs:x", "cannot be called from this console"),
        ("alice@example.com", "is not a phone number or user id"),
        ("sip:alice@example.com", "is not a phone number or user id"),
    ],
)
def test_validate_target_rejects_with_clear_message(text: str, words: str) -> None:
    with pytest.raises(InvalidTargetError) as info:
        validate_target(text)
    assert words in str(info.value)


def test_invalid_target_error_is_value_error_and_message_is_bounded() -> None:
    assert issubclass(InvalidTargetError, ValueError)
    with pytest.raises(ValueError, match="not a phone number or user id") as info:
        validate_target("x" * 10_000)
    assert len(str(info.value)) < 300
