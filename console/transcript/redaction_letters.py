"""E-mail addresses (written and spoken) and letters spelled out after "that's" / "spelled".

Both walk the token list (:mod:`redaction_tokens`) and mark what they find as taken, so the
digit recognisers never see an address's numbers or a spelling's letters.
"""

from __future__ import annotations

import re

from console.transcript.redaction_tokens import (
    DIGITS,
    FILLERS,
    PUNCT,
    WORD,
    Token,
    mask_at,
    take_span,
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# --- e-mail addresses --------------------------------------------------------------------------

EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w.%+-]*\w@[^\W_](?:[\w-]*[^\W_])?(?:\.[^\W_](?:[\w-]*[^\W_])?)*\.[^\W\d_]{2,}"
)
# Top-level domains a spoken address may end with (a fixed list: nothing is fetched).
_TLDS = _wordset(
    """
    com net org edu gov mil int io co uk us ca au nz ie de fr es it nl be ch at se no dk fi pl
    pt in jp cn za br mx ru info biz me tv ai app dev email online store shop tech xyz cloud
    """
)
_DOTS = frozenset({"dot", "period"})
_LOCAL_JOINERS = frozenset({"dot", "period", "underscore", "dash", "hyphen", "plus"})
# Words that cannot end the part before "at" of an address: "look at", "reach me at",
# "visit us at contoso dot com".
_NOT_LOCAL = _wordset(
    """
    me us you him her them it i we they is am are was were be been here there where look
    looking looked visit visiting go going went check checking find found online website site
    page web home work office store shop sold available and or but the a an this that these
    those our your my his their its it's that's email e-mail mail address reach contact
    directly anytime back up sign signed log logged login register registered account order
    ordered buy bought purchase purchased stay stayed staying meet arrive arrived listed posted
    hosted located based live lives living working works worked job me just only also then now
    """
)


def _label(t: Token) -> bool:
    """Whether a token can be (part of) a spoken address's user name or domain label."""
    return t.kind == DIGITS or (t.kind == WORD and t.low not in _LOCAL_JOINERS and t.low != "at")


def spoken_emails(tokens: list[Token], taken: list[bool]) -> list[tuple[int, int]]:
    """Token index ranges [first, last] of spoken addresses: "dana dot whitfield at contoso dot
    com", "d a n a seven at contoso dot co dot uk"."""
    found: list[tuple[int, int]] = []
    n = len(tokens)
    for k in range(1, n - 3):
        if tokens[k].low not in ("at", "@") or taken[k]:
            continue
        # The domain: label (dot label)+, ending with a known top-level domain.
        j = k + 1
        end = -1
        if not (_label(tokens[j]) and not taken[j]):
            continue
        j += 1
        while j + 1 < n and not taken[j] and not taken[j + 1]:
            sep = tokens[j]
            if not (
                (sep.kind == WORD and sep.low in _DOTS)
                or (sep.kind == PUNCT and sep.low == "." and tokens[j + 1].start == sep.end)
            ) or not _label(tokens[j + 1]):
                break
            j += 2
            if tokens[j - 1].low in _TLDS:
                end = j - 1
        if end < 0 or (end + 1 < n and tokens[end + 1].low in ("/", "slash")):
            continue  # none, or a web address: "the form at fabrikam.com/returns"
        # The user name: a label before "at", then more joined by dots, underscores, dashes;
        # spelled letters and numbers run on without a joiner.
        first = k - 1
        head = tokens[first]
        spelled_head = (
            len(head.low) == 1
            and first > 0
            and tokens[first - 1].kind == WORD
            and len(tokens[first - 1].low) == 1
        )  # "d a n a at"
        if taken[first] or not _label(head) or (head.low in _NOT_LOCAL and not spelled_head):
            continue
        if first > 0 and tokens[first - 1].end == head.start and tokens[first - 1].low in "/:":
            continue  # "12/03 at ...": the end of a date or a time, not a user name
        while first > 0:
            prev = tokens[first - 1]
            if taken[first - 1]:
                break
            joined = (prev.kind == WORD and prev.low in _LOCAL_JOINERS) or (
                prev.kind == PUNCT and prev.low in "._-" and prev.end == tokens[first].start
            )
            if joined and first >= 2 and not taken[first - 2] and _label(tokens[first - 2]):
                first -= 2
                continue
            cur = tokens[first]
            run_on = (
                # "d a n a", and an initial before a name: "r kowalski at ..."
                len(prev.low) == 1
                and prev.kind == cur.kind == WORD
                and (len(cur.low) == 1 or prev.low not in ("a", "i"))
            ) or (_is_number(cur) and _label(prev) and prev.low not in _NOT_LOCAL)
            if run_on:
                first -= 1
                continue
            break
        found.append((first, end))
        for i in range(first, end + 1):
            taken[i] = True
    return found


_NUMBER_WORDS = _wordset(
    """
    zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen
    fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty
    ninety hundred double triple
    """
)


def _is_number(t: Token) -> bool:
    return t.kind == DIGITS or t.low in _NUMBER_WORDS


_NUMBER_MASKS = frozenset({"card", "phone", "account", "ssn"})


def _number_follows(tokens: list[Token], k: int) -> bool:
    """Whether a number, or the mask a number became ("[ACCOUNT]"), starts at ``tokens[k]``."""
    if k >= len(tokens):
        return False
    if tokens[k].low == "[":
        return mask_at(tokens, k + 1) in _NUMBER_MASKS
    return _is_number(tokens[k])


# --- spelled letters ---------------------------------------------------------------------------

_SPELL_TRIGGERS = frozenset({"that's", "thats", "spelled", "spelt", "spell", "spelling"})
# Between the trigger and the letters: "spelled as", "that's, um,", "spelled: D-A-N-A",
# "let me spell that out for you".
_SPELL_LEAD = (
    _wordset("as like it's its it that out for you is again so ok okay yes yeah sure the name")
    | FILLERS
    | {":", ",", "-", '"'}
)
_SPELL_GAP = frozenset({"-", ".", ",", ":", '"', "'", "–", "/"})
_REPEATED = {"double": 2, "triple": 3}
# Said between spelled letters: "o apostrophe b r i e n", "s m i t h dash j o n e s".
_SPELLED_MARKS = frozenset({"dash", "hyphen", "apostrophe", "space"})
# Letters after a trigger, and on their own (a name spelled with no "that's" before it).
_MIN_AFTER_TRIGGER = 3
_MIN_ALONE = 4


def _letters(tokens: list[Token], j: int, taken: list[bool]) -> tuple[int, int, int]:
    """The letters spelled from ``tokens[j]``: (first index, last index, how many letters)."""
    n = len(tokens)
    letters = 0
    first = last = -1
    while j < n and not taken[j]:
        tok = tokens[j]
        if tok.kind == WORD and len(tok.low) == 1:
            count, upto = 1, j
        elif (
            tok.low in _REPEATED
            and j + 1 < n
            and not taken[j + 1]
            and tokens[j + 1].kind == WORD
            and len(tokens[j + 1].low) == 1
        ):
            count, upto = _REPEATED[tok.low], j + 1  # "double l"
        elif letters and (
            (tok.kind == PUNCT and tok.low in _SPELL_GAP)
            or tok.low in FILLERS
            or tok.low in _SPELLED_MARKS
        ):
            j += 1
            continue
        else:
            break
        if first < 0:
            first = j
        letters += count
        last = upto
        j = upto + 1
        # "d as in david": the word said for the letter is part of the spelling.
        if (
            j + 2 < n
            and tokens[j].low == "as"
            and tokens[j + 1].low == "in"
            and tokens[j + 2].kind == WORD
            and not taken[j + 2]
        ):
            last = j + 2
            j += 3
    return first, last, letters


def spelled(tokens: list[Token], taken: list[bool]) -> list[tuple[int, int]]:
    """Token index ranges of letters spelled out: three or more after "that's" / "spelled",
    four or more anywhere."""
    found: list[tuple[int, int]] = []
    n = len(tokens)
    k = 0
    while k < n:
        t = tokens[k]
        if taken[k] or t.kind != WORD:
            k += 1
            continue
        if t.low in _SPELL_TRIGGERS or (t.low == "is" and k > 0 and tokens[k - 1].low == "that"):
            j = k + 1
            lead = 0
            while j < n and not taken[j] and lead < 5 and tokens[j].low in _SPELL_LEAD:
                j += 1
                lead += 1
            least = _MIN_AFTER_TRIGGER
        elif len(t.low) == 1 or t.low in _REPEATED:
            j = k
            least = _MIN_ALONE
        else:
            k += 1
            continue
        first, last, letters = _letters(tokens, j, taken)
        if least == _MIN_ALONE and _number_follows(tokens, last + 1):
            letters = 0  # letters then digits, with no "spelled": a code, "a k x t g seventy"
        if letters >= least:
            found.append((first, last))
            for i in range(first, last + 1):
                taken[i] = True
            k = last + 1
        else:
            k = max(k + 1, last + 1)
    return found


def written_emails(text: str, tokens: list[Token], taken: list[bool]) -> list[tuple[int, int]]:
    """Spans of written addresses ("dana.whitfield@contoso.com"); their tokens become taken."""
    found: list[tuple[int, int]] = []
    for m in EMAIL_RE.finditer(text):
        s, e = m.span()
        found.append((s, e))
        take_span(tokens, taken, s, e)
    return found
