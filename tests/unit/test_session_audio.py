"""CallSession and audio, without a network: media-streaming events in operator words, and
audio frames that feed the levels only while the call is live."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest

from console.acs.events import parse_event
from console.acs.streaming import parse_packet
from console.session import CallSession, CallState, MediaStreamingState, Notice

CCID = "401f3500-7e2a-4c11-9b0e-1a2b3c4d5e6f"
RAW = "4:+15550100"


def media_event(kind: str, details: str, code: int = 200, sub: int = 0, message: str = "") -> Any:
    status = {"Started": "mediaStreamingStarted", "Stopped": "mediaStreamingStopped"}.get(
        kind, "mediaStreamingFailed"
    )
    return parse_event(
        {
            "id": f"ev-{kind}-{details}",
            "source": f"calling/callConnections/{CCID}",
            "type": f"Microsoft.Communication.MediaStreaming{kind}",
            "specversion": "1.0",
            "data": {
                "callConnectionId": CCID,
                "resultInformation": {"code": code, "subCode": sub, "message": message},
                "mediaStreamingUpdate": {
                    "contentType": "Audio",
                    "mediaStreamingStatus": status,
                    "mediaStreamingStatusDetails": details,
                },
            },
        }
    )


def audio(raw_id: str | None = RAW) -> str:
    body: dict[str, Any] = {"data": base64.b64encode(b"\x00\x10" * 320).decode(), "silent": False}
    if raw_id:
        body["participantRawID"] = raw_id
    return json.dumps({"kind": "AudioData", "audioData": body})


@pytest.fixture
def session() -> CallSession:
    s = CallSession(None, None, call_check_interval=None)  # type: ignore[arg-type]
    s.state = replace(s.state, call=CallState.CONNECTED, call_connection_id=CCID)
    return s


def notices(session: CallSession) -> list[Notice]:
    seen: list[Notice] = []
    session.subscribe(on_notice=seen.append)
    return seen


def test_started_and_stopped_are_told_and_tracked(session: CallSession) -> None:
    seen = notices(session)
    session.handle_events([media_event("Started", "subscriptionStarted")])
    assert session.state.media_streaming is MediaStreamingState.ACTIVE
    session.handle_packet(audio(), parse_packet(audio()))
    assert session.audio.sources() == (RAW,)
    session.handle_events([media_event("Stopped", "subscriptionStopped")])
    assert session.state.media_streaming is MediaStreamingState.STOPPED
    assert session.audio.sources() == ()
    assert [(n.level, n.title) for n in seen] == [
        ("info", "Audio streaming started"),
        ("info", "Call audio arriving"),  # only once a frame has really arrived
        ("info", "Audio streaming stopped"),
    ]
    assert "details subscriptionStopped" in seen[2].detail
    assert "level meters are live" not in seen[0].text


def test_a_failure_without_a_known_reason_quotes_the_service(session: CallSession) -> None:
    seen = notices(session)
    session.handle_events(
        [media_event("Failed", "somethingNew", 500, 9999, "Media gateway went away.")]
    )
    (notice,) = seen
    assert notice.level == "warning"
    assert notice.text.startswith(
        "Audio streaming failed: the service could not stream the call's audio to this console "
        '(it said: "Media gateway went away.")'
    )
    assert "not affected" in notice.text
    assert "code 500/9999" in notice.detail
    assert session.state.media_streaming is MediaStreamingState.FAILED


def test_a_known_failure_reason_is_said_plainly(session: CallSession) -> None:
    seen = notices(session)
    session.handle_events([media_event("Failed", "streamConnectionInterrupted", 500, 8578)])
    assert "the audio connection to this console broke off" in seen[0].text


def test_audio_is_heard_only_during_the_call_and_brings_a_new_participant(
    session: CallSession,
) -> None:
    added: list[str] = []
    session.transcript.subscribe(lambda c: added.append(type(c).__name__))
    session.handle_packet(audio(), parse_packet(audio()))
    session.handle_packet(audio(None), parse_packet(audio(None)))
    assert [p.raw_id for p in session.transcript.participants] == [RAW]
    assert added == ["ParticipantAdded"]  # no phrase, no marker: audio is not transcript
    assert session.packets_applied == 0
    assert session.audio.frames == 2
    session.state = replace(session.state, call=CallState.DISCONNECTED)
    session.handle_packet(audio(), parse_packet(audio()))
    assert session.audio.frames == 2


def test_silence_alone_never_claims_the_meters_are_live(session: CallSession) -> None:
    # A scripted call without recordings streams silent frames: nothing for a meter to show.
    seen = notices(session)
    session.handle_events([media_event("Started", "subscriptionStarted")])
    silent = json.dumps(
        {"kind": "AudioData", "audioData": {"data": base64.b64encode(bytes(640)).decode(),
                                            "silent": True}}
    )  # fmt: skip
    for _ in range(50):
        session.handle_packet(silent, parse_packet(silent))
    assert session.audio.frames == 50
    assert [n.title for n in seen] == ["Audio streaming started"]
    assert "level meters are live" not in seen[0].text
    session.handle_packet(audio(), parse_packet(audio()))  # someone is heard
    assert [n.title for n in seen] == ["Audio streaming started", "Call audio arriving"]
