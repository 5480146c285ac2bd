"""Call control against the emulator with the real SDK: create, properties, participants, hang-up,
callbacks (order, shape, JWT), authentication and idempotent replays."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import hmac
import json
import ssl
import time
from email.utils import format_datetime
from typing import Any

import aiohttp
import pytest
from azure.communication.callautomation import (
    CommunicationUserIdentifier,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
)
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
)
from azure.core.messaging import CloudEvent
from azure.core.pipeline.policies import SansIOHTTPPolicy
from azure.core.pipeline.transport import RequestsTransport

from console.emulator.server import Emulator
from tests.integration.conftest import (
    Receiver,
    aio_client,
    fetch_jwks,
    signed_request,
    sync_client,
    verify_bearer,
)

CALLER_ID = PhoneNumberIdentifier("+15550199")
ACS_USER = "8:acs:11111111-1111-1111-1111-111111111111_00000099-aaaa-bbbb-cccc-000000000001"
API_VERSION = "2026-03-12"


async def test_pstn_call_connects_with_ordered_signed_callbacks(
    emulator: Emulator, receiver: Receiver
) -> None:
    async with aio_client(emulator) as client:
        props = await client.create_call(
            PhoneNumberIdentifier("+15550123"),
            receiver.url("callerId=abc&n=1"),
            source_caller_id_number=CALLER_ID,
            source_display_name="Operator Console",
            operation_context="create-ctx",
        )
        call_id = props.call_connection_id
        assert props.call_connection_state == "connecting"
        assert [t.raw_id for t in props.targets] == ["4:+15550123"]
        assert isinstance(props.targets[0], PhoneNumberIdentifier)
        assert props.source_caller_id_number.raw_id == "4:+15550199"
        assert props.source_display_name == "Operator Console"
        assert props.correlation_id
        assert props.server_call_id is None  # as recorded: a create answer does not carry it

        connected = await receiver.wait_for("CallConnected", call_id)
        updated = await receiver.wait_for("ParticipantsUpdated", call_id)
        conn = client.get_call_connection(call_id)
        now = await conn.get_call_properties()
        assert now.call_connection_state == "connected"
        assert now.server_call_id
        await conn.hang_up(is_for_everyone=False)
        disconnected = await receiver.wait_for("CallDisconnected", call_id)
        with pytest.raises(HttpResponseError) as info:
            await conn.hang_up(is_for_everyone=False)
        assert (info.value.status_code, info.value.error.code) == (400, "8528")

    # Order as the service posts them, each at the exact callback URI with its query string.
    assert [c.type for c in receiver.of(call_id)] == [
        "CallConnected",
        "ParticipantsUpdated",
        "CallDisconnected",
    ]
    for cb in (connected, updated, disconnected):
        assert cb.path == "/api/callbacks/s3cret"
        assert cb.query == {"callerId": "abc", "n": "1"}
        assert cb.headers["Content-Type"].startswith("application/json")
        event = cb.event
        assert set(event) == {
            "id", "source", "type", "data", "time", "specversion", "datacontenttype", "subject",
        }  # fmt: skip
        assert event["source"] == event["subject"] == f"calling/callConnections/{call_id}"
        assert (event["specversion"], event["datacontenttype"]) == ("1.0", "application/json")
        assert event["data"]["publicEventType"] == event["type"]
        assert event["data"]["callConnectionId"] == call_id
        assert event["data"]["serverCallId"] == now.server_call_id
        assert event["data"]["correlationId"] == props.correlation_id
        assert event["data"]["version"] == API_VERSION
        parsed = CloudEvent.from_dict(event)  # what the official samples do
        assert parsed.type == event["type"]
    assert connected.data["operationContext"] == "create-ctx"
    assert connected.data["resultInformation"] == {"code": 200, "subCode": 0, "message": ""}
    assert "operationContext" not in updated.data
    assert updated.data["sequenceNumber"] == 1
    raw_ids = [p["identifier"]["rawId"] for p in updated.data["participants"]]
    assert "4:+15550123" in raw_ids  # the dialled number took the scenario's phone role
    assert disconnected.data["resultInformation"]["code"] == 200
    assert disconnected.data["resultInformation"]["subCode"] == 7000

    # Each callback carries its own RS256 JWT that checks out against the emulator's JWKS.
    jwks = await fetch_jwks(emulator)
    tokens = set()
    for cb in (connected, updated, disconnected):
        claims = verify_bearer(cb.headers.get("Authorization"), jwks, emulator)
        assert claims["exp"] - claims["iat"] == 300
        tokens.add(cb.headers["Authorization"])
    assert len(tokens) == 3


async def test_acs_and_teams_targets_and_participant_lookup(
    emulator: Emulator, receiver: Receiver
) -> None:
    teams = MicrosoftTeamsUserIdentifier(user_id="0f2b3c4d-aaaa-4bbb-8ccc-123456789abc")
    async with aio_client(emulator) as client:
        props = await client.create_call(
            [CommunicationUserIdentifier(ACS_USER), teams], receiver.url()
        )
        assert [t.raw_id for t in props.targets] == [ACS_USER, teams.raw_id]
        assert isinstance(props.targets[0], CommunicationUserIdentifier)
        assert isinstance(props.targets[1], MicrosoftTeamsUserIdentifier)
        assert props.targets[1].properties["user_id"] == teams.properties["user_id"]
        await receiver.wait_for("ParticipantsUpdated", props.call_connection_id)
        conn = client.get_call_connection(props.call_connection_id)
        listed = [p.identifier.raw_id async for p in conn.list_participants()]
        assert set(listed) >= {ACS_USER, teams.raw_id}
        # aio sends ':' where it signed '%3A' (SDK issue #30476); the emulator accepts both.
        found = await conn.get_participant(teams)
        assert found.identifier.raw_id == teams.raw_id
        assert found.is_muted is False
        acs = await conn.get_participant(CommunicationUserIdentifier(ACS_USER))
        assert isinstance(acs.identifier, CommunicationUserIdentifier)
        with pytest.raises(ResourceNotFoundError):
            await conn.get_participant(PhoneNumberIdentifier("+15559999"))
        await conn.hang_up(is_for_everyone=True)
        await receiver.wait_for("CallDisconnected", props.call_connection_id)


async def test_sync_client_full_call(emulator: Emulator, receiver: Receiver) -> None:
    def drive() -> dict[str, Any]:
        with sync_client(emulator) as client:
            props = client.create_call(
                PhoneNumberIdentifier("+15550124"),
                receiver.url(),
                source_caller_id_number=CALLER_ID,
            )
            conn = client.get_call_connection(props.call_connection_id)
            state = None
            for _ in range(100):
                state = conn.get_call_properties().call_connection_state
                if state == "connected":
                    break
                time.sleep(0.05)
            participants = [p.identifier.raw_id for p in conn.list_participants()]
            one = conn.get_participant(PhoneNumberIdentifier("+15550124"))
            conn.hang_up(is_for_everyone=True)
            after = conn.get_call_properties().call_connection_state
            return {
                "id": props.call_connection_id,
                "state": state,
                "participants": participants,
                "one": one.identifier.raw_id,
                "after": after,
            }

    result = await asyncio.to_thread(drive)
    assert result["state"] == "connected"
    assert "4:+15550124" in result["participants"]
    assert result["one"] == "4:+15550124"
    assert result["after"] == "disconnected"
    await receiver.wait_for("CallDisconnected", result["id"])


async def test_connect_call_joins_existing_call(emulator: Emulator, receiver: Receiver) -> None:
    async with aio_client(emulator) as client:
        props = await client.connect_call(
            receiver.url(), server_call_id="aHR0cHM6Ly9leGFtcGxlL2NvbnYvMQ", operation_context="c"
        )
        assert props.call_connection_state == "connecting"
        assert props.server_call_id is None  # as recorded: a connect answer does not carry it
        assert props.targets == []
        connected = await receiver.wait_for("CallConnected", props.call_connection_id)
        assert connected.data["operationContext"] == "c"
        assert connected.data["serverCallId"] == "aHR0cHM6Ly9leGFtcGxlL2NvbnYvMQ"
        await client.get_call_connection(props.call_connection_id).hang_up(True)


async def test_unknown_call_is_not_found(emulator: Emulator) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        with pytest.raises(ResourceNotFoundError):
            await client.get_call_connection("no-such-call").get_call_properties()


async def test_wrong_access_key_is_rejected(emulator: Emulator, receiver: Receiver) -> None:
    wrong = base64.b64encode(b"0" * 32).decode()
    cs = f"endpoint={emulator.endpoint}/;accesskey={wrong}"
    from azure.communication.callautomation.aio import CallAutomationClient

    async with CallAutomationClient.from_connection_string(
        cs, connection_verify=str(emulator.cert_path), retry_total=0
    ) as client:
        with pytest.raises(ClientAuthenticationError):
            await client.create_call(CommunicationUserIdentifier(ACS_USER), receiver.url())

    def sync_attempt() -> None:
        from azure.communication.callautomation import CallAutomationClient as Sync

        with Sync.from_connection_string(
            cs, connection_verify=str(emulator.cert_path), retry_total=0
        ) as client:
            client.get_call_connection("x").get_call_properties()

    with pytest.raises(ClientAuthenticationError):
        await asyncio.to_thread(sync_attempt)
    assert emulator.calls.calls == {}


class _Tamper(SansIOHTTPPolicy):
    """Runs after the SDK's HMAC policy: changes the body the signature covered."""

    def on_request(self, request: Any) -> None:
        request.http_request.set_bytes_body(b'{"targets": [], "callbackUri": "https://evil"}')


async def test_tampered_body_gets_401(emulator: Emulator, receiver: Receiver) -> None:
    body = {"targets": [{"rawId": ACS_USER}], "callbackUri": receiver.url()}
    # Signed by the SDK's own HMAC policy: accepted as is, refused once the body changes.
    status, created = await signed_request(emulator, "POST", "/calling/callConnections", body)
    assert status == 201
    status, refused = await signed_request(
        emulator, "POST", "/calling/callConnections", body, _Tamper()
    )
    assert status == 401
    assert refused["error"]["code"] == "Unauthorized"
    assert list(emulator.calls.calls) == [created["callConnectionId"]]


async def test_stale_date_and_missing_signature_get_401(emulator: Emulator) -> None:
    path = f"/calling/callConnections/x?api-version={API_VERSION}"
    host = emulator.endpoint.removeprefix("https://")
    stale = format_datetime(dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20), usegmt=True)
    digest = base64.b64encode(hashlib.sha256(b"").digest()).decode()
    to_sign = f"GET\n{path}\n{stale};{host};{digest}"
    sig = base64.b64encode(
        hmac.new(emulator.identity.key_bytes, to_sign.encode(), hashlib.sha256).digest()
    ).decode()
    headers = {
        "x-ms-date": stale,
        "x-ms-content-sha256": digest,
        "Authorization": "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256"
        f"&Signature={sig}",
    }
    ctx = ssl.create_default_context(cafile=str(emulator.cert_path))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        async with session.get(emulator.endpoint + path, headers=headers) as resp:
            assert resp.status == 401
            assert "x-ms-date" in (await resp.json())["error"]["message"]
        async with session.get(emulator.endpoint + path) as resp:
            assert resp.status == 401
            assert (await resp.json())["error"]["code"] == "Unauthorized"
        # The key documents are public, as the service's are.
        async with session.get(emulator.jwks_url) as resp:
            keys = (await resp.json())["keys"]
            assert (keys[0]["kty"], keys[0]["alg"]) == ("RSA", "RS256")
            assert keys[0]["kid"]
        async with session.get(emulator.openid_url) as resp:
            config = await resp.json()
            assert config["issuer"] == emulator.issuer
            assert config["jwks_uri"] == emulator.jwks_url


class _SendTwice(RequestsTransport):
    """A duplicated request on the network: the same signed bytes arrive twice."""

    first: Any = None

    def send(self, request: Any, **kwargs: Any) -> Any:
        self.first = super().send(request, **kwargs)
        self.first.body()
        return super().send(request, **kwargs)


async def test_repeatability_replay_creates_no_second_call(
    emulator: Emulator, receiver: Receiver
) -> None:
    transport = _SendTwice(connection_verify=str(emulator.cert_path))

    def create() -> str:
        from azure.communication.callautomation import CallAutomationClient as Sync

        with Sync.from_connection_string(emulator.connection_string, transport=transport) as c:
            return c.create_call(
                CommunicationUserIdentifier(ACS_USER), receiver.url()
            ).call_connection_id

    call_id = await asyncio.to_thread(create)
    first = json.loads(transport.first.text())
    assert transport.first.status_code == 201
    assert first["callConnectionId"] == call_id
    assert list(emulator.calls.calls) == [call_id]
    await receiver.wait_for("CallConnected", call_id)
    # A call's events arrive in order: a second CallConnected would come before its end.
    async with aio_client(emulator) as client:
        await client.get_call_connection(call_id).hang_up(True)
    await receiver.wait_for("CallDisconnected", call_id)
    assert len(receiver.of(type_="CallConnected")) == 1


async def test_callback_delivery_retries_and_keeps_order(
    emulator: Emulator, receiver: Receiver
) -> None:
    receiver.fail_next = 2  # the first two POSTs get 503
    async with aio_client(emulator) as client:
        props = await client.create_call(CommunicationUserIdentifier(ACS_USER), receiver.url())
        await receiver.wait_for("ParticipantsUpdated", props.call_connection_id)
        await client.get_call_connection(props.call_connection_id).hang_up(True)
        await receiver.wait_for("CallDisconnected", props.call_connection_id)
    assert [c.type for c in receiver.of(props.call_connection_id)] == [
        "CallConnected",
        "ParticipantsUpdated",
        "CallDisconnected",
    ]
    assert receiver.posts == 5
    assert emulator.delivery.stats.retries == 2


async def test_callback_uris_are_checked_and_never_leave_loopback(
    emulator: Emulator, receiver: Receiver
) -> None:
    async with aio_client(emulator, retry_total=0) as client:
        with pytest.raises(HttpResponseError) as info:
            await client.create_call(
                CommunicationUserIdentifier(ACS_USER), "http://app.example/api/callbacks"
            )
        assert info.value.status_code == 400
        assert info.value.error.message == "The field CallbackUri is invalid."
        # https elsewhere is valid for the service; the emulator accepts it but posts nothing.
        props = await client.create_call(
            CommunicationUserIdentifier(ACS_USER), "https://app.example/api/callbacks"
        )
        for _ in range(40):
            if emulator.delivery.stats.dropped >= 2:
                break
            await asyncio.sleep(0.05)
        assert emulator.delivery.stats.dropped >= 2  # CallConnected, ParticipantsUpdated
        assert emulator.delivery.stats.delivered == 0
        await client.get_call_connection(props.call_connection_id).hang_up(True)
