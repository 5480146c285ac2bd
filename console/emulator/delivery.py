"""Ordered, retried delivery of callback events to the application.

One queue per call keeps that call's events in order. Each event is POSTed alone as a JSON array
with a fresh Bearer JWT; 2xx is success, 5xx/408/429 or a connection failure is retried with a
bounded backoff, and an event that still fails is dropped (logged) so later events still flow.
Enqueueing never waits, so REST responses are never held up by a slow callback receiver.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from console.emulator.urls import may_contact

log = logging.getLogger(__name__)

RETRY_DELAYS = (0.25, 0.5, 1.0)  # seconds before attempts 2, 3 and 4
ATTEMPT_TIMEOUT = 10.0


@dataclass
class DeliveryStats:
    delivered: int = 0
    dropped: int = 0
    retries: int = 0
    by_type: dict[str, int] = field(default_factory=dict)


class CallbackDelivery:
    def __init__(self, token: Callable[[], str]) -> None:
        self._token = token
        self._session: aiohttp.ClientSession | None = None
        self._queues: dict[str, deque[tuple[str, dict[str, Any]]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._idle = asyncio.Event()
        self._idle.set()
        self.stats = DeliveryStats()

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT)
        self._session = aiohttp.ClientSession(timeout=timeout)

    def post(self, key: str, url: str, event: dict[str, Any]) -> None:
        """Queue ``event`` for ``url``; events with the same key arrive in order."""
        if not may_contact(url):
            # The real service would call it; the emulator never leaves loopback.
            log.warning("Not delivering %s: callback host is not loopback", event.get("type"))
            self.stats.dropped += 1
            return
        self._queues.setdefault(key, deque()).append((url, event))
        if key not in self._workers:
            self._idle.clear()
            self._workers[key] = asyncio.create_task(self._work(key), name=f"callbacks-{key}")

    async def _work(self, key: str) -> None:
        queue = self._queues[key]
        try:
            while queue:
                url, event = queue[0]
                await self._deliver(url, event)
                queue.popleft()
        finally:
            self._workers.pop(key, None)
            if not queue:
                self._queues.pop(key, None)
            if not self._workers:
                self._idle.set()

    async def _deliver(self, url: str, event: dict[str, Any]) -> None:
        assert self._session is not None, "delivery not started"
        body = json.dumps([event]).encode("utf-8")
        event_type = str(event.get("type", "")).rsplit(".", 1)[-1]
        for attempt in range(len(RETRY_DELAYS) + 1):
            if attempt:
                self.stats.retries += 1
                await asyncio.sleep(RETRY_DELAYS[attempt - 1])
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "Authorization": f"Bearer {self._token()}",
            }
            try:
                async with self._session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    status = resp.status
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.info("Callback %s attempt %d failed: %s", event_type, attempt + 1, exc)
                continue
            if 200 <= status < 300:
                self.stats.delivered += 1
                self.stats.by_type[event_type] = self.stats.by_type.get(event_type, 0) + 1
                return
            if status < 500 and status not in (408, 429):
                log.warning("Callback %s refused with HTTP %d; not retried", event_type, status)
                break
            log.info("Callback %s attempt %d got HTTP %d", event_type, attempt + 1, status)
        self.stats.dropped += 1
        log.warning("Dropped callback %s after failed delivery", event_type)

    async def drain(self, within: float) -> bool:
        """Wait until every queued event was delivered or dropped; False if that takes longer."""
        try:
            await asyncio.wait_for(self._idle.wait(), within)
        except TimeoutError:
            return False
        return True

    async def close(self, drain_within: float = 2.0) -> None:
        await self.drain(drain_within)
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
