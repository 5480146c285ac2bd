"""Call intelligence in the real window, against the emulator through the real SDK at the
preview api-version: sentiment marks and each speaker's trend, alerts from a phrase and from a
negative streak, insights that match a call whose talk times are known, identified-language
marks on a multilingual call, and changing what is asked for mid-call from the panel's menu."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from console.ui.main_window import MainWindow
from tests.gui.conftest import place_and_transcribe, running_console, wait_until

AGENT = "8:acs:7c2f3e1a-9b4d-4e8f-a1c3-5d6e7f809a1b_00000021-4f3a-8b2c-9d0e-1f2a3b4c5d6e"
CUSTOMER = "4:+14255550100"

# (speaker, start, duration, text, sentiment): call seconds, chosen so the insights can be
# worked out by hand below.
LINES = (
    (AGENT, 10.0, 4.0, "Thank you for calling Contoso, how can I help?", "positive"),
    (CUSTOMER, 16.0, 5.0, "I was charged twice and I am upset about it.", "negative"),
    (AGENT, 20.0, 3.0, "I am sorry, let me check that.", "neutral"),
    (CUSTOMER, 24.0, 4.0, "This keeps happening, I want to make a complaint.", "negative"),
    (CUSTOMER, 29.0, 3.0, "I am really not happy with this.", "negative"),
    (AGENT, 40.0, 4.0, "I have refunded the second payment.", "positive"),
)
# By hand: the agent talks 4 + 3 + 4 = 11 s, the customer 5 + 4 + 3 = 12 s (of 23 s: 48 % and
# 52 %); the agent's 20-23 s overlaps the customer's 16-21 s by 1 s (one overtalk); nobody
# speaks from 32 s to 40 s (one silence over 5 s, 8 s long).
AGENT_TALK, CUSTOMER_TALK = 11.0, 12.0


def _scenario(folder: Path) -> Path:
    doc = {
        "format": 1,
        "name": "insights-by-hand",
        "description": "Talk times, an overlap and a silence known in advance.",
        "default_locale": "en-US",
        "participants": [
            {"raw_id": AGENT, "display_name": "Priya Raman", "role": "agent"},
            {"raw_id": CUSTOMER, "display_name": "Dana Whitfield", "role": "customer"},
        ],
        "utterances": [
            {
                "speaker": who,
                "start": start,
                "duration": length,
                "text": text,
                "sentiment": sentiment,
                "confidence": 0.93,
            }
            for who, start, length, text, sentiment in LINES
        ],
    }
    path = folder / "insights-by-hand.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _pane_text(w: MainWindow, raw_id: str) -> str:
    w.transcript_view.flush()
    return w.transcript_view.panes[raw_id].view.toPlainText()


async def test_sentiment_alerts_and_insights_show_as_the_call_goes(
    app, qtbot, tmp_path: Path
) -> None:
    scenario = _scenario(tmp_path)
    async with running_console(tmp_path, scenario=str(scenario), speed=4.0) as console:
        w = console.window
        prefs = dataclasses.replace(
            w.prefs, sentiment_analysis=True, alert_phrases=["complaint"], negative_streak=3
        )
        w.settings.apply(prefs)
        session = await place_and_transcribe(console, qtbot, CUSTOMER.removeprefix("4:"))
        assert session.intelligence.sentiment
        await wait_until(
            lambda: session.transcript.final_count == len(LINES), 60, what="all Finals"
        )

        # Sentiment: a shape after each Final, and the customer's trend in their header.
        assert "▲" in _pane_text(w, AGENT)
        customer = _pane_text(w, CUSTOMER)
        assert customer.count("▼") == 3
        trend = w.transcript_view.panes[CUSTOMER].trend_label
        assert trend.isVisible()
        assert trend.text() == "▼ ▼ ▼"
        assert "negative, negative, negative" in trend.toolTip()

        # Alerts: the phrase and the streak, on their Finals and in the event log.
        assert "⚑ complaint" in customer
        assert "⚑ 3 negative turns in a row" in customer
        titles = [row[1] for row in w.event_log.rows()]
        assert "Alert: complaint" in titles
        assert "Alert: 3 negative turns in a row" in titles

        # Insights, against the talk times worked out by hand.
        snap = session.insights.snapshot()
        agent, cust = snap.speaker(AGENT), snap.speaker(CUSTOMER)
        assert agent is not None
        assert cust is not None
        # A Final ends with its last word, a little before the line's scripted end.
        assert AGENT_TALK - 0.3 < agent.talk_seconds <= AGENT_TALK
        assert CUSTOMER_TALK - 0.3 < cust.talk_seconds <= CUSTOMER_TALK
        assert snap.overtalk_count == 1
        assert 0.85 < snap.overtalk_seconds <= 1.0
        assert snap.silence_count == 1
        assert snap.longest_silence is not None
        assert 8.0 <= snap.longest_silence.duration < 8.2
        w.transcript_view.refresh_insights()
        strip = w.transcript_view.insights.label.text()
        assert w.transcript_view.insights.isVisible()
        names = {raw: session.transcript.participant(raw).display_name for raw in (AGENT, CUSTOMER)}
        assert f"{names[AGENT]} 48% (00:11)" in strip
        assert f"{names[CUSTOMER]} 52% (00:12)" in strip
        assert f"Overtalk 1 ({snap.overtalk_seconds:.1f} s)" in strip
        assert "Long silences 1 (longest 8 s)" in strip
        assert "⚑ 2 alerts" in strip


async def test_identified_languages_are_marked_and_the_menu_changes_the_call(
    app, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path, scenario="multilingual", speed=8.0) as console:
        w = console.window
        w.settings.apply(dataclasses.replace(w.prefs, detect_languages=["en-US", "fr-FR", "de-DE"]))
        tc = w.transcription
        assert tc.intelligence.text() == "Intelligence (1)"
        session = await place_and_transcribe(console, qtbot, "+15550100187")
        t = session.transcript
        # Lines in French and German come identified, and are marked; English ones are not.
        await wait_until(
            lambda: {p.language for p in t.finals} >= {"fr-FR", "de-DE"}, what="both languages"
        )
        shown = "\n".join(_pane_text(w, raw_id) for raw_id in w.transcript_view.panes)
        assert "  fr-FR" in shown
        assert "  de-DE" in shown
        assert "  en-US" not in shown
        # The service chooses the language: the list says why it is not used.
        assert not tc.locale.isEnabled()
        assert "identifying the language among en-US, fr-FR, de-DE" in tc.locale.toolTip()

        # Sentiment asked for mid-call, from the panel's menu: later Finals carry it.
        assert not tc.sentiment_action.isChecked()
        before = t.final_count
        tc.sentiment_action.trigger()
        await wait_until(lambda: session.intelligence.sentiment, what="sentiment on")
        await wait_until(
            lambda: any(p.sentiment for p in t.finals[before:]), what="a Final with sentiment"
        )
        assert tc.sentiment_action.isChecked()
        assert "sentiment" in tc.intelligence.toolTip()
