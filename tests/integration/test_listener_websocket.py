"""TranscriptServer over real loopback sockets, with real websockets clients and signed tokens."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from azure.communication.callautomation import (
    PhoneNumberIdentifier,
    StreamingTransportType,
    TranscriptionOptions,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from console.acs.auth import AuthSettings, JwtVerifier, new_url_secret
from console.acs.events import CallEvent
from console.acs.streaming import (
    AudioData,
    AudioMetadata,
    DtmfData,
    Packet,
    TranscriptionData,
    TranscriptionMetadata,
)
from console.emulator.server import Emulator
from console.listener import CallbackServer, ListenerError, StreamConnection, TranscriptServer
from tests.integration.conftest import aio_client
from tests.integration.jwt_tools import (
    JwksServer,
    hmac_token,
    signing_key,
    unsigned_token,
)

CALL = "401f3500-7e2a-4c11-9b0e-1a2b3c4d5e6f"
CORRELATION = "9d2e4f60-0000-4000-8000-000000000001"


def metadata(call: str = CALL) -> str:
    return json.dumps(
        {
            "kind": "TranscriptionMetadata",
            "transcriptionMetadata": {
                "subscriptionId": "sub-1",
                "locale": "en-us",
                "callConnectionId": call,
                "correlationId": CORRELATION,
            },
        }
    )


def data(text: str, status: str = "Final", offset: int = 0) -> str:
    return json.dumps(
        {
            "kind": "TranscriptionData",
            "transcriptionData": {
                "text": text,
                "format": "display",
                "confidence": 0.9,
                "offset": offset,
                "duration": 5_000_000,
                "participantRawID": "4:+15550100",
                "resultStatus": status,
            },
        }
    )


class Recorder:
    """A PacketSink that records everything it is given."""

    def __init__(self) -> None:
        self.opened: list[StreamConnection] = []
        self.packets: list[tuple[StreamConnection, str, Packet]] = []
        self.closed: list[tuple[StreamConnection, int | None, str]] = []
        self.fail_on: Callable[[Packet], bool] = lambda p: False

    def stream_opened(self, conn: StreamConnection) -> None:
        self.opened.append(conn)

    def packet(self, conn: StreamConnection, frame: str, packet: Packet) -> None:
        self.packets.append((conn, frame, packet))
        if self.fail_on(packet):
            raise RuntimeError("consumer bug")

    def stream_closed(self, conn: StreamConnection, code: int | None, reason: str) -> None:
        self.closed.append((conn, code, reason))

    def transcripts(self) -> list[TranscriptionData]:
        return [p for _, _, p in self.packets if isinstance(p, TranscriptionData)]

    def texts(self) -> list[str]:
        return [p.text for p in self.transcripts()]


async def until(cond: Callable[[], bool], limit: float = 3.0) -> None:
    """Poll ``cond`` until it holds; fail after ``limit`` seconds."""
    for _ in range(int(limit / 0.005)):
        if cond():
            return
        await asyncio.sleep(0.005)
    assert cond(), "condition not reached in time"


@pytest.fixture
async def jwks(tmp_path: Path) -> AsyncIterator[JwksServer]:
    async with JwksServer(tmp_path, [signing_key("k1")]) as server:
        yield server


@pytest.fixture
async def verifier(jwks: JwksServer) -> AsyncIterator[JwtVerifier]:
    async with JwtVerifier(jwks.settings(refresh_cooldown=0.05)) as v:
        yield v


@pytest.fixture
def sink() -> Recorder:
    return Recorder()


@pytest.fixture
async def server(sink: Recorder, verifier: JwtVerifier) -> AsyncIterator[TranscriptServer]:
    async with TranscriptServer(sink, secret=new_url_secret(), verifier=verifier) as srv:
        yield srv


def acs_headers(token: str | None = None, call: str | None = CALL) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token or signing_key('k1').mint(lifetime=86400)}"}
    if call is not None:
        headers["x-ms-call-connection-id"] = call
        headers["x-ms-call-correlation-id"] = CORRELATION
    return headers


def ws_connect(url: str, headers: dict[str, str] | None = None, **kw: Any) -> Any:
    return connect(url, additional_headers=headers or acs_headers(), open_timeout=3, **kw)


async def test_transcript_stream_reaches_sink(server: TranscriptServer, sink: Recorder) -> None:
    url = server.url(callerId="+15550100", ctx="abc")
    assert url.startswith(f"ws://127.0.0.1:{server.port}/ws/transcription/")
    frames = [metadata(), data("Hello", "Intermediate"), data("Hello, I need help.")]
    async with ws_connect(url) as ws:
        for frame in frames:
            await ws.send(frame)
        await until(lambda: len(sink.packets) == 3)
    await until(lambda: len(sink.closed) == 1)

    conn = sink.opened[0]
    assert conn.kind == "transcription"
    assert conn.call_connection_id == CALL
    assert conn.correlation_id == CORRELATION
    assert dict(conn.query) == {"callerId": "+15550100", "ctx": "abc"}
    assert conn.remote.startswith("127.0.0.1:")
    assert conn.claims is not None
    assert conn.claims["aud"]
    assert conn.sequence == 1
    assert [f for _, f, _ in sink.packets] == frames  # raw text, exactly as sent
    assert isinstance(sink.packets[0][2], TranscriptionMetadata)
    assert [p.is_final for _, _, p in sink.packets[1:]] == [False, True]  # type: ignore[union-attr]
    assert sink.texts() == ["Hello", "Hello, I need help."]
    assert sink.closed[0][0] is conn
    assert sink.closed[0][1] == 1000
    assert (conn.frames, conn.packets, conn.unparsed) == (3, 3, 0)

    stats = server.stats
    assert stats.frames == 3
    assert dict(stats.packets) == {"TranscriptionMetadata": 1, "TranscriptionData": 2}
    assert (stats.connections_open, stats.connections_total, stats.auth_rejected) == (0, 1, 0)


async def test_audio_stream_parsed_and_counted(server: TranscriptServer, sink: Recorder) -> None:
    frames = [
        '{"kind":"AudioMetadata","audioMetadata":{"subscriptionId":"s","encoding":"PCM",'
        '"sampleRate":16000,"channels":1,"length":640}}',
        '{"kind":"AudioData","audioData":{"timestamp":"2026-01-15T10:00:03.120Z",'
        '"participantRawID":"4:+15550100","data":"AAAA","silent":false}}',
        '{"kind":"DtmfData","dtmfData":{"data":"5"}}',
    ]
    async with ws_connect(server.url("audio")) as ws:
        for frame in frames:
            await ws.send(frame)
        await until(lambda: len(sink.packets) == 3)
    assert sink.opened[0].kind == "audio"
    assert [type(p) for _, _, p in sink.packets] == [AudioMetadata, AudioData, DtmfData]
    assert dict(server.stats.packets) == {"AudioMetadata": 1, "AudioData": 1, "DtmfData": 1}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(lambda: None, "missing bearer token", id="no-token"),
        pytest.param(lambda: signing_key("evil").mint(kid="k1"), "bad signature", id="forged"),
        pytest.param(lambda: signing_key("k1").mint(lifetime=-600), "token expired", id="expired"),
        pytest.param(
            lambda: signing_key("k1").mint(audience="someone-else"), "wrong audience", id="aud"
        ),
        pytest.param(
            lambda: signing_key("k1").mint(issuer="https://evil.example"), "wrong issuer", id="iss"
        ),
        pytest.param(lambda: unsigned_token("k1"), "algorithm not allowed", id="alg-none"),
        pytest.param(
            lambda: hmac_token("k1", signing_key("k1").public_pem()),
            "algorithm not allowed",
            id="hs256",
        ),
        pytest.param(
            lambda: signing_key("evil").mint(kid="never-published"),
            "unknown signing key",
            id="unknown-kid",
        ),
    ],
)
async def test_bad_tokens_refused_before_any_consumer(
    server: TranscriptServer, sink: Recorder, token: Callable[[], str | None], reason: str
) -> None:
    value = token()
    headers = acs_headers(value) if value else {"x-ms-call-connection-id": CALL}
    with pytest.raises(InvalidStatus) as info:
        async with ws_connect(server.url(), headers):
            pass
    assert info.value.response.status_code == 401
    stats = server.stats
    assert stats.auth_rejected == 1
    assert dict(stats.auth_rejected_by_reason) == {reason: 1}
    assert stats.connections_total == 0
    assert sink.opened == []
    assert sink.packets == []


async def test_missing_or_wrong_secret_refused(server: TranscriptServer, sink: Recorder) -> None:
    base = f"ws://127.0.0.1:{server.port}"
    for path in ("/ws/transcription", "/ws/transcription/", "/ws/audio/" + new_url_secret()):
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(base + path):
                pass
        assert info.value.response.status_code == 401
    with pytest.raises(InvalidStatus) as info:
        async with ws_connect(base + "/elsewhere"):
            pass
    assert info.value.response.status_code == 404
    stats = server.stats
    assert dict(stats.auth_rejected_by_reason) == {"missing secret": 2, "wrong secret": 1}
    assert stats.not_found == 1
    assert sink.opened == []
    # A legitimate client is still served afterwards.
    async with ws_connect(server.url()) as ws:
        await ws.send(metadata())
        await until(lambda: len(sink.packets) == 1)


async def test_rotated_signing_key_accepted_after_jwks_refresh(
    server: TranscriptServer, sink: Recorder, jwks: JwksServer
) -> None:
    async with ws_connect(server.url()):
        pass
    jwks.keys.append(signing_key("k2"))
    await asyncio.sleep(0.06)  # past the test verifier's refresh cooldown
    async with ws_connect(server.url(), acs_headers(signing_key("k2").mint())) as ws:
        await ws.send(metadata())
        await until(lambda: len(sink.packets) == 1)
    assert server.stats.connections_total == 2
    assert jwks.fetches == 2


async def test_reconnect_mid_call_continues_same_call(
    server: TranscriptServer, sink: Recorder
) -> None:
    first = await ws_connect(server.url())
    await first.send(metadata())
    await first.send(data("First half.", offset=0))
    await until(lambda: len(sink.packets) == 2)
    first.transport.abort()  # the network drops; no close frame
    await until(lambda: len(sink.closed) == 1)
    assert sink.closed[0][1] == 1006
    await first.close()

    async with ws_connect(server.url()) as second:
        await second.send(metadata())
        await second.send(data("Second half.", offset=50_000_000))
        await until(lambda: len(sink.packets) == 4)

    one, two = sink.opened
    assert one.id != two.id
    assert one.call_connection_id == two.call_connection_id == CALL
    assert (one.sequence, two.sequence) == (1, 2)
    assert sink.texts() == ["First half.", "Second half."]
    assert sink.packets[-1][0] is two


async def test_call_id_taken_from_metadata_without_headers(
    server: TranscriptServer, sink: Recorder
) -> None:
    headers = acs_headers(call=None)
    for n in (2, 4):
        async with ws_connect(server.url(), headers) as ws:
            await ws.send(metadata("call-from-metadata"))
            await ws.send(data("hi"))
            await until(lambda n=n: len(sink.packets) == n)
    assert [c.call_connection_id for c in sink.opened] == ["call-from-metadata"] * 2
    assert [c.correlation_id for c in sink.opened] == [CORRELATION] * 2
    assert [c.sequence for c in sink.opened] == [1, 2]


async def test_several_streams_at_once_keep_their_order(
    server: TranscriptServer, sink: Recorder
) -> None:
    calls = [f"call-{i}" for i in range(4)]
    clients: list[ClientConnection] = [
        await ws_connect(server.url(), acs_headers(call=call)) for call in calls
    ]
    try:
        for n in range(25):
            for client, call in zip(clients, calls, strict=True):
                await client.send(data(f"{call} #{n}", offset=n))
        await until(lambda: len(sink.packets) == 100)
        assert server.stats.connections_open == 4
    finally:
        for client in clients:
            await client.close()
    for call in calls:
        got = [p.text for c, _, p in sink.packets if c.call_connection_id == call]  # type: ignore[union-attr]
        assert got == [f"{call} #{n}" for n in range(25)]
    await until(lambda: server.stats.connections_open == 0)


async def test_hostile_frames_leave_server_serving(
    server: TranscriptServer, sink: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    hostile: list[str | bytes] = []
    for i in range(10_000):
        match i % 5:
            case 0:
                hostile.append('{"kind": "TranscriptionData", "transcriptionData": {')
            case 1:
                hostile.append(b"\x00\x01binary" * (i % 7 + 1))
            case 2:
                hostile.append(json.dumps({"kind": f"Mystery{i}", "mystery": {}}))
            case 3:
                hostile.append('{"kind": "TranscriptionData", "transcriptionData": {"text": 1}}')
            case _:
                hostile.append("[1, 2, 3]")
    oversized = 3
    with caplog.at_level(logging.WARNING, logger="console.listener"):
        async with ws_connect(server.url()) as ws:
            for frame in hostile:
                await ws.send(frame)
            await ws.send(metadata())
            await until(lambda: len(sink.packets) == 1, limit=10)
        # Each oversized frame costs its connection (1009); the service reconnects.
        for _ in range(oversized):
            async with ws_connect(server.url(), max_size=None) as ws:
                await ws.send("x" * ((1 << 20) + 1))
                with pytest.raises(ConnectionClosed) as info:
                    await ws.recv()
                assert info.value.rcvd is not None
                assert info.value.rcvd.code == 1009
        # A text frame that is not UTF-8 is a protocol error (1007); also survivable.
        async with ws_connect(server.url()) as ws:
            await ws.send(b'{"kind": "\xff"}', text=True)
            with pytest.raises(ConnectionClosed) as info:
                await ws.recv()
            assert info.value.rcvd is not None
            assert info.value.rcvd.code == 1007
        async with ws_connect(server.url()) as ws:
            await ws.send(data("Still here."))
            await until(lambda: len(sink.packets) == 2)

    assert sink.texts() == ["Still here."]
    stats = server.stats
    assert stats.frames == 10_000 + 2  # oversized and non-UTF-8 frames are never delivered
    assert stats.binary == 2000
    assert dict(stats.unparsed) == {
        "not JSON": 2000,
        "unknown kind": 2000,
        "field 'text' is not a string": 2000,
        "not a JSON object": 2000,
    }
    assert stats.oversized == oversized
    assert stats.invalid_text == 1
    assert dict(stats.packets) == {"TranscriptionMetadata": 1, "TranscriptionData": 1}
    assert stats.connections_total == 3 + oversized
    # Logged, but rate-limited: a handful of lines, not thousands.
    assert 0 < len(caplog.records) < 50


async def test_failing_consumer_does_not_end_stream(
    server: TranscriptServer, sink: Recorder
) -> None:
    sink.fail_on = lambda p: isinstance(p, TranscriptionData) and p.text == "boom"
    async with ws_connect(server.url()) as ws:
        for text in ("one", "boom", "two"):
            await ws.send(data(text))
        await until(lambda: len(sink.packets) == 3)
        assert ws.state.name == "OPEN"
    assert sink.texts() == ["one", "boom", "two"]
    assert server.stats.sink_errors == 1


async def test_stop_closes_open_streams(sink: Recorder, verifier: JwtVerifier) -> None:
    server = TranscriptServer(sink, secret=new_url_secret(), verifier=verifier)
    await server.start()
    ws = await ws_connect(server.url())
    try:
        await ws.send(metadata())
        await until(lambda: len(sink.packets) == 1)
        await server.stop()
        with pytest.raises(ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 1001
        assert [code for _, code, _ in sink.closed] == [1001]
    finally:
        await ws.close()
        await server.stop()


async def test_port_in_use_is_a_clear_error(server: TranscriptServer, sink: Recorder) -> None:
    other = TranscriptServer(sink, secret=new_url_secret(), verifier=None, port=server.port)
    with pytest.raises(ListenerError, match=rf"Port {server.port} on 127.0.0.1 is already in use"):
        await other.start()


async def test_non_loopback_bind_needs_explicit_flag(
    sink: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ListenerError, match="loopback"):
        TranscriptServer(sink, secret=new_url_secret(), verifier=None, host="0.0.0.0")
    with caplog.at_level(logging.WARNING, logger="console.listener"):
        srv = TranscriptServer(
            sink, secret=new_url_secret(), verifier=None, host="0.0.0.0", allow_non_loopback=True
        )
    assert any("non-loopback" in r.getMessage() for r in caplog.records)
    async with srv:
        assert srv.port > 0
        assert srv.url().startswith(f"ws://127.0.0.1:{srv.port}/")


async def test_secret_only_mode_and_public_url(sink: Recorder) -> None:
    secret = new_url_secret()
    async with TranscriptServer(sink, secret=secret, verifier=None) as srv:
        assert srv.url("audio", base="wss://tunnel.example/") == (
            f"wss://tunnel.example/ws/audio/{secret}"
        )
        async with connect(srv.url(), open_timeout=3) as ws:  # no Authorization at all
            await ws.send(metadata())
            await until(lambda: len(sink.packets) == 1)
    with pytest.raises(ValueError, match="secret"):
        TranscriptServer(sink, secret="short", verifier=None)


async def test_debug_logging_never_shows_token_or_secret(
    server: TranscriptServer, sink: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    token = signing_key("k1").mint(lifetime=3600)
    secret = server.path().rsplit("/", 1)[1]
    with caplog.at_level(logging.DEBUG):
        async with ws_connect(server.url(), acs_headers(token)) as ws:
            await ws.send(metadata())
            await until(lambda: len(sink.packets) == 1)
        with pytest.raises(InvalidStatus):
            async with ws_connect(server.url(), acs_headers(token + "x")):
                pass
        await until(lambda: len(sink.closed) == 1)
    server_side = [r for r in caplog.records if not r.name.startswith("websockets.client")]
    assert server_side  # the server did log (at debug/info) ...
    for record in server_side:  # ... but never the credentials
        text = record.getMessage()
        assert token[-40:] not in text
        assert secret not in text


async def test_emulator_call_reaches_listeners_with_verified_tokens(
    emulator: Emulator, sink: Recorder
) -> None:
    # The whole path as the console runs it locally: the real SDK places a call on the
    # emulator, which posts signed callbacks and opens a signed WebSocket to our listeners;
    # our verifier fetches the emulator's JWKS over HTTPS trusting only its certificate.
    settings = AuthSettings(
        audience=emulator.audience,
        issuer=emulator.issuer,
        jwks_url=emulator.jwks_url,
        ca_file=emulator.cert_path,
    )
    events: list[CallEvent] = []
    secret = new_url_secret()
    async with (
        JwtVerifier(settings) as verifier,
        CallbackServer(
            on_events=lambda delivered, _address: events.extend(delivered),
            on_incoming_call=lambda call: None,
            secret=secret,
            verifier=verifier,
        ) as callbacks,
        TranscriptServer(sink, secret=secret, verifier=verifier) as transcripts,
        aio_client(emulator) as client,
    ):
        props = await client.create_call(
            PhoneNumberIdentifier("+15550123"),
            callbacks.callback_url(ctx="e2e"),
            source_caller_id_number=PhoneNumberIdentifier("+15550199"),
            cognitive_services_endpoint="https://speech.example.cognitiveservices.azure.com/",
            transcription=TranscriptionOptions(
                transport_url=transcripts.url(ctx="e2e"),
                transport_type=StreamingTransportType.WEBSOCKET,
                locale="en-US",
                start_transcription=True,
                enable_intermediate_results=True,
            ),
        )
        call_id = props.call_connection_id
        await until(lambda: sum(p.is_final for p in sink.transcripts()) >= 2, limit=15)
        await client.get_call_connection(call_id).hang_up(is_for_everyone=True)
        await until(lambda: any(e.type == "CallDisconnected" for e in events), limit=10)

        types = [e.type for e in events]
        assert "CallConnected" in types
        assert "TranscriptionStarted" in types
        assert all(e.call_connection_id == call_id for e in events)
        conn = sink.opened[0]
        assert conn.call_connection_id == call_id
        assert dict(conn.query) == {"ctx": "e2e"}
        assert conn.claims is not None
        assert conn.claims["iss"] == emulator.issuer
        assert isinstance(sink.packets[0][2], TranscriptionMetadata)
        assert callbacks.stats.auth_rejected == 0
        assert callbacks.stats.accepted >= len(types) / 2
        assert transcripts.stats.auth_rejected == 0
        assert transcripts.stats.unparsed_total == 0


async def test_repeated_authorization_header_is_refused(
    server: TranscriptServer, sink: Recorder
) -> None:
    good = f"Bearer {signing_key('k1').mint()}"
    headers = [("Authorization", good), ("Authorization", good)]
    with pytest.raises(InvalidStatus) as info:
        async with connect(server.url(), additional_headers=headers, open_timeout=3):
            pass
    assert info.value.response.status_code == 401
    assert dict(server.stats.auth_rejected_by_reason) == {"missing bearer token": 1}
    assert sink.opened == []
