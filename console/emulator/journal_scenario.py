"""A console journal replayed as a scenario: the call as it was transcribed, said again.

The journal is read by the console's own reader and transcript model
(:func:`console.transcript.journal.replay_lines`), so what replays is exactly what the operator
saw: its Finals become utterances at their place on the call clock, with their text, confidence
and the locale in force (the identified language, when the service gave one) and sentiment;
its participants and the names they were given come along.
"""

from __future__ import annotations

import logging
from pathlib import Path
from types import MappingProxyType

from console.emulator.scenario import (
    FORMAT,
    SENTIMENTS,
    Scenario,
    ScenarioError,
    ScenarioParticipant,
    Utterance,
    is_locale,
    tokenize,
)
from console.transcript.journal import replay_lines

log = logging.getLogger(__name__)


def _spoken(language: str | None, locale: str | None, default_locale: str) -> str:
    """The locale a replayed line is in: the language the service identified, if any."""
    if language and is_locale(language):
        return language
    return locale or default_locale


def scenario_from_journal(raw: str, *, source: str | Path = "<journal>") -> Scenario:
    """Replay a console journal. Unreadable lines are skipped (a crash may cut one)."""
    # Lines are split on "\n" only: U+2028 may sit inside a JSON string.
    lines = [line.encode("utf-8") + b"\n" for line in raw.split("\n")]
    transcript, stats = replay_lines(lines)
    if stats.corrupt_lines:
        log.info("journal %s: skipped %d unreadable lines", source, stats.corrupt_lines)
    finals = [p for p in transcript.finals if tokenize(p.text)]
    if not finals:
        raise ScenarioError(f"{source}: the journal has no Final transcription packets to replay")
    first = transcript.call_info.get("locale")
    default_locale = next(
        (loc for loc in [first, *(p.locale for p in finals)] if isinstance(loc, str) and loc),
        "en-US",
    )
    utterances = [
        Utterance(
            speaker=p.raw_id,
            start=round(max(0.0, p.start), 3),
            text=MappingProxyType({_spoken(p.language, p.locale, default_locale): p.text}),
            confidence=p.confidence if p.confidence is not None else 0.9,
            length=p.end - p.start if p.duration > 0 else None,
            sentiment=p.sentiment if p.sentiment in SENTIMENTS else None,
        )
        for p in finals
    ]
    utterances.sort(key=lambda u: u.start)
    participants = tuple(
        ScenarioParticipant(p.raw_id, p.display_name) for p in transcript.participants
    )
    name = Path(source).stem if isinstance(source, Path) else "journal"
    return Scenario(
        format=FORMAT,
        name=name,
        description=f"Replay of the journal {name}",
        default_locale=default_locale,
        participants=participants,
        utterances=tuple(utterances),
        faults=(),
        revision_rate=0.0,  # replay what was recorded, no invented mis-hearings
        source=Path(source) if isinstance(source, Path) else None,
    )
