"""Participants who really talk in an emulator call: a WAV file, or the operator's microphone.

The embedded emulator takes audio for a call through two admin endpoints (HMAC-signed with the
profile's access key, over HTTPS trusting the emulator's certificate):

- ``POST /emulator/calls/{id}/participants`` adds a participant whose WAV file plays from now;
- ``GET /emulator/calls/{id}/participants/{rawId}/audio`` upgraded to a WebSocket takes a live
  participant's PCM16LE 16 kHz mono samples as binary messages.

Live audio flows source -> :class:`FrameQueue` -> :class:`LiveAudioSender`. A source is a capture
thread (PortAudio's, for :class:`Microphone`; a plain thread for :class:`WavFileSource`) that
hands blocks to the asyncio loop thread-safely; the sender re-frames them into 20 ms messages.
The microphone part is kept tiny so everything else runs (and is tested) with a WAV file.

No Qt here; the window's menu drives :class:`LocalAudio`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

from console.local_audio.client import (
    AddedParticipant,
    EmulatorAudioClient,
    LiveAudioSender,
    LiveStats,
)
from console.local_audio.common import (
    FRAME_BYTES,
    FRAME_SAMPLES,
    FRAME_SECONDS,
    LOCAL_ONLY,
    QUEUE_FRAMES,
    REQUEST_TIMEOUT_S,
    SAMPLE_RATE,
    SPEECH_EXTRA_HINT,
    LocalAudioError,
)
from console.local_audio.sources import (
    AudioSource,
    FrameQueue,
    Framer,
    Microphone,
    WavFileSource,
    microphone_problem,
    read_wav_pcm16,
    wav_frames,
)

__all__ = [
    "FRAME_BYTES",
    "FRAME_SAMPLES",
    "FRAME_SECONDS",
    "LOCAL_ONLY",
    "QUEUE_FRAMES",
    "REQUEST_TIMEOUT_S",
    "SAMPLE_RATE",
    "SPEECH_EXTRA_HINT",
    "AddedParticipant",
    "AudioSource",
    "EmulatorAudioClient",
    "FrameQueue",
    "Framer",
    "LiveAudioSender",
    "LiveStats",
    "LocalAudio",
    "LocalAudioError",
    "Microphone",
    "WavFileSource",
    "microphone_problem",
    "name_from_file",
    "new_raw_id",
    "read_wav_pcm16",
    "wav_frames",
]

log = logging.getLogger(__name__)


# --- what the window drives --------------------------------------------------------------------


def new_raw_id(kind: str = "participant") -> str:
    """A fresh ACS-user raw id for a participant the operator adds."""
    return f"8:acs:local-{kind}_{uuid.uuid4()}"


def name_from_file(path: Path) -> str:
    """``support_agent-2.wav`` -> ``support agent 2``."""
    name = " ".join(path.stem.replace("_", " ").replace("-", " ").split())
    return name or "WAV participant"


class LocalAudio:
    """Participants' audio for one window on the local profile: WAV files and one live speaker.

    ``on_live_ended(message)`` is called (on the loop) when live audio stops by itself: the
    source ran out (message None) or the emulator stopped taking it (message says why).
    """

    def __init__(
        self,
        client: EmulatorAudioClient,
        *,
        on_live_ended: Callable[[str | None], None] | None = None,
    ) -> None:
        self.client = client
        self.on_live_ended = on_live_ended
        self.live: LiveAudioSender | None = None
        self.source: AudioSource | None = None
        self._pump: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def speaking(self) -> bool:
        return self._pump is not None and not self._pump.done()

    async def add_wav(
        self, call_connection_id: str, path: Path, display_name: str | None = None
    ) -> AddedParticipant:
        name = (display_name or "").strip() or name_from_file(path)
        return await self.client.add_wav_participant(
            call_connection_id, new_raw_id("wav"), name, path
        )

    async def start_live(
        self,
        call_connection_id: str,
        raw_id: str,
        display_name: str,
        make_source: Callable[[asyncio.AbstractEventLoop], AudioSource],
    ) -> LiveAudioSender:
        """Open the participant's connection, start the source, stream until stopped."""
        if self.speaking:
            raise LocalAudioError("A participant is already speaking live; stop them first.")
        loop = asyncio.get_running_loop()
        source = make_source(loop)  # read errors (a bad WAV) before connecting
        sender = await self.client.open_live_participant(call_connection_id, raw_id, display_name)
        try:
            source.start()
        except BaseException:
            await sender.close()
            raise
        self.live, self.source, self._stopping = sender, source, False
        self._pump = loop.create_task(self._run(sender, source), name="live-audio")
        return sender

    async def start_microphone(
        self, call_connection_id: str, raw_id: str, display_name: str
    ) -> LiveAudioSender:
        problem = microphone_problem()
        if problem is not None:
            raise LocalAudioError(problem)
        return await self.start_live(
            call_connection_id, raw_id, display_name, lambda loop: Microphone(loop)
        )

    async def _run(self, sender: LiveAudioSender, source: AudioSource) -> None:
        message: str | None = None
        try:
            await sender.stream(source.queue)
        except LocalAudioError as exc:
            message = str(exc)
        except Exception as exc:  # the task is nobody's to await: say it here
            log.exception("live audio for %s failed", sender.raw_id)
            message = f"Live audio stopped: {exc or type(exc).__name__}"
        finally:
            source.stop()
            await sender.close()
            dropped = source.queue.dropped
            if dropped:
                log.info("live audio for %s dropped %d late frames", sender.raw_id, dropped)
        if not self._stopping and self.on_live_ended is not None:
            self.on_live_ended(message)

    async def stop_live(self) -> None:
        """Stop the source and close the connection (no-op when nobody is speaking)."""
        pump, self._pump = self._pump, None
        self._stopping = True
        if self.source is not None:
            self.source.stop()
        if pump is not None and not pump.done():
            # The source's close lets the pump send what is queued and close the socket.
            done, _ = await asyncio.wait({pump}, timeout=2.0)
            if not done:
                pump.cancel()
                await asyncio.gather(pump, return_exceptions=True)
        if self.live is not None:
            await self.live.close()
        self.live = self.source = None
