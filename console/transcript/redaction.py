"""Redaction of personal data in transcripts: card, phone, account and social security
numbers, e-mail addresses and spelled-out names, in display form ("4472 1234 5678 9012",
"dana.whitfield@contoso.com") and in spoken form ("four four seven two ...", "dana dot whitfield
at contoso dot com", "that's w h i t f i e l d").

Every entity found is replaced by one mask, the same everywhere: ``[CARD]``, ``[PHONE]``,
``[EMAIL]``, ``[ACCOUNT]``, ``[SSN]``, ``[SPELLED]``. In a phrase's words, the entity's words
become one word whose text is the mask, starting at the first word's offset and ending where
the last one ended, so subtitle cues keep their times.

Why the recognisers are written here rather than taken from presidio-analyzer: its
``AnalyzerEngine`` downloads a spaCy model when it starts (so it fails offline), pulls in about
390 MB, and its e-mail recogniser fetches a list of top-level domains; its standalone pattern
recognisers would avoid the model, but they are regexes over written text and find nothing in
spoken digits ("forty four seventy two", "double oh"), spoken e-mail addresses or spelled
letters, which is most of what a call transcript holds (the service's lexical form, and its
words, are spoken form). Written here, the engine is pure Python, offline, small (no
dependency, no data file), and it reads both forms with one tokenizer.

How: the text is cut once into tokens (:mod:`redaction_tokens`); e-mail addresses are found
first (a regex on the display form, a walk around "at" in the spoken form), then IBANs read out
letter by letter (:mod:`redaction_iban`, by their check digits), then letters spelled after
"that's" / "spelled", then written IBANs and digit runs: :mod:`redaction_runs` assembles runs
from digit groups and spoken numbers, :mod:`redaction_numbers` joins the pieces of a number
said with words between them, and :mod:`redaction_kinds` says what each is. Near misses (times,
prices, dates, quantities, years, short or prefixed order and model numbers) are kept. Each step
is a linear scan with precompiled regexes: tens of microseconds for a typical utterance
(``tests/bench/bench_redaction.py``). Pure: no Qt, no I/O, no state; safe on any thread.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from console.acs.streaming import Word
from console.transcript.redaction_iban import spoken_ibans, written_ibans
from console.transcript.redaction_kinds import ACCOUNT, CARD, PHONE, SSN
from console.transcript.redaction_letters import spelled, spoken_emails, written_emails
from console.transcript.redaction_numbers import find_numbers
from console.transcript.redaction_runs import luhn_ok, mark_near_misses
from console.transcript.redaction_tokens import NUMBER_WORDS, REPEATS, tokenize

__all__ = [
    "ACCOUNT",
    "CARD",
    "EMAIL",
    "ENTITY_TYPES",
    "MASKS",
    "PHONE",
    "SPELLED",
    "SSN",
    "Entity",
    "Redacted",
    "RedactedPhrase",
    "Redactor",
    "find_entities",
    "luhn_ok",
    "redact_text",
    "redact_words",
]

EMAIL = "EMAIL"
SPELLED = "SPELLED"
ENTITY_TYPES: tuple[str, ...] = (CARD, PHONE, EMAIL, ACCOUNT, SSN, SPELLED)
MASKS: Mapping[str, str] = {t: f"[{t}]" for t in ENTITY_TYPES}


class Entity(NamedTuple):
    """A piece of personal data: its type (one of :data:`ENTITY_TYPES`) and its span."""

    type: str
    start: int  # character offsets in the text: text[start:end]
    end: int


@dataclass(frozen=True, slots=True)
class Redacted:
    """A text with every entity replaced by its mask, and how many of each type there were."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RedactedPhrase:
    """A phrase's text and words, both redacted."""

    text: str
    words: tuple[Word, ...]
    counts: dict[str, int] = field(default_factory=dict)


# --- the engine --------------------------------------------------------------------------------

_has_digit = re.compile(r"\d").search


def _find(text: str) -> list[Entity]:
    tokens = tokenize(text)
    taken = [False] * len(tokens)
    found: list[Entity] = []
    if "@" in text:
        for s, e in written_emails(text, tokens, taken):
            found.append(Entity(EMAIL, s, e))
    for first, last in spoken_emails(tokens, taken):
        found.append(Entity(EMAIL, tokens[first].start, tokens[last].end))
    for first, last in spoken_ibans(text, tokens, taken):  # before spelled: "g b ... n w b k ..."
        found.append(Entity(ACCOUNT, tokens[first].start, tokens[last].end))
    for first, last in spelled(tokens, taken):
        found.append(Entity(SPELLED, tokens[first].start, tokens[last].end))
    if _has_digit(text):  # every near miss and IBAN has a digit
        for s, e in written_ibans(text, tokens, taken):
            found.append(Entity(ACCOUNT, s, e))
        mark_near_misses(text, tokens, taken)
    for kind, s, e in find_numbers(text, tokens, taken):
        found.append(Entity(kind, s, e))
    found.sort(key=lambda e: e.start)
    return found


class Redactor:
    """Finds and masks personal data; ``types`` limits which kinds (all of them by default).

    One redactor applied to a phrase's text and to its words masks both the same way.
    """

    __slots__ = ("_types",)

    def __init__(self, types: Iterable[str] = ENTITY_TYPES) -> None:
        self._types = frozenset(types)
        unknown = self._types - set(ENTITY_TYPES)
        if unknown:
            raise ValueError(f"unknown entity types {sorted(unknown)}; use {ENTITY_TYPES}")

    def find(self, text: str) -> list[Entity]:
        """The entities in ``text``, in order, none overlapping another."""
        if not text:
            return []
        entities = _find(text)
        if len(self._types) < len(ENTITY_TYPES):
            entities = [e for e in entities if e.type in self._types]
        return entities

    def text(self, text: str) -> Redacted:
        """``text`` with each entity replaced by its mask."""
        entities = self.find(text)
        if not entities:
            return Redacted(text, {})
        parts: list[str] = []
        counts: dict[str, int] = {}
        pos = 0
        for e in entities:
            parts.append(text[pos : e.start])
            parts.append(MASKS[e.type])
            counts[e.type] = counts.get(e.type, 0) + 1
            pos = e.end
        parts.append(text[pos:])
        return Redacted("".join(parts), counts)

    def words(self, words: Sequence[Word]) -> tuple[tuple[Word, ...], dict[str, int]]:
        """``words`` with each entity's words made into one word: the mask, from the first
        word's offset to the end of the last one."""
        if not words:
            return (), {}
        # The words joined by spaces, and where each one starts in that text.
        starts: list[int] = []
        pos = 0
        for w in words:
            starts.append(pos)
            pos += len(w.text) + 1
        joined = " ".join(w.text for w in words)
        entities = self.find(joined)
        if not entities:
            return tuple(words), {}
        out: list[Word] = []
        counts: dict[str, int] = {}
        i = 0
        n = len(words)
        for e in entities:
            counts[e.type] = counts.get(e.type, 0) + 1
            # Words before the entity stay; the ones it touches become its mask.
            while i < n and starts[i] + len(words[i].text) <= e.start:
                out.append(words[i])
                i += 1
            if i >= n or starts[i] >= e.end:
                continue  # inside a word the previous entity's mask already took
            first = last = words[i]
            while i < n and starts[i] < e.end:
                last = words[i]
                i += 1
            end = max(first.offset + first.duration, last.offset + last.duration)
            out.append(Word(MASKS[e.type], first.offset, end - first.offset))
        out.extend(words[i:])
        return tuple(out), counts

    def phrase(self, text: str, words: Sequence[Word]) -> RedactedPhrase:
        """A phrase's text and words, redacted alike. ``counts`` is what the text held, or what
        the words held where they show more of a type (a reader of either sees no entity)."""
        redacted = self.text(text)
        new_words, word_counts = self.words(words)
        counts = dict(redacted.counts)
        for kind, n in word_counts.items():
            if n > counts.get(kind, 0):
                counts[kind] = n
        return RedactedPhrase(redacted.text, new_words, counts)


_DEFAULT = Redactor()


def find_entities(text: str) -> list[Entity]:
    """The personal data in ``text`` (display or spoken form), in order."""
    return _DEFAULT.find(text)


def redact_text(text: str) -> Redacted:
    """``text`` with every entity replaced by its mask, and the count of each type."""
    return _DEFAULT.text(text)


def redact_words(words: Sequence[Word]) -> tuple[tuple[Word, ...], dict[str, int]]:
    """A phrase's words with each entity's words made into one mask word (timings kept)."""
    return _DEFAULT.words(words)


_NUMBERISH = re.compile(r"\d+|\b[^\W\d_]+\b")
_PROVISIONAL_NUMBERS = NUMBER_WORDS | frozenset(REPEATS) | {"hundred", "thousand"}


def redact_provisional(text: str) -> str:
    """A provisional (Intermediate) phrase for a redacted screen: masked like a Final, and
    every digit and number word left hidden too ("•"). A hypothesis cut off mid-number ("four
    four seven two") is too short yet for the engine to know it is a card, so in redacted view
    no number is shown until its Final settles and is masked as a whole."""

    def hide(m: re.Match[str]) -> str:
        word = m.group(0)
        if word.isdigit() or word.lower() in _PROVISIONAL_NUMBERS:
            return "•"
        return word

    return _NUMBERISH.sub(hide, redact_text(text).text)
