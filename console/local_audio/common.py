"""What the local-audio modules share: frame sizes, limits, and the operator-facing error."""

from __future__ import annotations

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.02
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)  # 320
FRAME_BYTES = FRAME_SAMPLES * 2  # PCM16 mono: 640
# Up to this many frames wait for the sender (0.5 s); older ones are dropped after that, so a
# stalled connection never builds up a growing delay.
QUEUE_FRAMES = 25
REQUEST_TIMEOUT_S = 15.0

SPEECH_EXTRA_HINT = "pip install 'acs-transcription-console[speech]'"
LOCAL_ONLY = "Participants' audio works with the local emulator profile only."


class LocalAudioError(Exception):
    """Audio could not be added or sent; the message is for the operator."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status  # the emulator's HTTP status, when it answered
