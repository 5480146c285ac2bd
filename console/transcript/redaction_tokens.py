"""Tokens and vocabulary shared by the redaction recognisers.

A text is cut once into tokens (digit groups, words, single punctuation characters) with their
character spans; every recogniser then walks that list. Whitespace is never a token, so two
tokens are separated by whitespace exactly when the first one's end is before the second's start.
"""

from __future__ import annotations

import bisect
import re
from typing import NamedTuple

DIGITS = 0
WORD = 1
PUNCT = 2

# Digit groups; words (letters, with inner apostrophes: "that's", "it’s"); any other
# non-space character on its own.
_TOKEN = re.compile(r"(\d+)|([^\W\d_]+(?:['’][^\W\d_]+)*)|(\S)")


class Token(NamedTuple):
    kind: int  # DIGITS, WORD or PUNCT
    low: str  # the token's text, lower case, curly apostrophes made straight
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    append = tokens.append
    for m in _TOKEN.finditer(text):
        if m.lastindex == 1:
            append(Token(DIGITS, m.group(), m.start(), m.end()))
        elif m.lastindex == 2:
            append(Token(WORD, m.group().lower().replace("’", "'"), m.start(), m.end()))
        else:
            append(Token(PUNCT, m.group(), m.start(), m.end()))
    return tokens


def take_span(tokens: list[Token], taken: list[bool], start: int, end: int) -> None:
    """Mark the tokens that overlap text[start:end] as taken."""
    i = bisect.bisect_right(tokens, start, key=lambda t: t.end)
    while i < len(tokens) and tokens[i].start < end:
        taken[i] = True
        i += 1


def mask_at(tokens: list[Token], k: int) -> str | None:
    """The name inside a mask at ``tokens[k]`` ("phone" in "[PHONE]"), if one is there: where
    an entity was, in a text redacted before. Redacting it again must find nothing new, so the
    recognisers read a mask as what it replaced, never as a word said."""
    if 0 < k < len(tokens) - 1 and tokens[k - 1].low == "[" and tokens[k + 1].low == "]":
        return tokens[k].low
    return None


# Hesitations a speaker puts between groups of digits or letters.
FILLERS = frozenset({"um", "uh", "umm", "uhm", "er", "erm", "ah", "eh", "hmm", "mm", "mhm"})

# Spoken digits (lexical form). "o"/"oh" are zero when read among digits.
UNITS = {
    "zero": 0,
    "oh": 0,
    "o": 0,
    "nought": 0,
    "naught": 0,
    "nil": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
}
TEENS = {
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
TENS = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fourty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
MULTIPLIERS = {"hundred": 100, "thousand": 1000, "million": 1_000_000, "billion": 1_000_000_000}
REPEATS = {"double": 2, "triple": 3, "treble": 3}
NUMBER_WORDS = frozenset(UNITS) | frozenset(TEENS) | frozenset(TENS)

# The context of numbers the operator needs (order, ticket, model numbers...): never masked.
KEEP = "KEEP"

# Words that say what the digits near them are. The nearest one wins.
CONTEXT_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ("card", "cards", "credit", "debit", "visa", "mastercard", "amex", "maestro"), "CARD"
    ),
    **dict.fromkeys(
        (
            "phone",
            "telephone",
            "mobile",
            "cell",
            "cellphone",
            "landline",
            "call",
            "calling",
            "callback",
            "reach",
            "text",
            "dial",
            "fax",
            "whatsapp",
            "area",
            "line",
            "extension",
            "ext",
        ),
        "PHONE",
    ),
    **dict.fromkeys(
        (
            "account",
            "accounts",
            "acct",
            "sort",
            "routing",
            "iban",
            "bank",
            "member",
            "membership",
            "flyer",
            "loyalty",
            "contract",
            "policy",
        ),
        "ACCOUNT",
    ),
    **dict.fromkeys(("ssn", "social"), "SSN"),
    # Numbers that are never personal: dates, expiry dates, postcodes, flights, rooms and
    # versions, kept when one of these is said before them, or after them in the same breath.
    # Order, ticket, booking and reference numbers are not here: a bare run of 6 or more
    # digits is masked whatever the caller calls it, because callers read account and card
    # numbers out under any name ("my reference is ..."). The numbers an operator needs are
    # short or prefixed ("order 58812", "ORD-558120", "INC0048213"), and those are kept as near
    # misses. Never a run shaped like a card: see redaction_kinds.classify.
    **dict.fromkeys(
        (
            "zip",
            "postcode",
            "postal",
            "flight",
            "room",
            "version",
            "born",
            "birth",
            "birthday",
            "dob",
            "expiry",
            "expires",
            "expiration",
            "dated",
        ),
        KEEP,
    ),
}

# "customer number", "frequent flyer number": what a customer is known by is an account,
# even when its digits are shaped like a phone number's.
IDENTITY_NOUNS = frozenset(
    {
        "customer",
        "client",
        "reward",
        "rewards",
        "patient",
        "student",
        "employee",
        "staff",
        "subscriber",
        "licence",
        "license",
        "passport",
        "pension",
        "payroll",
        "library",
        "insurance",
        "tax",
    }
)
# "phone bill", "card reader": the word names something else, not the digits.
NOT_TELLING_BEFORE = frozenset(
    {
        "bill",
        "bills",
        "company",
        "provider",
        "plan",
        "contract",
        "shop",
        "store",
        "insurance",
        "reader",
        "machine",
        "screen",
        "case",
        "charger",
        "model",
    }
)
IDENTITY_NUMBERS = frozenset({"number", "numbers", "no", "id", "reference", "ref"})

# A number followed by one of these is an amount, a time or a quantity, never an identifier.
UNIT_WORDS = frozenset(
    {
        "dollar",
        "dollars",
        "buck",
        "bucks",
        "pound",
        "pounds",
        "quid",
        "euro",
        "euros",
        "cent",
        "cents",
        "pence",
        "p",
        "usd",
        "gbp",
        "eur",
        "percent",
        "per",
        "o'clock",
        "am",
        "pm",
        "a.m",
        "p.m",
        "second",
        "seconds",
        "minute",
        "minutes",
        "hour",
        "hours",
        "day",
        "days",
        "week",
        "weeks",
        "month",
        "months",
        "year",
        "years",
        "mile",
        "miles",
        "kilometers",
        "kilometres",
        "km",
        "kg",
        "lbs",
        "gb",
        "mb",
        "tb",
        "units",
        "items",
        "pieces",
        "times",
        "people",
        "points",
        "calories",
        "steps",
        "subscribers",
        "customers",
        "users",
        "copies",
        "bytes",
        "degrees",
        "feet",
        "inches",
    }
)
# A number preceded by one of these is an amount.
CURRENCY_WORDS = frozenset({"usd", "gbp", "eur", "us$", "cad", "aud"})
