"""Callback delivery fails for a while; the service retries; each event is applied once, in order.

The emulator posts callbacks to a real HTTP proxy in front of the console's callback listener
(the console's public callback base, as a tunnel would be). The proxy can refuse deliveries
with 503, or pass them on and then answer 503 anyway (the answer lost on the way back, so the
service delivers the same event again).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from reliability_kit import WAIT, connected, free_port, local_profile, until

from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState


class FlakyProxy:
    """Forwards callback POSTs to ``target``; misbehaves for the next ``count`` of them."""

    def __init__(self) -> None:
        self.target = ""
        self.mode = "pass"  # "refuse": 503, not forwarded; "lose_answer": forwarded, then 503
        self.count = 0
        self.answered: list[tuple[str, int]] = []  # (event type, status) per POST
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None
        self.port = 0

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def misbehave(self, mode: str, count: int) -> None:
        self.mode, self.count = mode, count

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        kind = json.loads(body)[0]["type"].rsplit(".", 1)[-1]
        mode = self.mode if self.count > 0 else "pass"
        self.count -= 1
        status = 503
        if mode != "refuse":
            assert self._client is not None
            url = self.target + request.path_qs
            headers = {k: v for k, v in request.headers.items() if k.lower() != "host"}
            try:
                async with self._client.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except aiohttp.ClientError:
                status = 502  # the console's listener is down
            if mode == "lose_answer":
                status = 503
        self.answered.append((kind, status))
        return web.Response(status=status)


@pytest.fixture
async def proxy() -> AsyncIterator[FlakyProxy]:
    p = FlakyProxy()
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


async def _console_behind(
    proxy: FlakyProxy,
    emu: Emulator,
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    **kw: Any,
) -> ConsoleRuntime:
    rt = await make_runtime(local_profile(emu, public_callback_base=proxy.base, **kw))
    proxy.target = f"http://127.0.0.1:{rt.callbacks.port}"
    return rt


def journal_events(session: CallSession, type_: str) -> list[dict[str, Any]]:
    assert session.journal is not None
    records = [json.loads(x) for x in session.journal.path.read_text("utf-8").splitlines()]
    return [
        r["event"]
        for r in records
        if r["type"] == "event" and r["event"]["type"].endswith("." + type_)
    ]


def sequence_numbers(session: CallSession) -> list[int]:
    return [e["data"]["sequenceNumber"] for e in journal_events(session, "ParticipantsUpdated")]


async def test_a_redelivered_event_is_applied_once(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    proxy: FlakyProxy,
) -> None:
    emu = await make_emulator(scenario="multilingual")
    rt = await _console_behind(proxy, emu, make_runtime)
    session = await connected(rt)
    await session.wait_for(lambda s: s.confirmed_locale == "en-US", WAIT)
    assert await emu.delivery.drain(WAIT)  # the call's first events are all in
    changed: list[str] = []
    session.subscribe(on_notice=lambda n: changed.append(n.text) if "Language" in n.title else None)

    # The console receives the locale update and the participant change three times each.
    proxy.misbehave("lose_answer", 2)
    await session.set_locale("es-ES")
    await session.wait_for(lambda s: s.confirmed_locale == "es-ES", WAIT)
    assert await emu.delivery.drain(WAIT)  # the service retried until it heard the answer
    proxy.misbehave("lose_answer", 2)
    emu.inject_fault(session.state.call_connection_id, "participantJoined", rawId="4:+15550177")
    await until(lambda: any(p.raw_id == "4:+15550177" for p in session.transcript.participants))

    def posts(kind: str) -> list[int]:
        return [status for k, status in proxy.answered if k == kind]

    await until(
        lambda: (
            posts("ParticipantsUpdated")[-1:] == [200] and len(posts("ParticipantsUpdated")) == 4
        )
    )
    assert posts("TranscriptionUpdated") == [503, 503, 200]  # at the console three times ...
    assert changed == ["Transcribing in es-ES (was en-US)."]  # ... applied once
    assert len(journal_events(session, "TranscriptionUpdated")) == 1
    assert sequence_numbers(session) == [1, 2]
    locale_markers = [m.detail for m in session.transcript.markers if m.kind == "locale_changed"]
    assert locale_markers == ["en-US", "es-ES"]
    assert session.duplicate_events == 4
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)


async def test_refused_deliveries_are_retried_and_arrive_in_order(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    proxy: FlakyProxy,
) -> None:
    emu = await make_emulator()
    rt = await _console_behind(proxy, emu, make_runtime)
    session = await connected(rt)
    assert await emu.delivery.drain(WAIT)
    ccid = session.state.call_connection_id
    before = {p.raw_id for p in session.transcript.participants}

    proxy.misbehave("refuse", 3)  # the first change is refused three times, the rest queue up
    for n in range(4):
        emu.inject_fault(ccid, "participantJoined", rawId=f"4:+1555020000{n}")
    emu.inject_fault(ccid, "participantLeft", rawId="4:+15550200000")
    await until(lambda: len(sequence_numbers(session)) == 6, what="every ParticipantsUpdated")

    assert [status for _, status in proxy.answered[-8:]] == [503] * 3 + [200] * 5
    assert sequence_numbers(session) == [1, 2, 3, 4, 5, 6]
    now = {p.raw_id for p in session.transcript.participants}
    assert now - before >= {f"4:+1555020000{n}" for n in (1, 2, 3)}
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)


async def test_the_callback_listener_restarting_on_its_port_loses_nothing(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    emu = await make_emulator(scenario="multilingual")
    rt = await make_runtime(local_profile(emu, callback_port=free_port()))
    session = await connected(rt)
    await session.wait_for(lambda s: s.confirmed_locale == "en-US", WAIT)
    assert await emu.delivery.drain(WAIT)
    port = rt.callbacks.port

    await rt.callbacks.stop()  # deliveries now meet a closed port
    await session.set_locale("fr-FR")
    emu.inject_fault(session.state.call_connection_id, "participantJoined", rawId="4:+15550188")
    await until(lambda: emu.delivery.stats.retries >= 2, what="the service retrying")
    await rt.callbacks.start()
    assert rt.callbacks.port == port

    await session.wait_for(lambda s: s.confirmed_locale == "fr-FR", WAIT)
    await until(lambda: sequence_numbers(session) == [1, 2], what="the participant change")
    assert emu.delivery.stats.dropped == 0
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
