"""Call intelligence end to end: the console asks (at the preview api-version), the emulator
produces what the service would (identified languages, sentiments, masked personal data), the
console's model records it, and its own insights and alerts follow each Final.

The emulator's masking is its own rule set (console/emulator/pii_mask.py); what is checked here
is what reaches the console, against the scenario's text.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from console.acs.intelligence import IntelligenceSettings
from console.emulator.scenario import load_scenario
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState, SessionError, TranscriptionState
from console.transcript.alerts import NEGATIVE_STREAK, PHRASE, Alert, AlertRules
from console.transcript.export import load_json
from console.transcript.insights import compute_insights
from console.transcript.journal import replay
from console.transcript.timeline import MarkerKind
from tests.waiting import local, until

WAIT = 20.0
CUSTOMER = "+15550100"  # stands in for the scenario's customer


async def _call(
    rt: ConsoleRuntime, *, start: bool = True, **session_kw: object
) -> tuple[CallSession, list[Alert]]:
    session = rt.new_session(**session_kw)  # type: ignore[arg-type]
    alerts: list[Alert] = []
    session.alerts.connect(alerts.append)
    await session.place(CUSTOMER, locale="en-US", start_transcription=start)
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    if start:
        await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    return session, alerts


async def test_a_multilingual_call_comes_in_the_language_each_line_is_spoken_in(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="multilingual", speed=30.0)
    rt = await make_runtime(local(emu))
    detect = IntelligenceSettings(locales=("en-US", "es-ES", "fr-FR", "de-DE"))
    session, _ = await _call(rt, intelligence=detect)
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, 60)

    scenario = load_scenario("multilingual")
    by_speaker: dict[str, list[tuple[str, str]]] = {}
    for u in scenario.utterances:
        language = u.spoken_language(scenario.default_locale)
        by_speaker.setdefault(u.speaker, []).append((language, u.text[language]))
    finals = session.transcript.finals
    assert len(finals) == len(scenario.utterances)
    # No locale switch was asked for: each Final is in its own language, and says so.
    texts = {(p.language, p.text) for p in finals}
    expected = {pair for pairs in by_speaker.values() for pair in pairs}
    assert texts == expected
    assert {p.language for p in finals} == {"en-US", "fr-FR", "de-DE"}
    assert all(p.locale == "en-US" for p in finals)  # the locale in force never changed
    metadata = session.transcript.metadata
    assert metadata is not None
    assert metadata.locales == detect.locales
    # The locale cannot be switched while the service identifies languages.
    assert session.transcript.call_info["intelligence"]["locales"] == list(detect.locales)


async def test_sentiment_masking_alerts_and_insights_on_the_support_call(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    emu = await make_emulator(scenario="support-call", speed=40.0)
    rt = await make_runtime(local(emu))
    settings = IntelligenceSettings(sentiment=True, service_redaction=True)
    session, alerts = await _call(rt, intelligence=settings)
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, 60)

    scenario = load_scenario("support-call")
    finals = session.transcript.finals
    assert len(finals) == len(scenario.utterances)
    for phrase, line in zip(finals, scenario.utterances, strict=True):
        assert phrase.sentiment == (line.sentiment or "neutral")
        assert phrase.language is None  # not asked for
        # Masked where the scenario has personal data, the same length, the rest intact.
        assert len(phrase.text) == len(line.text["en-US"])
        assert re.sub(r"[0-9]", "*", phrase.text) == phrase.text
        assert "@" not in phrase.text
    said = {
        line.text["en-US"]: phrase for phrase, line in zip(finals, scenario.utterances, strict=True)
    }
    card = next(phrase for text, phrase in said.items() if "4111 1111" in text)
    assert "**** **** **** ****" in card.text
    assert [w.text for w in card.words if "*" in w.text] == ["****"] * 4
    account = next(phrase for text, phrase in said.items() if "4472 910 83" in text)
    assert "**** *** **." in account.text
    assert [w.text for w in account.words if "*" in w.text] == ["****", "***", "**"]
    email = next(p for p in finals if "address we have on file" in p.text)
    assert "*" * len("dana.whitfield@example.com") in email.text
    assert "*" * len("dana.whitfield@example.com") in [w.text for w in email.words]

    # Alerts as they fired: the phrase and the customer's three negative turns.
    kinds = [(a.kind, a.rule) for a in alerts]
    assert (PHRASE, "cancel my account") in kinds
    assert (NEGATIVE_STREAK, "3 negative turns in a row") in kinds
    streak = next(a for a in alerts if a.kind == NEGATIVE_STREAK)
    assert streak.raw_id == "4:" + CUSTOMER
    assert "cancel my account" in streak.text.lower()  # the third negative turn
    # Live insights equal those computed from the saved transcript.
    live = session.insights.snapshot()
    assert live == compute_insights(session.transcript)
    assert {s.raw_id for s in live.speakers} == {p.raw_id for p in finals}
    assert abs(sum(s.share for s in live.speakers) - 1.0) < 1e-9

    # Saved and reopened (JSON format 2), and replayed from the journal: the same.
    saved = session.save(tmp_path / "call.json")
    reopened = load_json(saved)
    assert [(p.sentiment, p.text) for p in reopened.finals] == [
        (p.sentiment, p.text) for p in finals
    ]
    assert session.journal is not None
    journal = session.journal.path
    session.close()
    replayed = replay(journal)
    assert [p.sentiment for p in replayed.finals] == [p.sentiment for p in finals]


async def test_changing_the_languages_mid_call_restarts_transcription_with_a_marker(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="multilingual", speed=10.0)
    rt = await make_runtime(local(emu))
    session, _ = await _call(rt)
    await until(lambda: len(session.transcript.finals) >= 2, WAIT)
    assert all(p.language is None for p in session.transcript.finals)

    def started() -> int:
        return sum(m.kind == MarkerKind.TRANSCRIPTION_STARTED for m in session.transcript.markers)

    # Sentiment on, in place: an update, no restart.
    assert started() == 1
    await session.set_intelligence(IntelligenceSettings(sentiment=True))
    count = len(session.transcript.finals)
    await until(lambda: len(session.transcript.finals) >= count + 2, WAIT)
    assert session.transcript.finals[-1].sentiment is not None
    assert session.state.transcription is TranscriptionState.ACTIVE
    assert started() == 1

    # Other languages to detect among: stopped and started again, marked in between.
    await session.set_intelligence(IntelligenceSettings(locales=("en-US", "fr-FR"), sentiment=True))
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)
    await until(lambda: started() == 2, WAIT)
    kinds = [m.kind for m in session.transcript.markers]
    stopped = kinds.index(MarkerKind.TRANSCRIPTION_STOPPED)
    assert stopped < kinds.index(MarkerKind.LANGUAGES_CHANGED)
    marks = [m for m in session.transcript.markers if m.kind == MarkerKind.LANGUAGES_CHANGED]
    assert [m.detail for m in marks] == ["en-US, fr-FR"]
    count = len(session.transcript.finals)
    await until(lambda: len(session.transcript.finals) >= count + 2, WAIT)
    assert session.transcript.finals[-1].language in ("en-US", "fr-FR")

    # While identifying, the locale is not switched by hand.
    allowed, reason = session.can_request_locale()
    assert not allowed
    assert "en-US, fr-FR" in reason
    with pytest.raises(SessionError, match="turn language detection off"):
        session.request_locale("de-DE")


async def test_alert_rules_from_the_session_and_the_streak_length(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario="support-call", speed=40.0)
    rules = AlertRules(phrases=("refund*", "re:charged (twice|two times)"), negative_streak=2)
    rt = await make_runtime(local(emu), alert_rules=rules)
    session, alerts = await _call(rt, intelligence=IntelligenceSettings(sentiment=True))
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, 60)
    rules = [a.rule for a in alerts]
    assert "re:charged (twice|two times)" in rules
    assert "refund*" in rules
    assert "cancel my account" not in rules  # not among this call's rules
    streaks = [a for a in alerts if a.kind == NEGATIVE_STREAK]
    assert [a.rule for a in streaks] == ["2 negative turns in a row"] * len(streaks)
    assert streaks  # the customer's first two turns
    assert session.transcript.call_info["alert_rules"]["negative_streak"] == 2
