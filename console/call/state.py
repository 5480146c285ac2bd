"""What a call session is in: call, transcription and audio-streaming states, the snapshot a
window renders, the notices an event log shows, and which actions the state allows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class CallState(Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTING = "disconnecting"
    DISCONNECTED = "disconnected"
    FAILED = "failed"

    @property
    def live(self) -> bool:
        """Placed or answered and not over: a hang-up applies."""
        return self in LIVE_CALL


class TranscriptionState(Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    ACTIVE = "active"
    STOPPING = "stopping"
    FAILED = "failed"

    @property
    def running(self) -> bool:
        return self in (TranscriptionState.ACTIVE, TranscriptionState.STARTING)


class MediaStreamingState(Enum):
    OFF = "off"  # not asked for on this call
    REQUESTED = "requested"  # asked for at call setup; the service has not started it yet
    ACTIVE = "active"
    STOPPED = "stopped"
    FAILED = "failed"


LIVE_CALL = frozenset({CallState.CONNECTING, CallState.CONNECTED, CallState.DISCONNECTING})
MEDIA_ON = frozenset({MediaStreamingState.REQUESTED, MediaStreamingState.ACTIVE})


@dataclass(frozen=True, slots=True)
class Notice:
    """An entry for the event log, in operator language."""

    at: float
    level: str  # "info" | "warning" | "error"
    title: str
    text: str
    detail: str = ""
    path: str = ""  # a file the entry is about: the event log offers to open its folder


@dataclass(frozen=True, slots=True)
class SessionState:
    call: CallState = CallState.IDLE
    transcription: TranscriptionState = TranscriptionState.STOPPED
    target: str | None = None
    call_connection_id: str | None = None
    connected_at: float | None = None
    requested_locale: str | None = None
    confirmed_locale: str | None = None
    stream_connected: bool = False  # a transcript stream is open
    media_streaming: MediaStreamingState = MediaStreamingState.OFF
    audio_connected: bool = False  # an audio stream is open
    last_error: str | None = None
    joined: bool = False  # joined in progress (Connect): the service will not change its locale
    held: frozenset[str] = frozenset()  # raw ids of participants on hold


class SessionError(Exception):
    """An action was refused or failed; the message is operator-facing."""


def can_start_transcription(s: SessionState) -> tuple[bool, str]:
    if s.call in (CallState.IDLE, CallState.DISCONNECTED, CallState.FAILED):
        return False, "Place or answer a call first."
    if s.call is CallState.CONNECTING:
        return False, "Wait until the call is connected."
    if s.call is CallState.DISCONNECTING:
        return False, "The call is ending."
    if s.transcription.running:
        return False, "Transcription is already running."
    if s.transcription is TranscriptionState.STOPPING:
        return False, "Transcription is stopping."
    return True, ""


def can_stop_transcription(s: SessionState) -> tuple[bool, str]:
    if s.call is not CallState.CONNECTED:
        return False, "There is no connected call."
    if not s.transcription.running:
        return False, "Transcription is not running."
    return True, ""


JOINED_LOCALE = (
    "This call was joined in progress: the service does not change the language of a joined "
    "call. Stop transcription and start it again to use another language."
)


def can_change_locale(s: SessionState) -> tuple[bool, str]:
    """Whether a language chosen now is sent (or kept for the next start)."""
    if s.joined and s.transcription.running:
        return False, JOINED_LOCALE
    return True, ""
