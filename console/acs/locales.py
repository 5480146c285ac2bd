"""Transcription locales: the Azure Speech real-time speech-to-text list, region-qualified.

ACS publishes no list of its own; it passes the locale to Azure Speech and rejects a missing
locale or one without a region (400/8523). The table follows the Speech service's
speech-to-text language-support table. Input is accepted in any letter case (the service
accepts "en-us") and returned in canonical form ("en-US").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Locale:
    code: str  # canonical BCP-47, e.g. "en-US"
    name: str  # English display name, e.g. "English (United States)"

    @property
    def language(self) -> str:
        return self.code.split("-", 1)[0]

    @property
    def label(self) -> str:
        """What a dropdown shows: "English (United States) — en-US"."""
        return f"{self.name} — {self.code}"


class InvalidLocaleError(ValueError):
    """The text is not a usable transcription locale; the message tells the operator why.

    ``reason`` is one of "empty", "no_region", "voice_name", "unknown".
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


DEFAULT_LOCALE = "en-US"

_TABLE: tuple[tuple[str, str], ...] = (
    ("af-ZA", "Afrikaans (South Africa)"),
    ("am-ET", "Amharic (Ethiopia)"),
    ("ar-AE", "Arabic (United Arab Emirates)"),
    ("ar-BH", "Arabic (Bahrain)"),
    ("ar-DZ", "Arabic (Algeria)"),
    ("ar-EG", "Arabic (Egypt)"),
    ("ar-IL", "Arabic (Israel)"),
    ("ar-IQ", "Arabic (Iraq)"),
    ("ar-JO", "Arabic (Jordan)"),
    ("ar-KW", "Arabic (Kuwait)"),
    ("ar-LB", "Arabic (Lebanon)"),
    ("ar-LY", "Arabic (Libya)"),
    ("ar-MA", "Arabic (Morocco)"),
    ("ar-OM", "Arabic (Oman)"),
    ("ar-PS", "Arabic (Palestinian Authority)"),
    ("ar-QA", "Arabic (Qatar)"),
    ("ar-SA", "Arabic (Saudi Arabia)"),
    ("ar-SY", "Arabic (Syria)"),
    ("ar-TN", "Arabic (Tunisia)"),
    ("ar-YE", "Arabic (Yemen)"),
    ("as-IN", "Assamese (India)"),
    ("az-AZ", "Azerbaijani (Latin, Azerbaijan)"),
    ("bg-BG", "Bulgarian (Bulgaria)"),
    ("bn-IN", "Bengali (India)"),
    ("bs-BA", "Bosnian (Bosnia and Herzegovina)"),
    ("ca-ES", "Catalan (Spain)"),
    ("cs-CZ", "Czech (Czechia)"),
    ("cy-GB", "Welsh (United Kingdom)"),
    ("da-DK", "Danish (Denmark)"),
    ("de-AT", "German (Austria)"),
    ("de-CH", "German (Switzerland)"),
    ("de-DE", "German (Germany)"),
    ("el-GR", "Greek (Greece)"),
    ("en-AU", "English (Australia)"),
    ("en-CA", "English (Canada)"),
    ("en-GB", "English (United Kingdom)"),
    ("en-GH", "English (Ghana)"),
    ("en-HK", "English (Hong Kong SAR)"),
    ("en-IE", "English (Ireland)"),
    ("en-IN", "English (India)"),
    ("en-KE", "English (Kenya)"),
    ("en-NG", "English (Nigeria)"),
    ("en-NZ", "English (New Zealand)"),
    ("en-PH", "English (Philippines)"),
    ("en-SG", "English (Singapore)"),
    ("en-TZ", "English (Tanzania)"),
    ("en-US", "English (United States)"),
    ("en-ZA", "English (South Africa)"),
    ("es-AR", "Spanish (Argentina)"),
    ("es-BO", "Spanish (Bolivia)"),
    ("es-CL", "Spanish (Chile)"),
    ("es-CO", "Spanish (Colombia)"),
    ("es-CR", "Spanish (Costa Rica)"),
    ("es-CU", "Spanish (Cuba)"),
    ("es-DO", "Spanish (Dominican Republic)"),
    ("es-EC", "Spanish (Ecuador)"),
    ("es-ES", "Spanish (Spain)"),
    ("es-GQ", "Spanish (Equatorial Guinea)"),
    ("es-GT", "Spanish (Guatemala)"),
    ("es-HN", "Spanish (Honduras)"),
    ("es-MX", "Spanish (Mexico)"),
    ("es-NI", "Spanish (Nicaragua)"),
    ("es-PA", "Spanish (Panama)"),
    ("es-PE", "Spanish (Peru)"),
    ("es-PR", "Spanish (Puerto Rico)"),
    ("es-PY", "Spanish (Paraguay)"),
    ("es-SV", "Spanish (El Salvador)"),
    ("es-US", "Spanish (United States)"),
    ("es-UY", "Spanish (Uruguay)"),
    ("es-VE", "Spanish (Venezuela)"),
    ("et-EE", "Estonian (Estonia)"),
    ("eu-ES", "Basque (Spain)"),
    ("fa-IR", "Persian (Iran)"),
    ("fi-FI", "Finnish (Finland)"),
    ("fil-PH", "Filipino (Philippines)"),
    ("fr-BE", "French (Belgium)"),
    ("fr-CA", "French (Canada)"),
    ("fr-CH", "French (Switzerland)"),
    ("fr-FR", "French (France)"),
    ("ga-IE", "Irish (Ireland)"),
    ("gl-ES", "Galician (Spain)"),
    ("gu-IN", "Gujarati (India)"),
    ("he-IL", "Hebrew (Israel)"),
    ("hi-IN", "Hindi (India)"),
    ("hr-HR", "Croatian (Croatia)"),
    ("hu-HU", "Hungarian (Hungary)"),
    ("hy-AM", "Armenian (Armenia)"),
    ("id-ID", "Indonesian (Indonesia)"),
    ("is-IS", "Icelandic (Iceland)"),
    ("it-CH", "Italian (Switzerland)"),
    ("it-IT", "Italian (Italy)"),
    ("ja-JP", "Japanese (Japan)"),
    ("jv-ID", "Javanese (Latin, Indonesia)"),
    ("ka-GE", "Georgian (Georgia)"),
    ("kk-KZ", "Kazakh (Kazakhstan)"),
    ("km-KH", "Khmer (Cambodia)"),
    ("kn-IN", "Kannada (India)"),
    ("ko-KR", "Korean (Korea)"),
    ("lo-LA", "Lao (Laos)"),
    ("lt-LT", "Lithuanian (Lithuania)"),
    ("lv-LV", "Latvian (Latvia)"),
    ("mk-MK", "Macedonian (North Macedonia)"),
    ("ml-IN", "Malayalam (India)"),
    ("mn-MN", "Mongolian (Mongolia)"),
    ("mr-IN", "Marathi (India)"),
    ("ms-MY", "Malay (Malaysia)"),
    ("mt-MT", "Maltese (Malta)"),
    ("my-MM", "Burmese (Myanmar)"),
    ("nb-NO", "Norwegian Bokmål (Norway)"),
    ("ne-NP", "Nepali (Nepal)"),
    ("nl-BE", "Dutch (Belgium)"),
    ("nl-NL", "Dutch (Netherlands)"),
    ("or-IN", "Odia (India)"),
    ("pa-IN", "Punjabi (India)"),
    ("pl-PL", "Polish (Poland)"),
    ("ps-AF", "Pashto (Afghanistan)"),
    ("pt-BR", "Portuguese (Brazil)"),
    ("pt-PT", "Portuguese (Portugal)"),
    ("ro-RO", "Romanian (Romania)"),
    ("ru-RU", "Russian (Russia)"),
    ("si-LK", "Sinhala (Sri Lanka)"),
    ("sk-SK", "Slovak (Slovakia)"),
    ("sl-SI", "Slovenian (Slovenia)"),
    ("so-SO", "Somali (Somalia)"),
    ("sq-AL", "Albanian (Albania)"),
    ("sr-ME", "Serbian (Montenegro)"),
    ("sr-RS", "Serbian (Cyrillic, Serbia)"),
    ("sr-XK", "Serbian (Kosovo)"),
    ("sv-SE", "Swedish (Sweden)"),
    ("sw-KE", "Kiswahili (Kenya)"),
    ("sw-TZ", "Kiswahili (Tanzania)"),
    ("ta-IN", "Tamil (India)"),
    ("te-IN", "Telugu (India)"),
    ("th-TH", "Thai (Thailand)"),
    ("tr-TR", "Turkish (Türkiye)"),
    ("uk-UA", "Ukrainian (Ukraine)"),
    ("ur-IN", "Urdu (India)"),
    ("uz-UZ", "Uzbek (Latin, Uzbekistan)"),
    ("vi-VN", "Vietnamese (Vietnam)"),
    ("wuu-CN", "Chinese (Wu, Simplified)"),
    ("yue-CN", "Chinese (Cantonese, Simplified)"),
    ("zh-CN", "Chinese (Mandarin, Simplified)"),
    ("zh-CN-shandong", "Chinese (Jilu Mandarin, Simplified)"),
    ("zh-CN-sichuan", "Chinese (Southwestern Mandarin, Simplified)"),
    ("zh-HK", "Chinese (Cantonese, Traditional)"),
    ("zh-TW", "Chinese (Taiwanese Mandarin, Traditional)"),
    ("zu-ZA", "isiZulu (South Africa)"),
)

LOCALES: tuple[Locale, ...] = tuple(Locale(code, name) for code, name in _TABLE)
_BY_LOWER: dict[str, Locale] = {loc.code.lower(): loc for loc in LOCALES}

# Examples offered when only a language was given; the most common variant first.
_PREFERRED = {
    "en": ("en-US", "en-GB"),
    "es": ("es-ES", "es-MX"),
    "fr": ("fr-FR", "fr-CA"),
    "de": ("de-DE", "de-AT"),
    "pt": ("pt-BR", "pt-PT"),
    "zh": ("zh-CN", "zh-TW"),
    "ar": ("ar-SA", "ar-EG"),
    "nl": ("nl-NL", "nl-BE"),
    "it": ("it-IT", "it-CH"),
}
_LANGUAGE_ONLY = re.compile(r"[a-z]{2,3}", re.I)
# A text-to-speech voice: locale, then a voice name ("en-US-NancyNeural", "en-US-Ava:DragonHD").
_VOICE = re.compile(r"([a-z]{2,3}-[a-z]{2})-([a-z]\S*)", re.I)
_SHAPE = re.compile(r"[a-z]{2,3}-[a-z0-9]{2,8}(?:-[a-z0-9]{1,8})*", re.I)


def is_known(code: str | None) -> bool:
    """Whether the code (any letter case) is in the list."""
    return isinstance(code, str) and code.strip().replace("_", "-").lower() in _BY_LOWER


def get(code: str) -> Locale | None:
    """The list entry for a code in any letter case, or None."""
    return _BY_LOWER.get(code.strip().replace("_", "-").lower()) if isinstance(code, str) else None


def display_name(code: str) -> str:
    """ "English (United States)" for "en-US"; the code itself when it is not in the list."""
    loc = get(code)
    return loc.name if loc else code


def _examples(language: str) -> str:
    language = language.lower()
    codes = (
        _PREFERRED.get(language)
        or tuple(loc.code for loc in LOCALES if loc.language == language)[:2]
    )
    codes = codes or _PREFERRED["en"]
    return " or ".join(codes)


# Any BCP-47 locale of the shape Azure Speech uses (language, optional script, region or UN M.49
# area, optional dialect): "en-US", "fil-PH", "zh-Hans-CN", "es-419", "zh-CN-shandong". Azure adds
# locales over time, so a well-formed one that is not in the list is sent, with a notice.
_WELL_FORMED = re.compile(r"[a-z]{2,3}(?:-[a-z]{4})?-(?:[a-z]{2}|\d{3})(?:-[a-z]+)?", re.I)


def canonical_locale(text: str) -> str:
    """The canonical spelling of a locale-shaped text, without checking it: ``en-us`` ->
    ``en-US``, ``zh-hans-cn`` -> ``zh-Hans-CN``, ``ZH-CN-SICHUAN`` -> ``zh-CN-sichuan`` (the
    service echoes locales in lower case, so every comparison goes through this)."""
    parts = [p for p in text.strip().replace("_", "-").split("-") if p]
    if not parts:
        return ""
    known = _BY_LOWER.get("-".join(parts).lower())
    if known is not None:
        return known.code
    out = [parts[0].lower()]
    for i, part in enumerate(parts[1:], start=1):
        if i == 1 and len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif (len(part) == 2 and part.isalpha()) or (len(part) == 3 and part.isdigit()):
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


def same_locale(a: str | None, b: str | None) -> bool:
    """Whether two locale texts name the same locale (case-insensitively)."""
    if not a or not b:
        return False
    return canonical_locale(a) == canonical_locale(b)


def unlisted_notice(code: str) -> str | None:
    """What to tell the operator about a valid locale that is not in the known list."""
    if is_known(code):
        return None
    return (
        f"{code} is not in this console's list of transcription locales. It is sent as "
        "typed; the service refuses it if Azure Speech does not support it."
    )


def validate_locale(text: str | None) -> str:
    """The canonical form of a transcription locale ("en-us" -> "en-US").

    A locale in the list, or any well-formed one (Azure adds locales; see
    :func:`unlisted_notice`), is accepted. Raises :class:`InvalidLocaleError` with an
    operator-readable message when the text is empty, a language without a region, a
    text-to-speech voice name, or not shaped like a locale.
    """
    value = (text or "").strip().replace("_", "-")
    if not value:
        raise InvalidLocaleError(
            f"Choose a transcription language, such as {DEFAULT_LOCALE} (English, United States).",
            "empty",
        )
    loc = _BY_LOWER.get(value.lower())
    if loc is not None:
        return loc.code
    shown = value[:40]
    if _LANGUAGE_ONLY.fullmatch(value):
        raise InvalidLocaleError(
            f'"{shown}" has no region. Choose a locale with a region, such as {_examples(value)}.',
            "no_region",
        )
    voice = _VOICE.fullmatch(value)
    # Voice names are capitalised ("Nancy") or end in "Neural"; a third part in one letter
    # case is more likely a dialect variant ("zh-CN-henan", "zh-CN-GUANGXI").
    name = voice.group(2) if voice else ""
    if (
        voice
        and voice.group(1).lower() in _BY_LOWER
        and ((name[0].isupper() and not name.isupper()) or "neural" in name.lower())
    ):
        base = _BY_LOWER[voice.group(1).lower()].code
        raise InvalidLocaleError(
            f'"{shown}" is a text-to-speech voice name, not a locale. Use its locale, '
            f"{base}, instead.",
            "voice_name",
        )
    if _WELL_FORMED.fullmatch(value):
        return canonical_locale(value)
    language = value.split("-", 1)[0]
    preferred = list(_PREFERRED.get(language.lower(), ()))
    same_language = preferred + [
        loc.code
        for loc in LOCALES
        if loc.language == language.lower() and loc.code not in preferred
    ]
    if _SHAPE.fullmatch(value) and same_language:
        hint = ", ".join(same_language[:6]) + (" and others" if len(same_language) > 6 else "")
        raise InvalidLocaleError(
            f'"{shown}" is not a locale that real-time transcription supports. For this '
            f"language choose one of: {hint}.",
            "unknown",
        )
    raise InvalidLocaleError(
        f'"{shown}" is not a locale that real-time transcription supports. Choose one from '
        f"the list, such as {DEFAULT_LOCALE} or en-GB.",
        "unknown",
    )


def find_locales(query: str | None) -> list[Locale]:
    """Locales whose code or name contains the query (case-insensitive), best matches first.

    An empty query gives the whole list. Order: exact code, code prefix, name prefix (or a
    word of the name), then any other match, each in list order.
    """
    q = (query or "").strip().replace("_", "-").lower()
    if not q:
        return list(LOCALES)
    ranked: list[tuple[int, int, Locale]] = []
    for index, loc in enumerate(LOCALES):
        code, name = loc.code.lower(), loc.name.lower()
        if code == q:
            rank = 0
        elif code.startswith(q):
            rank = 1
        elif name.startswith(q):
            rank = 2
        elif any(word.startswith(q) for word in re.findall(r"[^\W_]+", name)):
            rank = 3
        elif q in code or q in name or q in loc.label.lower():
            rank = 4
        else:
            continue
        ranked.append((rank, index, loc))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [loc for _, _, loc in ranked]
