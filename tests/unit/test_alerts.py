"""Alerts: phrases and patterns (any case, whole words), negative streaks per speaker, rules
that cannot be used, and the same alerts live and from a saved transcript."""

from __future__ import annotations

import pytest

from console.acs.streaming import TICKS_PER_SECOND, ResultStatus, TranscriptionData
from console.transcript.alerts import (
    CALL_INFO_KEY,
    DEFAULT_PHRASES,
    NEGATIVE_STREAK,
    PHRASE,
    AlertRuleError,
    AlertRules,
    AlertWatcher,
    alerts_for,
    compile_rule,
    record_rules,
    rules_of,
)
from console.transcript.model import Transcript
from console.transcript.timeline import Phrase, PhraseStatus

A, B = "4:+15550100", "8:acs:res_agent"
_ids = iter(range(1, 10_000))


def final(
    raw_id: str, text: str, sentiment: str | None = None, start: float = 0.0, **kw: object
) -> Phrase:
    pid = next(_ids)
    return Phrase(
        id=pid,
        raw_id=raw_id,
        text=text,
        status=kw.get("status", PhraseStatus.FINAL),  # type: ignore[arg-type]
        offset=round(start * TICKS_PER_SECOND),
        duration=TICKS_PER_SECOND,
        anchor=0,
        confidence=0.9,
        words=(),
        locale="en-US",
        received_at=0.0,
        first_received_at=0.0,
        seq=pid,
        sentiment=sentiment,
    )


@pytest.mark.parametrize(
    ("rule", "text", "match"),
    [
        ("cancel my account", "Fix this or I CANCEL  my\taccount.", "CANCEL  my\taccount"),
        ("complaint", "I want to make a complaint!", "complaint"),
        ("supervisor", "Let me get my Supervisor.", "Supervisor"),
        ("refund*", "Has the refund been refunded?", "refund"),
        ("re:speak to (a|your) manager", "Can I speak to your manager", "speak to your manager"),
        ("£100", "It was £100 more.", "£100"),
        ("façade", "The FAÇADE dropped", "FAÇADE"),
    ],
)
def test_a_rule_matches_whole_words_in_any_case(rule: str, text: str, match: str) -> None:
    (alert,) = AlertWatcher(AlertRules((rule,), 0)).add(final(A, text, start=12.5))
    assert (alert.kind, alert.rule, alert.match, alert.raw_id, alert.at) == (
        PHRASE,
        rule,
        match,
        A,
        12.5,
    )
    assert alert.span is not None
    assert text[alert.span[0] : alert.span[1]] == match


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ("cancel my account", "cancel my accounts"),
        ("complaint", "complaints"),
        ("supervisor", "supervisors' office"),
        ("refund*", "nonrefundable"),
        ("re:manager", "management"),
    ],
)
def test_a_rule_does_not_match_inside_a_word(rule: str, text: str) -> None:
    assert AlertWatcher(AlertRules((rule,), 0)).add(final(A, text)) == []


def test_the_defaults() -> None:
    rules = AlertRules()
    assert rules.phrases == DEFAULT_PHRASES == ("cancel my account", "complaint", "supervisor")
    assert rules.negative_streak == 3


def test_one_alert_per_rule_per_final_and_several_rules_at_once() -> None:
    watcher = AlertWatcher()
    new = watcher.add(final(A, "A complaint, another complaint, and a supervisor please."))
    assert [a.rule for a in new] == ["complaint", "supervisor"]
    assert watcher.alerts == new


def test_a_negative_streak_of_one_speaker_fires_once_per_streak() -> None:
    watcher = AlertWatcher(AlertRules((), 3))
    turns = [
        (A, "negative"),
        (B, "negative"),  # another speaker's turn does not break A's streak
        (A, "negative"),
        (B, "positive"),
        (A, "negative"),  # A's third: fires
        (A, "negative"),  # the same streak goes on: no second alert
        (A, "neutral"),  # broken
        (A, "negative"),
        (A, "negative"),
        (A, "negative"),  # a new streak of three: fires again
        (B, "negative"),
        (B, None),  # no sentiment given: breaks too
        (B, "negative"),
    ]
    fired = [
        (i, a.raw_id)
        for i, (who, sentiment) in enumerate(turns)
        for a in watcher.add(final(who, f"turn {i}", sentiment))
    ]
    assert fired == [(4, A), (9, A)]
    streak = watcher.alerts[0]
    assert (streak.kind, streak.rule, streak.text) == (
        NEGATIVE_STREAK,
        "3 negative turns in a row",
        "turn 4",
    )


def test_the_streak_length_is_configurable_and_zero_turns_it_off() -> None:
    two = AlertWatcher(AlertRules((), 2))
    assert two.add(final(A, "x", "negative")) == []
    assert [a.rule for a in two.add(final(A, "y", "negative"))] == ["2 negative turns in a row"]
    off = AlertWatcher(AlertRules((), 0))
    assert all(off.add(final(A, "z", "negative")) == [] for _ in range(5))


def test_hypotheses_and_abandoned_phrases_raise_nothing() -> None:
    watcher = AlertWatcher()
    assert watcher.add(final(A, "complaint", status=PhraseStatus.ABANDONED)) == []
    assert watcher.add(final(A, "complaint", status=PhraseStatus.INTERMEDIATE)) == []


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        (AlertRules(("re:(unclosed",)), "not a regular expression"),
        (AlertRules(("re:",)), "empty"),
        (AlertRules(("re:a*",)), "matches empty text"),
        (AlertRules((), -1), r"0 \(off\) to 100"),
        (AlertRules((), 101), r"0 \(off\) to 100"),
    ],
)
def test_rules_that_cannot_be_used_say_why(rules: AlertRules, problem: str) -> None:
    with pytest.raises(AlertRuleError, match=problem):
        AlertWatcher(rules)


def test_blank_phrases_are_dropped_and_an_empty_one_is_refused_alone() -> None:
    assert AlertRules(("  ", "complaint")).checked().phrases == ("complaint",)
    with pytest.raises(AlertRuleError, match="empty"):
        compile_rule("   ")


def test_new_rules_apply_from_the_next_final_and_streaks_carry_on() -> None:
    watcher = AlertWatcher(AlertRules(("complaint",), 3))
    watcher.add(final(A, "a", "negative"))
    watcher.add(final(A, "b", "negative"))
    watcher.set_rules(AlertRules(("refund",), 3))
    fired = watcher.add(final(A, "my refund and a complaint", "negative"))
    assert [a.rule for a in fired] == ["refund", "3 negative turns in a row"]


def test_the_rules_travel_with_the_call_and_give_the_same_alerts_from_scratch() -> None:
    t = Transcript(call_started_at=0.0)
    rules = AlertRules(("refund*",), 2)
    record_rules(t, rules)
    assert t.call_info[CALL_INFO_KEY] == {"phrases": ["refund*"], "negative_streak": 2}
    assert rules_of(t.call_info) == rules
    said = [
        (A, "I want a refund", "negative", 1.0),
        (B, "Sure.", "neutral", 2.0),
        (A, "Refunds take too long", "negative", 3.0),
    ]
    live = AlertWatcher(rules)
    for raw_id, text, sentiment, start in said:
        packet = TranscriptionData(
            text,
            raw_id,
            ResultStatus.FINAL,
            round(start * TICKS_PER_SECOND),
            TICKS_PER_SECOND // 2,
            sentiment=sentiment,
        )
        change = t.apply_packet(packet, received_at=start + 1.0)
        assert change is not None
        live.add(change.phrase)
    assert alerts_for(t) == live.alerts
    assert [(a.kind, a.at) for a in live.alerts] == [
        (PHRASE, 1.0),
        (PHRASE, 3.0),
        (NEGATIVE_STREAK, 3.0),
    ]


def test_rules_read_back_tolerantly() -> None:
    assert rules_of({}) == AlertRules()
    assert rules_of({CALL_INFO_KEY: "nonsense"}) == AlertRules()
    assert rules_of({CALL_INFO_KEY: {"phrases": ["re:(bad"], "negative_streak": 2}}) == (
        AlertRules()
    )
    assert rules_of({CALL_INFO_KEY: {"phrases": [1, "ok"], "negative_streak": "x"}}) == (
        AlertRules(("ok",), 3)
    )
