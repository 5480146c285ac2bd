"""A call failing out of view changes nothing of the call in view, in the real window.

Three calls transcribe (the real window, runtime and emulator, through the real SDK); the first
is in view while the middle one gets a fault. The call in view's widgets read exactly as before
while its transcript goes on; the faulted call's row says what went wrong and carries the
unread mark. Input naming the wrong call shows in the status bar's counters.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import aiohttp
import pytest

from console.acs.calls import CallService
from console.acs.events import parse_callback_body
from console.call.state import CallState, TranscriptionState
from console.session import CallSession
from console.ui.call_book import CallBook, CallEntry
from console.ui.main_window import MainWindow
from tests.gui.conftest import running_console, wait_until
from tests.gui.test_several_calls import AGENT, _place, _select, _transcribe

A, B, C = "+14255550110", "+14255550111", "+14255550112"


def _in_view(w: MainWindow) -> tuple[Any, ...]:
    """What the operator sees of the call in view, apart from its growing transcript."""
    return (
        w.call_controls.state_label.text(),
        w.transcription.status.text(),
        w.transcription.toggle.text(),
        w.transcription.locale.locale(),
        tuple(sorted(w.transcript_view.panes)),
        w.status.health.text(),
        w.windowTitle(),
        w.event_log.rows(),
    )


def _row(w: MainWindow, entry: CallEntry) -> tuple[str, str, str]:
    row = w.call_dock.list.rows[id(entry)][1]
    return row.state_line.text(), row.transcription_line.text(), row.mark.text()


FAULTS = [
    pytest.param("dropTranscriptStream", {}, id="transcript-stream-dropped"),
    pytest.param("transcriptionFailed", {"key": "service_shutdown"}, id="transcription-failed"),
    pytest.param("hangUp", {}, id="call-disconnected"),
]


@pytest.mark.parametrize(("kind", "params"), FAULTS)
async def test_a_fault_out_of_view_leaves_the_call_in_view_as_it_was(
    app, qtbot, tmp_path, kind: str, params: dict[str, Any]
) -> None:
    async with running_console(tmp_path, speed=6.0) as console:
        w = console.window
        a, b, c = [await _place(qtbot, w, t) for t in (A, B, C)]
        for entry in (a, b, c):
            _select(qtbot, w, entry)
            await _transcribe(qtbot, w, entry)
        _select(qtbot, w, a)
        customer = f"4:{A}"
        await wait_until(
            lambda: set(w.transcript_view.panes) == {AGENT, customer}, what="A's two panes"
        )
        await wait_until(lambda: a.state.stream_connected, what="A's stream")
        view = _in_view(w)
        rows = {e.number: _row(w, e) for e in (a, c)}
        finals = {e.number: e.session.transcript.final_count for e in (a, b, c)}
        assert b.state.call_connection_id is not None
        console.emulator.inject_fault(b.state.call_connection_id, kind, **params)

        # The middle call's row shows what happened, with its mark.
        titles = lambda: [n.title for n in b.notices]  # noqa: E731
        if kind == "dropTranscriptStream":
            await wait_until(
                lambda: "Transcript connection restored" in titles(), what="B's stream back"
            )
            assert "Transcript connection interrupted" in titles()
            await wait_until(
                lambda: b.session.transcript.final_count > finals[b.number], what="B goes on"
            )
            assert _row(w, b)[0].startswith("Connected")
            assert _row(w, b)[1] == "Transcription: Live · en-US"
        elif kind == "transcriptionFailed":
            await wait_until(lambda: "Failed" in _row(w, b)[1], what="B's row: Failed")
            assert _row(w, b)[0].startswith("Connected")
        else:
            await wait_until(lambda: _row(w, b)[0] == "Call ended", what="B's row: Call ended")
            assert b.state.call is CallState.DISCONNECTED
        assert b.unread
        assert _row(w, b)[2] == "●"

        # A and C go on: each gets a Final after the fault, and nothing else of theirs moved.
        for entry in (a, c):
            await wait_until(
                lambda e=entry: e.session.transcript.final_count > finals[e.number],
                what=f"a Final on call {entry.number} after the fault",
            )
        w.call_dock.list.refresh()
        assert _in_view(w) == view
        assert w.transcript_view.transcript is a.session.transcript
        for entry in (a, c):
            state, transcription, _mark = _row(w, entry)
            assert state.split(" · ")[0] == rows[entry.number][0].split(" · ")[0] == "Connected"
            assert transcription == rows[entry.number][1] == "Transcription: Live · en-US"
            s = entry.state
            assert (s.call, s.transcription) == (CallState.CONNECTED, TranscriptionState.ACTIVE)
            assert s.stream_connected
        assert not a.unread

        # Input naming B, sent to A's callback URL, is counted where the operator sees it.
        rt = console.runtime
        url = rt.callbacks.callback_url(session=a.session.id)
        token = console.emulator.tokens.callback_token()
        body = [_event("TranscriptionFailed", b.state.call_connection_id)]
        headers = {"Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as http, http.post(url, json=body, headers=headers):
            pass
        await wait_until(
            lambda: "not for these calls 1" in w.status.packets.text(), what="the counter"
        )
        assert "another call than their address (dropped): 1" in w.status.packets.toolTip()
        assert _in_view(w) == view
        assert a.state.transcription is TranscriptionState.ACTIVE


def _event(kind: str, ccid: str | None) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "source": f"calling/callConnections/{ccid}",
        "type": f"Microsoft.Communication.{kind}",
        "specversion": "1.0",
        "subject": f"calling/callConnections/{ccid}",
        "data": {
            "callConnectionId": ccid,
            "resultInformation": {"code": 500, "subCode": 8580, "message": "forged"},
            "transcriptionUpdate": {
                "transcriptionStatus": "transcriptionFailed",
                "transcriptionStatusDetails": "serviceShutdown",
            },
        },
    }


class _Endpoints:
    def callback_url(self, **query: str) -> str:
        return "http://127.0.0.1:9/api/callbacks/x"

    def transcription_url(self, **query: str) -> str:
        return "ws://127.0.0.1:9/ws/transcription/x"

    def audio_url(self, **query: str) -> str:
        return "ws://127.0.0.1:9/ws/audio/x"


def test_a_call_out_of_view_that_ends_or_warns_gets_its_mark(app) -> None:
    """Without Finals to set it (transcription off), the end of a call out of view, or a
    warning about it, still marks its row; the call in view is never marked."""
    calls = CallService("endpoint=https://127.0.0.1:9/;accesskey=bWFyay10ZXN0LWtleS1tYXJr")
    book = CallBook()
    sessions = [CallSession(calls, _Endpoints(), call_check_interval=None) for _ in range(3)]
    first, second, third = (book.add(s) for s in sessions)
    for n, entry in enumerate((first, second, third)):
        entry.session.handle_events(parse_callback_body(json.dumps([_connected(f"call-{n}")])))
    book.select(first)
    assert [e.unread for e in (first, second, third)] == [False, False, False]

    second.session.handle_events(
        parse_callback_body(json.dumps([_disconnected("call-1")]))  # the other party hung up
    )
    assert second.state.call is CallState.DISCONNECTED
    assert second.unread
    first.session.handle_events(parse_callback_body(json.dumps([_disconnected("call-0")])))
    assert not first.unread, "the call in view has nothing unread"
    third.session.handle_events(parse_callback_body(json.dumps([_interrupted("call-2")])))
    assert third.state.call is CallState.CONNECTED
    assert third.unread
    book.shutdown()
    for s in sessions:
        s.close()


def _connected(ccid: str) -> dict[str, Any]:
    return {**_event("CallConnected", ccid), "data": {"callConnectionId": ccid}}


def _disconnected(ccid: str) -> dict[str, Any]:
    data = {"callConnectionId": ccid, "resultInformation": {"code": 200, "subCode": 7000}}
    return {**_event("CallDisconnected", ccid), "data": data}


def _interrupted(ccid: str) -> dict[str, Any]:
    update = {
        "transcriptionStatus": "transcriptionUpdated",
        "transcriptionStatusDetails": "streamConnectionInterrupted",
    }
    data = {"callConnectionId": ccid, "transcriptionUpdate": update}
    return {**_event("TranscriptionUpdated", ccid), "data": data}
