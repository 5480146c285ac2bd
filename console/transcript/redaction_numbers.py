"""Digit runs, written ("4472 1234", "(425) 555-0100") and spoken ("forty four seventy two",
"double four", "oh", "um" between groups), and what each one is: a card, a phone number, an
account or sort code, an SSN, or nothing to hide (a time, a price, a date, a quantity, a year,
an order number).

A run is a sequence of digit groups and spoken numbers joined by what people put between the
groups of one number: spaces, dashes (written or said), dots (425.555.0100), brackets, a comma
between spoken groups, hesitations. Display-form numbers that are never identifiers are found
first by one regex (``_NEAR_MISS``) and kept out of runs. What a run is follows from its digits
(how many, Luhn, phone number plans), its grouping, and the nearest word that says what it is
("card", "phone", "account", "social", "order", ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from console.transcript.redaction_tokens import (
    CONTEXT_WORDS,
    CURRENCY_WORDS,
    DIGITS,
    FILLERS,
    KEEP,
    MULTIPLIERS,
    PUNCT,
    REPEATS,
    TEENS,
    TENS,
    UNIT_WORDS,
    UNITS,
    WORD,
    Token,
    take_span,
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

# International bank account numbers, written: country, check digits, then the account.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")

# Punctuation that may join the groups of one number.
_JOINERS = frozenset({"-", "–", "—", "(", ")", ",", "."})
_SPOKEN_JOINERS = frozenset({"dash", "hyphen"})
_DASHES = frozenset({"-", "–", "—"}) | _SPOKEN_JOINERS
# Upper-case words before digits that are not product or model names.
_NOT_MODELS = frozenset({"id", "pin", "no", "nr", "num", "acc", "a", "i", "ok", "okay"})

# Words a run may start with.
_STARTERS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS) | frozenset(REPEATS) | {"plus"}

CARD = "CARD"
PHONE = "PHONE"
ACCOUNT = "ACCOUNT"
SSN = "SSN"


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


def _iban_ok(iban: str) -> bool:
    """The ISO 13616 mod-97 check of an IBAN (spaces removed)."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def find_ibans(text: str, tokens: list[Token], taken: list[bool]) -> list[tuple[int, int]]:
    """Spans of written IBANs ("GB29 NWBK 6016 1331 9268 19"); their tokens become taken."""
    found: list[tuple[int, int]] = []
    for m in _IBAN.finditer(text):
        if _iban_ok(m.group().replace(" ", "")):
            s, e = m.span()
            found.append((s, e))
            take_span(tokens, taken, s, e)
    return found


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
class _Run:
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


def _spoken(tokens: list[Token], k: int, n: int, taken: list[bool]) -> tuple[str, int, bool] | None:
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


def _scan(tokens: list[Token], i: int, taken: list[bool]) -> _Run | None:
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
    run = _Run(first=i, last=i, plus=plus)
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
            spoken = _spoken(tokens, j, n, taken)
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


def _context(tokens: list[Token], run: _Run) -> str | None:
    """What the nearest telling word before the run (or else just after it) says it is."""
    k = run.first - 1
    words = 0
    while k >= 0 and words < 12:
        t = tokens[k]
        if t.kind == WORD:
            kind = CONTEXT_WORDS.get(t.low)
            if kind is not None:
                return kind
            # "s s n"
            if t.low == "n" and k >= 2 and tokens[k - 1].low == "s" and tokens[k - 2].low == "s":
                return SSN
            words += 1
        k -= 1
    # After the run, only up to the next number: a word beyond it speaks of that one
    # ("3782 822463 10005, expiry 10/27").
    k = run.last + 1
    words = 0
    while k < len(tokens) and words < 6:
        t = tokens[k]
        if t.kind == DIGITS or t.low in _STARTERS:
            break
        if t.kind == WORD:
            kind = CONTEXT_WORDS.get(t.low)
            if kind is not None:
                return kind
            words += 1
        k += 1
    return None


def _spoken_date(pieces: list[str]) -> bool:
    """Whether spoken numbers end with a year ("nineteen eighty five", "twenty twenty six",
    "two thousand five") after at most a month and a day: "oh three twelve nineteen eighty five".
    """
    if len(pieces) >= 2 and pieces[-2] in ("19", "20") and len(pieces[-1]) == 2:
        rest = len(pieces) - 2
    elif pieces and len(pieces[-1]) == 4 and pieces[-1][:2] in ("19", "20"):
        rest = len(pieces) - 1
    else:
        return False
    return rest > 0 and sum(len(p) for p in pieces[:rest]) <= 4


def _phone_shaped(run: _Run) -> bool:
    d = run.digits
    n = len(d)
    if n == 10:
        return d[0] in "23456789" and (run.spoken or run.groups in ((3, 3, 4), (10,)))
    if n == 11 and d[0] == "1":
        return d[1] in "23456789"
    if n == 11 and d[0] == "0":
        return d[1] != "0"  # UK national: 020 7946 0958, 07700 900123
    if n == 12 and d.startswith("44"):
        return d[2] != "0"  # UK with the country code, no plus
    return n == 7 and not run.spoken and run.groups == (3, 4)


def _classify(text: str, tokens: list[Token], run: _Run) -> str | None:
    d = run.digits
    n = len(d)
    if n < 6:
        return None
    before = tokens[run.first - 1] if run.first > 0 else None
    after = tokens[run.last + 1] if run.last + 1 < len(tokens) else None
    # Amounts, quantities, times: "$ 1299", "USD 250000", "250000 units", "45 %".
    if before is not None and (
        (before.kind == PUNCT and before.low in "$£€¥#")
        or (before.kind == WORD and before.low in CURRENCY_WORDS)
    ):
        return None
    if after is not None and (
        (after.kind == WORD and after.low in UNIT_WORDS)
        or (after.kind == PUNCT and after.low == "%")
    ):
        return None
    if run.amounts and run.amounts == run.elements:
        return None
    if run.spoken and _spoken_date(run.pieces):
        return None
    if run.plus:
        return PHONE if n <= 15 else ACCOUNT
    if (run.groups == (3, 2, 4) and not run.spoken) or run.dashed == (3, 2, 4):
        return SSN
    context = _context(tokens, run)
    # A card is 13 to 19 digits that pass the Luhn check, whatever is said around them (a
    # number that fails it is some other number, an account at most).
    card_shaped = run.spoken or len(run.groups) == 1 or min(run.groups[:-1]) >= 3
    if 13 <= n <= 19 and card_shaped and luhn_ok(d) and not (context == PHONE and n <= 15):
        return CARD
    if context == KEEP:
        return None
    if context == SSN and n == 9:
        return SSN
    if context == PHONE and 7 <= n <= 15:
        return PHONE
    if context == ACCOUNT:
        return ACCOUNT
    if _phone_shaped(run):
        return PHONE
    # "1250000": a round written number with no telling word is an amount.
    if len(run.groups) == 1 and not run.spoken and d.endswith("0000") and context is None:
        return None
    # "XPS 139320": digits after a product name are a model number.
    if before is not None and before.kind == WORD and before.low not in _NOT_MODELS:
        word = text[before.start : before.end]
        if len(word) >= 2 and word.isupper() and before.low not in CONTEXT_WORDS:
            return None
    return ACCOUNT


def find_numbers(text: str, tokens: list[Token], taken: list[bool]) -> list[tuple[str, int, int]]:
    """(type, start, end) of every sensitive digit run among the tokens not yet taken."""
    found: list[tuple[str, int, int]] = []
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if (
            taken[i]
            or (t.kind == WORD and t.low not in _STARTERS)
            or (t.kind == PUNCT and t.low not in ("+", "("))
        ):
            i += 1
            continue
        run = _scan(tokens, i, taken)
        if run is None:
            i += 1
            continue
        kind = _classify(text, tokens, run)
        if kind is not None:
            found.append((kind, tokens[run.first].start, tokens[run.last].end))
        i = run.last + 1
    return found
