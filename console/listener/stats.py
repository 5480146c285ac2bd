"""Counters the listeners keep, and the immutable snapshots they hand out.

The servers bump plain attributes on a mutable counter object (cheap on the per-frame path);
``snapshot()`` copies them into a frozen value that a UI or a test can read at leisure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# Distinct reason keys kept per counter; beyond that everything lands in "other" so a peer
# inventing reasons cannot grow our memory.
_MAX_KEYS = 32
# Parser reasons whose tail is peer-controlled, reduced to their stable prefix.
_VARIABLE_REASONS = ("not JSON", "unknown kind", "unknown resultStatus")


def reason_key(reason: str) -> str:
    for prefix in _VARIABLE_REASONS:
        if reason.startswith(prefix):
            return prefix
    return reason


def bump(counter: dict[str, int], key: str) -> None:
    if key not in counter and len(counter) >= _MAX_KEYS:
        key = "other"
    counter[key] = counter.get(key, 0) + 1


def _frozen(d: Mapping[str, int]) -> Mapping[str, int]:
    return MappingProxyType(dict(d))


@dataclass(frozen=True)
class ListenerStats:
    """Snapshot of the transcript WebSocket server's counters."""

    frames: int = 0  # every frame received on an accepted connection
    packets: Mapping[str, int] = field(default_factory=dict)  # parsed, by class name
    unparsed: Mapping[str, int] = field(default_factory=dict)  # by reason
    binary: int = 0
    oversized: int = 0  # connections closed with 1009 (frame above max_frame)
    invalid_text: int = 0  # connections closed with 1007 (text frame not UTF-8)
    sink_errors: int = 0
    auth_rejected: int = 0
    auth_rejected_by_reason: Mapping[str, int] = field(default_factory=dict)
    not_found: int = 0  # upgrade to a path we do not serve
    connections_open: int = 0
    connections_total: int = 0

    @property
    def packets_total(self) -> int:
        return sum(self.packets.values())

    @property
    def unparsed_total(self) -> int:
        return sum(self.unparsed.values())


class WsCounters:
    __slots__ = (
        "auth_reasons",
        "auth_rejected",
        "binary",
        "connections_open",
        "connections_total",
        "frames",
        "invalid_text",
        "not_found",
        "oversized",
        "packets",
        "sink_errors",
        "unparsed",
    )

    def __init__(self) -> None:
        self.frames = 0
        self.packets: dict[type, int] = {}
        self.unparsed: dict[str, int] = {}
        self.binary = 0
        self.oversized = 0
        self.invalid_text = 0
        self.sink_errors = 0
        self.auth_rejected = 0
        self.auth_reasons: dict[str, int] = {}
        self.not_found = 0
        self.connections_open = 0
        self.connections_total = 0

    def snapshot(self) -> ListenerStats:
        return ListenerStats(
            frames=self.frames,
            packets=_frozen({cls.__name__: n for cls, n in self.packets.items()}),
            unparsed=_frozen(self.unparsed),
            binary=self.binary,
            oversized=self.oversized,
            invalid_text=self.invalid_text,
            sink_errors=self.sink_errors,
            auth_rejected=self.auth_rejected,
            auth_rejected_by_reason=_frozen(self.auth_reasons),
            not_found=self.not_found,
            connections_open=self.connections_open,
            connections_total=self.connections_total,
        )


@dataclass(frozen=True)
class CallbackStats:
    """Snapshot of the callback / Event Grid HTTP receiver's counters."""

    requests: int = 0  # every POST that reached a route, accepted or not
    accepted: int = 0  # answered 200
    events: Mapping[str, int] = field(default_factory=dict)  # callback events by type
    incoming_calls: int = 0
    validations: int = 0  # Event Grid subscription handshakes answered
    other_eventgrid: int = 0  # Event Grid events we do not act on
    bad_json: int = 0  # 400
    too_large: int = 0  # 413
    auth_rejected: int = 0  # 401
    auth_rejected_by_reason: Mapping[str, int] = field(default_factory=dict)
    consumer_errors: int = 0  # exceptions raised by on_events / on_incoming_call

    @property
    def events_total(self) -> int:
        return sum(self.events.values())


class HttpCounters:
    __slots__ = (
        "accepted",
        "auth_reasons",
        "auth_rejected",
        "bad_json",
        "consumer_errors",
        "events",
        "incoming_calls",
        "other_eventgrid",
        "requests",
        "too_large",
        "validations",
    )

    def __init__(self) -> None:
        self.requests = 0
        self.accepted = 0
        self.events: dict[str, int] = {}
        self.incoming_calls = 0
        self.validations = 0
        self.other_eventgrid = 0
        self.bad_json = 0
        self.too_large = 0
        self.auth_rejected = 0
        self.auth_reasons: dict[str, int] = {}
        self.consumer_errors = 0

    def snapshot(self) -> CallbackStats:
        return CallbackStats(
            requests=self.requests,
            accepted=self.accepted,
            events=_frozen(self.events),
            incoming_calls=self.incoming_calls,
            validations=self.validations,
            other_eventgrid=self.other_eventgrid,
            bad_json=self.bad_json,
            too_large=self.too_large,
            auth_rejected=self.auth_rejected,
            auth_rejected_by_reason=_frozen(self.auth_reasons),
            consumer_errors=self.consumer_errors,
        )
