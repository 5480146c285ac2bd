"""The emulator's PII redaction (``piiRedactionOptions: {enable: true, redactionType:
"maskWithCharacter"}``): personal data in a transcription packet masked with ``*``.

Its own small rule set, on purpose independent of the console's redaction engine
(``console/transcript/redaction*.py``), so a test of one can fail when the other is wrong:

- numbers: a run of digits, possibly grouped by spaces, hyphens, dots or brackets (one or two
  between digits) and
  led by ``+``, holding at least :data:`MIN_DIGITS` digits (card, account and phone numbers):
  every digit becomes ``*``, the grouping stays;
- e-mail addresses (``name@domain.tld``): every character becomes ``*``.

Lengths never change, so offsets into the text stay valid. The same rules run over ``text`` and
over the words (joined by spaces, then split back), so a number masked in the text is masked in
the words too. The real service masks more (names, addresses, dates of birth) and its exact
rules are not documented; this is our reading, enough to show the feature.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "*"
MIN_DIGITS = 7

_NUMBER = re.compile(r"(?<![\w+])\+?\(?\d(?:[ .\-()]{0,2}\d)+\)?(?!\w)")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?!\w)")
_DIGIT = re.compile(r"\d")


def _number(m: re.Match[str]) -> str:
    found = m.group(0)
    if sum(c.isdigit() for c in found) < MIN_DIGITS:
        return found
    return _DIGIT.sub(MASK, found)


def mask_text(text: str) -> str:
    """``text`` with e-mail addresses and long numbers masked (same length)."""
    if "@" in text:
        text = _EMAIL.sub(lambda m: MASK * len(m.group(0)), text)
    return _NUMBER.sub(_number, text)


def mask_words(words: list[str]) -> list[str]:
    """Each word masked as it would be in the text the words make (same lengths)."""
    joined = " ".join(words)
    masked = mask_text(joined)
    if masked == joined:
        return words
    out, at = [], 0
    for word in words:
        out.append(masked[at : at + len(word)])
        at += len(word) + 1
    return out


def mask_transcription(body: dict[str, Any]) -> dict[str, Any]:
    """A ``transcriptionData`` body with ``text`` and ``words`` masked (a new dict)."""
    out = dict(body)
    text = body.get("text")
    if isinstance(text, str):
        out["text"] = mask_text(text)
    words = body.get("words")
    if isinstance(words, list) and words:
        texts = [w.get("text") if isinstance(w, dict) else None for w in words]
        if all(isinstance(t, str) for t in texts):
            masked = mask_words(texts)  # type: ignore[arg-type]
            out["words"] = [
                {**w, "text": m} for w, m in zip(words, masked, strict=True) if isinstance(w, dict)
            ]
    return out
