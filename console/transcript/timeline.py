"""What a transcript's timeline holds: phrases (intermediate -> final) and markers, and the change
records a view subscribes to."""

from __future__ import annotations

import bisect
import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from console.acs.streaming import TICKS_PER_SECOND, Word
from console.transcript.participants import Participant


class PhraseStatus(StrEnum):
    INTERMEDIATE = "intermediate"
    FINAL = "final"
    ABANDONED = "abandoned"


class MarkerKind(StrEnum):
    CALL_CONNECTED = "call_connected"
    CALL_DISCONNECTED = "call_disconnected"
    CALL_FAILED = "call_failed"
    TRANSCRIPTION_STARTED = "transcription_started"
    TRANSCRIPTION_STOPPED = "transcription_stopped"
    TRANSCRIPTION_FAILED = "transcription_failed"
    CONNECTION_INTERRUPTED = "connection_interrupted"
    CONNECTION_REESTABLISHED = "connection_reestablished"
    LOCALE_CHANGED = "locale_changed"
    # The languages the service identifies among changed (transcription restarted for it).
    LANGUAGES_CHANGED = "languages_changed"
    NOTE = "note"


# Markers that record a state transition: one is added only when its family's state changes,
# so the same transition reported twice (event + session, or a replayed journal) shows once.
FAMILY: dict[str, str] = {
    MarkerKind.CALL_CONNECTED: "call",
    MarkerKind.CALL_DISCONNECTED: "call",
    MarkerKind.CALL_FAILED: "call",
    MarkerKind.TRANSCRIPTION_STARTED: "transcription",
    MarkerKind.TRANSCRIPTION_STOPPED: "transcription",
    MarkerKind.TRANSCRIPTION_FAILED: "transcription",
    MarkerKind.CONNECTION_INTERRUPTED: "connection",
    MarkerKind.CONNECTION_REESTABLISHED: "connection",
}
# A failure state includes its reason: a different failure is news, the same one repeated is not.
_FAILURES: frozenset[str] = frozenset({MarkerKind.CALL_FAILED, MarkerKind.TRANSCRIPTION_FAILED})
# After these no Final can close an open hypothesis: it is abandoned, never left dangling.
ENDS_PHRASES: frozenset[str] = frozenset(
    {
        MarkerKind.TRANSCRIPTION_STOPPED,
        MarkerKind.TRANSCRIPTION_FAILED,
        MarkerKind.CALL_DISCONNECTED,
        MarkerKind.CALL_FAILED,
    }
)
# A new stream may bring a new offset origin.
NEW_SEGMENT: frozenset[str] = frozenset(
    {MarkerKind.TRANSCRIPTION_STARTED, MarkerKind.CONNECTION_REESTABLISHED}
)

_MARKER_LABELS: dict[str, str] = {
    MarkerKind.CALL_CONNECTED: "Call connected",
    MarkerKind.CALL_DISCONNECTED: "Call ended",
    MarkerKind.CALL_FAILED: "Call failed",
    MarkerKind.TRANSCRIPTION_STARTED: "Transcription started",
    MarkerKind.TRANSCRIPTION_STOPPED: "Transcription stopped",
    MarkerKind.TRANSCRIPTION_FAILED: "Transcription failed",
    MarkerKind.CONNECTION_INTERRUPTED: "Transcript connection interrupted",
    MarkerKind.CONNECTION_REESTABLISHED: "Transcript connection re-established",
    MarkerKind.LOCALE_CHANGED: "Locale",
    MarkerKind.LANGUAGES_CHANGED: "Detecting languages",
    MarkerKind.NOTE: "Note",
}


def marker_state(kind: str, detail: str) -> str:
    """The state a family is in after a marker of ``kind``."""
    return f"{kind}: {detail}" if kind in _FAILURES else kind


@dataclass(slots=True, eq=False)
class Phrase:
    """One utterance. Intermediate hypotheses update it in place; its Final settles it."""

    id: int
    raw_id: str
    text: str
    status: PhraseStatus
    offset: int  # ticks, as received
    duration: int  # ticks
    anchor: int  # ticks; anchor + offset is the start on the call clock
    confidence: float | None
    words: tuple[Word, ...]
    locale: str | None  # the confirmed locale in force when it was received
    received_at: float  # wall time of the packet that last set it (the Final's, once final)
    first_received_at: float  # wall time of its first hypothesis
    seq: int  # receipt order, the tie-break after the offset
    # From the service's preview features, set by the Final (None: not given).
    language: str | None = None  # the identified language, canonical ("es-ES")
    sentiment: str | None = None  # "positive" | "negative" | "neutral" | "mixed" | as given

    @property
    def is_final(self) -> bool:
        return self.status is PhraseStatus.FINAL

    @property
    def start_ticks(self) -> int:
        return self.anchor + self.offset

    @property
    def start(self) -> float:
        """Seconds on the call clock."""
        return (self.anchor + self.offset) / TICKS_PER_SECOND

    @property
    def end(self) -> float:
        return (self.anchor + self.offset + self.duration) / TICKS_PER_SECOND


@dataclass(frozen=True, slots=True)
class Marker:
    kind: str  # a MarkerKind value, or any other string for custom markers
    at: float  # wall time
    detail: str = ""
    seq: int = 0


def describe_marker(marker: Marker) -> str:
    """Operator-facing one-liner for a marker (used by exports and the UI)."""
    label = _MARKER_LABELS.get(marker.kind)
    if label is None:
        label = marker.kind.replace("_", " ").capitalize()
    return f"{label}: {marker.detail}" if marker.detail else label


TimelineItem = Phrase | Marker


_PLACE = operator.itemgetter(0, 1, 2)  # (place, markers first, seq): C speed, unlike a lambda


def interleave(
    markers: Sequence[Marker], phrases: Sequence[Phrase], origin: float, rate: float
) -> list[tuple[float, TimelineItem]]:
    """Markers and phrases in call order, each with its place on the call clock (seconds).

    A phrase's place is its start. A marker's is when it happened, or earlier: a marker comes
    before every phrase first heard after it (a Final that starts a moment before
    "Transcription started" was still transcribed because of it), so its place is at most the
    start of the earliest of those. Markers go first on a tie.
    """
    by_receipt = sorted(phrases, key=lambda p: p.first_received_at)
    received = [p.first_received_at for p in by_receipt]
    # earliest[i]: the earliest start among the phrases first heard at received[i] or later.
    earliest = [math.inf] * (len(by_receipt) + 1)
    for i in range(len(by_receipt) - 1, -1, -1):
        earliest[i] = min(earliest[i + 1], by_receipt[i].start)
    keyed: list[tuple[float, int, int, TimelineItem]] = []
    for m in markers:
        place = min((m.at - origin) * rate, earliest[bisect.bisect_left(received, m.at)])
        keyed.append((place, 0, m.seq, m))
    keyed.extend((p.start, 1, p.seq, p) for p in phrases)
    keyed.sort(key=_PLACE)  # never compares the items themselves
    return [(place, item) for place, _, _, item in keyed]


@dataclass(frozen=True, slots=True)
class SearchMatch:
    phrase: Phrase
    start: int  # character span of the match in phrase.text
    end: int


# --- change records: what a subscribed view is told ------------------------------------------


# Not frozen: one is built per packet, and a frozen __init__ costs ~1 µs more.
@dataclass(slots=True)
class PhraseChanged:
    phrase: Phrase
    kind: str  # "intermediate" | "final" | "abandoned"
    revision: int


@dataclass(frozen=True, slots=True)
class ParticipantAdded:
    participant: Participant
    revision: int


@dataclass(frozen=True, slots=True)
class ParticipantRenamed:
    participant: Participant
    old_name: str
    by_operator: bool
    revision: int


@dataclass(frozen=True, slots=True)
class MarkerAdded:
    marker: Marker
    revision: int


Change = PhraseChanged | ParticipantAdded | ParticipantRenamed | MarkerAdded
