"""Digit runs, written ("4472 1234", "(425) 555-0100") and spoken ("forty four seventy two",
"double four", "oh", "um" between groups): what they are made of, before anyone says what they are.

A run is a sequence of digit groups and spoken numbers joined by what people put between the
groups of one number: spaces, dashes (written or said), dots (425.555.0100), brackets, a comma
between spoken groups, hesitations. Display-form numbers that are never identifiers are found
first by one regex (``_NEAR_MISS``) and kept out of runs. Also here: the card checks (issuer,
length, Luhn) that both the classifier and the joining of pieces rely on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from console.transcript.redaction_tokens import (
    DIGITS,
    FILLERS,
    MULTIPLIERS,
    PUNCT,
    REPEATS,
    TEENS,
    TENS,
    UNITS,
    WORD,
    Token,
)

# Written numbers that are never identifiers: their tokens never join a digit run.
_NEAR_MISS = re.compile(
    r"""
      (?<![\w:])\d{1,2}:\d{2}(?::\d{2})?(?!\d)                  # times: 10:30, 9:05:12
    | (?<![\w/.])\d{1,4}[/.]\d{1,2}[/.]\d{1,4}(?![\w/]|[.]\d)   # dates: 12/03/2026, 12.03.2026
    | (?<![\w/])\d{1,4}/\d{1,4}(?![\w/])                        # 12/03, 3/4
    | (?<![\w-])(?:19|20)\d\d-(?:0?[1-9]|1[0-2])-(?:0?[1-9]|[12]\d|3[01])(?![\w-])  # 2026-03-12
    | (?<![\w-])(?:0?[1-9]|[12]\d|3[01])-(?:0?[1-9]|[12]\d|3[01])-(?:19|20)\d\d(?![\w-])
    | [$£€¥]\s?\d[\d,]*(?:[.]\d+)?                              # prices: $1,299.00
    | (?<![\w.,])\d{1,3}(?:,\d{3})+(?:[.]\d+)?                  # 12,500 / 1,299.99
    | (?<![\w.])\d+[.]\d+(?![.]?\d)                             # decimals: 49.99 (not 425.555.0100)
    | \d+(?:[.]\d+)?\s?%                                        # percentages
    | (?<![\w.])\d{1,3}(?:[.]\d{1,3}){3}(?![.]?\d)               # IP addresses
    | (?<![\w-])(?=[\w-]*[^\W\d_])(?=[\w-]*\d)\w+(?:-\w+)*      # codes: ORD-55812, 10th
    """,
    re.VERBOSE,
)

# Punctuation that may join the groups of one number.
_JOINERS = frozenset({"-", "–", "—", "(", ")", ",", "."})
_SPOKEN_JOINERS = frozenset({"dash", "hyphen"})
_DASHES = frozenset({"-", "–", "—"}) | _SPOKEN_JOINERS

# Words a run may start with.
STARTERS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | frozenset(REPEATS) | {"plus"}


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check every payment card number passes."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        v = ord(ch) - 48
        if i & 1:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return total % 10 == 0


def mark_near_misses(text: str, tokens: list[Token], taken: list[bool]) -> None:
    """Mark the tokens of times, dates, prices, decimals, percentages and codes as taken."""
    k = 0
    n = len(tokens)
    for m in _NEAR_MISS.finditer(text):
        s, e = m.span()
        while k < n and tokens[k].end <= s:
            k += 1
        j = k
        while j < n and tokens[j].start < e:
            taken[j] = True
            j += 1


@dataclass(slots=True)
class Run:
    first: int  # token index of the run's first token
    last: int  # token index of its last token
    digits: str = ""
    groups: tuple[int, ...] = ()  # sizes of the written digit groups, in order
    spoken: bool = False
    plus: bool = False
    elements: int = 0
    pieces: list[str] = field(default_factory=list)  # each element's digits
    dashed: tuple[int, ...] = ()  # digits between dashes
    amounts: int = 0  # elements that are cardinal amounts ("two hundred fifty thousand")


def _small(tokens: list[Token], k: int, n: int, taken: list[bool]) -> tuple[int, int] | None:
    """A spoken number below 100 at ``tokens[k]``: (value, next index)."""
    if k >= n or taken[k] or tokens[k].kind != WORD:
        return None
    low = tokens[k].low
    if low in TEENS:
        return TEENS[low], k + 1
    if low in TENS:
        value = TENS[low]
        if k + 1 < n and not taken[k + 1] and UNITS.get(tokens[k + 1].low, 0) > 0:
            return value + UNITS[tokens[k + 1].low], k + 2
        return value, k + 1
    if low in UNITS:
        return UNITS[low], k + 1
    return None


def spoken_number(
    tokens: list[Token], k: int, n: int, taken: list[bool]
) -> tuple[str, int, bool] | None:
    """One spoken number at ``tokens[k]``: (its digits, next index, whether it is an amount).

    Digit reading ("four", "forty four", "double four", "oh", "eight hundred") gives the digits
    as said; a cardinal with thousands ("two hundred fifty thousand") is an amount.
    """
    low = tokens[k].low
    if low in REPEATS:
        nxt = k + 1
        if nxt < n and not taken[nxt] and tokens[nxt].low in UNITS:
            return str(UNITS[tokens[nxt].low]) * REPEATS[low], nxt + 1, False
        return None
    small = _small(tokens, k, n, taken)
    if small is None:
        return None
    value, j = small
    if low in ("oh", "o", "zero", "nought", "naught", "nil"):
        return "0", j, False
    total = 0
    amount = False
    while j < n and not taken[j]:
        word = tokens[j].low
        if word == "hundred" and 0 < value < 100:
            value *= 100
            j += 1
            # "one hundred and five", "one hundred twenty": the tail belongs to the hundred;
            # a bare unit after it is the next digit read ("oh one hundred four ...").
            tail_at = j + 1 if j < n and tokens[j].low == "and" else j
            tail = _small(tokens, tail_at, n, taken)
            if tail is not None and (tail_at > j or tokens[tail_at].low not in UNITS):
                value += tail[0]
                j = tail[1]
        elif word in MULTIPLIERS and word != "hundred" and value > 0:
            total += value * MULTIPLIERS[word]
            value = 0
            amount = True
            j += 1
            tail_at = j + 1 if j < n and tokens[j].low == "and" else j
            tail = _small(tokens, tail_at, n, taken)
            if tail is None:
                break
            value, j = tail
        else:
            break
    return str(total + value), j, amount


def scan(tokens: list[Token], i: int, taken: list[bool]) -> Run | None:
    """The digit run starting at ``tokens[i]``, if one does."""
    n = len(tokens)
    t = tokens[i]
    j = i
    plus = False
    if t.kind == PUNCT:
        nxt = tokens[i + 1] if i + 1 < n else None
        if nxt is None or taken[i + 1] or nxt.kind != DIGITS or nxt.start != t.end:
            return None
        if t.low == "+":
            plus = True
        elif t.low != "(":
            return None
        j = i + 1
    elif t.kind == WORD and t.low == "plus":
        plus = True
        j = i + 1
        if j >= n or taken[j]:
            return None
    run = Run(first=i, last=i, plus=plus)
    digits: list[str] = []
    groups: list[int] = []
    dashed: list[int] = [0]  # digits between dashes, written or spoken: 123-45-6789
    prev: Token | None = None
    while j < n and not taken[j]:
        tok = tokens[j]
        if tok.kind == DIGITS:
            digits.append(tok.low)
            groups.append(len(tok.low))
            nxt_j = j + 1
        elif tok.kind == WORD:
            spoken = spoken_number(tokens, j, n, taken)
            if spoken is None:
                break
            digits.append(spoken[0])
            nxt_j = spoken[1]
            run.spoken = True
            run.amounts += spoken[2]
        else:
            break
        run.elements += 1
        run.pieces.append(digits[-1])
        dashed[-1] += len(digits[-1])
        run.last = nxt_j - 1
        prev = tokens[run.last]
        # What joins this group to the next one, if anything does.
        k = nxt_j
        if (
            groups == [2, 2, 2]
            and k == run.first + 5
            and tokens[run.first + 1].low == "-"
            and (k >= n or tokens[k].kind == DIGITS)
        ):
            break  # a sort code, 20-00-00, ends where an account number after it starts
        gap = 0
        while k < n and not taken[k] and gap < 3:
            g = tokens[k]
            if g.kind == PUNCT and g.low in _JOINERS:
                if g.low == "." and not (
                    prev.kind == DIGITS
                    and prev.end == g.start
                    and k + 1 < n
                    and tokens[k + 1].kind == DIGITS
                    and tokens[k + 1].start == g.end
                ):
                    break
                # A comma joins spoken groups ("four four seven two, one two ..."), never
                # written ones ("2019, 2020").
                if g.low == "," and (
                    prev.kind == DIGITS
                    or k + 1 >= n
                    or tokens[k + 1].kind == DIGITS
                    or tokens[k + 1].start == g.end
                ):
                    break
                if g.low == ")" and prev.kind == DIGITS and prev.end == g.start:
                    run.last = k  # the closing bracket of "(425)" belongs to the number
            elif g.kind == WORD and (g.low in FILLERS or g.low in _SPOKEN_JOINERS):
                pass
            else:
                break
            if g.low in _DASHES:
                dashed.append(0)
            k += 1
            gap += 1
        j = k
    if not digits:
        return None
    run.digits = "".join(digits)
    run.groups = tuple(groups)
    run.dashed = tuple(d for d in dashed if d)
    return run


def card_like(d: str) -> bool:
    """Whether digits have a card's issuer prefix and length (whatever their check digit)."""
    n = len(d)
    if n == 15:
        ok = d[:2] in ("34", "37")
    elif n == 16:
        ok = d[0] == "4" or "51" <= d[:2] <= "55" or "2221" <= d[:4] <= "2720" or d[:4] == "6011"
        ok = ok or d[:2] == "65"
    else:
        ok = n in (13, 19) and d[0] == "4"
    return ok


def is_card(d: str) -> bool:
    """A complete card number: issuer prefix, length and Luhn check (joining two pieces of
    speech is only safe when what they make is this specific)."""
    return card_like(d) and luhn_ok(d)
