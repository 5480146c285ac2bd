"""What a call asks the service for beyond transcription, as set in Settings or on the command
line: checked once, all off by default, unusable settings falling back with a log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from console.acs.calls import CallService, CallServiceError
from console.acs.intelligence import MAX_LOCALES, IntelligenceSettings, check_locales
from console.config import Preferences
from console.launch import alert_rules_from, intelligence_from
from console.transcript.alerts import DEFAULT_PHRASES, AlertRules


def test_all_off_by_default_and_nothing_asked() -> None:
    off = IntelligenceSettings()
    assert not off.requested
    assert off.to_dict() == {
        "locales": [],
        "sentiment": False,
        "service_redaction": False,
        "end_call_summary": False,
    }
    for one in (
        IntelligenceSettings(locales=("en-US", "es-ES")),
        IntelligenceSettings(sentiment=True),
        IntelligenceSettings(service_redaction=True),
        IntelligenceSettings(end_call_summary=True),
    ):
        assert one.requested


def test_languages_to_detect_among_are_checked_and_made_canonical() -> None:
    assert check_locales(["en-us", " es-ES "]) == ("en-US", "es-ES")
    assert check_locales([]) == ()
    with pytest.raises(ValueError, match="at least two"):
        check_locales(["en-US"])
    with pytest.raises(ValueError, match=f"at most {MAX_LOCALES}"):
        check_locales(["en-US", "es-ES", "fr-FR", "de-DE", "it-IT"])
    with pytest.raises(ValueError, match="given twice"):
        check_locales(["en-US", "EN-us"])
    with pytest.raises(ValueError, match="region"):
        check_locales(["en-US", "fr"])
    assert IntelligenceSettings(("fr-fr", "de-de"), True).checked() == IntelligenceSettings(
        ("fr-FR", "de-DE"), True
    )


def test_preferences_keep_the_settings_and_their_defaults(tmp_path: Path) -> None:
    prefs = Preferences()
    assert prefs.alert_phrases == list(DEFAULT_PHRASES)
    assert prefs.negative_streak == 3
    assert (prefs.detect_languages, prefs.sentiment_analysis, prefs.service_redaction) == (
        [],
        False,
        False,
    )
    prefs.alert_phrases = ["refund*"]
    prefs.detect_languages = ["en-US", "es-ES"]
    prefs.sentiment_analysis = True
    prefs.save(tmp_path)
    again = Preferences.load(tmp_path)
    assert again.alert_phrases == ["refund*"]
    assert intelligence_from(again) == IntelligenceSettings(("en-US", "es-ES"), True, False)
    assert alert_rules_from(again) == AlertRules(("refund*",), 3)


def test_unusable_settings_fall_back_and_say_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "settings.json").write_text(
        json.dumps(
            {
                "detect_languages": ["en-US"],
                "sentiment_analysis": True,
                "alert_phrases": ["re:(broken"],
                "negative_streak": 7,
            }
        ),
        encoding="utf-8",
    )
    prefs = Preferences.load(tmp_path)
    with caplog.at_level(logging.WARNING):
        assert intelligence_from(prefs) == IntelligenceSettings(sentiment=True)
        assert alert_rules_from(prefs) == AlertRules()
    assert "language detection in the settings is off" in caplog.text
    assert "alert rules in the settings cannot be used" in caplog.text


async def test_the_call_service_refuses_what_it_cannot_send() -> None:
    async with CallService("endpoint=https://127.0.0.1:9/;accesskey=dGVzdA==") as calls:
        with pytest.raises(CallServiceError, match="nothing to change"):
            await calls.update_transcription("cc", locale=None)
        with pytest.raises(CallServiceError, match="at least two"):
            await calls.start_transcription(
                "cc", locale="en-US", intelligence=IntelligenceSettings(locales=("en-US",))
            )
