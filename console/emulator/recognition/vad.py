"""Voice activity on 20 ms frames: an energy detector with an adaptive noise floor.

Cheap enough to run per participant per frame on the event loop (one dot product a frame). A
frame is *voiced* when it is clearly above the background the detector has learnt; an utterance
opens after a few voiced frames in a row (a click is not speech) and closes after a stretch of
quiet (the pauses between words and at commas stay inside it). Media streaming's ``silent``
flag and the recogniser's segmentation both come from here, so the two always agree.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

# Absolute floor: quieter than this is silence whatever the background (digital silence, hiss).
MIN_SPEECH_DBFS = -48.0
# Voiced = this many dB above the learnt noise floor.
ABOVE_FLOOR_DB = 12.0
ONSET_FRAMES = 3  # 60 ms of voicing opens an utterance
HANGOVER_FRAMES = 25  # 500 ms of quiet closes it
PRE_ROLL_FRAMES = 10  # audio kept from before the onset, so the first consonant is not cut
# The background is the quietest frame of the last few seconds: speech has gaps between
# words, so this stays at the room's level while someone talks, and a steady hiss or hum that
# never stops becomes the floor itself.
FLOOR_WINDOW_FRAMES = 150


def frame_dbfs(frame: np.ndarray) -> float:
    """RMS level of an int16 frame in dB relative to full scale (-120 for digital silence)."""
    if frame.size == 0:
        return -120.0
    x = frame.astype(np.float32)
    mean_square = float(np.dot(x, x)) / frame.size
    if mean_square <= 0.0:
        return -120.0
    return 10.0 * float(np.log10(mean_square / (32768.0 * 32768.0)))


@dataclass(slots=True)
class Segment:
    """An utterance found by the detector, in frame indexes of the track (end exclusive)."""

    start: int
    end: int | None = None  # None while open


class VoiceActivity:
    """Feed frames in order with :meth:`push`; it reports when utterances open and close."""

    def __init__(self) -> None:
        self._levels: deque[float] = deque(maxlen=FLOOR_WINDOW_FRAMES)
        self._run = 0  # voiced frames in a row
        self._quiet = 0  # unvoiced frames in a row inside an open utterance
        self.open: Segment | None = None

    def voiced(self, frame: np.ndarray) -> bool:
        """Whether this frame is speech-loud, learning the background as it goes."""
        level = frame_dbfs(frame)
        self._levels.append(level)
        return level > MIN_SPEECH_DBFS and level > self.floor + ABOVE_FLOOR_DB

    @property
    def floor(self) -> float:
        """The learnt background level, dBFS."""
        return min(self._levels) if self._levels else -120.0

    def push(self, index: int, frame: np.ndarray) -> tuple[bool, Segment | None, Segment | None]:
        """Frame ``index`` of the track: (voiced, the segment it opened, the segment it closed)."""
        voiced = self.voiced(frame)
        opened = closed = None
        if self.open is None:
            self._run = self._run + 1 if voiced else 0
            if self._run >= ONSET_FRAMES:
                start = max(0, index - ONSET_FRAMES + 1 - PRE_ROLL_FRAMES)
                self.open = opened = Segment(start)
                self._quiet = 0
        elif voiced:
            self._quiet = 0
        else:
            self._quiet += 1
            if self._quiet >= HANGOVER_FRAMES:
                # End just after the last voiced frame, plus a little tail for the decoder.
                self.open.end = index - self._quiet + 1 + PRE_ROLL_FRAMES // 2
                closed, self.open = self.open, None
                self._run = 0
        return voiced, opened, closed

    @property
    def quiet_frames(self) -> int:
        """Unvoiced frames in a row inside the open utterance (0 while someone speaks)."""
        return self._quiet if self.open is not None else 0

    def close(self, index: int) -> Segment | None:
        """Force the open utterance (if any) to end at frame ``index`` (too long, or stop)."""
        if self.open is None:
            return None
        self.open.end = index
        closed, self.open = self.open, None
        self._run = self._quiet = 0
        return closed
