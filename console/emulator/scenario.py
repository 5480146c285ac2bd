"""Scripted conversations for the emulator: the data model, the JSON loader and journal replay.

A scenario says who is on the call and what each person says when (in call time, 0 = call
connected), in one or more locales. ``speech.py`` turns it into transcription packets. The file
format is versioned (``"format": 1``) and documented in ``resources/scenarios/README.md``.

Shipped scenarios live in ``resources/scenarios`` (found by :mod:`console.resources` in a source
checkout, an installed wheel or a bundle); ``ACS_CONSOLE_SCENARIOS`` overrides the folder.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from console.acs.identifiers import default_name
from console.acs.locales import canonical_locale
from console.emulator.recognition.wavfile import AudioFileError, wav_duration
from console.emulator.scenario_words import (
    lexical,
    natural_length,
    tokenize,
)
from console.resources import resource_path

log = logging.getLogger(__name__)

FORMAT = 1
SENTIMENTS = ("positive", "negative", "neutral", "mixed")  # the service's values
DEFAULT_PACE = 2.5  # words per second of call time: conversational speech
DEFAULT_GAP = 0.6  # seconds between turns when a file gives neither "start" nor "gap"
DEFAULT_REVISION_RATE = 0.15  # share of utterances that get a seeded mis-hearing

# Pauses a speaker makes at punctuation, in seconds at the natural pace.

_LOCALE_RE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})+$")


class ScenarioError(ValueError):
    """A scenario file (or journal) that cannot be used; the message names file and problem."""


@dataclass(frozen=True)
class ScenarioParticipant:
    raw_id: str
    display_name: str
    role: str = ""
    audio: Path | None = None  # a WAV this participant says from call time 0
    audio_length: float = 0.0  # its seconds


@dataclass(frozen=True)
class Revision:
    """An intermediate mis-hearing: word ``word`` (0-based, in ``locale``'s text) is first heard as
    ``heard`` and corrected once ``lasts`` more words have been heard (or by the Final)."""

    word: int
    heard: str
    locale: str | None = None  # None: the scenario's default locale
    lasts: int = 2


@dataclass(frozen=True)
class Utterance:
    speaker: str  # raw id of a participant
    start: float  # seconds of call time (0 = call connected)
    text: Mapping[str, str]  # canonical locale ("en-US") -> what the recogniser outputs
    confidence: float  # phrase confidence of the Final (0..1)
    # Lower-cased word -> confidence; when set, the Final's words carry a confidence each.
    word_confidence: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    revisions: tuple[Revision, ...] = ()
    pace: float | None = None  # words per second; None: DEFAULT_PACE
    length: float | None = None  # seconds of speech; None: derived from the words and pace
    audio: Path | None = None  # a recording of the utterance (its length is the span)
    # The language it is spoken in (a key of ``text``); None: see spoken_language().
    language: str | None = None
    sentiment: str | None = None  # one of SENTIMENTS; None: "neutral" when asked for

    def spoken_language(self, default_locale: str) -> str:
        """The locale it is spoken in: ``language``, else its only text's, else the default."""
        if self.language:
            return self.language
        if len(self.text) == 1:
            return next(iter(self.text))
        return default_locale

    def text_for(self, locale: str) -> str:
        """The text in ``locale`` if present, else the first text (scripts always have one)."""
        return self.text.get(locale) or next(iter(self.text.values()))

    def span(self, default_locale: str) -> float:
        """Seconds from the first word's start to the end of the last word's slot."""
        if self.length is not None:
            return self.length
        return natural_length(tokenize(self.text_for(default_locale)), self.pace or DEFAULT_PACE)


@dataclass(frozen=True)
class Fault:
    at: float  # seconds of call time
    kind: str  # e.g. "dropTranscriptStream", "transcriptionFailed"; the emulator interprets it
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Scenario:
    format: int
    name: str
    description: str
    default_locale: str
    participants: tuple[ScenarioParticipant, ...]
    utterances: tuple[Utterance, ...]  # sorted by start
    faults: tuple[Fault, ...]
    # Options (the file's "options" object).
    intermediate_detail: bool = False  # Intermediates also carry words and confidence
    revision_rate: float = DEFAULT_REVISION_RATE
    source: Path | None = None

    @property
    def duration(self) -> float:
        """Call time when the last utterance (or participant recording) ends."""
        spoken = (u.start + u.span(self.default_locale) for u in self.utterances)
        recorded = (p.audio_length for p in self.participants)
        return max((*spoken, *recorded), default=0.0)

    @property
    def has_audio(self) -> bool:
        """Someone in it speaks from a recording (heard by the local recogniser)."""
        return any(p.audio for p in self.participants) or any(u.audio for u in self.utterances)

    @property
    def locales(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for u in self.utterances:
            seen.update(dict.fromkeys(u.text))
        return tuple(seen)

    def participant(self, raw_id: str) -> ScenarioParticipant | None:
        return next((p for p in self.participants if p.raw_id == raw_id), None)


def with_recordings(scenario: Scenario, recordings: Iterable[tuple[str, Path]]) -> Scenario:
    """The scenario with these participants speaking from a WAV each (``--audio RAW=FILE``):
    a participant of the scenario stops saying their scripted lines; a new raw id joins."""
    participants = list(scenario.participants)
    voiced: set[str] = set()
    for raw_id, path in recordings:
        raw_id = raw_id.strip()
        if not raw_id:
            raise ScenarioError(f"{path}: give the participant's raw id before '='")
        try:
            length = wav_duration(Path(path))
        except AudioFileError as exc:
            raise ScenarioError(str(exc)) from None
        voiced.add(raw_id)
        known = next((i for i, p in enumerate(participants) if p.raw_id == raw_id), None)
        if known is None:
            participants.append(
                ScenarioParticipant(raw_id, default_name(raw_id), "", Path(path), length)
            )
        else:
            old = participants[known]
            participants[known] = replace(old, audio=Path(path), audio_length=length)
    return replace(
        scenario,
        participants=tuple(participants),
        utterances=tuple(u for u in scenario.utterances if u.speaker not in voiced),
    )


# --- locales -----------------------------------------------------------------------------------


def is_locale(value: object) -> bool:
    return isinstance(value, str) and bool(_LOCALE_RE.match(value.strip()))


# --- where the files live ----------------------------------------------------------------------


def scenarios_dir() -> Path:
    """The shipped ``resources/scenarios`` (source checkout, wheel or bundle alike).
    ``$ACS_CONSOLE_SCENARIOS`` points elsewhere."""
    override = os.environ.get("ACS_CONSOLE_SCENARIOS")
    if override:
        return Path(override)
    return resource_path("scenarios")


def available_scenarios() -> list[str]:
    directory = scenarios_dir()
    if not directory.is_dir():
        return []
    return sorted(p.stem for p in directory.glob("*.json") if p.is_file())


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A shipped scenario by name ("support-call"), a scenario ``.json`` file, or a console
    journal (``.jsonl``) replayed as a scenario."""
    path = Path(name_or_path)
    if isinstance(name_or_path, str) and not path.suffix and len(path.parts) == 1:
        path = scenarios_dir() / f"{name_or_path}.json"
        if not path.is_file():
            known = ", ".join(available_scenarios()) or "none"
            raise ScenarioError(f"{name_or_path}: no such scenario (available: {known})")
    if not path.is_file():
        raise ScenarioError(f"{path}: no such file")
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from exc
    if path.suffix.lower() == ".jsonl":
        from console.emulator.journal_scenario import scenario_from_journal

        return scenario_from_journal(raw, source=path)
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise ScenarioError(f"{path}: not valid JSON: {exc}") from exc
    return parse_scenario(doc, source=path)


# --- validation --------------------------------------------------------------------------------


class _Reader:
    """Field access that turns every problem into a ScenarioError naming file and location."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> ScenarioError:
        return ScenarioError(
            f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}"
        )

    def obj(self, value: object, where: str, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected an object, got {_kind(value)}")
        allowed = set(allowed)
        for key in value:
            if not isinstance(key, str) or (key not in allowed and not key.startswith("_")):
                raise self.fail(
                    where, f"unknown field {key!r} (allowed: {', '.join(sorted(allowed))})"
                )
        return value

    def string(
        self, obj: dict[str, Any], key: str, where: str, *, default: str | None = None
    ) -> str:
        value = obj.get(key, default)
        if value is None:
            raise self.fail(where, f"missing field {key!r}")
        if not isinstance(value, str):
            raise self.fail(where, f"field {key!r} must be a string, got {_kind(value)}")
        return value

    def number(
        self,
        obj: dict[str, Any],
        key: str,
        where: str,
        *,
        default: float | None = None,
        low: float | None = None,
        high: float | None = None,
        positive: bool = False,
    ) -> float:
        value = obj.get(key, default)
        if value is None:
            raise self.fail(where, f"missing field {key!r}")
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(where, f"field {key!r} must be a number, got {_kind(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise self.fail(where, f"field {key!r} must be between {low} and {high}, got {value}")
        if positive and value <= 0:
            raise self.fail(where, f"field {key!r} must be greater than 0, got {value}")
        return float(value)

    def locale(self, value: object, where: str) -> str:
        if not is_locale(value):
            raise self.fail(where, f"{value!r} is not a locale with a region, like 'en-US'")
        return canonical_locale(str(value))


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


_ROOT = (
    "format", "name", "description", "default_locale", "options", "participants", "utterances",
    "faults",
)  # fmt: skip
_OPTIONS = ("intermediate_detail", "revision_rate")
_PARTICIPANT = ("raw_id", "display_name", "role", "audio")
_UTTERANCE = (
    "speaker", "start", "gap", "text", "confidence", "pace", "duration", "word_confidence",
    "revisions", "audio", "language", "sentiment",
)  # fmt: skip
_REVISION = ("word", "heard", "locale", "lasts")
_FAULT = ("at", "kind", "params")


def parse_scenario(doc: object, *, source: str | Path = "<scenario>") -> Scenario:
    """Validate a decoded scenario document; every problem is a ScenarioError naming its place."""
    r = _Reader(str(source))
    root = r.obj(doc, "", _ROOT)
    fmt = root.get("format")
    if fmt is None:
        raise r.fail("", "missing field 'format' (this console reads format 1)")
    if isinstance(fmt, bool) or not isinstance(fmt, int):
        raise r.fail("", f"field 'format' must be an integer, got {_kind(fmt)}")
    if fmt != FORMAT:
        newer = " (newer than this console)" if fmt > FORMAT else ""
        raise r.fail("", f"unsupported format {fmt}{newer}; this console reads format {FORMAT}")
    default_name = Path(source).stem if isinstance(source, Path) else "scenario"
    name = r.string(root, "name", "", default=default_name)
    description = r.string(root, "description", "", default="")
    default_locale = r.locale(
        r.string(root, "default_locale", "", default="en-US"), "default_locale"
    )

    options = r.obj(root.get("options", {}), "options", _OPTIONS)
    detail = options.get("intermediate_detail", False)
    if not isinstance(detail, bool):
        raise r.fail("options", "field 'intermediate_detail' must be true or false")
    rate = r.number(
        options, "revision_rate", "options", default=DEFAULT_REVISION_RATE, low=0, high=1
    )

    folder = Path(source).parent if isinstance(source, Path) else Path.cwd()
    participants = _participants(r, root.get("participants"), folder)
    ids = {p.raw_id for p in participants}
    recorded = any(p.audio for p in participants)
    utterances = _utterances(r, root.get("utterances"), ids, default_locale, folder, recorded)
    faults = _faults(r, root.get("faults", []))
    return Scenario(
        format=fmt,
        name=name,
        description=description,
        default_locale=default_locale,
        participants=participants,
        utterances=utterances,
        faults=faults,
        intermediate_detail=detail,
        revision_rate=rate,
        source=Path(source) if isinstance(source, Path) else None,
    )


def _audio(r: _Reader, obj: dict[str, Any], where: str, folder: Path) -> tuple[Path, float]:
    """An ``audio`` field: the WAV's path (relative to the scenario's folder) and length."""
    path = folder / r.string(obj, "audio", where)
    try:
        return path, wav_duration(path)
    except AudioFileError as exc:
        raise r.fail(where, f"field 'audio': {exc}") from None


def _participants(r: _Reader, raw: object, folder: Path) -> tuple[ScenarioParticipant, ...]:
    if not isinstance(raw, list) or not raw:
        raise r.fail("participants", "must be a non-empty list")
    out: list[ScenarioParticipant] = []
    for i, item in enumerate(raw):
        where = f"participants[{i}]"
        obj = r.obj(item, where, _PARTICIPANT)
        raw_id = r.string(obj, "raw_id", where).strip()
        if not raw_id:
            raise r.fail(where, "field 'raw_id' is empty")
        if any(p.raw_id == raw_id for p in out):
            raise r.fail(where, f"duplicate raw_id {raw_id!r}")
        name = r.string(obj, "display_name", where, default=raw_id)
        role = r.string(obj, "role", where, default="")
        audio, length = _audio(r, obj, where, folder) if "audio" in obj else (None, 0.0)
        out.append(ScenarioParticipant(raw_id, name, role, audio, length))
    return tuple(out)


def _utterances(
    r: _Reader,
    raw: object,
    ids: set[str],
    default_locale: str,
    folder: Path,
    recorded: bool,
) -> tuple[Utterance, ...]:
    if raw is None and recorded:
        raw = []  # everyone who talks does so from a recording
    if not isinstance(raw, list) or (not raw and not recorded):
        raise r.fail("utterances", "must be a non-empty list")
    out: list[Utterance] = []
    quiet_from = 0.0  # when everyone so far has finished speaking: what "gap" counts from
    speaker_end: dict[str, tuple[float, int]] = {}
    for i, item in enumerate(raw):
        where = f"utterances[{i}]"
        obj = r.obj(item, where, _UTTERANCE)
        speaker = r.string(obj, "speaker", where)
        if speaker not in ids:
            raise r.fail(where, f"speaker {speaker!r} is not one of the participants")
        text = _texts(r, obj.get("text"), where, default_locale)
        language = _language(r, obj, where, text)
        sentiment = _sentiment(r, obj, where)
        confidence = r.number(obj, "confidence", where, default=0.9, low=0, high=1)
        pace = r.number(obj, "pace", where, positive=True) if "pace" in obj else None
        length = r.number(obj, "duration", where, positive=True) if "duration" in obj else None
        audio = None
        if "audio" in obj:
            audio, length = _audio(r, obj, where, folder)
        if "start" in obj and "gap" in obj:
            raise r.fail(where, "give either 'start' or 'gap', not both")
        if "start" in obj:
            start = r.number(obj, "start", where, low=0)
        else:
            start = quiet_from + r.number(obj, "gap", where, default=DEFAULT_GAP)
            if start < 0:
                raise r.fail(where, f"'gap' puts the start before the call began ({start:.2f} s)")
        word_conf = _word_confidence(r, obj.get("word_confidence", {}), where)
        utt = Utterance(
            speaker=speaker,
            start=round(start, 3),
            text=MappingProxyType(text),
            confidence=confidence,
            word_confidence=MappingProxyType(word_conf),
            pace=pace,
            length=length,
            audio=audio,
            language=language,
            sentiment=sentiment,
        )
        revisions = _revisions(r, obj.get("revisions", []), where, utt, default_locale)
        if revisions:
            utt = replace(utt, revisions=revisions)
        end = utt.start + utt.span(default_locale)
        if speaker in speaker_end and utt.start < speaker_end[speaker][0] - 1e-6:
            prev_end, prev_i = speaker_end[speaker]
            raise r.fail(
                where,
                f"starts at {utt.start:.2f} s, before the same speaker's utterances[{prev_i}] "
                f"ends at {prev_end:.2f} s",
            )
        speaker_end[speaker] = (end, i)
        quiet_from = max(quiet_from, end)
        out.append(utt)
    out.sort(key=lambda u: u.start)  # stable: file order breaks ties
    return tuple(out)


def _texts(r: _Reader, raw: object, where: str, default_locale: str) -> dict[str, str]:
    if isinstance(raw, str):
        raw = {default_locale: raw}
    if not isinstance(raw, dict) or not raw:
        raise r.fail(where, "field 'text' must be a string or an object of locale -> text")
    texts: dict[str, str] = {}
    for key, value in raw.items():
        locale = r.locale(key, f"{where}.text")
        if not isinstance(value, str) or not tokenize(value):
            raise r.fail(f"{where}.text", f"text for {key!r} must be a string with words in it")
        texts[locale] = " ".join(value.split())
    if default_locale not in texts and len(texts) > 1:
        raise r.fail(where, f"no text for the default locale {default_locale}")
    return texts


def _language(r: _Reader, obj: dict[str, Any], where: str, text: dict[str, str]) -> str | None:
    """The locale the line is spoken in: one of its texts."""
    if "language" not in obj:
        return None
    locale = r.locale(r.string(obj, "language", where), f"{where}.language")
    if locale not in text:
        raise r.fail(where, f"'language' is {locale}, but the utterance has no {locale} text")
    return locale


def _sentiment(r: _Reader, obj: dict[str, Any], where: str) -> str | None:
    if "sentiment" not in obj:
        return None
    value = r.string(obj, "sentiment", where).strip().lower()
    if value not in SENTIMENTS:
        raise r.fail(
            where, f"'sentiment' is one of {', '.join(SENTIMENTS)}, not {obj['sentiment']!r}"
        )
    return value


def _word_confidence(r: _Reader, raw: object, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise r.fail(where, "field 'word_confidence' must be an object of word -> confidence")
    out: dict[str, float] = {}
    for key, _ in raw.items():
        out[lexical(key)] = r.number(raw, key, f"{where}.word_confidence", low=0, high=1)
    return out


def _revisions(
    r: _Reader, raw: object, where: str, utt: Utterance, default_locale: str
) -> tuple[Revision, ...]:
    if not isinstance(raw, list):
        raise r.fail(where, "field 'revisions' must be a list")
    out: list[Revision] = []
    for j, item in enumerate(raw):
        here = f"{where}.revisions[{j}]"
        obj = r.obj(item, here, _REVISION)
        locale = r.locale(obj["locale"], here) if "locale" in obj else default_locale
        if locale not in utt.text:
            raise r.fail(here, f"the utterance has no {locale} text")
        words = [t.word for t in tokenize(utt.text[locale])]
        word = obj.get("word")
        if isinstance(word, str):
            if lexical(word) not in words:
                raise r.fail(here, f"word {word!r} is not in the {locale} text")
            index = words.index(lexical(word))
        elif isinstance(word, int) and not isinstance(word, bool):
            if not 0 <= word < len(words):
                raise r.fail(here, f"word index {word} is outside the text ({len(words)} words)")
            index = word
        else:
            raise r.fail(here, "field 'word' must be a word of the text or its 0-based index")
        heard = r.string(obj, "heard", here).strip()
        if not heard:
            raise r.fail(here, "field 'heard' is empty")
        lasts = int(r.number(obj, "lasts", here, default=2, low=1, high=1000))
        out.append(Revision(index, heard, None if locale == default_locale else locale, lasts))
    return tuple(out)


def _faults(r: _Reader, raw: object) -> tuple[Fault, ...]:
    if not isinstance(raw, list):
        raise r.fail("faults", "must be a list")
    out: list[Fault] = []
    for i, item in enumerate(raw):
        where = f"faults[{i}]"
        obj = r.obj(item, where, _FAULT)
        at = r.number(obj, "at", where, low=0)
        kind = r.string(obj, "kind", where).strip()
        if not kind:
            raise r.fail(where, "field 'kind' is empty")
        params = obj.get("params", {})
        if not isinstance(params, dict):
            raise r.fail(where, f"field 'params' must be an object, got {_kind(params)}")
        out.append(Fault(at, kind, MappingProxyType(dict(params))))
    out.sort(key=lambda f: f.at)
    return tuple(out)
