"""The REST router: every path the emulator does not serve is a JSON error, never aiohttp's page.

Actions are a ``:action`` suffix on the last path segment, so a call id never swallows the
action and an action the emulator does not emulate reaches a clear 404 for that action.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import aiohttp
from azure.communication.callautomation import PhoneNumberIdentifier

from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, aio_client, signed_request, sync_client

PSTN = "+15550124"
SOURCE = "+15550100"


async def _connected_call(emu: Emulator, receiver: Receiver) -> str:
    async with aio_client(emu) as client:
        made = await client.create_call(
            PhoneNumberIdentifier(PSTN),
            receiver.url(),
            source_caller_id_number=PhoneNumberIdentifier(SOURCE),
        )
    await receiver.wait_for("CallConnected", made.call_connection_id)
    return made.call_connection_id


def _error(status: int, body: Any) -> tuple[int, str, str]:
    assert isinstance(body, dict), body
    assert set(body) == {"error"}, body
    return status, body["error"]["code"], body["error"]["message"]


async def test_unserved_paths_and_methods_are_json_errors(
    emulator: Emulator, receiver: Receiver
) -> None:
    call_id = await _connected_call(emulator, receiver)
    base = f"/calling/callConnections/{call_id}"

    status, code, message = _error(*await signed_request(emulator, "POST", f"{base}:play", {}))
    assert (status, code) == (404, "NotFound")
    assert "'play'" in message
    status, code, message = _error(
        *await signed_request(emulator, "POST", f"{base}/participants:add", {})
    )
    assert (status, code) == (404, "NotFound")
    assert "'add'" in message
    status, code, _ = _error(*await signed_request(emulator, "POST", "/calling/recordings", {}))
    assert (status, code) == (404, "NotFound")
    status, code, _ = _error(*await signed_request(emulator, "GET", "/emulator/nothing"))
    assert (status, code) == (404, "NotFound")
    status, code, _ = _error(*await signed_request(emulator, "PUT", base, {}))
    assert (status, code) == (405, "MethodNotAllowed")
    status, code, _ = _error(*await signed_request(emulator, "GET", f"{base}:terminate"))
    assert (status, code) == (405, "MethodNotAllowed")

    # An action on a call that does not exist is about the call, not the action.
    status, code, message = _error(
        *await signed_request(emulator, "POST", "/calling/callConnections/nope:play", {})
    )
    assert status == 404
    assert "not found" in message
    assert "play" not in message

    # The call itself still answers after all that.
    status, body = await signed_request(emulator, "GET", base)
    assert (status, body["callConnectionState"]) == (200, "connected")


async def test_participant_ids_match_percent_encoded_or_not(
    emulator: Emulator, receiver: Receiver
) -> None:
    call_id = await _connected_call(emulator, receiver)
    target = PhoneNumberIdentifier(PSTN)

    # The sync SDK sends ``4%3A%2B1555…``; the aio SDK's transport sends ``4:+1555…``.
    def sync_lookup() -> str:
        with sync_client(emulator) as client:
            return client.get_call_connection(call_id).get_participant(target).identifier.raw_id

    assert await asyncio.to_thread(sync_lookup) == f"4:{PSTN}"
    async with aio_client(emulator) as client:
        found = await client.get_call_connection(call_id).get_participant(target)
    assert found.identifier.raw_id == f"4:{PSTN}"
    status, body = await signed_request(
        emulator, "GET", f"/calling/callConnections/{call_id}/participants/4%3A%2B15559999"
    )
    assert _error(status, body)[:2] == (404, "NotFound")


async def test_unserved_paths_need_the_signature_too(emulator: Emulator) -> None:
    ctx = ssl.create_default_context(cafile=str(emulator.cert_path))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        for method, path in [
            ("GET", "/calling/nothing"),
            ("PUT", "/calling/callConnections/x"),
            ("POST", "/emulator/nothing"),
        ]:
            async with session.request(method, emulator.endpoint + path) as resp:
                assert resp.status == 401, (method, path)
                assert (await resp.json())["error"]["code"] == "Unauthorized"
