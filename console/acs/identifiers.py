"""Communication identifiers as raw-id strings: kind detection, wire models, operator input.

ACS names every participant with a *raw id* (``4:+15550100``, ``8:acs:…``, ``8:orgid:…``). The
console keys everything on that string. The prefixes follow the SDK's ``identifier_from_raw_id``
(which is private API, so it is mirrored here rather than imported).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class IdentifierKind(StrEnum):
    """The ``kind`` strings the service uses on identifier models."""

    COMMUNICATION_USER = "communicationUser"
    PHONE_NUMBER = "phoneNumber"
    MICROSOFT_TEAMS_USER = "microsoftTeamsUser"
    MICROSOFT_TEAMS_APP = "microsoftTeamsApp"
    UNKNOWN = "unknown"


class InvalidTargetError(ValueError):
    """What the operator typed cannot be called; the message says what to type instead."""


PHONE_PREFIX = "4:"
ACS_PREFIXES = ("8:acs:", "8:dod-acs:", "8:gcch-acs:", "8:spool:")
TEAMS_USER_PREFIXES = ("8:orgid:", "8:teamsvisitor:", "8:dod:", "8:gcch:")
TEAMS_APP_PREFIXES = ("28:orgid:", "28:dod:", "28:gcch:", "28:dod-global:", "28:gcch-global:")

# E.164: "+", a non-zero country-code digit, at most 15 digits in all.
_E164 = re.compile(r"\+[1-9]\d{1,14}")
# What people type between digits of a phone number.
_PHONE_PUNCTUATION = re.compile(r"[\s().\-/]")
_NO_SPACE = re.compile(r"\S+")


def kind_of(raw_id: str | None) -> IdentifierKind:
    """The identifier kind encoded in a raw id (``UNKNOWN`` for anything unrecognised)."""
    if not isinstance(raw_id, str) or not raw_id:
        return IdentifierKind.UNKNOWN
    if raw_id.startswith(PHONE_PREFIX) and len(raw_id) > len(PHONE_PREFIX):
        return IdentifierKind.PHONE_NUMBER
    # Teams-app prefixes start with "28:", so they cannot clash with the "8:" ones.
    for prefixes, kind in (
        (ACS_PREFIXES, IdentifierKind.COMMUNICATION_USER),
        (TEAMS_USER_PREFIXES, IdentifierKind.MICROSOFT_TEAMS_USER),
        (TEAMS_APP_PREFIXES, IdentifierKind.MICROSOFT_TEAMS_APP),
    ):
        for prefix in prefixes:
            if raw_id.startswith(prefix) and len(raw_id) > len(prefix):
                return kind
    return IdentifierKind.UNKNOWN


def _teams_user_prefix(sub: Mapping[str, Any]) -> str:
    if sub.get("isAnonymous") is True:
        return "8:teamsvisitor:"
    return {"dod": "8:dod:", "gcch": "8:gcch:"}.get(str(sub.get("cloud", "")).lower(), "8:orgid:")


def _field(model: Mapping[str, Any], sub: str, key: str) -> str | None:
    """``model[sub][key]`` when it is a non-empty string."""
    inner = model.get(sub)
    value = inner.get(key) if isinstance(inner, Mapping) else None
    return value if isinstance(value, str) and value else None


def raw_id_from_model(model: Any) -> str | None:
    """The raw id of an identifier model as it appears in events and REST bodies.

    ``rawId`` wins; without it the id is rebuilt from the typed sub-object the way the SDK
    formats it. Returns None when neither gives a non-empty string.
    """
    if not isinstance(model, Mapping):
        return None
    raw = model.get("rawId")
    if isinstance(raw, str) and raw:
        return raw
    if user := _field(model, "communicationUser", "id"):
        return user
    if phone := _field(model, "phoneNumber", "value"):
        return PHONE_PREFIX + phone
    if teams := _field(model, "microsoftTeamsUser", "userId"):
        return _teams_user_prefix(model["microsoftTeamsUser"]) + teams
    if app := _field(model, "microsoftTeamsApp", "appId"):
        cloud = str(model["microsoftTeamsApp"].get("cloud", "")).lower()
        return {"dod": "28:dod:", "gcch": "28:gcch:"}.get(cloud, "28:orgid:") + app
    ext = model.get("teamsExtensionUser")
    if isinstance(ext, Mapping):
        parts = [ext.get(k) for k in ("resourceId", "tenantId", "userId")]
        if all(isinstance(p, str) and p for p in parts):
            prefix = {"dod": "8:dod-acs:", "gcch": "8:gcch-acs:"}.get(
                str(ext.get("cloud", "")).lower(), "8:acs:"
            )
            return prefix + "_".join(parts)  # type: ignore[arg-type]
    return None


def identifier_model(raw_id: str) -> dict[str, Any]:
    """The identifier model the service sends: ``rawId``, ``kind`` and the typed sub-object.

    The SDK needs the typed sub-object to build a typed identifier (``rawId`` alone gives an
    UnknownIdentifier), so responses and events should carry all three.
    """
    kind = kind_of(raw_id)
    model: dict[str, Any] = {"rawId": raw_id, "kind": kind.value}
    if kind is IdentifierKind.PHONE_NUMBER:
        model["phoneNumber"] = {"value": raw_id[len(PHONE_PREFIX) :]}
    elif kind is IdentifierKind.COMMUNICATION_USER:
        model["communicationUser"] = {"id": raw_id}
    elif kind is IdentifierKind.MICROSOFT_TEAMS_USER:
        prefix = next(p for p in TEAMS_USER_PREFIXES if raw_id.startswith(p))
        teams: dict[str, Any] = {"userId": raw_id[len(prefix) :]}
        teams["isAnonymous"] = prefix == "8:teamsvisitor:"
        if prefix != "8:teamsvisitor:":
            teams["cloud"] = {"8:dod:": "dod", "8:gcch:": "gcch"}.get(prefix, "public")
        model["microsoftTeamsUser"] = teams
    elif kind is IdentifierKind.MICROSOFT_TEAMS_APP:
        prefix = next(p for p in TEAMS_APP_PREFIXES if raw_id.startswith(p))
        cloud = "dod" if "dod" in prefix else "gcch" if "gcch" in prefix else "public"
        model["microsoftTeamsApp"] = {"appId": raw_id[len(prefix) :], "cloud": cloud}
    return model


def typed_form(raw_id: str) -> str:
    """A target as an operator types it: a phone number without its ``4:``, else the raw id."""
    if kind_of(raw_id) is IdentifierKind.PHONE_NUMBER:
        return raw_id[len(PHONE_PREFIX) :]
    return raw_id


def short_label(raw_id: str) -> str:
    """A compact human label for a participant with no display name."""
    kind = kind_of(raw_id)
    if kind is IdentifierKind.PHONE_NUMBER:
        return raw_id[len(PHONE_PREFIX) :]
    tail = raw_id.rsplit(":", 1)[-1].rsplit("_", 1)[-1]
    tail = "…" + tail[-6:] if len(tail) > 6 else tail
    label = {
        IdentifierKind.COMMUNICATION_USER: "ACS user",
        IdentifierKind.MICROSOFT_TEAMS_USER: "Teams user",
        IdentifierKind.MICROSOFT_TEAMS_APP: "Teams app",
    }.get(kind)
    return f"{label} {tail}" if label else raw_id


def default_name(raw_id: str) -> str:
    """What a transcript calls a participant until the service or the operator names them."""
    kind = kind_of(raw_id)
    tail = raw_id[-6:]
    if kind is IdentifierKind.PHONE_NUMBER:
        return raw_id[len(PHONE_PREFIX) :]
    if kind is IdentifierKind.COMMUNICATION_USER:
        return f"ACS user …{tail}"
    if kind is IdentifierKind.MICROSOFT_TEAMS_USER:
        return f"Teams user …{tail}"
    if not raw_id:
        return "Unknown speaker"
    return raw_id if len(raw_id) <= 24 else f"Participant …{tail}"


def validate_target(text: str) -> str:
    """Turn what an operator typed into the raw id of a call target.

    Accepts a phone number in international format (``+1 425 555 0100`` → ``4:+14255550100``),
    an ACS user (``8:acs:…``) or a Teams user (``8:orgid:…``). Raises
    :class:`InvalidTargetError` with a message that says what to type instead.
    """
    value = (text or "").strip()
    if not value:
        raise InvalidTargetError(
            "Enter who to call: a phone number such as +14255550100, or a user id starting "
            "with 8:acs: or 8:orgid:."
        )
    if value.startswith(PHONE_PREFIX):
        value = value[len(PHONE_PREFIX) :].strip()
        if not value.startswith("+"):
            raise InvalidTargetError(_phone_hint(value))
    if value.startswith("8:") or value.startswith("28:"):
        return _validate_user(value)
    if value[0] in "+0123456789(":
        return _validate_phone(value)
    raise InvalidTargetError(
        f"{value[:40]!r} is not a phone number or user id. Enter a phone number in "
        "international format such as +14255550100, or a user id starting with 8:acs: or "
        "8:orgid:."
    )


def _phone_hint(value: str) -> str:
    return (
        f"{value[:40]!r} is missing the country code. Enter the number in international format, "
        "starting with + and the country code, such as +14255550100."
    )


def _validate_phone(value: str) -> str:
    compact = _PHONE_PUNCTUATION.sub("", value)
    if not compact.startswith("+"):
        raise InvalidTargetError(_phone_hint(value))
    if not compact[1:].isdigit() or not compact[1:].isascii():
        raise InvalidTargetError(
            f"{value[:40]!r} is not a phone number: only digits may follow the +, "
            "such as +14255550100."
        )
    if not _E164.fullmatch(compact):
        raise InvalidTargetError(
            f"{value[:40]!r} is not a valid international number: after the + there must be "
            "a country code (not starting with 0) and at most 15 digits in all."
        )
    return PHONE_PREFIX + compact


def _validate_user(value: str) -> str:
    kind = kind_of(value)
    if not _NO_SPACE.fullmatch(value):
        raise InvalidTargetError(f"{value[:40]!r} is not a valid user id: it contains spaces.")
    if kind is IdentifierKind.COMMUNICATION_USER and value.startswith("8:acs:"):
        return value
    if kind is IdentifierKind.MICROSOFT_TEAMS_USER and value.startswith("8:orgid:"):
        return value
    if value in ("8:acs:", "8:orgid:"):
        raise InvalidTargetError(f"{value!r} is incomplete: add the user id after the prefix.")
    raise InvalidTargetError(
        f"{value[:40]!r} cannot be called from this console. Enter an ACS user id starting with "
        "8:acs:, a Teams user id starting with 8:orgid:, or a phone number such as "
        "+14255550100."
    )
