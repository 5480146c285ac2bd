"""Who speaks in a transcript: participants, their kind and where their name came from."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from console.acs.identifiers import IdentifierKind, kind_of


class ParticipantKind(StrEnum):
    """The kinds a saved transcript records (``"kind"`` in the JSON export)."""

    PHONE = "phone"
    ACS_USER = "acs_user"
    TEAMS_USER = "teams_user"
    UNKNOWN = "unknown"


class NameSource(StrEnum):
    DEFAULT = "default"  # derived from the raw id
    SERVICE = "service"  # learned from the service (e.g. a participants list)
    OPERATOR = "operator"  # typed by the operator; never overwritten by the service


_KINDS = {
    IdentifierKind.PHONE_NUMBER: ParticipantKind.PHONE,
    IdentifierKind.COMMUNICATION_USER: ParticipantKind.ACS_USER,
    IdentifierKind.MICROSOFT_TEAMS_USER: ParticipantKind.TEAMS_USER,
}


def participant_kind(raw_id: str) -> ParticipantKind:
    return _KINDS.get(kind_of(raw_id), ParticipantKind.UNKNOWN)


@dataclass(slots=True, eq=False)
class Participant:
    raw_id: str
    kind: ParticipantKind
    display_name: str
    colour: int  # stable index in order of first appearance; the UI maps it to a colour
    name_source: NameSource = NameSource.DEFAULT
