"""Comparing what the emulator answers with recordings of the real service.

A recording (``tests/fixtures/recordings``) holds the HTTP exchanges of one SDK live test; an
events file (``tests/fixtures/events``) holds the callbacks such a test received. The helpers
here load both, capture what the emulator answers to the same SDK calls (an azure-core
``raw_response_hook``), and describe every difference in words, so a failure reads as a list:

    POST .../{call}:startTranscription: status 202 recorded, 202 answered
    GET .../{call} (2nd): body.mediaStreamingSubscription: key 'id' answered, not recorded

Bodies are compared by shape: the same keys at every depth, the same JSON types, and equal
values for the enums and flags in ``ENUM_KEYS``. Callbacks are compared field by field, leaving
out ids, times, correlation ids and ``data.version`` (it follows the subscription's api-version);
participants are compared by role (the recorded test's caller and target), in any order, and a
``sequenceNumber`` only as a number.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RECORDINGS = FIXTURES / "recordings"
EVENTS = FIXTURES / "events"

# Values compared exactly in response bodies (everything else: shape only).
ENUM_KEYS = frozenset(
    {
        "callConnectionState",
        "state",
        "kind",
        "subscribedContentTypes",
        "subscribedResultTypes",
        "isMuted",
        "isOnHold",
    }
)
# Callback fields that hold ids, times or the api-version: not compared.
IGNORED_EVENT_PATHS = frozenset(
    {
        ("id",),
        ("time",),
        ("source",),
        ("subject",),
        ("data", "callConnectionId"),
        ("data", "serverCallId"),
        ("data", "correlationId"),
        ("data", "version"),
    }
)
# The service posts these two in either order (both orders are recorded).
INTERCHANGEABLE = frozenset({"CallConnected", "ParticipantsUpdated"})
_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


# --- the recordings ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    """One HTTP request and its response, recorded or answered."""

    method: str
    path: str  # decoded, without host and query
    status: int
    request: Any
    response: Any  # parsed JSON, or None for an empty body

    @property
    def operation(self) -> str:
        """``METHOD path`` with the call and participant ids replaced, for messages."""
        path = re.sub(r"callConnections/[^/:]+", "callConnections/{call}", self.path)
        path = re.sub(r"participants/.+$", "participants/{rawId}", path)
        return f"{self.method} {path}"


def load_recording(name: str) -> list[Exchange]:
    """The Call Automation exchanges of a recording (identity calls left out)."""
    doc = json.loads((RECORDINGS / name).read_text(encoding="utf-8"))
    exchanges = []
    for entry in doc["Entries"]:
        path = unquote(urlsplit(entry["RequestUri"]).path)
        if not path.startswith("/calling/"):
            continue
        exchanges.append(
            Exchange(
                method=entry["RequestMethod"],
                path=path,
                status=entry["StatusCode"],
                request=entry["RequestBody"],
                response=entry["ResponseBody"],
            )
        )
    return exchanges


def load_events(name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Event Grid IncomingCall data and the callbacks (CloudEvents) ordered by ``time``.
    Older files keep one event per type, newer ones a list per type."""
    doc = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    incoming: dict[str, Any] = {}
    callbacks: list[dict[str, Any]] = []
    for key, value in doc.items():
        items = value if isinstance(value, list) else [value]
        if key == "IncomingCall":
            incoming = items[0]
        else:
            callbacks.extend(items)
    callbacks.sort(key=lambda e: e["time"])
    return incoming, callbacks


class ExchangeLog:
    """The emulator's answers as the SDK received them: pass ``raw_response_hook=log.hook``
    to a client (sync or aio)."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()

    def hook(self, pipeline_response: Any) -> None:
        response = pipeline_response.http_response
        request = response.request
        path = unquote(urlsplit(request.url).path)
        if not path.startswith("/calling/"):
            return
        text = response.text()
        body = request.body if isinstance(request.body, bytes | str) else None
        with self._lock:
            self.exchanges.append(
                Exchange(
                    method=request.method,
                    path=path,
                    status=response.status_code,
                    request=json.loads(body) if body else None,
                    response=json.loads(text) if text.strip() else None,
                )
            )


# --- comparing --------------------------------------------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def shape_differences(recorded: Any, answered: Any, where: str = "body") -> list[str]:
    """Keys, JSON types and the ENUM_KEYS values, at every depth."""
    found: list[str] = []
    if _json_type(recorded) != _json_type(answered):
        return [f"{where}: {_json_type(recorded)} recorded, {_json_type(answered)} answered"]
    if isinstance(recorded, dict):
        for key in recorded.keys() - answered.keys():
            found.append(f"{where}: key {key!r} recorded, not answered")
        for key in answered.keys() - recorded.keys():
            found.append(f"{where}: key {key!r} answered, not recorded")
        for key in recorded.keys() & answered.keys():
            here = f"{where}.{key}"
            if key in ENUM_KEYS and recorded[key] != answered[key]:
                found.append(f"{here}: {recorded[key]!r} recorded, {answered[key]!r} answered")
            else:
                found.extend(shape_differences(recorded[key], answered[key], here))
    elif isinstance(recorded, list):
        if len(recorded) != len(answered):
            found.append(f"{where}: {len(recorded)} items recorded, {len(answered)} answered")
        for i, (r, a) in enumerate(zip(recorded, answered, strict=False)):
            found.extend(shape_differences(r, a, f"{where}[{i}]"))
    return found


def exchange_differences(recorded: list[Exchange], answered: list[Exchange]) -> list[str]:
    """Request by request: the same operation, status and body shape."""
    found: list[str] = []
    if len(recorded) != len(answered):
        found.append(
            f"{len(recorded)} requests recorded, {len(answered)} made: "
            f"{[e.operation for e in recorded]} vs {[e.operation for e in answered]}"
        )
    seen: dict[str, int] = {}
    for rec, ans in zip(recorded, answered, strict=False):
        seen[rec.operation] = seen.get(rec.operation, 0) + 1
        label = rec.operation + (f" (#{seen[rec.operation]})" if seen[rec.operation] > 1 else "")
        if (rec.method, rec.operation) != (ans.method, ans.operation):
            found.append(f"{label}: the replay sent {ans.operation} instead")
            continue
        if rec.status != ans.status:
            found.append(f"{label}: status {rec.status} recorded, {ans.status} answered")
        found.extend(f"{label}: {d}" for d in shape_differences(rec.response, ans.response))
    return found


@dataclass
class Roles:
    """Who is who in a call: raw id -> role name (``caller``, ``target``, ...)."""

    by_raw_id: dict[str, str] = field(default_factory=dict)

    def name(self, raw_id: str) -> str:
        return self.by_raw_id.get(raw_id, raw_id)


def normalize_event(event: dict[str, Any], roles: Roles) -> dict[str, Any]:
    """The event without the fields not compared, participants named by role."""
    e = copy.deepcopy(event)
    for path in IGNORED_EVENT_PATHS:
        holder = e
        for key in path[:-1]:
            holder = holder.get(key, {})
        if isinstance(holder, dict):
            holder.pop(path[-1], None)
    data = e.get("data", {})
    if isinstance(data.get("sequenceNumber"), int):
        data["sequenceNumber"] = "<a number>"
    participants = data.get("participants")
    if isinstance(participants, list):
        for p in participants:
            identifier = p.get("identifier", {})
            raw = identifier.get("rawId", "")
            role = roles.name(raw)
            identifier["rawId"] = role
            user = identifier.get("communicationUser")
            if isinstance(user, dict) and "id" in user:
                user["id"] = role
        participants.sort(key=lambda p: p.get("identifier", {}).get("rawId", ""))
    return e


def value_differences(recorded: Any, answered: Any, where: str) -> list[str]:
    """Every key and value."""
    if isinstance(recorded, dict) and isinstance(answered, dict):
        found = [f"{where}: key {k!r} recorded, not posted" for k in recorded.keys() - answered]
        found += [f"{where}: key {k!r} posted, not recorded" for k in answered.keys() - recorded]
        for key in recorded.keys() & answered.keys():
            found.extend(value_differences(recorded[key], answered[key], f"{where}.{key}"))
        return found
    if isinstance(recorded, list) and isinstance(answered, list) and len(recorded) == len(answered):
        found = []
        for i, (r, a) in enumerate(zip(recorded, answered, strict=True)):
            found.extend(value_differences(r, a, f"{where}[{i}]"))
        return found
    if recorded != answered or type(recorded) is not type(answered):
        return [f"{where}: {recorded!r} recorded, {answered!r} posted"]
    return []


def event_differences(
    recorded: list[dict[str, Any]],
    posted: list[dict[str, Any]],
    *,
    recorded_roles: Roles,
    posted_roles: Roles,
) -> list[str]:
    """Each recorded callback (in ``time`` order) must have a posted one of its type equal to it
    field by field; the types must first appear in the same order (CallConnected and
    ParticipantsUpdated either way round)."""
    found: list[str] = []
    posted_norm = [normalize_event(e, posted_roles) for e in posted]
    for event in recorded:
        want = normalize_event(event, recorded_roles)
        candidates = [p for p in posted_norm if p.get("type") == want.get("type")]
        short = str(want.get("type", "?")).removeprefix("Microsoft.Communication.")
        if not candidates:
            found.append(f"{short}: recorded, never posted")
            continue
        diffs = [value_differences(want, c, short) for c in candidates]
        if not any(not d for d in diffs):
            found.extend(min(diffs, key=len))
    found.extend(_order_differences(recorded, posted))
    return found


def _first_types(events: list[dict[str, Any]]) -> list[str]:
    order: list[str] = []
    for e in events:
        kind = str(e.get("type", "")).removeprefix("Microsoft.Communication.")
        if kind not in order:
            order.append(kind)
    return order


def _order_differences(recorded: list[dict[str, Any]], posted: list[dict[str, Any]]) -> list[str]:
    want = _first_types(recorded)
    got = [t for t in _first_types(posted) if t in want]

    def canonical(order: list[str]) -> list[str]:
        merged: list[str] = []
        for t in order:
            merged.append("CallConnected|ParticipantsUpdated" if t in INTERCHANGEABLE else t)
        return [t for i, t in enumerate(merged) if t not in merged[:i]]

    if canonical(want) != canonical(got):
        return [f"order of first events: {want} recorded, {got} posted"]
    return []


def incoming_call_differences(recorded: dict[str, Any], delivered: dict[str, Any]) -> list[str]:
    """Event Grid IncomingCall data: keys at every depth and identifier kinds."""
    return shape_differences(recorded, delivered, "IncomingCall.data")


def is_guid(value: Any) -> bool:
    return isinstance(value, str) and bool(_GUID.fullmatch(value))
