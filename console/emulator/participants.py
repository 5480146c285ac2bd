"""The people on an emulated call: who they are in the scenario, muted or held.

A call's people come from the scenario. The party the application dialled (or the caller of an
answered call) stands in for the scenario's customer: the participant with role ``customer``,
else the first of the same kind that is not the caller (role ``agent`` or ``host``), else the
first that is not the caller. So the number that was called is the one whose speech is
transcribed. When that party speaks from a WAV of its own (``--audio`` for the dialled number),
it replaces the customer altogether, script included: the customer does not stay on as a third
party. Other parties take the place of a participant of the same kind; anyone without a
counterpart joins silent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from console.emulator.identifiers import identifier_model, kind_of
from console.emulator.scenario import Scenario, ScenarioParticipant


@dataclass
class Participant:
    raw_id: str
    is_muted: bool = False
    is_on_hold: bool = False

    def model(self) -> dict[str, Any]:
        return {
            "identifier": identifier_model(self.raw_id),
            "isMuted": self.is_muted,
            "isOnHold": self.is_on_hold,
        }


_CALLER_ROLES = ("agent", "host")


def _stand_in(scenario: Scenario, dialled: str) -> ScenarioParticipant | None:
    """The scenario participant the dialled party stands in for."""
    others = [p for p in scenario.participants if p.role.lower() not in _CALLER_ROLES]
    if not others:
        others = list(scenario.participants[1:])
    customer = next((p for p in others if p.role.lower() == "customer"), None)
    same_kind = next((p for p in others if kind_of(p.raw_id) == kind_of(dialled)), None)
    return customer or same_kind or (others[0] if others else None)


def _replace_by_recording(scenario: Scenario, dialled: str) -> Scenario:
    """The dialled party speaks from a WAV: it takes its stand-in's place and script."""
    voiced = next((p for p in scenario.participants if p.raw_id == dialled), None)
    speaks = any(u.speaker == dialled for u in scenario.utterances)
    if voiced is None or voiced.audio is None or speaks:
        return scenario
    stand_in = _stand_in(replace(scenario, participants=tuple(
        p for p in scenario.participants if p.raw_id != dialled)), dialled)  # fmt: skip
    if stand_in is None:
        return scenario
    gone = stand_in.raw_id
    participants = []
    for p in scenario.participants:
        if p.raw_id == gone:
            participants.append(replace(voiced, role=stand_in.role or voiced.role))
        elif p.raw_id != dialled:
            participants.append(p)
    return replace(
        scenario,
        participants=tuple(participants),
        utterances=tuple(u for u in scenario.utterances if u.speaker != gone),
    )


def cast_scenario(
    scenario: Scenario, people: list[str], dialled: str | None = None
) -> tuple[Scenario, list[str]]:
    """Give the scenario's roles to the call's real parties; returns the scenario and everyone.

    ``dialled`` is the party the call was placed to (or came from, answered)."""
    mapping: dict[str, str] = {}
    if dialled is not None:
        scenario = _replace_by_recording(scenario, dialled)
        known = {p.raw_id for p in scenario.participants}
        stand_in = _stand_in(scenario, dialled) if dialled not in known else None
        if stand_in is not None:
            mapping[stand_in.raw_id] = dialled
    free = [p.raw_id for p in scenario.participants if p.raw_id not in mapping]
    extras: list[str] = []
    for raw in people:
        if raw in mapping.values():
            continue
        if raw in free:
            free.remove(raw)
            continue
        match = next((p for p in free if kind_of(p) == kind_of(raw)), None)
        if match is None:
            if raw not in extras:
                extras.append(raw)
            continue
        free.remove(match)
        mapping[match] = raw
    if mapping:

        def swap(raw_id: str) -> str:
            return mapping.get(raw_id, raw_id)

        scenario = replace(
            scenario,
            participants=tuple(replace(p, raw_id=swap(p.raw_id)) for p in scenario.participants),
            utterances=tuple(replace(u, speaker=swap(u.speaker)) for u in scenario.utterances),
            faults=tuple(
                replace(f, params={**f.params, "rawId": swap(str(f.params["rawId"]))})
                if "rawId" in f.params
                else f
                for f in scenario.faults
            ),
        )
    return scenario, [p.raw_id for p in scenario.participants] + extras
