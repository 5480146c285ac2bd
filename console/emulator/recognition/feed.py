"""A transcription feed that listens: the call's audio tracks, recognised on the call clock.

Same contract as the scripted feed (``console.emulator.speech.TranscriptionFeed``): ``run(send)``
sends packets until cancelled and is resumable, so after a dropped WebSocket the next run first
re-sends the packet whose send failed and then goes on; audio that played while the stream was
down is still recognised (nothing said is lost), only later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from console.emulator.recognition.audio import FRAME_SAMPLES, FRAME_SECONDS
from console.emulator.recognition.recognizer import Engine, ParticipantRecognizer
from console.emulator.recognition.tracks import CallAudio

if TYPE_CHECKING:
    from console.emulator.speech import Conversation

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]
# Wall seconds between looks at the tracks when nothing else wakes the feed.
_TICK = 0.05
# At a high --speed, at most this much call time is read per pass (keeps each pass short).
_MAX_FRAMES_PER_PASS = 250


class AudioTranscriptionFeed:
    def __init__(
        self,
        conversation: Conversation,
        audio: CallAudio,
        engine: Engine,
        *,
        locale: Callable[[], str],
        intermediate_results: bool,
        since: float,
    ) -> None:
        self._conversation = conversation
        self._audio = audio
        self._engine = engine
        self._locale = locale
        self._intermediates = intermediate_results
        self._since = int(since / FRAME_SECONDS)
        self._positions: dict[str, int] = {}  # next frame to read, per track
        self._recognizers: dict[str, ParticipantRecognizer] = {}
        self._out: deque[dict[str, Any]] = deque()
        self._wake = asyncio.Event()
        self._error: BaseException | None = None
        self._running = False
        self.finals_sent = 0

    @property
    def finished(self) -> bool:
        """All audio heard, recognised and sent (never while a live track is open)."""
        end = self._audio.end
        return (
            end is not None
            and not self._out
            and all(self._positions.get(raw, self._since) >= end for raw in self._audio.tracks)
            and all(r.idle for r in self._recognizers.values())
        )

    @property
    def decoding(self) -> bool:
        """The recogniser is still at work on speech already heard (a busy machine)."""
        return any(r.decoding for r in self._recognizers.values())

    def close(self) -> None:
        """Nothing more will be sent: cancel the decodes still queued or running."""
        for r in self._recognizers.values():
            r.cancel()

    async def run(self, send: Send) -> None:
        if self._running:
            raise RuntimeError("this transcription feed is already running")
        self._running = True
        unsubscribe = self._audio.on_change(self._wake.set)
        try:
            await self._conversation._started.wait()
            while True:
                if self._error is not None:
                    raise self._error
                self._listen()
                while self._out:
                    await send(self._out[0])
                    packet = self._out.popleft()
                    if packet["transcriptionData"]["resultStatus"] == "Final":
                        self.finals_sent += 1
                self._wake.clear()
                if self._behind():
                    await asyncio.sleep(0)
                    continue
                # Nobody to listen to yet: sleep until a track is added (no polling).
                tick = _TICK if self._audio.tracks else None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), tick)
        finally:
            unsubscribe()
            self._running = False

    def _behind(self) -> bool:
        now = self._now()
        return any(
            self._positions.get(raw, 0) < min(now, _readable(t.available(), now))
            for raw, t in self._audio.tracks.items()
        )

    def _now(self) -> int:
        return int(self._conversation.call_time / FRAME_SECONDS)

    def _listen(self) -> None:
        """Give each recogniser the frames that have played since the last pass."""
        now = self._now()
        for raw, track in list(self._audio.tracks.items()):
            recognizer = self._recognizers.get(raw)
            if recognizer is None:
                recognizer = self._recognizers[raw] = ParticipantRecognizer(
                    raw,
                    self._engine,
                    self._put,
                    locale=self._locale,
                    intermediates=self._intermediates,
                    on_error=self._failed,
                )
                self._positions[raw] = max(self._since, track.first)
            start = self._positions[raw]
            stop = min(_readable(track.available(), now), start + _MAX_FRAMES_PER_PASS)
            end = track.end
            if end is not None:
                stop = min(stop, end)
            if stop > start:
                samples = track.read(start, stop)
                for i in range(stop - start):
                    recognizer.push(start + i, samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES])
                self._positions[raw] = stop
            if end is not None and self._positions[raw] >= end:
                recognizer.flush(end)

    def _put(self, packet: dict[str, Any]) -> None:
        self._out.append(packet)
        self._wake.set()

    def _failed(self, exc: BaseException) -> None:
        from console.emulator.listening import ListeningError
        from console.emulator.recognition.models import ModelError
        from console.emulator.streaming import StreamFailed

        if isinstance(exc, ModelError):
            refused = ListeningError("local_model_missing", str(exc))
            exc = StreamFailed(refused.key, str(exc), message=refused.message)
        self._error = exc
        self._wake.set()


def _readable(available: int | None, now: int) -> int:
    return now if available is None else min(available, now)
