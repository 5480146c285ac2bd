"""The runtime's Event Grid URL: on the Azure profile it survives a restart (its secret is in
the keyring, per data dir), rotating it refuses the old one at once; the callback and WebSocket
secrets stay new per start."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import aiohttp
import keyring
import pytest

from console.config import Preferences, Profile
from console.runtime import ConsoleRuntime
from tests.integration.test_listener_callbacks import INCOMING
from tests.memory_keyring import MemoryKeyring

CS = "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0LWtleS1mb3ItdGVzdHM="


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


def azure(port: int = 0) -> Profile:
    prefs = Preferences(
        profile="azure",
        public_callback_base="https://abc-8080.euw.devtunnels.ms/",
        public_websocket_base="wss://abc-8081.euw.devtunnels.ms",
        acs_resource_id="5e3f0a4c-1d2b-4c6e-8f90-123456789abc",
        cognitive_services_endpoint="https://contoso-speech.cognitiveservices.azure.com/",
        callback_port=port,
    )
    return Profile.azure_unchecked(prefs, CS)


async def test_the_azure_eventgrid_url_survives_a_restart_and_rotates(tmp_path: Path) -> None:
    data = tmp_path / "data"
    async with ConsoleRuntime(azure(), data_dir=data) as first:
        url = first.eventgrid_url
        callback = first.endpoints.callback_url()
        assert url.startswith("https://abc-8080.euw.devtunnels.ms/api/eventgrid/")
        assert first.eventgrid_secret.persistent
    async with ConsoleRuntime(azure(), data_dir=data) as second:
        assert second.eventgrid_url == url
        assert second.endpoints.callback_url() != callback  # new per start
        local = f"http://127.0.0.1:{second.callbacks.port}"
        async with aiohttp.ClientSession() as http:

            async def deliver(public: str) -> int:
                path = public.removeprefix("https://abc-8080.euw.devtunnels.ms")
                async with http.post(local + path, json=INCOMING) as resp:
                    return resp.status

            assert await deliver(url) == 200
            rotated = second.rotate_eventgrid_secret()
            assert rotated != url
            assert await deliver(url) == 401
            assert await deliver(rotated) == 200
    async with ConsoleRuntime(azure(), data_dir=data) as third:
        assert third.eventgrid_url == rotated
    async with ConsoleRuntime(azure(), data_dir=tmp_path / "other") as isolated:
        assert isolated.eventgrid_url != rotated  # --data-dir isolates it
