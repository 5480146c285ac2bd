"""Input naming the wrong call is dropped, counted and logged, and never reaches a call.

Two calls are live (the real SDK against the emulator, through the real listeners). Each
forgery is what an attacker holding a valid token, or a misconfigured service, could send: a
callback POST or a transcript WebSocket, authenticated exactly as the emulator authenticates
its own (a bearer JWT it signed, the URL secret), that names another call than the one its URL
is for, or a call this console does not hold. Each is followed by waiting for the counter that
proves it was looked at, then checking that neither call's state or transcript moved.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import websockets
from reliability_kit import WAIT, connected, local_profile, until

from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState, SessionState, TranscriptionState

A, B, C = "+15550101", "+15550102", "+15550103"
FORGED = "forged words nobody said"


@dataclass
class Desk:
    emu: Emulator
    rt: ConsoleRuntime
    a: CallSession
    b: CallSession
    ended: CallSession  # placed, hung up and closed: the runtime no longer holds it
    ended_ccid: str
    ended_id: str  # the session id its URLs named


def _watched(state: SessionState) -> tuple[Any, ...]:
    return (
        state.call,
        state.transcription,
        state.call_connection_id,
        state.confirmed_locale,
        state.requested_locale,
        state.stream_connected,
        state.last_error,
    )


class Watch:
    """Every state the two calls publish from now on, and their notices."""

    def __init__(self, *sessions: CallSession) -> None:
        self.start = {s.id: _watched(s.state) for s in sessions}
        self.states: dict[str, list[tuple[Any, ...]]] = {s.id: [] for s in sessions}
        self.notices: dict[str, list[str]] = {s.id: [] for s in sessions}
        self._undo = [
            s.subscribe(
                on_state=lambda st, s=s: self.states[s.id].append(_watched(st)),
                on_notice=lambda n, s=s: self.notices[s.id].append(f"{n.level}: {n.title}"),
            )
            for s in sessions
        ]

    def assert_unmoved(self) -> None:
        for sid, start in self.start.items():
            assert start[0] is CallState.CONNECTED
            assert start[1] is TranscriptionState.ACTIVE
            assert all(st == start for st in self.states[sid]), (start, self.states[sid])
            assert self.notices[sid] == [], self.notices[sid]

    def close(self) -> None:
        for undo in self._undo:
            undo()


@pytest.fixture
async def desk(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> Desk:
    emu = await make_emulator(hangup_after_script=False, speed=10.0)
    rt = await make_runtime(local_profile(emu))
    ended = await connected(rt, target=C)
    ended_ccid = ended.state.call_connection_id
    assert ended_ccid is not None
    await ended.hang_up()
    await ended.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    rt.discard_session(ended)
    a = await connected(rt, target=A)
    b = await connected(rt, target=B)
    await until(lambda: a.transcript.finals and b.transcript.finals, what="both calls talking")
    await a.wait_for(lambda s: s.stream_connected, WAIT)
    await b.wait_for(lambda s: s.stream_connected, WAIT)
    return Desk(emu, rt, a, b, ended, ended_ccid, ended.id)


@pytest.fixture
def warnings_logged(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger="console.runtime")
    return caplog


def _no_forgery(*sessions: CallSession) -> None:
    for session in sessions:
        phrases = [*session.transcript.finals, *session.transcript.open_intermediates()]
        texts = [p.text for p in phrases]
        assert FORGED not in texts, session.state.target


# --- callbacks ----------------------------------------------------------------------------


def _disconnected(ccid: str) -> dict[str, Any]:
    """A CallDisconnected as the service posts it: the most a forgery could do to a call."""
    return {
        "id": str(uuid.uuid4()),
        "source": f"calling/callConnections/{ccid}",
        "type": "Microsoft.Communication.CallDisconnected",
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "time": "2026-01-15T10:00:02.1234567+00:00",
        "subject": f"calling/callConnections/{ccid}",
        "data": {
            "callConnectionId": ccid,
            "serverCallId": "aHR0cHM6Ly9mb3JnZWQ",
            "correlationId": str(uuid.uuid4()),
            "resultInformation": {"code": 200, "subCode": 7000, "message": "forged"},
            "version": "2026-03-12",
            "publicEventType": "Microsoft.Communication.CallDisconnected",
        },
    }


async def _post(desk: Desk, url: str, body: Any, headers: dict[str, str] | None = None) -> int:
    auth = {"Authorization": f"Bearer {desk.emu.tokens.callback_token()}"}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=json.dumps(body), headers={**auth, **(headers or {})}) as resp,
    ):
        return resp.status


# (whose callback URL it is posted to, which call the body names, the header's call, counter)
CALLBACK_FORGERIES = [
    pytest.param("a", "b", None, "misrouted", id="the-other-call-in-the-body"),
    pytest.param("a", "a", "b", "misrouted", id="the-other-call-in-the-header"),
    pytest.param("a", "a", "unknown", "misrouted", id="an-unknown-call-in-the-header"),
    pytest.param("a", "a", "ended", "misrouted", id="an-ended-call-in-the-header"),
    pytest.param("a", "unknown", None, "misrouted", id="an-unknown-call-on-a-live-url"),
    pytest.param("a", "ended", None, "misrouted", id="an-ended-call-on-a-live-url"),
    pytest.param("ended", "b", None, "misrouted", id="a-live-call-on-an-ended-url"),
    pytest.param("ended", "ended", None, "unrouted", id="an-ended-call-on-its-own-url"),
    pytest.param("nobody", "unknown", None, "unrouted", id="an-unknown-session"),
    pytest.param(None, "unknown", None, "unrouted", id="no-session-named"),
]


def _ccid(desk: Desk, who: str) -> str:
    if who == "unknown":
        return str(uuid.uuid4())
    if who == "ended":
        return desk.ended_ccid
    ccid = getattr(desk, who).state.call_connection_id
    assert ccid is not None
    return str(ccid)


def _session_id(desk: Desk, who: str | None) -> str | None:
    if who is None:
        return None
    if who == "ended":
        return desk.ended_id
    if who == "nobody":
        return uuid.uuid4().hex
    return str(getattr(desk, who).id)


def _counter(rt: ConsoleRuntime, name: str) -> int:
    stats = rt.stats()
    # What the status bar shows is what the runtime counted.
    assert stats.misrouted == rt.misrouted
    assert stats.unrouted == rt.unrouted_events + rt.unrouted_packets
    return int(stats.misrouted if name == "misrouted" else stats.unrouted)


@pytest.mark.parametrize(("url_of", "body_names", "header_names", "counter"), CALLBACK_FORGERIES)
async def test_a_callback_naming_the_wrong_call_is_dropped_counted_and_logged(
    desk: Desk,
    warnings_logged: pytest.LogCaptureFixture,
    url_of: str | None,
    body_names: str,
    header_names: str | None,
    counter: str,
) -> None:
    rt = desk.rt
    watch = Watch(desk.a, desk.b)
    sid = _session_id(desk, url_of)
    url = rt.callbacks.callback_url(**({"session": sid} if sid else {}))
    headers = {"x-ms-call-connection-id": _ccid(desk, header_names)} if header_names else {}
    before = _counter(rt, counter)
    other = _counter(rt, "unrouted" if counter == "misrouted" else "misrouted")

    status = await _post(desk, url, [_disconnected(_ccid(desk, body_names))], headers)
    assert status == 200  # authenticated: the listener takes it; routing drops it

    await until(lambda: _counter(rt, counter) == before + 1, what=f"the {counter} count")
    assert _counter(rt, "unrouted" if counter == "misrouted" else "misrouted") == other
    watch.assert_unmoved()
    assert any(r.levelname == "WARNING" for r in warnings_logged.records)
    # The calls go on: each gets a Final it must have received after the forgery.
    finals = {s.id: len(s.transcript.finals) for s in (desk.a, desk.b)}
    for s in (desk.a, desk.b):
        await until(lambda s=s: len(s.transcript.finals) > finals[s.id], what="a later Final")
    watch.assert_unmoved()
    watch.close()


async def test_a_genuine_callback_still_reaches_its_call(desk: Desk) -> None:
    """The positive control: the same forgery, sent right, ends the call it names."""
    rt = desk.rt
    before = (rt.misrouted, rt.unrouted_events)
    url = rt.callbacks.callback_url(session=desk.b.id)
    assert await _post(desk, url, [_disconnected(_ccid(desk, "b"))]) == 200
    await desk.b.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    assert (rt.misrouted, rt.unrouted_events) == before
    assert desk.a.state.call is CallState.CONNECTED


# --- transcript WebSockets ----------------------------------------------------------------


def _metadata(ccid: str) -> str:
    return json.dumps(
        {
            "kind": "TranscriptionMetadata",
            "transcriptionMetadata": {
                "subscriptionId": str(uuid.uuid4()),
                "locale": "en-us",
                "callConnectionId": ccid,
                "correlationId": str(uuid.uuid4()),
            },
        }
    )


def _final(raw_id: str) -> str:
    return json.dumps(
        {
            "kind": "TranscriptionData",
            "transcriptionData": {
                "text": FORGED,
                "format": "display",
                "confidence": 0.99,
                "offset": 10_000_000,
                "duration": 10_000_000,
                "participantRawID": raw_id,
                "resultStatus": "Final",
            },
        }
    )


# (whose transcription URL, the x-ms-call-connection-id header, the metadata's call, counter)
STREAM_FORGERIES = [
    pytest.param("a", "a", "b", "misrouted", id="metadata-names-the-other-call"),
    pytest.param("a", None, "b", "misrouted", id="metadata-names-the-other-call-no-header"),
    pytest.param("a", "b", "b", "misrouted", id="header-names-the-other-call"),
    pytest.param("a", "a", "ended", "misrouted", id="metadata-names-an-ended-call"),
    pytest.param("a", "a", "unknown", "misrouted", id="metadata-names-an-unknown-call"),
    pytest.param("ended", "b", "b", "misrouted", id="a-live-call-on-an-ended-url"),
    pytest.param(None, "unknown", "unknown", "unrouted", id="an-unknown-call"),
    pytest.param(None, "ended", "ended", "unrouted", id="an-ended-call"),
]


@pytest.mark.parametrize(("url_of", "header_names", "meta_names", "counter"), STREAM_FORGERIES)
async def test_a_transcript_stream_naming_the_wrong_call_is_dropped_counted_and_logged(
    desk: Desk,
    warnings_logged: pytest.LogCaptureFixture,
    url_of: str | None,
    header_names: str | None,
    meta_names: str,
    counter: str,
) -> None:
    rt = desk.rt
    a, b = desk.a, desk.b
    watch = Watch(a, b)
    sid = _session_id(desk, url_of)
    url = rt.transcripts.url("transcription", **({"session": sid} if sid else {}))
    headers = {"Authorization": f"Bearer {desk.emu.tokens.websocket_token()}"}
    if header_names:
        headers["x-ms-call-connection-id"] = _ccid(desk, header_names)
    before = _counter(rt, counter)
    other = _counter(rt, "unrouted" if counter == "misrouted" else "misrouted")
    customer = f"4:{A}"

    async with websockets.connect(url, additional_headers=headers) as ws:
        await ws.send(_metadata(_ccid(desk, meta_names)))
        await ws.send(_final(customer))
        # Both frames were looked at (and refused) before this holds.
        await until(lambda: _counter(rt, counter) >= before + 2, what=f"the {counter} count")
        assert _counter(rt, "unrouted" if counter == "misrouted" else "misrouted") == other
        _no_forgery(a, b)
        watch.assert_unmoved()
    assert any(r.levelname == "WARNING" for r in warnings_logged.records)

    # The genuine streams carry on, and each call gets a Final after the forgery was closed.
    finals = {s.id: len(s.transcript.finals) for s in (a, b)}
    for s in (a, b):
        await until(lambda s=s: len(s.transcript.finals) > finals[s.id], what="a later Final")
    _no_forgery(a, b)
    watch.assert_unmoved()
    watch.close()

    # The forged stream left nothing behind on the call whose URL it used: once that call's
    # genuine stream closes (transcription stopped), the call shows no stream connected.
    await a.stop_transcription()
    await a.wait_for(lambda s: s.transcription is TranscriptionState.STOPPED, WAIT)
    await a.wait_for(lambda s: not s.stream_connected, WAIT)
    assert b.state.stream_connected
