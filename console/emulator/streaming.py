"""The emulator's side of the transcription WebSocket: ACS is the client.

It connects to the call's transport URL with a fresh Bearer JWT and the
``x-ms-call-connection-id`` / ``x-ms-call-correlation-id`` headers, sends the
``TranscriptionMetadata`` packet first, then the feed's ``TranscriptionData`` packets. When the
connection drops mid-call it reports the interruption, reconnects with backoff, reports the
resumption, sends fresh metadata and resumes the (resumable) feed where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from console.emulator.urls import may_contact

log = logging.getLogger(__name__)

OPEN_TIMEOUT = 5.0
RECONNECT_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)


class Feed(Protocol):
    async def run(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None: ...


class StreamFailed(Exception):
    """The stream could not be (re-)established or fed; ``key`` is the error-table row and
    ``message``, when set, the service's message to report instead of the row's."""

    def __init__(self, key: str, detail: str, *, message: str | None = None) -> None:
        super().__init__(detail)
        self.key = key
        self.message = message


class MergedFeed:
    """Several feeds on one stream (scripted lines, recognised audio), each resumable. A feed
    can be added while it runs (an audio participant joining mid-call)."""

    def __init__(self, *feeds: Feed) -> None:
        self._feeds = list(feeds)
        self._send: Callable[[dict[str, Any]], Awaitable[None]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._changed = asyncio.Event()

    @property
    def finished(self) -> bool:
        return all(getattr(f, "finished", True) for f in self._feeds)

    @property
    def finals_sent(self) -> int:
        return sum(getattr(f, "finals_sent", 0) for f in self._feeds)

    @property
    def decoding(self) -> bool:
        return any(getattr(f, "decoding", False) for f in self._feeds)

    def close(self) -> None:
        """The subscription ended: parts with work in flight (decodes) drop it."""
        for feed in self._feeds:
            close = getattr(feed, "close", None)
            if close is not None:
                close()

    def add(self, feed: Feed) -> None:
        self._feeds.append(feed)
        if self._send is not None:
            self._start(feed)

    def _start(self, feed: Feed) -> None:
        assert self._send is not None
        self._tasks.add(asyncio.create_task(feed.run(self._send), name="feed-part"))
        self._changed.set()

    async def run(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        """Run every part until cancelled; the first part to fail ends them all (and is raised).
        Parts that finish leave the others running; with none left it waits for an added one."""
        self._send = send
        try:
            for feed in self._feeds:
                self._start(feed)
            while True:
                self._changed.clear()
                changed = asyncio.create_task(self._changed.wait())
                try:
                    done, _ = await asyncio.wait(
                        {*self._tasks, changed}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    changed.cancel()
                for task in done - {changed}:
                    self._tasks.discard(task)
                    if not task.cancelled() and task.exception() is not None:
                        raise task.exception()  # type: ignore[misc]
        finally:
            self._send = None
            tasks, self._tasks = self._tasks, set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


class TranscriptionStream:
    def __init__(
        self,
        *,
        url: str,
        headers: Callable[[], dict[str, str]],
        metadata: Callable[[], dict[str, Any]],
        feed: Feed,
        on_connected: Callable[[], None],
        on_interrupted: Callable[[], None],
        on_resumed: Callable[[], None],
        reconnect_delays: tuple[float, ...] = RECONNECT_DELAYS,
        allow: Callable[[dict[str, Any]], bool] | None = None,
        transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> None:
        self.url = url
        self._allow = allow  # packets it refuses are dropped (a participant on hold)
        self._transform = transform  # what goes on the wire instead (redaction, …)
        self._headers = headers
        self._metadata = metadata
        self._feed = feed
        self._on_connected = on_connected
        self._on_interrupted = on_interrupted
        self._on_resumed = on_resumed
        self._delays = reconnect_delays
        self._ws: ClientConnection | None = None
        self.connections = 0

    @property
    def feed_finished(self) -> bool:
        """Every Final of the script has been sent on this stream."""
        return self._feed.finished

    @property
    def finals_sent(self) -> int:
        return int(getattr(self._feed, "finals_sent", 0))

    @property
    def feed_decoding(self) -> bool:
        """Its recogniser is still decoding speech already heard."""
        return bool(getattr(self._feed, "decoding", False))

    async def _connect(self) -> ClientConnection:
        if not may_contact(self.url):
            raise OSError("the emulator only connects to loopback transport URLs")
        ws = await websockets.connect(
            self.url,
            additional_headers=self._headers(),
            open_timeout=OPEN_TIMEOUT,
            close_timeout=2.0,
            user_agent_header=None,
        )
        self.connections += 1
        return ws

    async def run(self) -> None:
        """Stream until cancelled; raises StreamFailed when no connection can be made."""
        try:
            self._ws = await self._connect()
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            raise StreamFailed("websocket_failed", f"cannot connect: {exc}") from exc
        try:
            await self._send(self._metadata())
        except ConnectionClosed:
            pass  # handled below like any other drop
        else:
            self._on_connected()
        try:
            while True:
                await self._pump(self._ws)
                self._on_interrupted()
                self._ws = await self._reconnect()
                self._on_resumed()
                with contextlib.suppress(ConnectionClosed):
                    await self._send(self._metadata())
        finally:
            ws, self._ws = self._ws, None
            if ws is not None:
                await _close(ws)

    async def _send(self, packet: dict[str, Any]) -> None:
        if self._allow is not None and not self._allow(packet):
            return
        if self._transform is not None:
            packet = self._transform(packet)
        ws = self._ws
        if ws is None:
            raise ConnectionClosed(None, None)
        await ws.send(json.dumps(packet, ensure_ascii=False))

    async def _pump(self, ws: ClientConnection) -> None:
        """Run the feed until the connection goes away (the feed ending is not a drop)."""
        feed = asyncio.create_task(self._feed.run(self._send), name="transcription-feed")
        reader = asyncio.create_task(_drain(ws), name="transcription-reader")
        try:
            await asyncio.wait({feed, reader}, return_when=asyncio.FIRST_COMPLETED)
            if feed.done() and feed.exception() is None and not reader.done():
                await reader  # script over: stay connected until stopped or dropped
        finally:
            for task in (feed, reader):
                task.cancel()
            results = await asyncio.gather(feed, reader, return_exceptions=True)
        err = results[0]
        if isinstance(err, StreamFailed):
            raise err
        if isinstance(err, BaseException) and not isinstance(
            err, ConnectionClosed | asyncio.CancelledError
        ):
            log.error("Transcription feed failed", exc_info=err)
            raise StreamFailed("unknown_internal", f"feed failed: {err!r}")
        await _close(ws)

    async def _reconnect(self) -> ClientConnection:
        last: BaseException | None = None
        for delay in self._delays:
            await asyncio.sleep(delay)
            try:
                return await self._connect()
            except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                last = exc
                log.info("Transcription reconnect failed: %s", exc)
        raise StreamFailed("websocket_failed", f"cannot reconnect: {last}")

    def drop(self) -> None:
        """Break the connection abruptly, as a network failure would (no close frame)."""
        ws = self._ws
        if ws is not None:
            ws.transport.abort()


async def _drain(ws: ClientConnection) -> None:
    """Read and discard what the application sends; returns when the connection closes."""
    with contextlib.suppress(ConnectionClosed):
        async for _ in ws:
            pass


async def _close(ws: ClientConnection) -> None:
    with contextlib.suppress(Exception):
        await ws.close()
