"""Every sensitive number in a text: digit runs (:mod:`redaction_runs`), joined where they are
pieces of one number said with words between them, each classified (:mod:`redaction_kinds`).

People read a long number out in pieces: "five four one one right five two eight three ...",
"four eight two two three six six four, is it the whole thing you need? yeah, okay, oh nine
...". Pieces join across hesitations and acknowledgements when the first is too short to be a
number on its own, and across any few words when together they make a complete card (issuer,
length and Luhn check: specific enough that chance does not make one).
"""

from __future__ import annotations

from console.transcript.redaction_kinds import CARD, classify
from console.transcript.redaction_runs import STARTERS, Run, is_card, scan
from console.transcript.redaction_tokens import DIGITS, FILLERS, PUNCT, WORD, Token

# Said between the pieces of one number: "five four one one right five two eight three",
# "nine oh one two yeah seven seven three four".
_SOFT = frozenset({"sorry", "so", "okay", "ok", "right", "yeah", "yep", "yes", "alright"})
_SOFT_GAP = 2
# Words a card's halves may be split by when they make up a card between them: "that's the
# first half", "and then", "is it the whole thing you need yeah okay".
_CARD_GAP = 10


def _gap(tokens: list[Token], taken: list[bool], a: Run, b: Run) -> str | None:
    """How the words between two runs join them: "soft" (a hesitation or acknowledgement, so
    both may be pieces of one number), "card" (other words: only a card's pieces join across
    them), or None (a number, a sentence's end or something already found between them)."""
    between = range(a.last + 1, b.first)
    if len(between) > _CARD_GAP:
        return None
    words = 0
    soft = True
    for k in between:
        t = tokens[k]
        if taken[k] or t.kind == DIGITS or (t.kind == PUNCT and t.low != ","):
            return None
        if t.kind == WORD:
            words += 1
            soft = soft and (t.low in _SOFT or t.low in FILLERS)
    # Punctuation alone: the run's own scan already chose not to join across it ("2019, 2020").
    return "soft" if soft and 0 < words <= _SOFT_GAP else "card"


def _clock_time(run: Run) -> bool:
    """Whether a spoken piece is a time of day, "ten thirty", "seven forty five" (never a
    piece of a longer number: "ten thirty okay eleven fifteen" are two times)."""
    if not run.spoken or len(run.pieces) != 2:
        return False
    hour, minutes = run.pieces
    return 1 <= int(hour) <= 12 and len(minutes) == 2 and int(minutes) < 60


def _joined(runs: list[Run]) -> Run:
    first = runs[0]
    joined = Run(first=first.first, last=runs[-1].last, plus=first.plus)
    for r in runs:
        joined.digits += r.digits
        joined.groups += r.groups
        joined.spoken = joined.spoken or r.spoken
        joined.elements += r.elements
        joined.pieces.extend(r.pieces)
        joined.dashed += r.dashed
        joined.amounts += r.amounts
    return joined


def _resolve(
    text: str, tokens: list[Token], chain: list[Run], gaps: list[str]
) -> list[tuple[str, int, int]]:
    """The entities in runs said one after another (``gaps[i]`` joins ``chain[i]`` to the next).

    A card said in pieces is found first (the pieces that make a complete card between them,
    a false start before it left out). Otherwise pieces joined by hesitations make one number
    when the first piece is too short to be a number on its own, or the next one is ("one two
    three four five six okay seven eight"); two long ones (a sort code, okay, an account number)
    stand apart."""
    for s in range(len(chain) if len(chain) > 1 else 0):
        digits = ""
        # The card from here: 15 or 16 digits (nearly every card in use) before 13 or 19, since
        # a card's first 13 digits, or the card and a security code after it, may pass the
        # checks too.
        end = odd = -1
        for e in range(s, len(chain)):
            digits += chain[e].digits
            if len(digits) > 19:
                break
            if is_card(digits):
                if len(digits) in (15, 16):
                    end = e
                elif odd < 0:
                    odd = e
        end = end if end >= 0 else odd
        if end >= 0:
            first, last = chain[s].first, chain[end].last
            return [
                *_resolve(text, tokens, chain[:s], gaps[: max(s - 1, 0)]),
                (CARD, tokens[first].start, tokens[last].end),
                *_resolve(text, tokens, chain[end + 1 :], gaps[end + 1 :]),
            ]
    found: list[tuple[str, int, int]] = []
    i = 0
    while i < len(chain):
        j = i
        short = len(chain[i].digits) < 6
        while (
            j < len(gaps)
            and gaps[j] == "soft"
            and not _clock_time(chain[j])
            and not _clock_time(chain[j + 1])
            and (short or len(chain[j + 1].digits) < 6)
        ):
            j += 1
        run = _joined(chain[i : j + 1]) if j > i else chain[i]
        kind = classify(text, tokens, run)
        if kind is not None:
            found.append((kind, tokens[run.first].start, tokens[run.last].end))
        i = j + 1
    return found


def find_numbers(text: str, tokens: list[Token], taken: list[bool]) -> list[tuple[str, int, int]]:
    """(type, start, end) of every sensitive digit run among the tokens not yet taken."""
    found: list[tuple[str, int, int]] = []
    chain: list[Run] = []
    gaps: list[str] = []
    n = len(tokens)
    i = 0
    while i < n:
        t = tokens[i]
        if (
            taken[i]
            or (t.kind == WORD and t.low not in STARTERS)
            or (t.kind == PUNCT and t.low not in ("+", "("))
        ):
            i += 1
            continue
        run = scan(tokens, i, taken)
        if run is None:
            i += 1
            continue
        gap = _gap(tokens, taken, chain[-1], run) if chain else None
        if gap is None:
            found.extend(_resolve(text, tokens, chain, gaps))
            chain, gaps = [], []
        else:
            gaps.append(gap)
        chain.append(run)
        i = run.last + 1
    found.extend(_resolve(text, tokens, chain, gaps))
    return found
