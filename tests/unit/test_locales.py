"""Transcription locales: the list, validation messages and the searchable dropdown."""

from __future__ import annotations

import re

import pytest

from console.acs.locales import (
    DEFAULT_LOCALE,
    LOCALES,
    InvalidLocaleError,
    display_name,
    find_locales,
    get,
    is_known,
    unlisted_notice,
    validate_locale,
)

REQUIRED = {
    "en-US": "English (United States)",
    "en-GB": "English (United Kingdom)",
    "en-AU": "English (Australia)",
    "en-CA": "English (Canada)",
    "en-IN": "English (India)",
    "es-ES": "Spanish (Spain)",
    "es-MX": "Spanish (Mexico)",
    "fr-FR": "French (France)",
    "fr-CA": "French (Canada)",
    "de-DE": "German (Germany)",
    "it-IT": "Italian (Italy)",
    "pt-BR": "Portuguese (Brazil)",
    "pt-PT": "Portuguese (Portugal)",
    "ja-JP": "Japanese (Japan)",
    "ko-KR": "Korean (Korea)",
    "zh-CN": "Chinese (Mandarin, Simplified)",
    "nl-NL": "Dutch (Netherlands)",
    "sv-SE": "Swedish (Sweden)",
}


def test_list_is_large_and_unique() -> None:
    assert len(LOCALES) >= 40
    codes = [loc.code for loc in LOCALES]
    assert len({c.lower() for c in codes}) == len(codes)
    assert codes == sorted(codes, key=str.lower)


@pytest.mark.parametrize(("code", "name"), sorted(REQUIRED.items()))
def test_required_locales_present_with_names(code: str, name: str) -> None:
    assert is_known(code)
    assert display_name(code) == name


def test_every_locale_is_region_qualified_and_named() -> None:
    for loc in LOCALES:
        assert re.fullmatch(r"[a-z]{2,3}-[A-Z]{2}(-[a-z]+)?", loc.code), loc.code
        assert loc.name
        assert loc.name[0].isupper() or loc.name.startswith("isi"), loc.name
        assert loc.label == f"{loc.name} — {loc.code}"


def test_default_is_known() -> None:
    assert is_known(DEFAULT_LOCALE)


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("en-US", "en-US"),
        ("en-us", "en-US"),
        ("EN-GB", "en-GB"),
        ("  fr-ca  ", "fr-CA"),
        ("de_DE", "de-DE"),
        ("zh-cn-SICHUAN", "zh-CN-sichuan"),
        ("fil-ph", "fil-PH"),
    ],
)
def test_validate_returns_canonical_form(text: str, canonical: str) -> None:
    assert validate_locale(text) == canonical


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty(text: str | None) -> None:
    with pytest.raises(InvalidLocaleError) as info:
        validate_locale(text)
    assert info.value.reason == "empty"
    assert "en-US" in str(info.value)


@pytest.mark.parametrize(
    ("text", "examples"),
    [("en", "en-US or en-GB"), ("FR", "fr-FR or fr-CA"), ("sv", "sv-SE"), ("xx", "en-US")],
)
def test_language_without_region(text: str, examples: str) -> None:
    with pytest.raises(InvalidLocaleError) as info:
        validate_locale(text)
    assert info.value.reason == "no_region"
    message = str(info.value)
    assert "Choose a locale with a region" in message
    assert examples in message


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("en-US-NancyNeural", "en-US"),
        ("de-DE-KatjaNeural", "de-DE"),
        ("en-us-AvaMultilingualNeural", "en-US"),
        ("en-US-Ava:DragonHDLatestNeural", "en-US"),
    ],
)
def test_voice_name(text: str, locale: str) -> None:
    with pytest.raises(InvalidLocaleError) as info:
        validate_locale(text)
    assert info.value.reason == "voice_name"
    message = str(info.value)
    assert "text-to-speech voice name, not a locale" in message
    assert locale in message


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("en-XX", "en-XX"),
        ("de-br", "de-BR"),
        ("zh-CN-henan", "zh-CN-henan"),
        ("qq-QQ", "qq-QQ"),
        ("es-419", "es-419"),
        ("ZH-hans-cn", "zh-Hans-CN"),
        ("mi-nz", "mi-NZ"),
        ("zh-cn-GUANGXI", "zh-CN-guangxi"),
    ],
)
def test_well_formed_locales_not_in_the_list_are_accepted_with_a_notice(
    text: str, canonical: str
) -> None:
    # Azure adds locales over time: a well-formed one is sent, and the operator is told.
    assert validate_locale(text) == canonical
    notice = unlisted_notice(canonical)
    assert notice is not None
    assert canonical in notice
    assert unlisted_notice("en-US") is None


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("en-USA", "en-US, en-GB"),
        ("de-BRA", "de-DE"),
        ("klingon", "such as en-US"),
        ("english", "such as en-US"),
        ("1234", "such as en-US"),
        ("x" * 500, "such as en-US"),
    ],
)
def test_not_in_list(text: str, hint: str) -> None:
    with pytest.raises(InvalidLocaleError) as info:
        validate_locale(text)
    assert info.value.reason == "unknown"
    message = str(info.value)
    assert "not a locale that real-time transcription supports" in message
    assert hint in message
    assert len(message) < 300  # hostile input is not echoed in full


def test_invalid_locale_error_is_value_error() -> None:
    assert issubclass(InvalidLocaleError, ValueError)


def test_is_known_and_get() -> None:
    assert is_known("EN-us")
    assert not is_known("en")
    assert not is_known("")
    assert not is_known(None)
    loc = get("pt-br")
    assert loc is not None
    assert (loc.code, loc.name, loc.language) == ("pt-BR", "Portuguese (Brazil)", "pt")
    assert get("zz-ZZ") is None
    assert display_name("zz-ZZ") == "zz-ZZ"


def test_find_empty_query_lists_everything() -> None:
    assert find_locales("") == list(LOCALES)
    assert find_locales(None) == list(LOCALES)


def test_find_by_code_puts_exact_match_first() -> None:
    found = [loc.code for loc in find_locales("en-us")]
    assert found[0] == "en-US"
    assert "es-US" not in found


def test_find_by_code_prefix() -> None:
    found = [loc.code for loc in find_locales("EN")]
    assert found[:3] == ["en-AU", "en-CA", "en-GB"]
    assert all(code.startswith("en-") for code in found[: len(found) // 2])


def test_find_by_name_is_case_insensitive() -> None:
    found = [loc.code for loc in find_locales("SPANISH")]
    assert "es-ES" in found
    assert "es-MX" in found
    assert all(get(code).name.startswith("Spanish") for code in found)  # type: ignore[union-attr]


def test_find_by_word_inside_name() -> None:
    found = [loc.code for loc in find_locales("canada")]
    assert found == ["en-CA", "fr-CA"]
    assert [loc.code for loc in find_locales("simplified")] == [
        "wuu-CN",
        "yue-CN",
        "zh-CN",
        "zh-CN-shandong",
        "zh-CN-sichuan",
    ]


def test_find_nothing() -> None:
    assert find_locales("zzzz") == []
