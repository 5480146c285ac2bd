"""International bank account numbers, written ("GB29 NWBK 6016 1331 9268 19") and spoken
letter by letter and digit by digit ("g b two nine n w b k six oh one six ...").

Either way, an IBAN is found only when its ISO 13616 mod-97 check passes: that check is what
tells an IBAN from a name spelled out or a string of digits. Spoken, the country says how long
the IBAN is and where its bank code's letters are, which also settles whether "o"/"oh" is the
letter or zero.
"""

from __future__ import annotations

import re

from console.transcript.redaction_runs import spoken_number
from console.transcript.redaction_tokens import DIGITS, FILLERS, WORD, Token, take_span

_WRITTEN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")


def _layout(spec: str) -> str:
    """ "4a14n" -> "aaaannnnnnnnnnnnnn": a letter (a), a digit (n) or either (c) per place."""
    return "".join(kind * int(count) for count, kind in re.findall(r"(\d+)([anc])", spec))


# The basic bank account number after the country and the check digits, per country (the
# SWIFT IBAN registry's formats, for the countries a European or UK contact centre hears).
_BBAN = {
    country: _layout(spec)
    for country, spec in {
        "AT": "16n",
        "BE": "12n",
        "BG": "4a6n8c",
        "CH": "5n12c",
        "CY": "8n16c",
        "CZ": "20n",
        "DE": "18n",
        "DK": "14n",
        "EE": "16n",
        "ES": "20n",
        "FI": "14n",
        "FR": "10n11c2n",
        "GB": "4a14n",
        "GR": "7n16c",
        "HR": "17n",
        "HU": "24n",
        "IE": "4a14n",
        "IS": "22n",
        "IT": "1a10n12c",
        "LT": "16n",
        "LU": "3n13c",
        "LV": "4a13c",
        "MT": "4a5n18c",
        "NL": "4a10n",
        "NO": "11n",
        "PL": "24n",
        "PT": "21n",
        "RO": "4a16c",
        "SE": "20n",
        "SI": "15n",
        "SK": "20n",
    }.items()
}
_ZERO_OR_O = frozenset({"o", "oh"})
_SKIPPED = FILLERS | {"dash", "hyphen", "space"}


def iban_ok(iban: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (no spaces)."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def written_ibans(text: str, tokens: list[Token], taken: list[bool]) -> list[tuple[int, int]]:
    """Spans of written IBANs; their tokens become taken."""
    found: list[tuple[int, int]] = []
    for m in _WRITTEN.finditer(text):
        if iban_ok(m.group().replace(" ", "")):
            s, e = m.span()
            found.append((s, e))
            take_span(tokens, taken, s, e)
    return found


def _letter(t: Token) -> bool:
    return t.kind == WORD and len(t.low) == 1


def _spoken_at(tokens: list[Token], k: int, taken: list[bool]) -> int | None:
    """The index of the last token of a spoken IBAN starting at ``tokens[k]``, if one does."""
    n = len(tokens)
    country = (tokens[k].low + tokens[k + 1].low).upper()
    bban = _BBAN.get(country)
    if bban is None:
        return None
    layout = "nn" + bban  # the check digits, then the account
    chars = [country]
    j = k + 2
    placed = 0
    while placed < len(layout) and j < n and not taken[j]:
        t = tokens[j]
        want = layout[placed]
        if t.low in _ZERO_OR_O:
            got, nxt = ("O" if want == "a" else "0"), j + 1
        elif _letter(t):
            got, nxt = t.low.upper(), j + 1
        elif t.kind == DIGITS:
            got, nxt = t.low, j + 1
        elif t.low in _SKIPPED and placed:
            j += 1
            continue
        else:
            said = spoken_number(tokens, j, n, taken)
            if said is None or said[2]:
                return None
            got, nxt = said[0], said[1]
        for ch in got:
            kind = layout[placed] if placed < len(layout) else ""
            if not kind or (kind == "a" and not ch.isalpha()) or (kind == "n" and not ch.isdigit()):
                return None
            placed += 1
        chars.append(got)
        last = nxt - 1
        j = nxt
    if placed < len(layout) or not iban_ok("".join(chars)):
        return None
    return last


# A country's two letters said one after the other, then more: where a spoken IBAN starts. Most
# texts have none, and a search that starts at a space is far cheaper than one at every
# character, or than looking at every token.
_LETTER_PAIR = re.compile(r" [a-zA-Z] [a-zA-Z] ")


def spoken_ibans(text: str, tokens: list[Token], taken: list[bool]) -> list[tuple[int, int]]:
    """Token index ranges [first, last] of IBANs read out; their tokens become taken."""
    found: list[tuple[int, int]] = []
    if not (_LETTER_PAIR.search(text) or _LETTER_PAIR.match(f" {text[:4]}")):
        return found
    k = 0
    n = len(tokens)
    while k + 1 < n:
        if _letter(tokens[k]) and _letter(tokens[k + 1]) and not (taken[k] or taken[k + 1]):
            last = _spoken_at(tokens, k, taken)
            if last is not None:
                found.append((k, last))
                for i in range(k, last + 1):
                    taken[i] = True
                k = last + 1
                continue
        k += 1
    return found
