"""Word error rate for English speech recognition, with a normaliser for comparing transcripts.

A recogniser and a script write the same speech differently: "Um, it's four four seven two." and
"It's 4472." are the same words spoken. :func:`normalize` reduces both to the same tokens, so the
word error rate counts recognition mistakes rather than spelling conventions:

* case and punctuation are dropped; contractions stay one word ("it's" is not "it is");
* hesitation fillers (um, uh, er, hmm, ...) are dropped: recognisers often leave them out;
* numbers become one token per digit, whether written as digits or words, so "four four seven
  two" = "4472" = "44-72", "fifty nine ninety nine" = "59.99" = "$59.99" and "three" = "3".
  Digit ordinals are spelled out ("3rd" = "third"). A currency sign is dropped; a spoken
  "dollars" stays a word;
* hyphens and dots separate words: "W-H-I-T-F-I-E-L-D" = "W H I T F I E L D" = "W.H.I.T.F.I.E.L.D",
  but letters are not joined into a word, so spelling a name out and writing it ("Whitfield")
  still differ;
* "ok" = "okay", "alright" = "all right".

Number words are read up to the thousands ("two hundred and five" = "205"); adjacent numbers
that do not combine ("four four", "fifty nine ninety nine") stay separate numbers, as read out.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

FILLERS = frozenset({"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm", "mmm", "mhm"})
SPELLINGS = {"ok": ("okay",), "alright": ("all", "right")}

UNITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")  # fmt: skip
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
ORDINAL_UNITS = ("", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
                 "ninth")  # fmt: skip
ORDINAL_TEENS = ("tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth",
                 "sixteenth", "seventeenth", "eighteenth", "nineteenth")  # fmt: skip
ORDINAL_TENS = ("twentieth", "thirtieth", "fortieth", "fiftieth", "sixtieth", "seventieth",
                "eightieth", "ninetieth")  # fmt: skip

_UNIT = {w: i for i, w in enumerate(UNITS)}
_TEEN = {w: 10 + i for i, w in enumerate(TEENS)}
_TEN = {w: 20 + 10 * i for i, w in enumerate(TENS)}

_DIGIT_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")
_TOKEN = re.compile(r"[a-z]+(?:'[a-z]+)*|\d+")


def _ordinal_words(n: int) -> str:
    if n < 10:
        return ORDINAL_UNITS[n] or "zeroth"
    if n < 20:
        return ORDINAL_TEENS[n - 10]
    tens, unit = divmod(n, 10)
    if unit == 0:
        return ORDINAL_TENS[tens - 2]
    return f"{TENS[tens - 2]} {ORDINAL_UNITS[unit]}"


def _below_hundred(words: list[str], i: int) -> tuple[int, int] | None:
    """(value, next index) of a number under 100 starting at words[i], else None."""
    if i >= len(words):
        return None
    w = words[i]
    if w in _TEN:
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if _UNIT.get(nxt, 0) > 0:  # "fifty nine", but "fifty zero" is two numbers
            return _TEN[w] + _UNIT[nxt], i + 2
        return _TEN[w], i + 1
    if w in _TEEN:
        return _TEEN[w], i + 1
    if w in _UNIT:
        return _UNIT[w], i + 1
    return None


def _scaled(
    words: list[str],
    i: int,
    lower: Callable[[list[str], int], tuple[int, int] | None],
    scale_word: str,
    scale: int,
) -> tuple[int, int] | None:
    """``lower`` [scale_word [and] lower]: "two hundred and five", "forty thousand six"."""
    head = lower(words, i)
    if head is None:
        return None
    value, i = head
    if value == 0 or i >= len(words) or words[i] != scale_word:
        return head
    value, i = value * scale, i + 1
    j = i + 1 if i < len(words) and words[i] == "and" else i
    if (rest := lower(words, j)) is not None and rest[0] > 0:
        return value + rest[0], rest[1]
    return value, i


def _below_thousand(words: list[str], i: int) -> tuple[int, int] | None:
    return _scaled(words, i, _below_hundred, "hundred", 100)


def _cardinal(words: list[str], i: int) -> tuple[int, int] | None:
    return _scaled(words, i, _below_thousand, "thousand", 1000)


def normalize(text: str) -> list[str]:
    """The words of ``text`` for scoring: lower case, no punctuation or fillers, one token per
    digit (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text).replace("\u2019", "'").replace("\u2018", "'")
    text = text.lower().replace("%", " percent ").replace("&", " and ")
    text = _DIGIT_ORDINAL.sub(lambda m: f" {_ordinal_words(int(m.group(1)))} ", text)
    words: list[str] = []
    for token in _TOKEN.findall(text):
        if token not in FILLERS:
            words.extend(SPELLINGS.get(token, (token,)))
    out: list[str] = []
    i = 0
    while i < len(words):
        number = _cardinal(words, i)
        if number is None:
            value, i = words[i], i + 1
        else:
            value, i = str(number[0]), number[1]
        # Digits one by one: the same speech grouped differently ("44 72", "4472") compares equal.
        out.extend(value if value.isdigit() else (value,))
    return out


@dataclass(frozen=True)
class WerResult:
    """Edit counts of a hypothesis against a reference, in normalised words."""

    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    reference_words: int = 0

    @property
    def errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self) -> float:
        """Errors per reference word; with an empty reference 0.0, or inf if anything was
        inserted."""
        if self.reference_words == 0:
            return 0.0 if self.errors == 0 else float("inf")
        return self.errors / self.reference_words

    def __add__(self, other: WerResult) -> WerResult:
        return WerResult(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.reference_words + other.reference_words,
        )


def _align(ref: list[str], hyp: list[str]) -> WerResult:
    # Levenshtein table; the backtrace prefers substitutions over a deletion plus an insertion.
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            diagonal = cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1])
            cost[i][j] = min(diagonal, cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    subs = dels = ins = 0
    i, j = len(ref), len(hyp)
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + (ref[i - 1] != hyp[j - 1]):
            subs += ref[i - 1] != hyp[j - 1]
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + 1:
            dels, i = dels + 1, i - 1
        else:
            ins, j = ins + 1, j - 1
    return WerResult(subs, dels, ins, len(ref))


def alignment(reference: str, hypothesis: str) -> WerResult:
    """Minimum edits turning the normalised reference into the normalised hypothesis."""
    return _align(normalize(reference), normalize(hypothesis))


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` (0.0 = identical after
    normalising; can exceed 1.0 when the hypothesis adds words)."""
    return alignment(reference, hypothesis).rate


def corpus_wer(pairs: Iterable[tuple[str, str]]) -> WerResult:
    """Edits summed over (reference, hypothesis) pairs: the corpus rate is total errors over total
    reference words, so long utterances weigh more than short ones."""
    total = WerResult()
    for reference, hypothesis in pairs:
        total += alignment(reference, hypothesis)
    return total
