"""What a callback event leaves on a transcript's timeline: the call and transcription state
markers (participants are learnt by the model itself)."""

from __future__ import annotations

from console.acs import events as ev
from console.transcript.timeline import MarkerKind

_STREAM = {
    "streamconnectioninterrupted": MarkerKind.CONNECTION_INTERRUPTED,
    "streamconnectionreestablished": MarkerKind.CONNECTION_REESTABLISHED,
}


def markers_for(event: ev.CallEvent) -> list[tuple[str, str]]:
    """``(kind, detail)`` of each marker the event adds, in order. Locale updates carry no
    locale: the session confirms it with ``Transcript.set_locale_confirmed``."""
    out: list[tuple[str, str]] = []
    if isinstance(event, ev.TranscriptionEvent):
        stream = _STREAM.get((event.transcription_status_details or "").lower())
        if stream is not None:
            out.append((stream, ""))
    result = event.result.text if event.result is not None else ""
    if isinstance(event, ev.CallConnected):
        out.append((MarkerKind.CALL_CONNECTED, ""))
    elif isinstance(event, ev.CallDisconnected):
        out.append((MarkerKind.CALL_DISCONNECTED, result))
    elif isinstance(event, ev.CreateCallFailed | ev.AnswerFailed | ev.ConnectFailed):
        out.append((MarkerKind.CALL_FAILED, result))
    elif isinstance(event, ev.TranscriptionStarted | ev.TranscriptionResumed):
        out.append((MarkerKind.TRANSCRIPTION_STARTED, ""))
    elif isinstance(event, ev.TranscriptionStopped):
        out.append((MarkerKind.TRANSCRIPTION_STOPPED, ""))
    elif isinstance(event, ev.TranscriptionFailed):
        out.append((MarkerKind.TRANSCRIPTION_FAILED, result))
    return out
