"""The emulator's own PII masking (independent of the console's redaction engine): numbers of
seven digits or more and e-mail addresses become ``*``, lengths kept, text and words alike."""

from __future__ import annotations

import pytest

from console.emulator.pii_mask import mask_text, mask_transcription, mask_words


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("Card 4111 1111 1111 1111, thanks.", "Card **** **** **** ****, thanks."),
        ("card 4111-1111-1111-1111", "card ****-****-****-****"),
        ("It's 4472 910 83.", "It's **** *** **."),
        ("Call (555) 010-0142 today", "Call (***) ***-**** today"),
        ("or +1 425 555 0100.", "or +* *** *** ****."),
        ("Mail jane.doe@example.com now.", "Mail ******************** now."),
        ("Write to a_b+c@mail.example.co.uk", "Write to ************************"),
    ],
)
def test_personal_data_is_masked_keeping_length(text: str, masked: str) -> None:
    assert mask_text(text) == masked
    assert len(mask_text(text)) == len(text)


@pytest.mark.parametrize(
    "text",
    [
        "Order 58213 arrived at 8:15.",  # five digits: not personal data here
        "It was 1,250.00 dollars on 12 03.",
        "Room 12 and 34, floor 5.",
        "fifty nine ninety nine",
        "The total was <b>$20</b>.",
        "someone at example dot com",
    ],
)
def test_other_text_is_left_alone(text: str) -> None:
    assert mask_text(text) == text


def test_words_are_masked_as_the_text_they_make() -> None:
    words = ["call", "555", "010-0142", "or", "jane.doe@example.com"]
    assert mask_words(words) == ["call", "***", "***-****", "or", "********************"]
    assert mask_words(["no", "numbers"]) == ["no", "numbers"]


def test_a_packet_body_is_masked_in_text_and_words_and_not_changed_in_place() -> None:
    body = {
        "text": "It's 4472 910 83.",
        "words": [
            {"text": "it's", "offset": 1, "duration": 2},
            {"text": "4472", "offset": 3, "duration": 2},
            {"text": "910", "offset": 5, "duration": 2},
            {"text": "83", "offset": 7, "duration": 2},
        ],
        "resultStatus": "Final",
    }
    masked = mask_transcription(body)
    assert masked["text"] == "It's **** *** **."
    assert [w["text"] for w in masked["words"]] == ["it's", "****", "***", "**"]
    assert [w["offset"] for w in masked["words"]] == [1, 3, 5, 7]
    assert body["text"] == "It's 4472 910 83."  # the feed's packet is untouched
    assert body["words"][1]["text"] == "4472"
