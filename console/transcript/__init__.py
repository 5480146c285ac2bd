"""Domain model of a call transcript, its crash-safe journal and its exports (no Qt)."""

from __future__ import annotations

from console.transcript.export import export, format_for_path, load_json
from console.transcript.journal import (
    Journal,
    JournalInfo,
    find_unfinished,
    mark_recovered,
    replay,
)
from console.transcript.model import Transcript
from console.transcript.participants import Participant
from console.transcript.timeline import (
    Change,
    Marker,
    MarkerAdded,
    MarkerKind,
    ParticipantAdded,
    ParticipantRenamed,
    Phrase,
    PhraseChanged,
    PhraseStatus,
    SearchMatch,
)

__all__ = [
    "Change",
    "Journal",
    "JournalInfo",
    "Marker",
    "MarkerAdded",
    "MarkerKind",
    "Participant",
    "ParticipantAdded",
    "ParticipantRenamed",
    "Phrase",
    "PhraseChanged",
    "PhraseStatus",
    "SearchMatch",
    "Transcript",
    "export",
    "find_unfinished",
    "format_for_path",
    "load_json",
    "mark_recovered",
    "replay",
]
