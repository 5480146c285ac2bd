"""Audio for tests: WAV files written with ``wave``, and a stand-in for a sound card.

:class:`FakeSoundDevice` is the part of ``sounddevice`` that :class:`console.local_audio.Microphone`
uses, delivering a tone from its own thread at real-time pace the way PortAudio calls back. It
stands in for hardware only (machines running the tests have no microphone); everything after
the capture callback is the real code.
"""

from __future__ import annotations

import importlib
import math
import struct
import threading
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from console.local_audio import sources


def tone(seconds: float, rate: int = 16_000, hz: float = 440.0) -> list[int]:
    n = round(seconds * rate)
    return [round(8000 * math.sin(2 * math.pi * hz * i / rate)) for i in range(n)]


def write_wav(
    path: Path,
    seconds: float,
    *,
    rate: int = 16_000,
    channels: int = 1,
    width: int = 2,
    samples: list[int] | None = None,
) -> Path:
    """A 440 Hz tone (or the given samples, one per frame, same on every channel)."""
    if samples is None:
        samples = tone(seconds, rate)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        if width == 2:
            frames = b"".join(struct.pack("<h", s) * channels for s in samples)
        else:
            frames = bytes((s >> 8) + 128 for s in samples for _ in range(channels))
        wav.writeframes(frames)
    return path


class FakeStream:
    def __init__(
        self, *, samplerate: int, blocksize: int, callback: Callable[..., None], **kw: Any
    ) -> None:
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.settings = kw
        self.callback = callback
        self.blocks = 0
        self.closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-portaudio", daemon=True)
        samples = tone(1.0, samplerate)
        self._pcm = b"".join(struct.pack("<h", s) for s in samples)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        period = self.blocksize / self.samplerate
        size = 2 * self.blocksize
        while not self._stop.wait(period):
            at = (self.blocks * size) % len(self._pcm)
            block = (self._pcm + self._pcm)[at : at + size]
            self.callback(memoryview(block), self.blocksize, None, None)
            self.blocks += 1

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    def close(self) -> None:
        self.closed = True


class FakeSoundDevice:
    def __init__(self) -> None:
        self.streams: list[FakeStream] = []

    def query_devices(self, kind: str | None = None) -> dict[str, Any]:
        return {"name": "Test microphone", "max_input_channels": 1}

    def check_input_settings(self, **kw: Any) -> None:
        pass

    def RawInputStream(self, **kw: Any) -> FakeStream:
        stream = FakeStream(**kw)
        self.streams.append(stream)
        return stream


def use_sounddevice(monkeypatch: pytest.MonkeyPatch, module: Any) -> None:
    """Make ``import sounddevice`` in console.local_audio give ``module`` (or raise it)."""
    real = importlib.import_module

    def import_module(name: str, *args: Any) -> Any:
        if name == "sounddevice":
            if isinstance(module, BaseException):
                raise module
            return module
        return real(name, *args)

    monkeypatch.setattr(sources.importlib, "import_module", import_module)
