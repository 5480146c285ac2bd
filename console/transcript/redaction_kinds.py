"""What a digit run is: a card, a phone number, an account or sort code, an SSN, or nothing to
hide (a time, a price, a date, a quantity, a year, an order number).

It follows from the run's digits (how many, Luhn, phone number plans), its grouping, and the
nearest word that says what it is ("card", "phone", "account", "social", "order", ...).
"""

from __future__ import annotations

from console.transcript.redaction_runs import (
    STARTERS,
    Run,
    card_like,
    is_card,
    luhn_ok,
)
from console.transcript.redaction_tokens import (
    CONTEXT_WORDS,
    CURRENCY_WORDS,
    DIGITS,
    IDENTITY_NOUNS,
    IDENTITY_NUMBERS,
    KEEP,
    NOT_TELLING_BEFORE,
    NUMBER_WORDS,
    PUNCT,
    UNIT_WORDS,
    WORD,
    Token,
    mask_at,
)

# Upper-case words before digits that are not product or model names.
_NOT_MODELS = frozenset({"id", "pin", "no", "nr", "num", "acc", "a", "i", "ok", "okay"})

CARD = "CARD"
PHONE = "PHONE"
ACCOUNT = "ACCOUNT"
SSN = "SSN"


def _telling(tokens: list[Token], k: int) -> str | None:
    """What the word at ``tokens[k]`` says the digits near it are, if anything: "card",
    "account's", "customer number"."""
    low = tokens[k].low
    if low.endswith("'s"):
        low = low[:-2]  # "social's nine five five ...", "the account's ..."
    if low in IDENTITY_NUMBERS and k > 0 and tokens[k - 1].low in IDENTITY_NOUNS:
        return ACCOUNT  # "customer reference", "frequent flyer number"
    kind = CONTEXT_WORDS.get(low)
    if kind in (PHONE, CARD) and k + 1 < len(tokens) and tokens[k + 1].low in NOT_TELLING_BEFORE:
        return None  # "the contract number on my phone bill is ..."
    return kind


def _context(tokens: list[Token], run: Run) -> str | None:
    """What the nearest telling word before the run (or else just after it) says it is."""
    k = run.first - 1
    words = 0
    while k >= 0 and words < 12:
        t = tokens[k]
        if t.kind == WORD and mask_at(tokens, k) is None:
            kind = _telling(tokens, k)
            if kind is not None:
                return kind
            # "s s n"
            if t.low == "n" and k >= 2 and tokens[k - 1].low == "s" and tokens[k - 2].low == "s":
                return SSN
            # Another number said before this one does not use up the window: "my social is
            # <nine digits> and my wife's is <nine digits>".
            if t.low not in NUMBER_WORDS:
                words += 1
        k -= 1
    # After the run, only up to the next number or the end of the clause: a word beyond them
    # speaks of something else ("3782 822463 10005, expiry 10/27", "5520318, postcode LS1").
    k = run.last + 1
    words = 0
    while k < len(tokens) and words < 6:
        t = tokens[k]
        if (
            t.kind == DIGITS
            or t.low in STARTERS
            or (t.kind == PUNCT and t.low in ",;.!?")
            or mask_at(tokens, k + 1) is not None  # a number masked before
        ):
            break
        if t.kind == WORD:
            kind = _telling(tokens, k)
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


def _phone_shaped(run: Run) -> bool:
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


def classify(text: str, tokens: list[Token], run: Run) -> str | None:
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
    if run.plus:
        return PHONE if n <= 15 else ACCOUNT
    if (run.groups == (3, 2, 4) and not run.spoken) or run.dashed == (3, 2, 4):
        return SSN
    # "(425) 555-0100": a bracketed area code is a phone's, whatever is said around it.
    if not run.spoken and tokens[run.first].low == "(" and run.groups in ((3, 3, 4), (3, 7)):
        return PHONE
    context = _context(tokens, run)
    # "nineteen eighty five" ends a date, unless the digits are said to be something else
    # ("sort code eighty two nineteen forty").
    if run.spoken and context not in (ACCOUNT, SSN, PHONE) and _spoken_date(run.pieces):
        return None
    # A card is 13 to 19 digits that pass the Luhn check, whatever is said around them (a
    # number that fails it is some other number, an account at most).
    card_shaped = run.spoken or len(run.groups) == 1 or min(run.groups[:-1]) >= 3
    if 13 <= n <= 19 and card_shaped and luhn_ok(d) and not (context == PHONE and n <= 15):
        return CARD
    # A card with a stray digit said before or after it: "... one nine two six oh and my ...".
    if 16 <= n <= 18 and any(
        is_card(d[i : i + size]) for size in (15, 16) for i in range(max(n - size + 1, 0))
    ):
        return CARD
    # A number the operator needs is kept, unless it has a card's issuer and length: a card
    # misread or misheard by one digit fails the Luhn check but still gives the card away.
    if context == KEEP and not card_like(d):
        return None
    if context == SSN and n == 9:
        return SSN
    if context == PHONE and (n == 7 or 10 <= n <= 15):
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
