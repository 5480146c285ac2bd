"""What each participant says, as audio on the call clock (frame 0 = call connected).

A :class:`FileTrack` is recordings placed at call times (a scenario's spoken utterances, or a
whole WAV from some moment on); a :class:`LiveTrack` grows as a live source (a microphone)
sends audio. Transcription and media streaming read the same tracks, each at its own pace.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from console.emulator.recognition.audio import FRAME_SAMPLES
from console.signals import Signal


@dataclass(frozen=True)
class Clip:
    start: int  # frame index on the call clock
    samples: np.ndarray  # int16, 16 kHz mono

    @property
    def end(self) -> int:
        return self.start + -(-self.samples.size // FRAME_SAMPLES)


class Track:
    def __init__(self, raw_id: str, display_name: str = "") -> None:
        self.raw_id = raw_id
        self.display_name = display_name or raw_id

    @property
    def first(self) -> int:
        """The first frame that may hold audio."""
        raise NotImplementedError

    def available(self) -> int | None:
        """Frames before this index can be read now; None: any (the track is fully known)."""
        raise NotImplementedError

    @property
    def end(self) -> int | None:
        """The frame after the last audio, or None while the track may still grow."""
        raise NotImplementedError

    def read(self, start: int, stop: int) -> np.ndarray:
        """Samples of frames [start, stop): int16, zeros where nobody speaks."""
        raise NotImplementedError


class FileTrack(Track):
    def __init__(self, raw_id: str, display_name: str = "", clips: list[Clip] | None = None):
        super().__init__(raw_id, display_name)
        self._clips: list[Clip] = []
        self._starts: list[int] = []
        for clip in clips or ():
            self.add(clip)

    def add(self, clip: Clip) -> None:
        i = bisect.bisect(self._starts, clip.start)
        self._clips.insert(i, clip)
        self._starts.insert(i, clip.start)

    @property
    def first(self) -> int:
        return self._starts[0] if self._starts else 0

    def available(self) -> int | None:
        return None

    @property
    def end(self) -> int | None:
        return max((c.end for c in self._clips), default=0)

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros(max(0, stop - start) * FRAME_SAMPLES, np.int16)
        if stop <= start:
            return out
        lo = max(0, bisect.bisect(self._starts, start) - 1)
        for clip in self._clips[lo:]:
            if clip.start >= stop:
                break
            if clip.end <= start:
                continue
            a = max(start, clip.start)  # overlapping frames
            b = min(stop, clip.end)
            src = clip.samples[(a - clip.start) * FRAME_SAMPLES : (b - clip.start) * FRAME_SAMPLES]
            dst = (a - start) * FRAME_SAMPLES
            # Overlapping clips of one speaker mix (saturating), as a real line would.
            mixed = out[dst : dst + src.size].astype(np.int32) + src
            out[dst : dst + src.size] = np.clip(mixed, -32768, 32767)
        return out


class LiveTrack(Track):
    """Audio arriving now: appended as it comes, starting at the frame it first arrived in."""

    MAX_BUFFER_SECONDS = 600  # older audio is dropped once every reader has passed it

    def __init__(self, raw_id: str, display_name: str, start: int) -> None:
        super().__init__(raw_id, display_name)
        self._start = start  # frame index of self._buf[0]
        self._buf = bytearray()
        self._partial = b""
        self.closed = False

    @property
    def first(self) -> int:
        return self._start

    def append(self, pcm: bytes) -> None:
        """PCM16LE mono 16 kHz bytes, any length (an odd trailing byte waits for the next)."""
        data = self._partial + pcm
        usable = len(data) - len(data) % 2
        self._buf += data[:usable]
        self._partial = data[usable:]
        limit = self.MAX_BUFFER_SECONDS * 50 * FRAME_SAMPLES * 2
        if len(self._buf) > 2 * limit:
            drop = (len(self._buf) - limit) // (FRAME_SAMPLES * 2) * FRAME_SAMPLES * 2
            del self._buf[:drop]
            self._start += drop // (FRAME_SAMPLES * 2)

    def close(self) -> None:
        self.closed = True

    def available(self) -> int | None:
        return self._start + len(self._buf) // (FRAME_SAMPLES * 2)

    @property
    def end(self) -> int | None:
        return self.available() if self.closed else None

    def read(self, start: int, stop: int) -> np.ndarray:
        out = np.zeros(max(0, stop - start) * FRAME_SAMPLES, np.int16)
        a, b = max(start, self._start), min(stop, self.available() or 0)
        if b > a:
            step = FRAME_SAMPLES * 2
            raw = self._buf[(a - self._start) * step : (b - self._start) * step]
            out[(a - start) * FRAME_SAMPLES : (b - start) * FRAME_SAMPLES] = np.frombuffer(
                bytes(raw), "<i2"
            )
        return out


class CallAudio:
    """Every participant's track for one call; tracks can be added while the call goes on."""

    def __init__(self) -> None:
        self.tracks: dict[str, Track] = {}
        self.added: Signal[str] = Signal("call audio tracks")  # the raw id of a new track

    def on_change(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` when a track is added; returns the function that stops it."""
        return self.added.connect(lambda _raw_id: callback())

    def add(self, track: Track) -> None:
        old = self.tracks.get(track.raw_id)
        if isinstance(old, LiveTrack):
            old.close()
        self.tracks[track.raw_id] = track
        self.added.emit(track.raw_id)

    def __bool__(self) -> bool:
        return bool(self.tracks)

    @property
    def end(self) -> int | None:
        """The frame after the last audio of every track (None while a live track is open)."""
        ends = [t.end for t in self.tracks.values()]
        if any(e is None for e in ends):
            return None
        return max((e for e in ends if e is not None), default=0)
