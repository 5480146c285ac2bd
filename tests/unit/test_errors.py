"""The transcription code table and the operator text it produces."""

from __future__ import annotations

import re

import pytest

from console.acs import errors
from console.acs.errors import TRANSCRIPTION_CODES, explain, row

# The "Event codes" table of the real-time transcription how-to, word for word, with the key
# the console gives each row. Written out here so the table in errors.py is checked against
# the documentation rather than against itself.
DOCUMENTED = [
    ("started", "TranscriptionStarted", 200, 0, "Action completed successfully."),
    ("stopped", "TranscriptionStopped", 200, 0, "Action completed successfully."),
    ("updated", "TranscriptionUpdated", 200, 0, "Action completed successfully."),
    (
        "invalid_stream_url",
        "TranscriptionFailed",
        400,
        8581,
        "Action failed, StreamUrl isn't valid.",
    ),
    (
        "cognitive_bad_request",
        "TranscriptionFailed",
        400,
        8565,
        "Action failed due to a bad request to Cognitive Services. Check your input parameters.",
    ),
    (
        "cognitive_timeout",
        "TranscriptionFailed",
        400,
        8565,
        "Action failed due to a request to Cognitive Services timing out. Try again later or "
        "check for any issues with the service.",
    ),
    (
        "custom_model_not_supported",
        "TranscriptionFailed",
        400,
        8605,
        "Custom speech recognition model for Transcription is not supported.",
    ),
    ("locale_missing", "TranscriptionFailed", 400, 8523, "Invalid Request, locale is missing."),
    (
        "locale_without_region",
        "TranscriptionFailed",
        400,
        8523,
        "Invalid Request, only locales that contain region information are supported.",
    ),
    (
        "transcription_not_supported",
        "TranscriptionFailed",
        405,
        8520,
        "Transcription functionality is not supported at this time.",
    ),
    (
        "update_not_supported",
        "TranscriptionFailed",
        405,
        8520,
        "Update transcription functionality is not supported at this time.",
    ),
    (
        "update_not_supported_connect",
        "TranscriptionFailed",
        405,
        8520,
        "UpdateTranscription is not supported for connection created with Connect interface.",
    ),
    (
        "call_terminated",
        "TranscriptionFailed",
        400,
        8528,
        "Action is invalid, call already terminated.",
    ),
    (
        "transcription_url_not_set",
        "TranscriptionFailed",
        405,
        8522,
        "Request not allowed when Transcription url not set during call setup.",
    ),
    (
        "cognitive_not_set",
        "TranscriptionFailed",
        405,
        8522,
        "Request not allowed when Cognitive Service Configuration not set during call setup.",
    ),
    (
        "call_not_established",
        "TranscriptionFailed",
        400,
        8501,
        "Action is invalid when call is not in Established state.",
    ),
    (
        "cognitive_unauthorized",
        "TranscriptionFailed",
        401,
        8565,
        "Action failed due to a Cognitive Services authentication error. Check your "
        "authorization input and ensure it's correct.",
    ),
    (
        "cognitive_forbidden",
        "TranscriptionFailed",
        403,
        8565,
        "Action failed due to a forbidden request to Cognitive Services. Check your "
        "subscription status and ensure it's active.",
    ),
    (
        "cognitive_too_many_requests",
        "TranscriptionFailed",
        429,
        8565,
        "Action failed, requests exceeded the number of allowed concurrent requests for the "
        "cognitive services subscription.",
    ),
    (
        "websocket_failed",
        "TranscriptionFailed",
        500,
        8578,
        "Action failed, not able to establish WebSocket connection.",
    ),
    (
        "service_shutdown",
        "TranscriptionFailed",
        500,
        8580,
        "Action failed, transcription service was shut down.",
    ),
    (
        "transcription_canceled",
        "TranscriptionFailed",
        500,
        8579,
        "Action failed, transcription was canceled.",
    ),
    ("unknown_internal", "TranscriptionFailed", 500, 9999, "Unknown internal server error."),
]

# transcriptionStatusDetails values the SDK's enum defines.
STATUS_DETAILS = {
    "subscriptionStarted",
    "streamConnectionReestablished",
    "streamConnectionUnsuccessful",
    "streamUrlMissing",
    "serviceShutdown",
    "streamConnectionInterrupted",
    "speechServicesConnectionError",
    "subscriptionStopped",
    "unspecifiedError",
    "authenticationFailure",
    "badRequest",
    "tooManyRequests",
    "forbidden",
    "serviceTimeout",
    "transcriptionLocaleUpdated",
}

KEYS = [d[0] for d in DOCUMENTED]
FAILED = [d for d in DOCUMENTED if d[1] == "TranscriptionFailed"]


def test_table_has_exactly_the_documented_rows_in_order() -> None:
    assert [r.key for r in TRANSCRIPTION_CODES] == KEYS


@pytest.mark.parametrize(("key", "event", "code", "sub_code", "message"), DOCUMENTED, ids=KEYS)
def test_row_matches_documentation(
    key: str, event: str, code: int, sub_code: int, message: str
) -> None:
    r = row(key)
    assert (r.key, r.event, r.code, r.sub_code, r.message) == (key, event, code, sub_code, message)
    assert r.status_details in STATUS_DETAILS


@pytest.mark.parametrize(("key", "event", "code", "sub_code", "message"), DOCUMENTED, ids=KEYS)
def test_operator_text_is_plain_words(
    key: str, event: str, code: int, sub_code: int, message: str
) -> None:
    r = row(key)
    assert r.title
    assert r.explanation
    if event == "TranscriptionFailed":
        # A failure always tells the operator what to do next.
        assert r.remedy
    operator_text = " ".join((r.title, r.explanation, r.remedy))
    # No codes and no wire names (camelCase fields, "subCode", ...) in what operators read.
    assert str(sub_code) not in operator_text or sub_code == 0
    assert not re.search(r"\b[a-z]+[A-Z]\w*", operator_text), operator_text
    assert "Cognitive" not in operator_text
    # The integrator hint carries the numbers instead.
    assert f"{code}/{sub_code}" in r.technical


@pytest.mark.parametrize(("key", "event", "code", "sub_code", "message"), FAILED, ids=KEYS[3:])
def test_explain_picks_the_row_by_documented_message(
    key: str, event: str, code: int, sub_code: int, message: str
) -> None:
    result = explain(code, sub_code, message)
    assert result.key == key
    assert result.known
    assert (result.code, result.sub_code, result.message) == (code, sub_code, message)
    assert (result.title, result.remedy) == (row(key).title, row(key).remedy)


@pytest.mark.parametrize(("key", "event", "code", "sub_code", "message"), FAILED, ids=KEYS[3:])
def test_explain_tolerates_reworded_and_suffixed_messages(
    key: str, event: str, code: int, sub_code: int, message: str
) -> None:
    suffixed = message + " DiagCode: 500#8578.@"
    assert explain(code, sub_code, suffixed).key == key
    assert explain(code, sub_code, message.upper().replace("ISN'T", "IS NOT")).key == key


@pytest.mark.parametrize(
    ("message", "key"),
    [
        ("Cognitive Services request timed out", "cognitive_timeout"),
        ("bad request to speech", "cognitive_bad_request"),
    ],
)
def test_shared_code_is_told_apart_by_keywords(message: str, key: str) -> None:
    assert explain(400, 8565, message).key == key


def test_shared_code_without_message_falls_back_to_status_details() -> None:
    assert explain(400, 8565, None, status_details="serviceTimeout").key == "cognitive_timeout"
    assert explain(405, 8522, "", status_details="streamUrlMissing").key == (
        "transcription_url_not_set"
    )


def test_shared_code_with_unrecognised_message_gets_group_text() -> None:
    result = explain(400, 8523, "Locale problem")
    assert result.key is None
    assert result.known  # the code is documented even though the row is unclear
    assert "region" in result.remedy
    assert '"Locale problem"' in result.explanation


def test_success_rows_are_told_apart_by_event() -> None:
    message = "Action completed successfully."
    assert explain(200, 0, message, event="TranscriptionStarted").key == "started"
    assert explain(200, 0, message, event="TranscriptionStopped").key == "stopped"
    assert explain(200, 0, message, event="TranscriptionUpdated").key == "updated"
    generic = explain(200, 0, message)
    assert generic.key is None
    assert generic.known
    assert "completed" in generic.title


def test_unknown_code_is_generic_but_quotes_the_service() -> None:
    result = explain(400, 1234, "Something odd happened.")
    assert not result.known
    assert result.key is None
    assert "400/1234" in result.explanation
    assert '"Something odd happened."' in result.explanation
    assert result.remedy
    assert "400/1234" in result.technical


@pytest.mark.parametrize(
    ("code", "word"), [(None, "no reason"), (418, "refused"), (503, "service"), (302, "")]
)
def test_unknown_codes_by_class(code: int | None, word: str) -> None:
    result = explain(code, None if code is None else 1, None)
    assert not result.known
    assert word in result.title
    assert result.remedy
    assert "None" not in result.text


@pytest.mark.parametrize(
    ("event", "title"),
    [
        ("CreateCallFailed", "The call could not be placed"),
        ("AnswerFailed", "The call could not be answered"),
        ("ConnectFailed", "Could not join the call"),
    ],
)
def test_call_setup_failures_use_the_service_message(event: str, title: str) -> None:
    result = explain(400, 8501, "Invalid target.", event=event)
    # 400/8501 is a transcription row, but for a setup failure it must not be read as one.
    assert result.title == title
    assert result.key is None
    assert not result.known
    assert 'The service said: "Invalid target."' in result.explanation
    assert result.remedy


def test_call_setup_failure_hints_for_auth_and_busy() -> None:
    assert "credentials" in explain(401, 0, None, event="CreateCallFailed").explanation
    assert "busy" in explain(486, 0, None, event="CreateCallFailed").explanation


def test_text_joins_sentences() -> None:
    text = explain(400, 8501, row("call_not_established").message).text
    assert text == (
        "Transcription could not start: the call has not been answered yet. "
        "Transcription can only run once the call is connected. "
        "Wait until the call shows Connected, then start again."
    )


def test_row_unknown_key_raises_key_error() -> None:
    with pytest.raises(KeyError):
        row("no_such_row")


def test_rows_for_lists_every_row_sharing_a_code() -> None:
    assert {r.key for r in errors.rows_for(405, 8520)} == {
        "transcription_not_supported",
        "update_not_supported",
        "update_not_supported_connect",
    }
    assert errors.rows_for(None, None) == ()


def test_transcription_status_matches_event() -> None:
    assert row("started").transcription_status == "transcriptionStarted"
    assert row("websocket_failed").transcription_status == "transcriptionFailed"


def test_codes_as_strings_from_rest_error_bodies() -> None:
    key = explain(405, "8522", row("cognitive_not_set").message).key  # type: ignore[arg-type]
    assert key == "cognitive_not_set"
    assert explain("400", " 8501 ", None).key == "call_not_established"  # type: ignore[arg-type]
