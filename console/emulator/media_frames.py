"""The call's audio cut into media-streaming ``AudioData`` packets (needs numpy: speech extra).

Unmixed: one 20 ms frame per participant who has audio, from their first sound on (silent
frames between their utterances included, as the service keeps a speaker's stream running), up
to the end of their audio. Mixed: one summed frame per 20 ms while anyone has audio.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Collection, Iterator
from typing import Any

import numpy as np

from console.emulator.recognition.audio import FRAME_SAMPLES, SAMPLE_RATE
from console.emulator.recognition.tracks import CallAudio
from console.emulator.recognition.vad import VoiceActivity

# At a high --speed a pass may be far behind; cap what one pass sends so it yields often.
_MAX_FRAMES_PER_PASS = 100


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AudioFramer:
    def __init__(self, *, unmixed: bool, rate: int, start: int) -> None:
        self.unmixed = unmixed
        self.rate = rate
        self._start = start  # the frame media streaming began at
        self._next: dict[str, int] = {}
        self._vad: dict[str, VoiceActivity] = {}
        self._mix_next = start
        self.sent = 0

    def frames(
        self, audio: CallAudio, now: int, *, held: Collection[str] = ()
    ) -> Iterator[dict[str, Any]]:
        """Packets for every frame that has played up to frame ``now`` (exclusive). What the
        ``held`` participants say is left out (their frames pass unsent)."""
        if self.unmixed:
            yield from self._unmixed(audio, now, held)
        else:
            yield from self._mixed(audio, now, held)

    def _unmixed(
        self, audio: CallAudio, now: int, held: Collection[str]
    ) -> Iterator[dict[str, Any]]:
        for raw, track in list(audio.tracks.items()):
            first = self._next.setdefault(raw, max(self._start, track.first))
            stop = now if track.available() is None else min(now, track.available() or 0)
            end = track.end
            if end is not None:
                stop = min(stop, end)
            stop = min(stop, first + _MAX_FRAMES_PER_PASS)
            if stop <= first:
                continue
            if raw in held:
                self._next[raw] = stop
                continue
            vad = self._vad.setdefault(raw, VoiceActivity())
            samples = track.read(first, stop)
            for i in range(stop - first):
                frame = samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]
                voiced, _, _ = vad.push(first + i, frame)
                yield self._packet(frame, silent=not (voiced or vad.open), raw_id=raw)
            self._next[raw] = stop

    def _mixed(self, audio: CallAudio, now: int, held: Collection[str]) -> Iterator[dict[str, Any]]:
        tracks = [t for raw, t in audio.tracks.items() if raw not in held]
        if not tracks:
            self._mix_next = now
            return
        first = self._mix_next
        stop = min(now, first + _MAX_FRAMES_PER_PASS)
        if stop <= first:
            return
        mix = np.zeros((stop - first) * FRAME_SAMPLES, np.int32)
        for track in tracks:
            mix += track.read(first, stop)
        mixed = np.clip(mix, -32768, 32767).astype(np.int16)
        vad = self._vad.setdefault("", VoiceActivity())
        for i in range(stop - first):
            frame = mixed[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]
            voiced, _, _ = vad.push(first + i, frame)
            yield self._packet(frame, silent=not (voiced or vad.open), raw_id=None)
        self._mix_next = stop

    def _packet(self, frame: np.ndarray, *, silent: bool, raw_id: str | None) -> dict[str, Any]:
        if self.rate != SAMPLE_RATE:
            n = int(frame.size * self.rate / SAMPLE_RATE)
            frame = np.interp(
                np.linspace(0, frame.size - 1, n), np.arange(frame.size), frame
            ).astype(np.int16)
        body: dict[str, Any] = {"timestamp": _stamp()}
        if raw_id is not None:
            body["participantRawID"] = raw_id
        body["data"] = base64.b64encode(frame.astype("<i2").tobytes()).decode("ascii")
        body["silent"] = silent
        self.sent += 1
        return {"kind": "AudioData", "audioData": body}
