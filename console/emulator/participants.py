"""The people on an emulated call: who they are in the scenario, muted or held.

A call's people come from the scenario. The parties the application dialled (or the caller of an
answered call) take the place of the scenario participant of the same kind, so the number that
was called is the one whose speech is transcribed; anyone without a counterpart joins silent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from console.emulator.identifiers import identifier_model, kind_of
from console.emulator.scenario import Scenario


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


def cast_scenario(scenario: Scenario, people: list[str]) -> tuple[Scenario, list[str]]:
    """Give the scenario's roles to the call's real parties; returns the scenario and everyone."""
    mapping: dict[str, str] = {}
    free = [p.raw_id for p in scenario.participants]
    extras: list[str] = []
    for raw in people:
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
