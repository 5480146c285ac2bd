"""Words of a scenario line: tokens (display and lexical form) and how long saying them takes,
as the emulator's recogniser paces and times them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

_CLAUSE_PAUSE = 0.2
_SENTENCE_PAUSE = 0.4
_CLAUSE_END = tuple(",;:–—")
_SENTENCE_END = tuple(".?!…")


@dataclass(frozen=True, slots=True)
class Token:
    display: str  # as written, with punctuation (and any punctuation-only tokens that followed)
    word: str  # lexical form: lower case, no surrounding punctuation


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "PS" and ch not in "$€£%&@#+"


def lexical(token: str) -> str:
    start, end = 0, len(token)
    while start < end and _is_punct(token[start]):
        start += 1
    while end > start and _is_punct(token[end - 1]):
        end -= 1
    return token[start:end].lower()


def tokenize(text: str) -> list[Token]:
    """Split display text into words; punctuation-only pieces ("—", "?") join the word before."""
    tokens: list[Token] = []
    pending = ""  # punctuation before the first word
    for piece in text.split():
        word = lexical(piece)
        if word:
            tokens.append(Token(pending + piece, word))
            pending = ""
        elif tokens:
            last = tokens[-1]
            tokens[-1] = Token(f"{last.display} {piece}", last.word)
        else:
            pending += piece + " "
    return tokens


def pause_after(display: str) -> float:
    if display.endswith(_SENTENCE_END):
        return _SENTENCE_PAUSE
    if display.endswith(_CLAUSE_END):
        return _CLAUSE_PAUSE
    return 0.0


def word_weights(tokens: list[Token]) -> list[float]:
    """Relative length of each word's slot: long words take longer, averaging 1.0."""
    if not tokens:
        return []
    mean = sum(len(t.word) for t in tokens) / len(tokens)
    return [0.55 + 0.45 * len(t.word) / mean for t in tokens]


def natural_length(tokens: list[Token], pace: float) -> float:
    if not tokens:
        return 0.0
    pauses = sum(pause_after(t.display) for t in tokens[:-1])
    return len(tokens) / pace + pauses
