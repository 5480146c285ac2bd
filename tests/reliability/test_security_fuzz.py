"""Hostile input fuzzed at the console's edges: callback and Event Grid bodies through the real
HTTP listener into a CallSession, JWTs into the verifier, frames into the WebSocket listener —
nothing may crash, hang, or take memory out of proportion to its size.

The servers run on an event loop in a background thread (hypothesis drives plain functions);
the emulator in the same loop provides the real JWKS and signs the valid tokens.
"""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import logging
import threading
import time
import tracemalloc
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosedError
from websockets.sync.client import connect as ws_connect

from console.acs.auth import AuthError, AuthSettings, JwtVerifier, new_url_secret
from console.acs.calls import CallService
from console.acs.events import (
    EventParseError,
    IncomingCall,
    parse_callback_body,
    parse_event_grid_body,
)
from console.acs.streaming import Packet, TranscriptionData, parse_packet
from console.emulator.server import Emulator, EmulatorConfig
from console.listener.callbacks import MAX_BODY, CallbackServer
from console.listener.websocket import MAX_FRAME, StreamConnection, TranscriptServer
from console.session import CallSession, SessionState

T = TypeVar("T")
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
# Memory allowed per byte of hostile input: the JSON decoder alone needs ~36x for a body of
# tiny objects; well beyond that is the console building objects per element.
MEMORY_FACTOR = 50


class _Endpoints:
    def callback_url(self, **query: str) -> str:
        return "http://127.0.0.1:9/api/callbacks/unused"

    def transcription_url(self, **query: str) -> str:
        return "ws://127.0.0.1:9/ws/transcription/unused"


@dataclass
class Edge:
    """The console's listeners on a background loop, feeding one CallSession."""

    loop: asyncio.AbstractEventLoop
    emulator: Emulator
    callbacks: CallbackServer
    transcripts: TranscriptServer
    verifier: JwtVerifier
    session: CallSession
    secret: str
    incoming: list[IncomingCall] = field(default_factory=list)
    frames: list[Packet] = field(default_factory=list)
    errors: list[logging.LogRecord] = field(default_factory=list)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    def token(self, **claims: Any) -> str:
        return self.emulator.tokens.mint(300, **claims)

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        conn = http.client.HTTPConnection("127.0.0.1", self.callbacks.port, timeout=10)
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    # PacketSink
    def stream_opened(self, conn: StreamConnection) -> None:
        pass

    def packet(self, conn: StreamConnection, frame: str, packet: Packet) -> None:
        self.frames.append(packet)
        self.session.handle_packet(frame, packet)

    def stream_closed(self, conn: StreamConnection, code: int | None, reason: str) -> None:
        pass


class _Errors(logging.Handler):
    """Collects exceptions the console caught and logged (operator notices are not errors)."""

    def __init__(self, sink: list[logging.LogRecord]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info or record.exc_text:
            self.sink.append(record)


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="edge-loop", daemon=True)
    thread.start()
    data: Path = tmp_path_factory.mktemp("edge")

    async def up() -> Edge:
        emu = Emulator(EmulatorConfig(data_dir=data / "emulator"))
        await emu.start()
        verifier = JwtVerifier(
            AuthSettings(
                audience=emu.audience,
                issuer=emu.issuer,
                jwks_url=emu.jwks_url,
                ca_file=emu.cert_path,
                refresh_cooldown=3600.0,
            )
        )
        calls = CallService("endpoint=https://127.0.0.1:9/;accesskey=ZnV6ei1mdXp6LWZ1enotZnV6eg==")
        session = CallSession(calls, _Endpoints(), journal_dir=None, call_check_interval=None)
        secret = new_url_secret()
        holder: dict[str, Edge] = {}
        callbacks = CallbackServer(
            on_events=lambda events, _address: holder["edge"].session.handle_events(events),
            on_incoming_call=lambda call: holder["edge"].incoming.append(call),
            secret=secret,
            verifier=verifier,
        )
        await callbacks.start()
        transcripts = TranscriptServer(
            _SinkProxy(holder), secret=secret, verifier=verifier, host="127.0.0.1"
        )
        await transcripts.start()
        edge = Edge(loop, emu, callbacks, transcripts, verifier, session, secret)
        holder["edge"] = edge
        return edge

    edge = asyncio.run_coroutine_threadsafe(up(), loop).result(30)
    watcher = _Errors(edge.errors)
    logging.getLogger("console").addHandler(watcher)
    try:
        yield edge
    finally:
        logging.getLogger("console").removeHandler(watcher)

        async def down() -> None:
            edge.session.close()
            await edge.transcripts.stop()
            await edge.callbacks.stop()
            await edge.verifier.close()
            await edge.session.calls.close()
            await edge.emulator.stop()
            # Whatever a refused or cut-off connection left behind ends with the loop.
            rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        edge.run(down(), 30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


class _SinkProxy:
    def __init__(self, holder: dict[str, Edge]) -> None:
        self._holder = holder

    def stream_opened(self, conn: StreamConnection) -> None:
        self._holder["edge"].stream_opened(conn)

    def packet(self, conn: StreamConnection, frame: str, packet: Packet) -> None:
        self._holder["edge"].packet(conn, frame, packet)

    def stream_closed(self, conn: StreamConnection, code: int | None, reason: str) -> None:
        self._holder["edge"].stream_closed(conn, code, reason)


# --- strategies ----------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
identifiers = st.fixed_dictionaries(
    {},
    optional={
        "rawId": values,
        "kind": st.sampled_from(["phoneNumber", "communicationUser", "microsoftTeamsUser", "x"]),
        "phoneNumber": values | st.fixed_dictionaries({"value": values}),
        "communicationUser": values | st.fixed_dictionaries({"id": values}),
    },
)
event_types = st.sampled_from(
    [
        "CallConnected",
        "CallDisconnected",
        "ParticipantsUpdated",
        "CreateCallFailed",
        "TranscriptionStarted",
        "TranscriptionUpdated",
        "TranscriptionStopped",
        "TranscriptionFailed",
        "TranscriptionResumed",
        "MediaStreamingFailed",
        "Unknown",
    ]
).map(lambda t: "Microsoft.Communication." + t) | st.text(max_size=30)
event_data = st.fixed_dictionaries(
    {},
    optional={
        "callConnectionId": values,
        "serverCallId": values,
        "correlationId": values,
        "operationContext": values | st.sampled_from(["locale:es-ES", "locale:", "console:x"]),
        "resultInformation": values
        | st.fixed_dictionaries(
            {}, optional={"code": values, "subCode": values, "message": values}
        ),
        "participants": st.lists(
            st.fixed_dictionaries(
                {}, optional={"identifier": identifiers | values, "isMuted": values}
            ),
            max_size=4,
        )
        | values,
        "sequenceNumber": values,
        "transcriptionUpdate": values
        | st.fixed_dictionaries(
            {},
            optional={
                "transcriptionStatus": values,
                "transcriptionStatusDetails": st.sampled_from(
                    ["streamConnectionInterrupted", "transcriptionLocaleUpdated", ""]
                )
                | values,
            },
        ),
    },
)
cloud_events = st.fixed_dictionaries(
    {"type": event_types},
    optional={
        "id": values,
        "source": values,
        "specversion": st.sampled_from(["1.0", "0.3"]) | values,
        "time": values | st.sampled_from(["2026-01-01T00:00:00Z", "2026-13-45T99:99:99+25:00"]),
        "subject": values,
        "data": event_data | values,
        "data_base64": values,
        "datacontenttype": values,
    },
)
grid_events = st.fixed_dictionaries(
    {
        "eventType": st.sampled_from(
            [
                "Microsoft.Communication.IncomingCall",
                "Microsoft.EventGrid.SubscriptionValidationEvent",
            ]
        )
        | st.text(max_size=20)
    },
    optional={
        "id": values,
        "data": st.fixed_dictionaries(
            {},
            optional={
                "to": identifiers | values,
                "from": identifiers | values,
                "incomingCallContext": values,
                "validationCode": values,
                "customContext": values,
            },
        )
        | values,
        "eventTime": values,
        "subject": values,
    },
)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _segment(value: Any) -> str:
    return b64(json.dumps(value).encode())


# --- callbacks and Event Grid through the HTTP listener ---------------------------------------


@FUZZ
@given(st.lists(cloud_events, max_size=4))
def test_hostile_callback_events_reach_the_session_without_an_error(
    edge: Edge, events: list[dict[str, Any]]
) -> None:
    body = json.dumps(events).encode()
    headers = {"Authorization": f"Bearer {edge.token()}", "Content-Type": "application/json"}
    status = edge.post(f"/api/callbacks/{edge.secret}", body, headers)
    assert status == 200
    edge.run(asyncio.sleep(0))  # the consumer runs right after the response
    edge.run(asyncio.sleep(0))
    assert [r.getMessage() for r in edge.errors] == []
    assert isinstance(edge.session.state, SessionState)


@FUZZ
@given(st.lists(grid_events, max_size=4))
def test_hostile_event_grid_deliveries_are_answered(
    edge: Edge, events: list[dict[str, Any]]
) -> None:
    before = len(edge.incoming)
    status = edge.post(f"/api/eventgrid/{edge.secret}", json.dumps(events).encode(), {})
    assert status == 200
    edge.run(asyncio.sleep(0))
    calls = [e for e in events if e["eventType"] == "Microsoft.Communication.IncomingCall"]
    assert len(edge.incoming) - before == len(calls)
    assert [r.getMessage() for r in edge.errors] == []


@FUZZ
@given(
    body=st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; x"]),
)
def test_any_body_gets_an_answer_and_the_listener_stays_up(
    edge: Edge, body: bytes, content_type: str
) -> None:
    headers = {"Authorization": f"Bearer {edge.token()}", "Content-Type": content_type}
    for path in (f"/api/callbacks/{edge.secret}", f"/api/eventgrid/{edge.secret}"):
        assert edge.post(path, body, headers) in (200, 400)
    assert [r.getMessage() for r in edge.errors] == []


def test_an_oversized_body_is_refused_before_it_is_read(edge: Edge) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", edge.callbacks.port, timeout=10)
    try:
        conn.putrequest("POST", f"/api/callbacks/{edge.secret}")
        conn.putheader("Authorization", f"Bearer {edge.token()}")
        conn.putheader("Content-Length", str(64 * MAX_BODY))
        conn.endheaders()  # not one byte of the 64 MB body follows
        response = conn.getresponse()
        assert response.status == 413
    finally:
        conn.close()
    headers = {"Authorization": f"Bearer {edge.token()}"}
    assert edge.post(f"/api/callbacks/{edge.secret}", b"[]", headers) == 200


# --- JWTs -----------------------------------------------------------------------------------

headers_st = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["RS256", "none", "HS256", "ES256", "PS256", "rs256"]) | values,
        "kid": values,
        "typ": values,
        "jku": st.just("https://attacker.invalid/keys"),
        "x5u": st.just("https://attacker.invalid/cert"),
    },
)
claims_st = st.fixed_dictionaries(
    {},
    optional={
        "iss": values,
        "aud": values,
        "exp": values | st.just(int(time.time()) + 300),
        "nbf": values,
        "iat": values,
    },
)
raw_tokens = (
    st.tuples(headers_st, claims_st, st.binary(max_size=300)).map(
        lambda t: f"{_segment(t[0])}.{_segment(t[1])}.{b64(t[2])}"
    )
    | st.lists(st.text(max_size=60), min_size=1, max_size=5).map(".".join)
    | st.text(max_size=200)
)


@FUZZ
@given(token=raw_tokens)
def test_hostile_tokens_are_refused_with_an_auth_error(edge: Edge, token: str) -> None:
    fetches = edge.verifier.fetch_count
    with pytest.raises(AuthError):
        edge.run(edge.verifier.verify_header(f"Bearer {token}"))
    assert edge.verifier.fetch_count <= max(fetches, 1)  # forged kids cannot hammer the JWKS


@FUZZ
@given(
    part=st.sampled_from(["header", "claims", "signature"]),
    change=st.dictionaries(
        st.sampled_from(["alg", "kid", "iss", "aud", "exp", "nbf"]), values, min_size=1
    ),
)
def test_a_tampered_genuine_token_is_refused(edge: Edge, part: str, change: dict[str, Any]) -> None:
    genuine = edge.token()
    header, claims, signature = genuine.split(".")
    if part == "header":
        doc = {**jwt.get_unverified_header(genuine), **change}
        token = f"{_segment(doc)}.{claims}.{signature}"
    elif part == "claims":
        doc = {**jwt.decode(genuine, options={"verify_signature": False}), **change}
        token = f"{header}.{_segment(doc)}.{signature}"
    else:
        token = f"{header}.{claims}.{b64(json.dumps(change).encode())}"
    if token == genuine:
        return
    with pytest.raises(AuthError):
        edge.run(edge.verifier.verify(token))


def test_hostile_tokens_on_the_listeners_get_401(edge: Edge) -> None:
    forged = jwt.encode({"iss": edge.emulator.issuer, "aud": edge.emulator.audience}, "k" * 32)
    for auth in (f"Bearer {forged}", "Bearer " + "A" * 8_000, "Bearer", "Basic Zm9vOmJhcg=="):
        status = edge.post(f"/api/callbacks/{edge.secret}", b"[]", {"Authorization": auth})
        assert status == 401
    assert edge.callbacks.stats.auth_rejected >= 4


# --- the transcript WebSocket -------------------------------------------------------------------

packet_like = st.fixed_dictionaries(
    {"kind": st.sampled_from(["TranscriptionData", "TranscriptionMetadata", "AudioData"]) | values},
    optional={
        "transcriptionData": values
        | st.fixed_dictionaries(
            {},
            optional={
                "text": values,
                "offset": values,
                "duration": values,
                "participantRawID": values,
                "resultStatus": st.sampled_from(["Final", "Intermediate"]) | values,
                "words": st.lists(values, max_size=3) | values,
                "confidence": values,
            },
        ),
        "transcriptionMetadata": values,
    },
)


@FUZZ
@given(frames=st.lists(packet_like.map(json.dumps) | st.text(max_size=300), max_size=6))
def test_hostile_frames_never_end_the_stream(edge: Edge, frames: list[str]) -> None:
    url = f"ws://127.0.0.1:{edge.transcripts.port}/ws/transcription/{edge.secret}"
    headers = {"Authorization": f"Bearer {edge.token()}"}
    valid = json.dumps(
        {
            "kind": "TranscriptionData",
            "transcriptionData": {
                "text": "still here",
                "format": "display",
                "confidence": 0.9,
                "offset": 10_000_000 * (len(edge.frames) + 1),
                "duration": 1,
                "participantRawID": "4:+15550100",
                "resultStatus": "Final",
            },
        }
    )
    before = len(edge.frames)
    with ws_connect(url, additional_headers=headers, open_timeout=5) as ws:
        for frame in [*frames, valid]:
            ws.send(frame)
        ws.ping().wait(5)  # everything before the ping was read
        deadline = time.monotonic() + 5
        while not any(
            isinstance(p, TranscriptionData) and p.text == "still here"
            for p in edge.frames[before:]
        ):
            assert time.monotonic() < deadline, "the valid frame after the hostile ones was lost"
            time.sleep(0.01)
    assert [r.getMessage() for r in edge.errors] == []


def test_an_oversized_frame_closes_only_that_stream(edge: Edge) -> None:
    url = f"ws://127.0.0.1:{edge.transcripts.port}/ws/transcription/{edge.secret}"
    headers = {"Authorization": f"Bearer {edge.token()}"}
    with ws_connect(url, additional_headers=headers, max_size=None) as ws:
        ws.send("x" * (MAX_FRAME + 1))
        with pytest.raises(ConnectionClosedError, match="1009"):
            ws.recv(timeout=5)
    with ws_connect(url, additional_headers=headers) as ws:
        ws.ping().wait(5)  # the listener still serves


# --- memory for large hostile input --------------------------------------------------------


def _peak(fn: Any, arg: Any) -> int:
    tracemalloc.start()
    try:
        fn(arg)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _sized_body(element: str, size: int = MAX_BODY) -> bytes:
    count = size // (len(element) + 1)
    return ("[" + ",".join([element] * count) + "]").encode()


HOSTILE_DOCUMENTS = {
    "deep nesting": b"[" * (MAX_BODY // 2) + b"]" * (MAX_BODY // 2),
    "one huge string": json.dumps(["x" * (MAX_BODY - 10)]).encode(),
    "a huge number": b"[" + b"9" * (MAX_BODY - 2) + b"]",
    "long words list": json.dumps(
        [{"type": "Microsoft.Communication.ParticipantsUpdated", "source": "s",
          "data": {"participants": [{"identifier": {"rawId": "4:+1"}}] * 20_000}}]
    ).encode()[:MAX_BODY],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HOSTILE_DOCUMENTS))
@pytest.mark.parametrize("parse", [parse_callback_body, parse_event_grid_body, parse_packet])
def test_memory_for_a_large_hostile_document_is_bounded(parse: Any, name: str) -> None:
    body = HOSTILE_DOCUMENTS[name]
    assert len(body) <= MAX_BODY
    arg = body.decode() if parse is parse_packet else body
    try:
        peak = _peak(parse, arg)
    except ValueError:
        return  # refused outright (not JSON, too deep)
    assert peak < MEMORY_FACTOR * MAX_BODY, f"{name}: {peak / 1e6:.0f} MB for 1 MB"


def test_memory_for_a_frame_of_many_tiny_objects_is_bounded() -> None:
    peak = _peak(parse_packet, _sized_body("{}").decode())
    assert peak < MEMORY_FACTOR * MAX_FRAME, f"{peak / 1e6:.0f} MB for 1 MB"


@pytest.mark.parametrize("parse", [parse_callback_body, parse_event_grid_body])
def test_a_body_of_many_tiny_elements_is_refused_in_bounded_memory(parse: Any) -> None:
    body = _sized_body("{}")  # ~330k elements in 1 MB

    def refused(b: bytes) -> None:
        with pytest.raises(EventParseError, match="elements"):
            parse(b)

    peak = _peak(refused, body)
    assert peak < MEMORY_FACTOR * len(body), f"{peak / len(body):.0f} bytes per byte"
    assert len(parse(_sized_body("{}", 5000 * 3))) == 5000  # a full Event Grid batch is fine
