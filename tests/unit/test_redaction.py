"""The redaction engine: each recogniser in display and spoken form, near misses, word-level
masks that keep timings, idempotence."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.acs.streaming import Word
from console.transcript.redaction import (
    ENTITY_TYPES,
    MASKS,
    Entity,
    Redactor,
    find_entities,
    luhn_ok,
    redact_provisional,
    redact_text,
    redact_words,
)

_DIGIT_WORDS = re.compile(
    r"\b(zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|"
    r"fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|"
    r"seventy|eighty|ninety|hundred|double|triple)\b"
)


def only(text: str) -> tuple[str, str]:
    """The one entity in ``text``: (type, the text it covers)."""
    entities = find_entities(text)
    assert len(entities) == 1, (text, entities)
    e = entities[0]
    return e.type, text[e.start : e.end]


def types(text: str) -> list[str]:
    return [e.type for e in find_entities(text)]


# --- Luhn ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "digits",
    ["4111111111111111", "5500000000000004", "378282246310005", "6011111111111117", "79927398713"],
)
def test_luhn_accepts_valid_numbers(digits: str) -> None:
    assert luhn_ok(digits)


@pytest.mark.parametrize("digits", ["4111111111111112", "5500000000000000", "79927398710"])
def test_luhn_rejects_a_changed_digit(digits: str) -> None:
    assert not luhn_ok(digits)


# --- cards -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "covered"),
    [
        ("My card number is 4111 1111 1111 1111.", "4111 1111 1111 1111"),
        ("it's 4111-1111-1111-1111 thanks", "4111-1111-1111-1111"),
        ("use 4111111111111111 please", "4111111111111111"),
        ("amex 3782 822463 10005 ok", "3782 822463 10005"),
        ("the number 6011 1111 1111 1117", "6011 1111 1111 1117"),
    ],
)
def test_card_in_display_form(text: str, covered: str) -> None:
    assert only(text) == ("CARD", covered)


@pytest.mark.parametrize(
    "text",
    [
        "four one one one one one one one one one one one one one one one",
        "five five oh oh oh oh oh oh oh oh oh oh oh oh oh four",
        "forty one eleven eleven eleven eleven eleven eleven eleven",
        "four one one one um one one one one uh one one one one one one one one",
        "fifty five double oh double oh double oh double oh double oh double oh oh four",
        "sixty eleven eleven eleven eleven eleven eleven seventeen",
    ],
)
def test_card_in_spoken_form(text: str) -> None:
    sentence = f"yes the card is {text} thank you"
    assert only(sentence) == ("CARD", text)


def test_a_luhn_valid_run_is_a_card_without_context() -> None:
    assert types("ok 4111 1111 1111 1111") == ["CARD"]


def test_a_luhn_failing_run_is_never_a_card_but_still_masked() -> None:
    assert types("my card is 4472 1234 5678 9012") == ["ACCOUNT"]
    assert types(
        "the card is four one one one one one one one one one one one one one one two"
    ) == ["ACCOUNT"]


def test_words_after_a_card_speak_of_what_follows_it() -> None:
    assert types("3782 822463 10005, expiry 10/27, and the CID is 1234.") == ["CARD"]
    assert types(
        "read back four one one one one one one one one one one one one one one one "
        "expiry oh four twenty seven"
    ) == ["CARD"]
    # ... but a telling word with no number after it speaks of the one before.
    assert types("55812345 is my date of birth") == []
    assert types("6011 1111 1111 1117 is my date of birth") == ["CARD"]  # Luhn wins
    assert types("6011 1111 1111 1118 is my date of birth") == ["ACCOUNT"]  # card-shaped


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "+14255550100",
        "+1 425 555 0100",
        "+1 (425) 555-0100",
        "+44 20 7946 0958",
        "+44 7700 900123",
        "(425) 555-0100",
        "425-555-0100",
        "425.555.0100",
        "425 555 0100",
        "1-800-555-0199",
        "020 7946 0958",
        "07700 900123",
        "0161 496 0000",
    ],
)
def test_phone_in_display_form(number: str) -> None:
    assert only(f"You can reach us on {number} today.") == ("PHONE", number)


def test_a_number_with_an_extension_is_a_phone() -> None:
    assert only("The office line is 020 7946 0412, extension 22.") == ("PHONE", "020 7946 0412")
    spoken = "three oh three five five five oh one nine two"
    assert only(f"work number {spoken} extension four one two") == ("PHONE", spoken)


def test_a_short_local_number_is_a_phone() -> None:
    assert only("dial 555-0100 now") == ("PHONE", "555-0100")


@pytest.mark.parametrize(
    "spoken",
    [
        "four two five five five five oh one hundred",
        "four two five five five five zero one zero zero",
        "four twenty five five five five oh one oh oh",
        "plus one four two five five five five oh one oh oh",
        "oh seven seven oh oh nine oh oh one two three",
        "plus four four seven seven double oh nine oh oh one two three",
        "one eight hundred five five five oh one nine nine",
        "four two five uh five five five um oh one oh oh",
    ],
)
def test_phone_in_spoken_form(spoken: str) -> None:
    assert only(f"my number is {spoken} thanks") == ("PHONE", spoken)


# --- e-mail addresses -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    ["dana.whitfield@contoso.com", "d_whitfield+billing@mail.contoso.co.uk", "dana87@contoso.io"],
)
def test_email_in_display_form(address: str) -> None:
    assert only(f"Send it to {address}.") == ("EMAIL", address)


@pytest.mark.parametrize(
    "address",
    [
        "dana dot whitfield at contoso dot com",
        "dana at contoso dot co dot uk",
        "dana underscore whitfield at contoso dot net",
        "dana seven at contoso dot com",
        "d a n a at contoso dot org",
        "dana.whitfield at contoso dot com",
    ],
)
def test_email_in_spoken_form(address: str) -> None:
    assert only(f"my email is {address} thanks") == ("EMAIL", address)


@pytest.mark.parametrize(
    "text",
    [
        "visit us at contoso dot com",
        "look at contoso dot com for the manual",
        "I'll be at the office at nine",
        "meet me at contoso headquarters",
    ],
)
def test_sites_and_places_are_not_emails(text: str) -> None:
    assert find_entities(text) == []


# --- social security numbers -----------------------------------------------------------------


def test_ssn_in_display_form() -> None:
    assert only("It's 123-45-6789.") == ("SSN", "123-45-6789")


def test_a_bare_nine_digit_run_is_an_ssn_only_with_its_context() -> None:
    assert only("my social security number is 123456789") == ("SSN", "123456789")
    assert only("my SSN is 123456789") == ("SSN", "123456789")
    assert only("the number is 123456789") == ("ACCOUNT", "123456789")


def test_ssn_in_spoken_form() -> None:
    spoken = "one two three four five six seven eight nine"
    assert only(f"my social is {spoken}") == ("SSN", spoken)
    assert only(f"my s s n is {spoken}") == ("SSN", spoken)
    # The 3-2-4 shape said with dashes needs no context.
    dashed = "nine eight seven dash six five dash four three two one"
    assert only(f"it's {dashed}") == ("SSN", dashed)


# --- accounts and sort codes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "covered"),
    [
        ("account number 12345678 please", "12345678"),
        ("sort code 12-34-56 and", "12-34-56"),
        ("the routing number is 021000021", "021000021"),
        ("member id 00482913", "00482913"),
        ("it's 884213", "884213"),
    ],
)
def test_account_in_display_form(text: str, covered: str) -> None:
    assert only(text) == ("ACCOUNT", covered)


def test_account_in_spoken_form() -> None:
    spoken = "three one double four uh seven eight nine two"
    assert only(f"my account number is {spoken} ok") == ("ACCOUNT", spoken)


def test_written_sort_code_and_account_are_two_entities() -> None:
    text = "Sort code and account: 60-16-13 31926819."
    assert [text[e.start : e.end] for e in find_entities(text)] == ["60-16-13", "31926819"]
    assert only("it's 12-34-56-78") == ("ACCOUNT", "12-34-56-78")


def test_sort_code_and_account_are_two_entities() -> None:
    text = "sort code twelve thirty four fifty six account one two three four five six seven eight"
    assert types(text) == ["ACCOUNT", "ACCOUNT"]


# --- spelled letters -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "covered"),
    [
        ("My name is Whitfield, that's W H I T F I E L D.", "W H I T F I E L D"),
        ("That's D-A-N-A.", "D-A-N-A"),
        ("that's w h i t f i e l d", "w h i t f i e l d"),
        ("it's spelled w h i t f i e double l d", "w h i t f i e double l d"),
        ("spelled as k o w a l s k i", "k o w a l s k i"),
        ("that's um d a uh n a", "d a uh n a"),
        ("that's d as in david a n a", "d as in david a n a"),
        ("spelled D.A.N.A", "D.A.N.A"),
        ("let me spell that out for you, K-O-W-A-L", "K-O-W-A-L"),
        ("my name is Dana, D A N A.", "D A N A"),  # four letters need no trigger
        ("that's o dash b r i e n", "o dash b r i e n"),
        ("that's O-apostrophe-B R I E N", "O-apostrophe-B R I E N"),
    ],
)
def test_spelled_letters(text: str, covered: str) -> None:
    assert only(text) == ("SPELLED", covered)


@pytest.mark.parametrize(
    "text",
    [
        "that's great thanks",
        "that's a b",  # two letters
        "plug it into the U S B port",  # three letters and no trigger
        "that's a lot",
    ],
)
def test_not_spelled(text: str) -> None:
    assert find_entities(text) == []


# --- near misses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "the appointment is at 10:30 tomorrow",
        "let's say ten thirty",
        "it's $1,299.00 with tax",
        "it costs forty nine ninety nine",
        "delivered on 12/03/2026",
        "delivered on 2026-03-12 or 12-03-2026",
        "I ordered 250 units",
        "we sold two hundred fifty thousand units",
        "that was in 2019",
        "back in twenty twenty six",
        "born on oh three twelve nineteen eighty five",
        "a 15% discount",
        "your order is ORD-55812",
        "ticket 4521",
        "the XPS 9320 and the XPS 13 9320",
        "the order number is 55812",
        "tracking number 1Z999AA10123456784",
        "incident INC0048213 and order ORD-558120",
        "it weighs 3.5 kg",
        "about 1,000,000 users",
        "one two three",
        "I'd like one of those and two of these",
        "call at 9:05:12",
        "zip code 98052-6399",
        "a total of 1250000 dollars",
        "about 1250000 of them",
        "the router is at 192.168.1.254",
        "in 2019, 2020 and 2021",
    ],
)
def test_near_misses_are_kept(text: str) -> None:
    assert find_entities(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "the order number is 55812345",
        "my reference is 4471 9023",
        "booking number nine oh four four one two seven",
        "tracking number 9400 1000 0000 0000 0000 00",
    ],
)
def test_a_bare_run_of_six_or_more_digits_is_masked_whatever_it_is_called(text: str) -> None:
    # Callers read account numbers out under any name; the numbers an operator needs are
    # short or prefixed (above).
    assert types(text) == ["ACCOUNT"]


# --- masks -----------------------------------------------------------------------------------

POSITIVES = [
    "My card number is 4111 1111 1111 1111, expiry 04/27.",
    "yes the card is four one one one one one one one one one one one one one one one",
    "You can reach us on +1 (425) 555-0100 today.",
    "my number is four two five five five five oh one hundred thanks",
    "Send it to dana.whitfield@contoso.com and dana dot whitfield at contoso dot com",
    "It's 123-45-6789 and my social is one two three four five six seven eight nine",
    "account number 12345678, sort code 12-34-56",
    "My name is Whitfield, that's W H I T F I E L D.",
    "card 4111111111111111 phone 425-555-0100 account 884213 ssn 123-45-6789",
]


@pytest.mark.parametrize("text", POSITIVES)
def test_redacting_twice_changes_nothing_more(text: str) -> None:
    once = redact_text(text)
    assert once.counts
    twice = redact_text(once.text)
    assert twice.text == once.text
    assert twice.counts == {}


@pytest.mark.parametrize("text", POSITIVES)
def test_masks_leave_no_digit_of_an_entity(text: str) -> None:
    redacted = redact_text(text).text
    # Only the expiry date 04/27 is not personal data here.
    assert re.sub(r"04/27", "", redacted).translate(str.maketrans("", "", "0123456789")) == (
        re.sub(r"04/27", "", redacted)
    )
    assert not _DIGIT_WORDS.search(redacted), redacted
    assert "@" not in redacted
    assert " dot " not in redacted


def test_redact_text_replaces_each_entity_and_counts_them() -> None:
    r = redact_text("card 4111111111111111 phone 425-555-0100 account 884213 ssn 123-45-6789")
    assert r.text == "card [CARD] phone [PHONE] account [ACCOUNT] ssn [SSN]"
    assert r.counts == {"CARD": 1, "PHONE": 1, "ACCOUNT": 1, "SSN": 1}


def test_masks_have_one_form() -> None:
    assert dict(MASKS) == {
        "CARD": "[CARD]",
        "PHONE": "[PHONE]",
        "EMAIL": "[EMAIL]",
        "ACCOUNT": "[ACCOUNT]",
        "SSN": "[SSN]",
        "SPELLED": "[SPELLED]",
    }
    assert set(ENTITY_TYPES) == set(MASKS)


def test_text_without_personal_data_is_returned_as_is() -> None:
    text = "Thanks for calling, how can I help you today?"
    r = redact_text(text)
    assert r.text is text
    assert r.counts == {}
    assert redact_text("").text == ""


# --- words -----------------------------------------------------------------------------------


def _words(text: str, start: int = 10_000_000) -> list[Word]:
    """One word per space-separated token, 0.4 s each with 0.1 s gaps."""
    return [Word(w, start + i * 5_000_000, 4_000_000) for i, w in enumerate(text.split())]


def test_an_entitys_words_become_one_mask_word_spanning_them() -> None:
    words = _words("my card is four one one one one one one one one one one one one one one one ok")
    redacted, counts = redact_words(words)
    assert counts == {"CARD": 1}
    assert [w.text for w in redacted] == ["my", "card", "is", "[CARD]", "ok"]
    mask = redacted[3]
    assert mask.offset == words[3].offset
    assert mask.offset + mask.duration == words[-2].offset + words[-2].duration
    # Words around the entity are the very same words.
    assert redacted[:3] == tuple(words[:3])
    assert redacted[4] == words[-1]


def test_word_masks_keep_the_phrase_span() -> None:
    words = _words("that's w h i t f i e l d and dana dot whitfield at contoso dot com")
    redacted, counts = redact_words(words)
    assert counts == {"SPELLED": 1, "EMAIL": 1}
    assert [w.text for w in redacted] == ["that's", "[SPELLED]", "and", "[EMAIL]"]
    assert redacted[0].offset == words[0].offset
    last_end = redacted[-1].offset + redacted[-1].duration
    assert last_end == words[-1].offset + words[-1].duration
    # Still in order and never overlapping.
    for a, b in itertools.pairwise(redacted):
        assert a.offset + a.duration <= b.offset


def test_display_form_words_are_masked_too() -> None:
    words = _words("call +1 425 555 0100 or mail dana.whitfield@contoso.com.")
    redacted, counts = redact_words(words)
    assert [w.text for w in redacted] == ["call", "[PHONE]", "or", "mail", "[EMAIL]"]
    assert counts == {"PHONE": 1, "EMAIL": 1}


def test_words_without_entities_come_back_unchanged() -> None:
    words = _words("the order ORD-55812 ships at ten thirty")
    assert redact_words(words) == (tuple(words), {})
    assert redact_words([]) == ((), {})


def test_redacting_redacted_words_changes_nothing() -> None:
    words = _words("card four one one one one one one one one one one one one one one one")
    once, _ = redact_words(words)
    assert redact_words(once) == (once, {})


def test_a_phrase_is_redacted_alike_in_text_and_words() -> None:
    text = "My number is 425-555-0100."
    words = _words("my number is four two five five five five oh one hundred")
    phrase = Redactor().phrase(text, words)
    assert phrase.text == "My number is [PHONE]."
    assert [w.text for w in phrase.words] == ["my", "number", "is", "[PHONE]"]
    assert phrase.counts == {"PHONE": 1}


# --- the redactor ----------------------------------------------------------------------------


def test_a_redactor_can_be_limited_to_some_types() -> None:
    text = "card 4111111111111111 mail dana@contoso.com"
    assert Redactor({"EMAIL"}).text(text).text == "card 4111111111111111 mail [EMAIL]"
    with pytest.raises(ValueError, match="unknown entity types"):
        Redactor({"NAME"})


def test_entities_are_in_order_and_apart() -> None:
    text = POSITIVES[-1] + " " + POSITIVES[4]
    entities = find_entities(text)
    assert [e.type for e in entities] == ["CARD", "PHONE", "ACCOUNT", "SSN", "EMAIL", "EMAIL"]
    for a, b in itertools.pairwise(entities):
        assert isinstance(a, Entity)
        assert a.end <= b.start


_VOCAB_TEXT = """
my card number is four one two three oh double um uh at dot com contoso dana that's w h i t
spelled 4111 1111 425 555-0100 + ( ) - , . $ 10:30 phone account social twenty hundred
thousand [CARD] [PHONE] @ 12/03 ORD-55812 sort code 12-34-56
"""
_VOCAB = tuple(_VOCAB_TEXT.split())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_VOCAB), max_size=30))
def test_any_text_redacts_to_a_fixed_point(parts: list[str]) -> None:
    text = " ".join(parts)
    entities = find_entities(text)
    for a, b in itertools.pairwise(entities):
        assert a.end <= b.start
    for e in entities:
        assert 0 <= e.start < e.end <= len(text)
        assert e.type in ENTITY_TYPES
    once = redact_text(text).text
    assert redact_text(once).text == once
    words = [Word(w, i * 10, 5) for i, w in enumerate(parts)]
    masked, _ = redact_words(words)
    assert redact_words(masked)[0] == masked
    assert [w.offset for w in masked] == sorted(w.offset for w in masked)


@pytest.mark.parametrize(
    ("partial", "shown"),
    [
        # Cut off mid-number: too short to be a card yet, so its digits are hidden anyway.
        ("Sure, it's four four seven two", "Sure, it's • • • •"),
        ("the card is 4472", "the card is •"),
        ("That's W H I T F", "That's [SPELLED]"),
        ("I was charged twice this month", "I was charged twice this month"),
    ],
)
def test_provisional_text_hides_every_number_until_its_final(partial: str, shown: str) -> None:
    assert redact_provisional(partial) == shown
