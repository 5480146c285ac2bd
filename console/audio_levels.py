"""Live audio levels from media-streaming frames: per participant, and the call mix.

Each ``AudioData`` frame (20 ms of base64 PCM16LE) becomes one RMS level in dBFS. A source's
meter reading rises at once and falls at ``RELEASE_DB_PER_S``; its peak mark holds for
``PEAK_HOLD_S`` and then falls more slowly, as on a studio meter. Decay is computed when a
reading is taken, so a frame costs one decode and a few comparisons, and a meter still falls
to empty when frames stop arriving. Speaking follows the service's ``silent`` flag, held for
``SPEAKING_HOLD_S`` so the gaps between words do not make it flicker.

No Qt and no numpy: ``binascii`` decodes, ``array`` reinterprets the bytes as int16 and
``math.hypot`` sums the squares, all in C loops (about 10 µs per 20 ms frame).
Malformed frames (bad base64, an odd byte count, no data) are counted and ignored.
"""

from __future__ import annotations

import binascii
import logging
import math
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass

from console.acs.streaming import AudioData, AudioMetadata
from console.signals import Signal

log = logging.getLogger(__name__)

# The key of frames that name no participant: the service's mixed stream.
CALL_MIX = ""
FLOOR_DB = -60.0  # an empty meter; quieter frames read as this
RELEASE_DB_PER_S = 30.0  # the level falls from -10 dB to empty in about 1.7 s
PEAK_HOLD_S = 1.2
PEAK_RELEASE_DB_PER_S = 15.0
SPEAKING_HOLD_S = 0.3
# A source whose last frame is older than this is not streaming (the stream stalled or ended).
STALE_S = 0.5
# At most this many bytes of one frame are measured (0.5 s at 16 kHz): a peer sending huge
# frames must not make the per-frame cost grow with them.
MAX_MEASURED_BYTES = 16_000

FULL_SCALE = 32768.0
_BIG_ENDIAN = sys.byteorder == "big"


def frame_dbfs(pcm: bytes) -> float:
    """RMS level of little-endian PCM16 samples in dBFS (full scale 32768), at least FLOOR_DB.

    ``pcm`` must have an even length (callers check it).
    """
    if len(pcm) > MAX_MEASURED_BYTES:
        pcm = pcm[:MAX_MEASURED_BYTES]
    samples = array("h", pcm)
    if _BIG_ENDIAN:  # pragma: no cover - the wire is little-endian
        samples.byteswap()
    n = len(samples)
    # hypot(*x) = sqrt(sum of squares), one C loop: about twice as fast as sum(map(mul, x, x)).
    norm = math.hypot(*samples)
    if not n or norm <= 0.0:
        return FLOOR_DB
    return max(FLOOR_DB, 20.0 * math.log10(norm / (math.sqrt(n) * FULL_SCALE)))


def decode_frame(data: str) -> bytes | None:
    """The PCM bytes of a base64 frame, or None when it is not usable audio."""
    try:
        pcm = binascii.a2b_base64(data, strict_mode=True)
    except (binascii.Error, ValueError, TypeError):
        return None
    if not pcm or len(pcm) & 1:
        return None
    return pcm


@dataclass(frozen=True, slots=True)
class LevelReading:
    """One source's meter at a moment."""

    level_db: float  # FLOOR_DB (empty) .. 0.0 (full scale)
    peak_db: float
    speaking: bool
    live: bool  # frames arrived within STALE_S

    @property
    def fraction(self) -> float:
        """The level as 0..1 of the meter's range."""
        return _fraction(self.level_db)

    @property
    def peak_fraction(self) -> float:
        return _fraction(self.peak_db)


EMPTY = LevelReading(FLOOR_DB, FLOOR_DB, speaking=False, live=False)


def _fraction(db: float) -> float:
    return min(1.0, max(0.0, (db - FLOOR_DB) / -FLOOR_DB))


class _Source:
    __slots__ = ("frame_at", "frames", "level", "level_at", "peak", "peak_at", "voice_at")

    def __init__(self) -> None:
        self.level = FLOOR_DB
        self.level_at = 0.0
        self.peak = FLOOR_DB
        self.peak_at = 0.0
        self.voice_at: float | None = None
        self.frame_at = 0.0
        self.frames = 0

    def level_now(self, now: float) -> float:
        return max(FLOOR_DB, self.level - RELEASE_DB_PER_S * max(0.0, now - self.level_at))

    def peak_now(self, now: float) -> float:
        held = now - self.peak_at - PEAK_HOLD_S
        if held <= 0.0:
            return self.peak
        return max(FLOOR_DB, self.peak - PEAK_RELEASE_DB_PER_S * held)


AudioListener = Callable[[], None]


class AudioLevels:
    """Meters for one call's audio stream. Feed frames in; take readings when painting."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._sources: dict[str, _Source] = {}
        self.changed: Signal[int] = Signal("audio levels")  # the new revision
        self.metadata: AudioMetadata | None = None
        self.frames = 0  # usable frames measured
        self.malformed = 0  # frames ignored: bad base64, odd length, no data
        self.revision = 0  # bumped by every change, for a painter to skip idle repaints

    # --- input (the per-frame path) --------------------------------------------------------

    def feed(self, packet: AudioData) -> bool:
        """Measure one frame. Returns True when its source was not known yet."""
        return self.feed_frame(packet.participant_raw_id, packet.data, packet.silent)

    def feed_frame(
        self, raw_id: str | None, data: str, silent: bool, at: float | None = None
    ) -> bool:
        pcm = decode_frame(data)
        if pcm is None:
            self.malformed += 1
            if self.malformed == 1:
                log.info("ignored a malformed audio frame (%.40r)", data)
            return False
        now = self._clock() if at is None else at
        db = frame_dbfs(pcm)
        key = raw_id or CALL_MIX
        src = self._sources.get(key)
        is_new = src is None
        if src is None:
            src = self._sources[key] = _Source()
        level = src.level_now(now)
        src.level = db if db > level else level
        src.level_at = now
        if db >= src.peak_now(now):
            src.peak = db
            src.peak_at = now
        if not silent:
            src.voice_at = now
        src.frame_at = now
        src.frames += 1
        self.frames += 1
        self._changed()
        return is_new

    def set_format(self, metadata: AudioMetadata) -> None:
        """The stream's AudioMetadata (sent first on each audio connection)."""
        self.metadata = metadata
        if metadata.encoding.upper() != "PCM" or metadata.channels != 1:
            log.warning(
                "audio stream is %s with %d channels; levels assume PCM16 mono",
                metadata.encoding,
                metadata.channels,
            )
        self._changed()

    def reset(self) -> None:
        """Streaming stopped or the call ended: every meter reads empty."""
        if not self._sources and self.metadata is None:
            return
        self._sources.clear()
        self.metadata = None
        self._changed()

    # --- output ---------------------------------------------------------------------------

    def sources(self) -> tuple[str, ...]:
        """Keys with audio so far, in arrival order (CALL_MIX for the mixed stream)."""
        return tuple(self._sources)

    def frames_of(self, key: str) -> int:
        src = self._sources.get(key)
        return src.frames if src is not None else 0

    def reading(self, key: str, now: float | None = None) -> LevelReading:
        src = self._sources.get(key)
        if src is None:
            return EMPTY
        now = self._clock() if now is None else now
        return LevelReading(
            level_db=src.level_now(now),
            peak_db=src.peak_now(now),
            speaking=src.voice_at is not None and now - src.voice_at <= SPEAKING_HOLD_S,
            live=now - src.frame_at <= STALE_S,
        )

    def readings(self, now: float | None = None) -> dict[str, LevelReading]:
        now = self._clock() if now is None else now
        return {key: self.reading(key, now) for key in self._sources}

    def subscribe(self, listener: AudioListener) -> Callable[[], None]:
        """``listener()`` runs after every change, on the caller's thread; keep it cheap (mark
        dirty, start a timer). Returns a function that unsubscribes it."""
        return self.changed.connect(lambda _revision: listener())

    def _changed(self) -> None:
        self.revision += 1
        self.changed.emit(self.revision)
