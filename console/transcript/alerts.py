"""Alerts a supervisor sets: phrases or patterns said in a Final, and a run of negative turns.

Rules (:class:`AlertRules`):

- phrases, matched case-insensitively as whole words: ``cancel my account`` matches "Cancel
  my  account." but not "cancel my accounts"; a ``*`` inside a phrase stands for any letters
  (``refund*`` matches "refund", "refunds", "refunded"); ``re:`` starts a regular expression
  (also case-insensitive and held to whole words: ``re:speak to (a|your) manager``);
- a negative streak: ``negative_streak`` Finals in a row of one speaker whose sentiment is
  ``negative`` (their other turns break it; other speakers' turns do not). It fires once when
  the streak reaches that length, again only after a turn that is not negative. 0 turns it off.

:class:`AlertWatcher` takes each Final and returns the alerts it raises (at most one per rule per
Final); :func:`alerts_for` runs one over a whole transcript. The rules in force are recorded in
the transcript's ``call_info`` (:data:`CALL_INFO_KEY`), so a saved file reopens with the alerts
it had. Pure: no Qt, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.transcript.model import Transcript
from console.transcript.timeline import Phrase, PhraseStatus

DEFAULT_PHRASES: tuple[str, ...] = ("cancel my account", "complaint", "supervisor")
DEFAULT_NEGATIVE_STREAK = 3
MAX_NEGATIVE_STREAK = 100
CALL_INFO_KEY = "alert_rules"
REGEX_PREFIX = "re:"

PHRASE = "phrase"
NEGATIVE_STREAK = "negative_streak"


class AlertRuleError(ValueError):
    """A rule that cannot be used; the message names it and says why."""


def compile_rule(rule: str) -> re.Pattern[str]:
    """The pattern of one phrase rule (see the module docstring); AlertRuleError otherwise."""
    text = rule.strip()
    if text[: len(REGEX_PREFIX)].lower() == REGEX_PREFIX:
        body = text[len(REGEX_PREFIX) :].strip()
        if not body:
            raise AlertRuleError(f"{rule!r}: the regular expression is empty")
        try:
            inner = re.compile(body, re.IGNORECASE)
        except re.error as exc:
            raise AlertRuleError(f"{rule!r}: not a regular expression ({exc})") from None
        if inner.match(""):
            raise AlertRuleError(f"{rule!r}: the pattern matches empty text")
    else:
        body = _phrase_body(text)
        if not body:
            raise AlertRuleError("an alert phrase is empty")
    # Whole words: no letter or digit just before or after (works for "£100" too).
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _phrase_body(text: str) -> str:
    """A plain phrase as a pattern: words apart by any space, ``*`` for any letters."""
    return r"\s+".join(r"\w*".join(re.escape(p) for p in word.split("*")) for word in text.split())


def _quick(phrases: list[str]) -> re.Pattern[str] | None:
    """One pattern that finds, in lower-cased text, everything the plain phrases could match
    (no word boundaries, no case folding: what lets the regex engine skip ahead fast). A Final
    it does not match raises no phrase alert; one it matches is checked rule by rule."""
    bodies = [_phrase_body(p.lower()) for p in phrases]
    return re.compile("|".join(f"(?:{b})" for b in bodies)) if bodies else None


@dataclass(frozen=True, slots=True)
class AlertRules:
    phrases: tuple[str, ...] = DEFAULT_PHRASES
    negative_streak: int = DEFAULT_NEGATIVE_STREAK  # 0: off

    def checked(self) -> AlertRules:
        """The rules with blank phrases dropped; AlertRuleError for one that cannot be used."""
        phrases = tuple(p.strip() for p in self.phrases if p.strip())
        for phrase in phrases:
            compile_rule(phrase)
        streak = self.negative_streak
        if isinstance(streak, bool) or not isinstance(streak, int):
            raise AlertRuleError("the negative streak is a whole number of turns")
        if not 0 <= streak <= MAX_NEGATIVE_STREAK:
            raise AlertRuleError(
                f"the negative streak is 0 (off) to {MAX_NEGATIVE_STREAK} turns, not {streak}"
            )
        return AlertRules(phrases, streak)

    def to_dict(self) -> dict[str, Any]:
        return {"phrases": list(self.phrases), "negative_streak": self.negative_streak}

    @classmethod
    def from_dict(cls, doc: object) -> AlertRules:
        """Rules as saved (tolerant: what cannot be used falls back to the defaults)."""
        if not isinstance(doc, Mapping):
            return cls()
        phrases = doc.get("phrases")
        streak = doc.get("negative_streak")
        try:
            return cls(
                tuple(p for p in phrases if isinstance(p, str))
                if isinstance(phrases, list)
                else DEFAULT_PHRASES,
                streak if isinstance(streak, int) else DEFAULT_NEGATIVE_STREAK,
            ).checked()
        except AlertRuleError:
            return cls()


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # PHRASE | NEGATIVE_STREAK
    rule: str  # the phrase as written, or "3 negative turns in a row"
    raw_id: str  # the speaker
    at: float  # call seconds: the start of the Final it fired on
    phrase_id: int  # that Final's id (Phrase.id)
    text: str  # that Final's text
    match: str | None = None  # the words that matched (phrase rules)
    span: tuple[int, int] | None = None  # where in ``text``

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rule": self.rule,
            "raw_id": self.raw_id,
            "at": round(self.at, 3),
            "phrase_id": self.phrase_id,
            "text": self.text,
            "match": self.match,
        }


def streak_rule(length: int) -> str:
    return f"{length} negative turns in a row"


class AlertWatcher:
    """Feed it each Final; it returns the alerts that Final raises and keeps them all."""

    def __init__(self, rules: AlertRules | None = None) -> None:
        self.alerts: list[Alert] = []
        self._streaks: dict[str, int] = {}
        self.set_rules(rules or AlertRules())

    @property
    def rules(self) -> AlertRules:
        return self._rules

    def set_rules(self, rules: AlertRules) -> None:
        """New rules from the next Final on (raises AlertRuleError); streaks carry on."""
        rules = rules.checked()
        plain = [p for p in rules.phrases if p[: len(REGEX_PREFIX)].lower() != REGEX_PREFIX]
        self._patterns = [(phrase, compile_rule(phrase)) for phrase in rules.phrases]
        self._regexes = [(phrase, p) for phrase, p in self._patterns if phrase not in plain]
        self._quick = _quick(plain)
        self._rules = rules

    def add(self, phrase: Phrase) -> list[Alert]:
        if phrase.status is not PhraseStatus.FINAL:
            return []
        new: list[Alert] = []
        text = phrase.text
        # Most Finals say none of the phrases: one quick search settles that.
        patterns = self._regexes
        if self._quick is not None and self._quick.search(text.lower()) is not None:
            patterns = self._patterns
        for rule, pattern in patterns:
            m = pattern.search(text)
            if m is not None:
                new.append(
                    Alert(
                        PHRASE,
                        rule,
                        phrase.raw_id,
                        phrase.start,
                        phrase.id,
                        text,
                        m.group(0),
                        m.span(),
                    )
                )
        length = self._rules.negative_streak
        if length:
            raw_id = phrase.raw_id
            count = self._streaks.get(raw_id, 0) + 1 if phrase.sentiment == "negative" else 0
            self._streaks[raw_id] = count
            if count == length:
                new.append(
                    Alert(
                        NEGATIVE_STREAK,
                        streak_rule(length),
                        raw_id,
                        phrase.start,
                        phrase.id,
                        text,
                    )
                )
        if new:
            self.alerts.extend(new)
        return new


def rules_of(call_info: Mapping[str, Any]) -> AlertRules:
    """The rules recorded for a call (the defaults when none were)."""
    return AlertRules.from_dict(call_info.get(CALL_INFO_KEY))


def record_rules(transcript: Transcript, rules: AlertRules) -> None:
    transcript.call_info[CALL_INFO_KEY] = rules.to_dict()


def alerts_for(transcript: Transcript, rules: AlertRules | None = None) -> list[Alert]:
    """Every alert of a transcript, from scratch (the rules recorded for it by default)."""
    return watch(transcript.finals, rules or rules_of(transcript.call_info))


def watch(finals: Iterable[Phrase], rules: AlertRules) -> list[Alert]:
    watcher = AlertWatcher(rules)
    for phrase in finals:
        watcher.add(phrase)
    return watcher.alerts
