"""The network answers slowly: actions time out with a plain message, the loop never stalls,
and the same action succeeds once the network is back."""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from reliability_kit import WAIT, local_profile

from console.acs.calls import CallServiceOptions
from console.emulator import hmac_auth
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallState, SessionError, TranscriptionState
from tests.waiting import until


class Ticker:
    """A task that should wake every 10 ms; records the longest gap it saw."""

    def __init__(self) -> None:
        self.max_gap = 0.0
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            now = loop.time()
            self.max_gap = max(self.max_gap, now - last)
            self.ticks += 1
            last = now

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


@pytest.fixture
async def ticker() -> AsyncIterator[Ticker]:
    t = Ticker()
    t.start()
    try:
        yield t
    finally:
        await t.stop()


async def set_response_delay(
    emu: Emulator, seconds: float, *, late: bool = False
) -> dict[str, Any]:
    """The emulator's admin endpoint, HMAC-signed like every request to it."""
    url = f"{emu.endpoint}/emulator/network"
    body = json.dumps({"responseDelay": seconds, "lateAnswers": late}).encode()
    headers = hmac_auth.sign("POST", url, body, base64.b64decode(emu.access_key))
    headers["Content-Type"] = "application/json"
    ctx = ssl.create_default_context(cafile=str(emu.cert_path))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as http,
        http.post(url, data=body, headers=headers) as resp,
    ):
        assert resp.status == 200, await resp.text()
        answer: dict[str, Any] = await resp.json()
        return answer


async def test_timeouts_say_so_never_block_and_the_retry_works(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    ticker: Ticker,
) -> None:
    emu = await make_emulator()
    options = CallServiceOptions(connection_timeout=0.5, read_timeout=0.5, retry_total=0)
    rt = await make_runtime(local_profile(emu), call_options=options)
    session = rt.new_session()
    errors: list[str] = []
    session.subscribe(on_notice=lambda n: errors.append(n.text) if n.level == "error" else None)

    assert await set_response_delay(emu, 6.0) == {"responseDelay": 6.0, "lateAnswers": False}
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(SessionError, match="did not answer in time"):
        await session.place("+15550100", locale="en-US")
    # The client's 0.5 s timeout, not the network's 6 s (room for a loaded machine between).
    assert loop.time() - started < 4.0
    assert session.state.call is CallState.FAILED
    assert errors == ["Placing the call failed: the service did not answer in time. Try again."]
    assert session.state.last_error == errors[0]

    # The request that timed out had no effect; the retry places exactly one call.
    await set_response_delay(emu, 0)
    await session.place("+15550100", locale="en-US")
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    assert len(emu.calls.active()) == 1

    # A mid-call action times out the same way and can be retried too.
    await set_response_delay(emu, 2.0)
    with pytest.raises(SessionError, match="did not answer in time"):
        await session.start_transcription("en-US")
    assert session.state.transcription is TranscriptionState.FAILED
    assert session.state.call is CallState.CONNECTED  # slow is not lost
    await set_response_delay(emu, 0)
    await session.start_transcription("en-US")
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, WAIT)

    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
    assert ticker.ticks > 50
    # A request blocking the loop would stall it for the client's 0.5 s timeout or the 2 s
    # delay; a quarter second leaves room for ordinary work (a TLS handshake, an import) on a
    # busy machine, where 0.1 s was seen to be exceeded without any blocking request.
    assert ticker.max_gap < 0.25, f"the event loop stalled for {ticker.max_gap:.3f} s"


async def test_the_admin_endpoint_refuses_a_bad_delay(
    make_emulator: Callable[..., Awaitable[Emulator]],
) -> None:
    emu = await make_emulator()
    url = f"{emu.endpoint}/emulator/network"
    ctx = ssl.create_default_context(cafile=str(emu.cert_path))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as http:
        for body in (b'{"responseDelay": -1}', b'{"responseDelay": "slow"}', b"{}"):
            headers = hmac_auth.sign("POST", url, body, base64.b64decode(emu.access_key))
            headers["Content-Type"] = "application/json"
            async with http.post(url, data=body, headers=headers) as resp:
                assert resp.status == 400
                assert "responseDelay" in (await resp.json())["error"]["message"]
    assert emu.config.response_delay == 0


@pytest.mark.parametrize("session_kept", [True, False])
async def test_a_call_that_connects_after_its_create_timed_out_is_hung_up(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    session_kept: bool,
) -> None:
    # The create request reached the service, but its answer did not reach the console in
    # time: the call goes ahead and would be left running, billed and ringing. (Real time,
    # so the call connects a second after the console gave up, minutes before its script ends.)
    emu = await make_emulator(speed=1.0, answer_delay=1.5)
    options = CallServiceOptions(connection_timeout=0.5, read_timeout=0.5, retry_total=0)
    rt = await make_runtime(local_profile(emu), call_options=options)
    session = rt.new_session()
    notices: list[str] = []
    session.subscribe(on_notice=lambda n: notices.append(n.title))
    await set_response_delay(emu, 2.0, late=True)
    with pytest.raises(SessionError, match="did not answer in time"):
        await session.place("+15550100", locale="en-US")
    assert session.state.call is CallState.FAILED
    if not session_kept:  # the operator moved on: the window discards a failed session
        rt.discard_session(session)
    await set_response_delay(emu, 0)
    # The call went ahead on the service, connected, and the console ended it.
    await until(lambda: emu.calls.calls, what="the call on the service")
    (call,) = emu.calls.calls.values()
    await until(lambda: call.state == "disconnected", what="the late call hung up")
    assert session.state.call is CallState.FAILED  # it never became this session's call
    if session_kept:
        assert "Late call ended" in notices
    else:
        assert rt.unrouted_events >= 1


async def test_a_call_that_connects_before_its_late_answer_is_kept(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    # Only the answer to the create was lost; the call connected while the console waited.
    emu = await make_emulator(answer_delay=0.2)
    options = CallServiceOptions(connection_timeout=0.5, read_timeout=0.5, retry_total=0)
    rt = await make_runtime(local_profile(emu), call_options=options)
    session = rt.new_session()
    await set_response_delay(emu, 2.0, late=True)
    place = asyncio.ensure_future(session.place("+15550100", locale="en-US"))
    await session.wait_for(lambda s: s.call is CallState.CONNECTED, WAIT)
    await place  # the timeout that followed is no failure: the call is there
    assert session.state.call is CallState.CONNECTED
    assert session.state.last_error is None
    await set_response_delay(emu, 0)
    await session.hang_up()
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, WAIT)
