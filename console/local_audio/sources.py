"""Where live audio comes from: a WAV file or the microphone, framed for the loop.

A source is a capture thread (PortAudio's, for :class:`Microphone`; a plain thread for
:class:`WavFileSource`) that hands blocks to the asyncio loop through a bounded
:class:`FrameQueue`. The microphone part is kept tiny so everything else runs (and is tested)
with a WAV file.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import sys
import threading
import time
import wave
from array import array
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from console.local_audio.common import (
    FRAME_BYTES,
    FRAME_SAMPLES,
    FRAME_SECONDS,
    QUEUE_FRAMES,
    SAMPLE_RATE,
    SPEECH_EXTRA_HINT,
    LocalAudioError,
)

log = logging.getLogger(__name__)


# --- microphone availability ---------------------------------------------------------------


def _import_sounddevice() -> ModuleType:
    """sounddevice, or LocalAudioError saying what to install."""
    try:
        return importlib.import_module("sounddevice")
    except ImportError:
        raise LocalAudioError(
            "Speaking into the call needs the speech extra, which is not installed: "
            f"{SPEECH_EXTRA_HINT}"
        ) from None
    except OSError:  # sounddevice is there, the PortAudio library it loads is not
        raise LocalAudioError(
            "Speaking into the call needs PortAudio, which is not installed on this machine "
            "(on Debian or Ubuntu: sudo apt install libportaudio2)."
        ) from None


def microphone_problem() -> str | None:
    """Why the microphone cannot be used here, in plain words; None when it can."""
    try:
        sd = _import_sounddevice()
    except LocalAudioError as exc:
        return str(exc)
    try:
        sd.query_devices(kind="input")
        sd.check_input_settings(samplerate=SAMPLE_RATE, channels=1, dtype="int16")
    except Exception as exc:  # PortAudioError or ValueError, depending on what is missing
        log.info("no usable microphone: %s", exc)
        return "No microphone was found: connect one (or enable an audio input) and restart."
    return None


# --- framing and reading WAV files ---------------------------------------------------------


class Framer:
    """Re-cuts a byte stream into whole 20 ms PCM16 frames."""

    def __init__(self, frame_bytes: int = FRAME_BYTES) -> None:
        self.frame_bytes = frame_bytes
        self._buf = bytearray()

    def push(self, data: bytes) -> list[bytes]:
        self._buf += data
        whole = len(self._buf) - len(self._buf) % self.frame_bytes
        out = [
            bytes(self._buf[i : i + self.frame_bytes]) for i in range(0, whole, self.frame_bytes)
        ]
        del self._buf[:whole]
        return out

    def flush(self) -> bytes | None:
        """The remainder padded with silence to a whole frame (None when nothing is left)."""
        if not self._buf:
            return None
        frame = bytes(self._buf) + bytes(self.frame_bytes - len(self._buf))
        self._buf.clear()
        return frame


def read_wav_pcm16(path: Path) -> bytes:
    """A 16-bit PCM WAV file as PCM16LE 16 kHz mono (channels averaged, rate interpolated)."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            raw = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as exc:
        raise LocalAudioError(f"{path.name} cannot be read as a WAV file ({exc}).") from exc
    if width != 2:
        raise LocalAudioError(
            f"{path.name} has {8 * width}-bit samples; live audio needs 16-bit PCM WAV."
        )
    samples = array("h")
    samples.frombytes(raw[: len(raw) - len(raw) % 2])
    if sys.byteorder == "big":
        samples.byteswap()
    if channels > 1:
        mixed = array("h", bytes(2 * (len(samples) // channels)))
        for i in range(len(mixed)):
            mixed[i] = sum(samples[i * channels : (i + 1) * channels]) // channels
        samples = mixed
    if rate != SAMPLE_RATE and samples:
        samples = _resample(samples, rate, SAMPLE_RATE)
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def _resample(samples: array[int], rate: int, target: int) -> array[int]:
    # Linear interpolation: enough for speech going to a recogniser.
    n = max(1, round(len(samples) * target / rate))
    step = (len(samples) - 1) / max(1, n - 1)
    last = len(samples) - 1
    out = array("h", bytes(2 * n))
    for i in range(n):
        pos = i * step
        j = int(pos)
        k = min(j + 1, last)
        out[i] = int(samples[j] + (samples[k] - samples[j]) * (pos - j))
    return out


def wav_frames(path: Path) -> Iterator[bytes]:
    """The file as whole 20 ms frames (the last one padded with silence)."""
    framer = Framer()
    yield from framer.push(read_wav_pcm16(path))
    tail = framer.flush()
    if tail is not None:
        yield tail


# --- from a capture thread to the loop -----------------------------------------------------


class FrameQueue:
    """Blocks from a capture thread to the asyncio loop: bounded, dropping the oldest.

    ``put_threadsafe`` may be called from any thread; iteration happens on the loop and ends
    after :meth:`close`. ``dropped`` counts blocks lost because the consumer fell behind.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, maxsize: int = QUEUE_FRAMES) -> None:
        self._loop = loop
        self.maxsize = maxsize
        # Unbounded underneath: the bound applies to audio only, never to the end marker.
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._closed = False
        self.dropped = 0
        self.received = 0

    def put_threadsafe(self, block: bytes) -> None:
        # RuntimeError: the loop is closed (the capture outlived the call).
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._put, block)

    def close_threadsafe(self) -> None:
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self.close)

    def _put(self, block: bytes) -> None:
        if self._closed:
            return
        self.received += 1
        if self._queue.qsize() >= self.maxsize:
            self._queue.get_nowait()  # the oldest: late audio is worth less than current audio
            self.dropped += 1
        self._queue.put_nowait(block)

    def close(self) -> None:
        """End the iteration once what is queued has been taken (loop thread only)."""
        if not self._closed:
            self._closed = True
            self._queue.put_nowait(None)

    # A plain async iterator (not a generator): nothing to finalise when a consumer stops early.
    def __aiter__(self) -> FrameQueue:
        return self

    async def __anext__(self) -> bytes:
        block = await self._queue.get()
        if block is None:
            self._queue.put_nowait(None)  # stays ended for any later reader
            raise StopAsyncIteration
        return block


class AudioSource(Protocol):
    """Something that produces live PCM16LE 16 kHz mono audio into a FrameQueue."""

    @property
    def queue(self) -> FrameQueue: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class WavFileSource:
    """A WAV file played at real-time pace from a thread, exactly as a microphone delivers."""

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop, *, pace: float = 1.0) -> None:
        self.path = path
        self.pace = pace  # 1.0: real time; larger plays faster (tests of the queue only)
        self.queue = FrameQueue(loop)
        self._frames = list(wav_frames(path))  # read errors surface before anything starts
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def duration(self) -> float:
        return len(self._frames) * FRAME_SECONDS

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wav-source", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        started = time.monotonic()
        for i, frame in enumerate(self._frames):
            delay = started + i * FRAME_SECONDS / self.pace - time.monotonic()
            if self._stop.wait(max(0.0, delay)):
                break
            self.queue.put_threadsafe(frame)
        self.queue.close_threadsafe()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2.0)


class Microphone:
    """The default input device, 16 kHz mono PCM16 in 20 ms blocks (needs sounddevice)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, device: int | str | None = None) -> None:
        self.queue = FrameQueue(loop)
        self.device = device
        self._stream: Any = None

    @property
    def dropped(self) -> int:
        return self.queue.dropped

    def start(self) -> None:
        sd = _import_sounddevice()
        try:
            self._stream = sd.RawInputStream(
                samplerate=SAMPLE_RATE,
                channels=1,
                dtype="int16",
                blocksize=FRAME_SAMPLES,
                device=self.device,
                callback=self._captured,
            )
            self._stream.start()
        except Exception as exc:  # PortAudioError: no device, busy, unsupported rate
            self._stream = None
            raise LocalAudioError(f"The microphone could not be opened ({exc}).") from exc

    def _captured(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy the block out and hand it to the loop; nothing else here.
        self.queue.put_threadsafe(bytes(indata))

    def stop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()
        self.queue.close_threadsafe()
