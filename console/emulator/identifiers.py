"""Communication identifiers as the service reads them from requests and writes them back.

Requests carry ``rawId`` plus one typed sub-object (no ``kind``); responses and events carry
``kind``, ``rawId`` and the typed sub-object, because the SDK needs both to rebuild the right
identifier class.
"""

from __future__ import annotations

from typing import Any

_TEAMS_USER_CLOUDS = {"8:orgid:": "public", "8:dod:": "dod", "8:gcch:": "gcch"}
_TEAMS_APP_CLOUDS = {"28:orgid:": "public", "28:dod:": "dod", "28:gcch:": "gcch"}
_ACS_PREFIXES = ("8:acs:", "8:dod-acs:", "8:gcch-acs:", "8:spool:")


def kind_of(raw_id: str) -> str:
    """The identifier kind the service reports for a raw id."""
    if raw_id.startswith("4:"):
        return "phoneNumber"
    if raw_id.startswith(_ACS_PREFIXES):
        return "communicationUser"
    if raw_id.startswith("8:teamsvisitor:") or raw_id.startswith(tuple(_TEAMS_USER_CLOUDS)):
        return "microsoftTeamsUser"
    if raw_id.startswith(tuple(_TEAMS_APP_CLOUDS)):
        return "microsoftTeamsApp"
    return "unknown"


def identifier_model(raw_id: str) -> dict[str, Any]:
    """The response/event form of an identifier: kind, rawId and the typed sub-object."""
    kind = kind_of(raw_id)
    model: dict[str, Any] = {"kind": kind, "rawId": raw_id}
    if kind == "phoneNumber":
        model["phoneNumber"] = {"value": raw_id[2:]}
    elif kind == "communicationUser":
        model["communicationUser"] = {"id": raw_id}
    elif kind == "microsoftTeamsUser":
        if raw_id.startswith("8:teamsvisitor:"):
            model["microsoftTeamsUser"] = {
                "userId": raw_id.removeprefix("8:teamsvisitor:"),
                "isAnonymous": True,
            }
        else:
            prefix = next(p for p in _TEAMS_USER_CLOUDS if raw_id.startswith(p))
            model["microsoftTeamsUser"] = {
                "userId": raw_id[len(prefix) :],
                "isAnonymous": False,
                "cloud": _TEAMS_USER_CLOUDS[prefix],
            }
    elif kind == "microsoftTeamsApp":
        prefix = next(p for p in _TEAMS_APP_CLOUDS if raw_id.startswith(p))
        model["microsoftTeamsApp"] = {
            "appId": raw_id[len(prefix) :],
            "cloud": _TEAMS_APP_CLOUDS[prefix],
        }
    return model


def raw_id_of(model: Any) -> str | None:
    """The raw id of a request identifier: ``rawId``, else built from the typed sub-object."""
    if not isinstance(model, dict):
        return None
    raw = model.get("rawId")
    if isinstance(raw, str) and raw:
        return raw
    phone = model.get("phoneNumber")
    if isinstance(phone, dict) and isinstance(phone.get("value"), str):
        return "4:" + phone["value"]
    user = model.get("communicationUser")
    if isinstance(user, dict) and isinstance(user.get("id"), str):
        return user["id"]
    teams = model.get("microsoftTeamsUser")
    if isinstance(teams, dict) and isinstance(teams.get("userId"), str):
        if teams.get("isAnonymous"):
            return "8:teamsvisitor:" + teams["userId"]
        cloud = str(teams.get("cloud") or "public").lower()
        prefix = {v: k for k, v in _TEAMS_USER_CLOUDS.items()}.get(cloud, "8:orgid:")
        return prefix + teams["userId"]
    app = model.get("microsoftTeamsApp")
    if isinstance(app, dict) and isinstance(app.get("appId"), str):
        cloud = str(app.get("cloud") or "public").lower()
        prefix = {v: k for k, v in _TEAMS_APP_CLOUDS.items()}.get(cloud, "28:orgid:")
        return prefix + app["appId"]
    ident = model.get("id")  # the form `source`/`answeredBy` take: {"id": "8:acs:..."}
    if isinstance(ident, str) and ident:
        return ident
    return None
