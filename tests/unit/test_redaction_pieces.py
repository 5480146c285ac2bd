"""The redaction engine on numbers as callers really say them: in pieces with words between,
with corrections and stray digits, IBANs read out letter by letter, and the words around a
number that say what it is."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.transcript.redaction import find_entities, luhn_ok, redact_text

_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def spoken(digits: str) -> str:
    return " ".join(_WORDS[int(d)] for d in digits)


def found(text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in find_entities(text)]


def with_check_digit(body: str) -> str:
    return body + next(d for d in "0123456789" if luhn_ok(body + d))


CARD = with_check_digit("453201511283036")  # a Visa number
GROUPS = [CARD[i : i + 4] for i in range(0, 16, 4)]


@pytest.mark.parametrize("between", ["okay", "right", "yeah", "so", "sorry", "and then", "um okay"])
def test_a_card_read_in_groups_with_words_between_is_one_card(between: str) -> None:
    number = f" {between} ".join(spoken(g) for g in GROUPS)
    assert found(f"it's {number} thanks") == [("CARD", number)]


@st.composite
def cards_read_in_pieces(draw: st.DrawFn) -> tuple[str, str]:
    """(what a caller says, the card's words): a Visa, Mastercard, Discover or Amex number with a
    valid check digit, read in pieces of one to six digits with words between them."""
    prefix = draw(st.sampled_from(["4", "51", "55", "2221", "6011", "34", "37"]))
    size = 15 if prefix in ("34", "37") else 16
    middle = draw(
        st.text("0123456789", min_size=size - 1 - len(prefix), max_size=size - 1 - len(prefix))
    )
    digits = with_check_digit(prefix + middle)
    pieces: list[str] = []
    while sum(map(len, pieces)) < size:
        start = sum(map(len, pieces))
        pieces.append(digits[start : start + draw(st.integers(1, 6))])
    between = st.sampled_from(["okay", "right", "yeah", "so", "um", "and then", "sorry", "uh okay"])
    number = spoken(pieces[0])
    for piece in pieces[1:]:
        number += f" {draw(between)} {spoken(piece)}"
    return number, number


@settings(max_examples=300, deadline=None)
@given(cards_read_in_pieces(), st.sampled_from(["it's", "the card is", "okay so", ""]))
def test_any_card_read_in_pieces_is_one_card(said: tuple[str, str], lead: str) -> None:
    number, card = said
    assert found(f"{lead} {number} and that's it".strip()) == [("CARD", card)]


def test_a_card_split_by_a_question_is_one_card() -> None:
    first, second = spoken(CARD[:8]), spoken(CARD[8:])
    number = f"{first} do you need all of it yes please {second}"
    assert found(f"the card is {number}") == [("CARD", number)]


def test_a_false_start_is_left_out_of_the_card_after_it() -> None:
    text = f"it's four five three two sorry {spoken(CARD)}"
    assert found(text) == [("CARD", spoken(CARD))]


def test_a_card_with_a_stray_digit_after_it_is_still_a_card() -> None:
    text = f"it's {spoken(CARD)} oh and my postcode changed"
    [(kind, covered)] = found(text)
    assert kind == "CARD"
    assert covered.startswith(spoken(CARD))


def test_short_pieces_with_an_acknowledgement_between_are_one_account() -> None:
    number = "six two oh one yeah eight eight four three"
    assert found(f"account {number} please") == [("ACCOUNT", number)]


def test_two_times_with_an_acknowledgement_between_stay_times() -> None:
    assert found("can you do ten thirty okay or eleven fifteen") == []
    assert found("it's ten thirty okay eleven fifteen") == []


def test_two_numbers_with_words_between_stay_two() -> None:
    text = "sort code two oh oh oh oh oh and my account is three one nine two six eight one nine"
    assert found(text) == [
        ("ACCOUNT", "two oh oh oh oh oh"),
        ("ACCOUNT", "three one nine two six eight one nine"),
    ]


@pytest.mark.parametrize(
    "iban",
    [
        "g b two nine n w b k six oh one six one three three one nine two six eight one nine",
        "g b twenty nine n w b k sixty sixteen thirteen thirty one ninety two sixty eight nineteen",
        "n l nine one a b n a oh four one seven one six four three oh oh",
        "d e eight nine three seven oh four oh oh four four oh five three two oh one three oh oh"
        " oh",
    ],
)
def test_an_iban_read_out_is_one_account(iban: str) -> None:
    assert found(f"the iban is {iban} thank you") == [("ACCOUNT", iban)]


def test_letters_and_digits_failing_the_iban_check_are_not_an_iban() -> None:
    text = "g b two eight n w b k six oh one six one three three one nine two six eight one nine"
    assert all(not covered.startswith("g b") for _, covered in found(text))


def test_letters_followed_by_digits_are_a_code_not_a_spelling() -> None:
    assert found("the booking code is a k x t g seventy eight") == []
    assert found("my name is k o w a l s k i") == [("SPELLED", "k o w a l s k i")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("social's nine eight seven six five four three two one", "SSN"),
        ("and the account's four four two oh nine one three three seven six five two", "ACCOUNT"),
        ("Customer number 300 4217, please.", "ACCOUNT"),
        ("The frequent flyer number is 220 118 4039.", "ACCOUNT"),
        ("frequent flyer six double oh three one nine double four two seven", "ACCOUNT"),
        (
            "the contract number on my phone bill is three three one eight four four two six",
            "ACCOUNT",
        ),
        ("I have (206) 555-0137 on the account, is that right?", "PHONE"),
        ("sort code eighty two nineteen forty", "ACCOUNT"),
        ("Customer number 5520318, postcode LS1 4AP.", "ACCOUNT"),
        ("you have 4111 1111 1111 1112 on the booking", "ACCOUNT"),
    ],
)
def test_the_words_around_a_number_say_what_it_is(text: str, expected: str) -> None:
    assert [kind for kind, _ in found(text)] == [expected]


def test_a_second_number_after_the_first_keeps_the_first_ones_context() -> None:
    text = (
        "my social is nine eight seven six five four three two one "
        "and my wife's is nine eight seven six five four three two nine"
    )
    assert [kind for kind, _ in found(text)] == ["SSN", "SSN"]


@pytest.mark.parametrize(
    "text",
    ["I was born nineteen eighty two", "the order number is 55812", "room four one two"],
)
def test_what_the_operator_needs_is_kept(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("the email is r kowalski at contoso dot com", "r kowalski at contoso dot com"),
        ("it's p keane plus travel at example dot org", "p keane plus travel at example dot org"),
    ],
)
def test_an_address_keeps_its_initial_and_plus(text: str, address: str) -> None:
    assert found(text) == [("EMAIL", address)]


@pytest.mark.parametrize(
    "text",
    ["You can find the form at fabrikam.com/returns.", "log in at fabrikam dot com slash account"],
)
def test_a_web_address_after_at_is_not_an_email(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        # a mask's name ("[ACCOUNT]", "[PHONE]") is not a word that says what a number is
        "12-34-56 is four hundred uh two thousand twenty at",
        "twenty twenty twenty contoso 555-0100 that's it",
        "1111 twenty ( twenty is w code - at 555-0100 sort",
        # the end of a date is not an address's user name
        "1111 12/03 at um dot com",
        # letters before a number are a code, before its mask too
        "a k x t g one two three four five six seven",
        "double w double w 555-0100",
    ],
)
def test_redacting_a_redacted_text_finds_nothing_new(text: str) -> None:
    once = redact_text(text).text
    assert redact_text(once).text == once
