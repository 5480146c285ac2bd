"""A websocket frame's payload (a transcript packet) never reaches a log; its kind and size do."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from console.logs import install_redaction

PACKET = '{"kind": "TranscriptionData", "transcriptionData": {"text": "my card is 4111"}}'


@pytest.fixture
def records() -> Iterator[list[logging.LogRecord]]:
    install_redaction()
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep(level=logging.DEBUG)
    logger = logging.getLogger("websockets.server")
    logger.addHandler(handler)
    old = logger.level
    logger.setLevel(logging.DEBUG)
    yield seen
    logger.setLevel(old)
    logger.removeHandler(handler)


def test_a_received_text_frame_is_logged_by_kind_and_size_only(
    records: list[logging.LogRecord],
) -> None:
    logging.getLogger("websockets.server").debug("< TEXT %r [%d bytes]", PACKET, len(PACKET))
    [record] = records
    assert record.getMessage() == f"< TEXT <payload> [{len(PACKET)} bytes]"


def test_the_handshake_lines_stay_as_they_were(records: list[logging.LogRecord]) -> None:
    logging.getLogger("websockets.server").debug("< GET %s HTTP/1.1", "/ws/transcription")
    [record] = records
    assert record.getMessage() == "< GET /ws/transcription HTTP/1.1"
