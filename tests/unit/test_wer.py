"""Word error rate and the transcript normaliser used to score local recognition."""

from __future__ import annotations

import math

import pytest

from console.emulator.recognition.wer import WerResult, alignment, corpus_wer, normalize, wer


@pytest.mark.parametrize(
    ("script", "written"),
    [
        # case and punctuation
        ("Right, exactly. I only expected the one on the third.",
         "right exactly i only expected the one on the third"),
        # fillers, which recognisers often leave out
        ("Oh, um, yes. Hmm, er, okay.", "Oh yes. Okay."),
        ("And, uh, sorry.", "And sorry."),
        # digits read one by one, grouped however the recogniser likes
        ("four four seven two, nine one zero, eight three", "4472-910-83"),
        ("four four seven two, nine one zero, eight three", "447291083."),
        ("R two eight six one", "R2861"),
        ("R as in Robert, two eight six one", "R as in Robert, 2861."),
        # prices read as two numbers
        ("payments of fifty nine ninety nine", "payments of 59.99"),
        ("the refund of fifty nine ninety nine", "the refund of $59.99"),
        ("three to five business days", "3 to 5 business days"),
        ("two hundred and five", "205"),
        ("one thousand two hundred fifty", "1,250"),
        ("nineteen ninety nine", "1999"),
        ("at seven thirty", "at 7:30"),
        # ordinals
        ("on the fourth", "on the 4th"),
        ("the twenty first", "the 21st"),
        # spelled letters: spaced, hyphenated and dotted are the same letters
        ("That's W H I T F I E L D.", "That's W-H-I-T-F-I-E-L-D."),
        ("W H I T", "w.h.i.t."),
        # hyphenated words, curly apostrophes, spelling variants
        ("a well-known fix", "a well known fix"),
        ("It\u2019s fine", "it's fine"),
        ("OK, alright.", "Okay, all right."),
    ],
)  # fmt: skip
def test_equal_after_normalising(script: str, written: str) -> None:
    assert normalize(script) == normalize(written)
    assert wer(script, written) == 0.0


def test_normalize_tokens() -> None:
    assert normalize("Sure, it's, uh, four four seven two.") == ["sure", "it's", "4", "4", "7", "2"]
    assert normalize("Fifty nine ninety nine") == ["5", "9", "9", "9"]
    assert normalize("one on the 3rd") == ["1", "on", "the", "third"]
    assert normalize("...") == []


def test_contractions_stay_one_word() -> None:
    assert normalize("It's I'm won't you've") == ["it's", "i'm", "won't", "you've"]
    result = alignment("it's done", "it is done")
    assert (result.substitutions, result.deletions, result.insertions) == (1, 0, 1)


def test_letters_against_the_word_are_errors() -> None:
    # Spelling a name out and writing the name are different transcripts.
    result = alignment("That's W H I T F I E L D.", "That's Whitfield.")
    assert result.reference_words == 10
    assert (result.substitutions, result.deletions, result.insertions) == (1, 8, 0)
    assert result.rate == pytest.approx(0.9)


def test_digits_differ_per_digit() -> None:
    result = alignment("four four seven two", "4473")
    assert (result.substitutions, result.deletions, result.insertions) == (1, 0, 0)
    assert result.reference_words == 4


def test_known_edit_counts() -> None:
    # one substitution (b->x), one deletion (d), one insertion (g); no other alignment is as short
    result = alignment("a b c d e f", "a x c e f g")
    assert result == WerResult(substitutions=1, deletions=1, insertions=1, reference_words=6)
    assert result.errors == 3
    assert result.rate == pytest.approx(0.5)
    assert wer("Dana Whitfield", "Donna Whitfield") == pytest.approx(0.5)
    assert alignment("no problem", "") == WerResult(0, 2, 0, 2)
    assert alignment("yes", "yes yes yes").insertions == 2
    assert wer("yes", "yes yes yes") == pytest.approx(2.0)


def test_substitution_preferred_over_delete_and_insert() -> None:
    result = alignment("the first payment", "the second payment")
    assert (result.substitutions, result.deletions, result.insertions) == (1, 0, 0)


def test_empty_reference() -> None:
    assert wer("", "") == 0.0
    assert wer("um", "") == 0.0  # only a filler: nothing to recognise
    assert math.isinf(wer("", "hello"))


def test_corpus_wer_weighs_by_reference_words() -> None:
    pairs = [
        ("Thank you for calling Contoso Internet", "thank you for calling contoso internet"),
        ("No problem.", "No problem."),
        ("Bye.", "By."),
    ]
    total = corpus_wer(pairs)
    assert total == WerResult(substitutions=1, deletions=0, insertions=0, reference_words=9)
    assert total.rate == pytest.approx(1 / 9)
    # not the mean of the per-utterance rates (which would be 1/3)
    assert total.rate != pytest.approx(sum(wer(r, h) for r, h in pairs) / len(pairs))
    assert corpus_wer([]) == WerResult()
    assert corpus_wer([]).rate == 0.0


def test_results_add() -> None:
    assert WerResult(1, 2, 3, 10) + WerResult(1, 0, 0, 5) == WerResult(2, 2, 3, 15)
