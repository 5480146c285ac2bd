"""CallbackServer over real loopback HTTP, with aiohttp/urllib clients and signed tokens."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from console.acs.auth import JwtVerifier, new_url_secret
from console.acs.events import CallEvent, IncomingCall, TranscriptionFailed
from console.listener import CallbackServer, ListenerError
from console.listener.callbacks import CallbackAddress
from tests.integration.jwt_tools import JwksServer, hmac_token, signing_key, unsigned_token

CALL = "401f3500-7e2a-4c11-9b0e-1a2b3c4d5e6f"


def cloud_event(kind: str, **data: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{kind}",
        "source": f"calling/callConnections/{CALL}",
        "type": f"Microsoft.Communication.{kind}",
        "specversion": "1.0",
        "time": "2026-01-15T10:00:02.1234567+00:00",
        "datacontenttype": "application/json",
        "subject": f"calling/callConnections/{CALL}",
        "data": {
            "callConnectionId": CALL,
            "serverCallId": "aHR0cHM6Ly9leGFtcGxl",
            "correlationId": "9d2e4f60-0000-4000-8000-000000000001",
            "publicEventType": f"Microsoft.Communication.{kind}",
            "version": "2026-03-12",
            **data,
        },
    }


FAILED = cloud_event(
    "TranscriptionFailed",
    resultInformation={"code": 400, "subCode": 8523, "message": "Locale is missing."},
    transcriptionUpdate={
        "transcriptionStatus": "transcriptionFailed",
        "transcriptionStatusDetails": "badRequest",
    },
)
CONNECTED = cloud_event(
    "CallConnected", resultInformation={"code": 200, "subCode": 0, "message": ""}
)

CONTROL = {**cloud_event("CallConnected"), "id": "control-event"}
VALIDATION = [
    {
        "id": "2d1781af-3a4c-4d7c-bd0c-e34b19da4e66",
        "topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Communication/acs",
        "subject": "",
        "data": {
            "validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6",
            "validationUrl": "https://rp-eastus2.eventgrid.azure.net/validate?id=512d38b6",
        },
        "eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "eventTime": "2026-01-15T10:00:00.000Z",
        "metadataVersion": "1",
        "dataVersion": "1",
    }
]

INCOMING = [
    {
        "id": "a8f2c1d0-0000-4000-8000-00000000abcd",
        "topic": "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Communication/acs",
        "subject": "/caller/4:+15550100/recipient/4:+15550199",
        "data": {
            "to": {
                "kind": "phoneNumber",
                "rawId": "4:+15550199",
                "phoneNumber": {"value": "+15550199"},
            },
            "from": {
                "kind": "phoneNumber",
                "rawId": "4:+15550100",
                "phoneNumber": {"value": "+15550100"},
            },
            "callerDisplayName": "Alex Caller",
            "serverCallId": "aHR0cHM6Ly9zZXJ2ZXI",
            "incomingCallContext": "eyJhbGciOiJub25lIn0.opaque.context",
            "correlationId": "c0ffee00-0000-4000-8000-000000000002",
        },
        "eventType": "Microsoft.Communication.IncomingCall",
        "eventTime": "2026-01-15T10:00:00.000Z",
        "metadataVersion": "1",
        "dataVersion": "1.0",
    }
]


class Consumers:
    def __init__(self) -> None:
        self.deliveries: list[list[CallEvent]] = []
        self.addresses: list[CallbackAddress] = []
        self.calls: list[IncomingCall] = []
        self.on_events_hook: Callable[[list[CallEvent]], None] = lambda events: None

    def on_events(self, events: list[CallEvent], address: CallbackAddress) -> None:
        self.deliveries.append(events)
        self.addresses.append(address)
        self.on_events_hook(events)

    def on_incoming_call(self, call: IncomingCall) -> None:
        self.calls.append(call)


async def until(cond: Callable[[], bool], limit: float = 3.0) -> None:
    """Poll ``cond`` until it holds; fail after ``limit`` seconds."""
    for _ in range(int(limit / 0.005)):
        if cond():
            return
        await asyncio.sleep(0.005)
    assert cond(), "condition not reached in time"


async def nothing_else_arrived(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    """A positive control: a good callback and a good incoming call posted after the refused
    requests must arrive, so anything refused earlier would have arrived by now too."""
    assert (await post(http, server.callback_url(), [CONTROL], bearer()))[0] == 200
    await until(lambda: any(e.id == CONTROL["id"] for d in consumers.deliveries for e in d))
    notification = {"aeg-event-type": "Notification"}
    assert (await post(http, server.eventgrid_url, INCOMING, notification))[0] == 200
    await until(lambda: len(consumers.calls) >= 1)
    assert [[e.id for e in d] for d in consumers.deliveries] == [[CONTROL["id"]]]
    assert len(consumers.calls) == 1


@pytest.fixture
async def jwks(tmp_path: Path) -> AsyncIterator[JwksServer]:
    async with JwksServer(tmp_path, [signing_key("k1")]) as server:
        yield server


@pytest.fixture
async def verifier(jwks: JwksServer) -> AsyncIterator[JwtVerifier]:
    async with JwtVerifier(jwks.settings()) as v:
        yield v


@pytest.fixture
def consumers() -> Consumers:
    return Consumers()


def make_server(consumers: Consumers, verifier: JwtVerifier | None, **kw: Any) -> CallbackServer:
    return CallbackServer(
        on_events=consumers.on_events,
        on_incoming_call=consumers.on_incoming_call,
        secret=new_url_secret(),
        verifier=verifier,
        **kw,
    )


@pytest.fixture
async def server(consumers: Consumers, verifier: JwtVerifier) -> AsyncIterator[CallbackServer]:
    async with make_server(consumers, verifier, max_body=64 * 1024) as srv:
        yield srv


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def bearer(token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or signing_key('k1').mint()}"}


async def post(
    http: aiohttp.ClientSession, url: str, body: Any, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    hdrs = {"Content-Type": "application/json", **(headers or {})}
    async with http.post(url, data=data, headers=hdrs) as resp:
        return resp.status, await resp.text()


async def test_callback_events_delivered_in_order(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    url = server.callback_url(callerId="+15550100", guid="g-1")
    assert url.startswith(f"http://127.0.0.1:{server.port}/api/callbacks/")
    assert "callerId=%2B15550100" in url
    status, _ = await post(http, url, [CONNECTED, FAILED], bearer())
    assert status == 200
    await until(lambda: len(consumers.deliveries) == 1)
    events = consumers.deliveries[0]
    assert [e.type for e in events] == ["CallConnected", "TranscriptionFailed"]
    assert events[0].call_connection_id == CALL
    failed = events[1]
    assert isinstance(failed, TranscriptionFailed)
    assert failed.result is not None
    assert (failed.result.code, failed.result.sub_code) == (400, 8523)
    assert failed.raw == FAILED  # as received, for the journal
    # Where they were sent goes with them, for the consumer to route by.
    assert dict(consumers.addresses[0].query) == {"callerId": "+15550100", "guid": "g-1"}
    assert consumers.addresses[0].call_connection_id is None
    stats = server.stats
    assert dict(stats.events) == {"CallConnected": 1, "TranscriptionFailed": 1}
    assert (stats.requests, stats.accepted, stats.auth_rejected) == (1, 1, 0)


def _post_sync(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, float]:
    # A client outside the loop, so it can see the response while the loop is busy.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    with opener.open(request, timeout=5) as resp:
        resp.read()
        return resp.status, time.perf_counter()


async def test_response_sent_before_consumer_runs(
    server: CallbackServer, consumers: Consumers
) -> None:
    started: list[float] = []

    def slow_consumer(events: list[CallEvent]) -> None:
        started.append(time.perf_counter())
        time.sleep(0.6)  # a pathological consumer that blocks the loop

    consumers.on_events_hook = slow_consumer
    body = json.dumps([CONNECTED]).encode()
    headers = {"Content-Type": "application/json", **bearer()}
    status, received_at = await asyncio.to_thread(_post_sync, server.callback_url(), body, headers)
    assert status == 200
    assert len(started) == 1
    # The client had its 200 while the consumer was still busy (it did not wait 0.6 s).
    assert received_at < started[0] + 0.3


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        pytest.param(lambda: None, "missing bearer token", id="no-token"),
        pytest.param(lambda: signing_key("evil").mint(kid="k1"), "bad signature", id="forged"),
        pytest.param(lambda: signing_key("k1").mint(lifetime=-600), "token expired", id="expired"),
        pytest.param(lambda: signing_key("k1").mint(audience="nope"), "wrong audience", id="aud"),
        pytest.param(
            lambda: signing_key("k1").mint(issuer="https://evil.example"), "wrong issuer", id="iss"
        ),
        pytest.param(lambda: unsigned_token("k1"), "algorithm not allowed", id="alg-none"),
        pytest.param(
            lambda: hmac_token("k1", signing_key("k1").public_pem()),
            "algorithm not allowed",
            id="hs256",
        ),
    ],
)
async def test_bad_tokens_get_401_and_reach_no_consumer(
    server: CallbackServer,
    consumers: Consumers,
    http: aiohttp.ClientSession,
    token: Callable[[], str | None],
    reason: str,
) -> None:
    value = token()
    status, _ = await post(http, server.callback_url(), [CONNECTED], bearer(value) if value else {})
    assert status == 401
    stats = server.stats
    assert dict(stats.auth_rejected_by_reason) == {reason: 1}
    assert (stats.auth_rejected, stats.accepted) == (1, 0)
    await nothing_else_arrived(server, consumers, http)


async def test_missing_or_wrong_secret_gets_401(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    base = f"http://127.0.0.1:{server.port}"
    for path in ("/api/callbacks", "/api/callbacks/", "/api/eventgrid"):
        assert (await post(http, base + path, [CONNECTED], bearer()))[0] == 401
    wrong = "/" + new_url_secret()
    assert (await post(http, base + "/api/callbacks" + wrong, [CONNECTED], bearer()))[0] == 401
    assert (await post(http, base + "/api/eventgrid" + wrong, VALIDATION))[0] == 401
    assert (await post(http, base + "/api/other", [CONNECTED], bearer()))[0] == 404
    async with http.get(server.callback_url()) as resp:
        assert resp.status == 405
    assert dict(server.stats.auth_rejected_by_reason) == {"missing secret": 3, "wrong secret": 2}
    await nothing_else_arrived(server, consumers, http)


async def test_bad_json_gets_400(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    for body in ("not json", '{"an": "object"}', b"\xff\xfe"):
        status, text = await post(http, server.callback_url(), body, bearer())
        assert status == 400
        assert "body" in text
    assert (await post(http, server.eventgrid_url, "[{"))[0] == 400
    assert server.stats.bad_json == 4
    await nothing_else_arrived(server, consumers, http)


async def test_oversize_body_gets_413(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    big = json.dumps([cloud_event("CallConnected", padding="x" * 70_000)])
    assert (await post(http, server.callback_url(), big, bearer()))[0] == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: caught while reading
        for _ in range(70):
            yield b" " * 1024
        yield b"[]"

    async with http.post(server.callback_url(), data=chunks(), headers=bearer()) as resp:
        assert resp.status == 413
    assert server.stats.too_large == 2
    await nothing_else_arrived(server, consumers, http)  # and still serving


async def test_eventgrid_validation_handshake(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    # Event Grid sends no ACS JWT: the URL secret is the whole authentication.
    url = server.eventgrid_url
    assert url == f"http://127.0.0.1:{server.port}/api/eventgrid/{url.rsplit('/', 1)[1]}"
    async with http.post(
        url, json=VALIDATION, headers={"aeg-event-type": "SubscriptionValidation"}
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == {"validationResponse": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}
    assert server.stats.validations == 1
    await nothing_else_arrived(server, consumers, http)  # the handshake was no call


async def test_eventgrid_incoming_call(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    status, _ = await post(http, server.eventgrid_url, INCOMING, {"aeg-event-type": "Notification"})
    assert status == 200
    await until(lambda: len(consumers.calls) == 1)
    call = consumers.calls[0]
    assert call.from_raw_id == "4:+15550100"
    assert call.to_raw_id == "4:+15550199"
    assert call.caller_display_name == "Alex Caller"
    assert call.incoming_call_context == "eyJhbGciOiJub25lIn0.opaque.context"
    assert server.stats.incoming_calls == 1
    assert consumers.deliveries == []


async def test_failing_consumer_is_counted_and_serving_continues(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    def broken(events: list[CallEvent]) -> None:
        raise RuntimeError("consumer bug")

    consumers.on_events_hook = broken
    for _ in range(2):
        assert (await post(http, server.callback_url(), [CONNECTED], bearer()))[0] == 200
    await until(lambda: server.stats.consumer_errors == 2)
    assert len(consumers.deliveries) == 2


async def test_port_in_use_is_a_clear_error(server: CallbackServer, consumers: Consumers) -> None:
    other = make_server(consumers, None, port=server.port)
    with pytest.raises(ListenerError, match=rf"Port {server.port} on 127.0.0.1 is already in use"):
        await other.start()
    with pytest.raises(ListenerError, match="not running"):
        _ = other.port


async def test_non_loopback_refused_without_flag(consumers: Consumers) -> None:
    with pytest.raises(ListenerError, match="loopback"):
        make_server(consumers, None, host="0.0.0.0")


async def test_public_urls_for_a_tunnel(consumers: Consumers) -> None:
    async with make_server(consumers, None) as srv:
        secret = srv.callback_path.rsplit("/", 1)[1]
        assert srv.callback_url(base="https://tunnel.example/", ctx="1") == (
            f"https://tunnel.example/api/callbacks/{secret}?ctx=1"
        )
        assert srv.eventgrid_url_for("https://tunnel.example") == (
            f"https://tunnel.example/api/eventgrid/{secret}"
        )


async def test_logs_never_show_token_or_secret(
    server: CallbackServer, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    token = signing_key("k1").mint()
    secret = server.callback_path.rsplit("/", 1)[1]
    with caplog.at_level(logging.DEBUG):
        assert (await post(http, server.callback_url(), [CONNECTED], bearer(token)))[0] == 200
        assert (await post(http, server.callback_url(), [CONNECTED], bearer(token + "x")))[0] == 401
        assert (await post(http, server.callback_url(), "not json", bearer(token)))[0] == 400
        assert (await post(http, server.eventgrid_url, VALIDATION))[0] == 200
    assert caplog.records  # refusals and bad bodies are logged ...
    for record in caplog.records:  # ... without the credentials
        text = record.getMessage()
        assert token[-40:] not in text
        assert secret not in text


# -- Event Grid: the CloudEvents 1.0 schema, its own secret, and connection probes ------------


def incoming_cloud_event(context: str) -> dict[str, Any]:
    """The IncomingCall as Event Grid delivers it to a CloudEvents 1.0 subscription."""
    grid = INCOMING[0]
    return {
        "specversion": "1.0",
        "id": f"ce-{context}",
        "source": grid["topic"],
        "subject": grid["subject"],
        "type": grid["eventType"],
        "time": grid["eventTime"],
        "datacontenttype": "application/json",
        "data": {**grid["data"], "incomingCallContext": context},
    }


async def handshake(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    async with http.options(url, headers=headers or {}) as resp:
        await resp.read()
        return resp


async def test_eventgrid_cloudevents_handshake_needs_the_secret_and_an_origin(
    verifier: JwtVerifier, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    async with make_server(consumers, verifier, eventgrid_secret=new_url_secret()) as srv:
        await _handshake_checks(srv, consumers, http)


async def _handshake_checks(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    origin = {"WebHook-Request-Origin": "eventgrid.azure.net", "WebHook-Request-Rate": "120"}
    resp = await handshake(http, server.eventgrid_url, origin)
    assert resp.status == 200
    assert resp.headers["WebHook-Allowed-Origin"] == "eventgrid.azure.net"
    assert resp.headers["WebHook-Allowed-Rate"] == "*"
    assert server.stats.validations == 1

    base = f"http://127.0.0.1:{server.port}/api/eventgrid"
    for url in (base, base + "/", base + "/" + new_url_secret()):  # no secret, a wrong one
        resp = await handshake(http, url, origin)
        assert resp.status == 401
        assert "WebHook-Allowed-Origin" not in resp.headers
    for bad in ({}, {"WebHook-Request-Origin": "evil origin"}):
        resp = await handshake(http, server.eventgrid_url, bad)
        assert resp.status == 400
        assert "WebHook-Allowed-Origin" not in resp.headers
    # The callback route's secret does not open the Event Grid route, nor the other way round.
    callback_secret = server.callback_path.rsplit("/", 1)[1]
    eventgrid_secret = server.eventgrid_path.rsplit("/", 1)[1]
    assert callback_secret != eventgrid_secret
    assert (await handshake(http, f"{base}/{callback_secret}", origin)).status == 401
    wrong_route = server.callback_url().replace(callback_secret, eventgrid_secret)
    assert (await post(http, wrong_route, [CONNECTED], bearer()))[0] == 401
    assert server.stats.validations == 1
    assert dict(server.stats.auth_rejected_by_reason) == {"missing secret": 2, "wrong secret": 3}
    assert consumers.calls == []


async def test_eventgrid_cloudevents_single_event_and_batch(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    single = {"Content-Type": "application/cloudevents+json; charset=utf-8"}
    async with http.post(
        server.eventgrid_url, data=json.dumps(incoming_cloud_event("one")), headers=single
    ) as resp:
        assert resp.status == 200
    await until(lambda: len(consumers.calls) == 1)
    batch = [incoming_cloud_event("two"), incoming_cloud_event("three")]
    status, _ = await post(
        http, server.eventgrid_url, batch, {"Content-Type": "application/cloudevents-batch+json"}
    )
    assert status == 200
    await until(lambda: len(consumers.calls) == 3)
    assert [c.incoming_call_context for c in consumers.calls] == ["one", "two", "three"]
    assert consumers.calls[0].from_raw_id == "4:+15550100"
    assert server.stats.incoming_calls == 3
    # Still no way in without the secret, whatever the schema.
    wrong = f"http://127.0.0.1:{server.port}/api/eventgrid/{new_url_secret()}"
    assert (await post(http, wrong, incoming_cloud_event("four")))[0] == 401
    assert (await post(http, server.eventgrid_url, {"no": "type"}))[0] == 400
    assert (await post(http, server.eventgrid_url, "3"))[0] == 400
    await post(http, server.eventgrid_url, [incoming_cloud_event("five")])  # arrives after them
    await until(lambda: len(consumers.calls) == 4)
    assert consumers.calls[-1].incoming_call_context == "five"


async def test_eventgrid_secret_rotates_while_serving(
    consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    kept = new_url_secret()
    async with make_server(consumers, None, eventgrid_secret=kept) as srv:
        assert srv.eventgrid_url.endswith(f"/api/eventgrid/{kept}")
        old = srv.eventgrid_url
        assert (await post(http, old, INCOMING))[0] == 200
        fresh = new_url_secret()
        srv.set_eventgrid_secret(fresh)
        assert (await post(http, old, INCOMING))[0] == 401
        assert (await post(http, srv.eventgrid_url, INCOMING))[0] == 200
        assert srv.eventgrid_url.endswith(f"/api/eventgrid/{fresh}")
        with pytest.raises(ValueError, match="URL secret"):
            srv.set_eventgrid_secret("short")
        await until(lambda: len(consumers.calls) == 2)


async def test_a_probe_is_answered_once_under_the_secret_and_reaches_no_consumer(
    server: CallbackServer, consumers: Consumers, http: aiohttp.ClientSession
) -> None:
    token = new_url_secret()
    arrival = server.probes.expect(token)
    url = f"http://127.0.0.1:{server.port}{server.probe_path(token)}"
    wrong = url.replace(server.callback_path, f"/api/callbacks/{new_url_secret()}")
    async with http.get(wrong) as resp:
        assert resp.status == 401
    assert not arrival.done()
    async with http.get(url) as resp:
        assert resp.status == 200
        assert resp.headers["X-ACS-Console-Probe"] == "received"
    assert arrival.done()
    async with http.get(url) as resp:  # single use
        assert resp.status == 404
        assert resp.headers["X-ACS-Console-Probe"] == "unknown"
    assert (await post(http, server.callback_url(), [CONNECTED], bearer()))[0] == 200
    await until(lambda: len(consumers.deliveries) == 1)  # the probes delivered nothing
    assert consumers.calls == []
