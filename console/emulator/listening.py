"""A call's audio and the local recogniser that hears it (the ``speech`` extra).

Built for a call when its scenario has recordings or when audio participants join it. Without
the extra, recordings that come with a script are played as their script (and the log says so);
participants that only have audio cannot be heard, and starting transcription then fails with
``TranscriptionFailed`` saying which extra to install.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from console.acs.errors import row

if TYPE_CHECKING:
    from console.emulator.recognition.recognizer import Engine
    from console.emulator.recognition.tracks import CallAudio, LiveTrack
    from console.emulator.scenario import Scenario
    from console.emulator.speech import Conversation

log = logging.getLogger(__name__)


class ListeningError(Exception):
    """Why a call's audio cannot be transcribed: the code-table row and the full message."""

    def __init__(self, key: str, detail: str) -> None:
        self.key = key
        self.message = f"{row(key).message} {detail}"
        super().__init__(self.message)


class CallListening:
    def __init__(self, scenario: Scenario, engine: Engine) -> None:
        from console.emulator.recognition.tracks import CallAudio

        self.engine = engine
        self.audio: CallAudio = CallAudio()
        _place_recordings(self.audio, scenario)

    def check_locale(self, locale: str) -> None:
        """Raise ListeningError when someone talks and the recogniser has no model for
        ``locale`` (a call without audio can transcribe its script in any locale)."""
        from console.emulator.recognition.models import ModelError, spec_for

        if not self.audio:
            return
        try:
            spec_for(locale)
        except ModelError as exc:
            raise ListeningError("local_model_missing", str(exc)) from None

    def feed(self, conversation: Conversation, *, locale: Any, intermediate_results: bool) -> Any:
        from console.emulator.recognition.feed import AudioTranscriptionFeed

        return AudioTranscriptionFeed(
            conversation,
            self.audio,
            self.engine,
            locale=locale,
            intermediate_results=intermediate_results,
            since=conversation.call_time,
        )

    def add_recording(self, raw_id: str, display_name: str, path: Path, at: float) -> float:
        """``path`` is said by ``raw_id`` from call time ``at``; returns its length in seconds."""
        from console.emulator.recognition.audio import FRAME_SECONDS, SAMPLE_RATE
        from console.emulator.recognition.tracks import Clip, FileTrack

        samples = load_recording(path)
        clip = Clip(round(at / FRAME_SECONDS), samples)
        self.audio.add(FileTrack(raw_id, display_name, [clip]))
        return samples.size / SAMPLE_RATE

    def add_live(self, raw_id: str, display_name: str, at: float) -> LiveTrack:
        from console.emulator.recognition.audio import FRAME_SECONDS
        from console.emulator.recognition.tracks import LiveTrack

        track = LiveTrack(raw_id, display_name, round(at / FRAME_SECONDS))
        self.audio.add(track)
        return track


@functools.lru_cache(maxsize=64)
def _load_cached(path: str, mtime_ns: int, size: int) -> Any:
    from console.emulator.recognition.audio import load_wav

    samples = load_wav(Path(path))
    samples.setflags(write=False)  # shared by every call that plays it
    return samples


def load_recording(path: Path) -> Any:
    """A WAV as 16 kHz mono int16 (cached by path and modification time)."""
    st = Path(path).stat()
    return _load_cached(str(path), st.st_mtime_ns, st.st_size)


def preload(scenario: Scenario) -> None:
    """Read and convert every recording of the scenario into the cache."""
    import console.emulator.recognition.feed  # noqa: F401 (the recogniser's modules)
    from console.emulator.recognition.wavfile import AudioFileError
    from console.emulator.scenario import ScenarioError

    paths = [p.audio for p in scenario.participants] + [u.audio for u in scenario.utterances]
    for path in paths:
        if path is not None:
            try:
                load_recording(path)
            except (AudioFileError, OSError) as exc:
                raise ScenarioError(f"{path}: cannot be played: {exc}") from None


def _place_recordings(audio: CallAudio, scenario: Scenario) -> None:
    from console.emulator.recognition.audio import FRAME_SECONDS
    from console.emulator.recognition.tracks import Clip, FileTrack

    tracks: dict[str, FileTrack] = {}

    def track(raw_id: str) -> FileTrack:
        if raw_id not in tracks:
            who = scenario.participant(raw_id)
            tracks[raw_id] = FileTrack(raw_id, who.display_name if who else raw_id)
        return tracks[raw_id]

    for p in scenario.participants:
        if p.audio is not None:
            track(p.raw_id).add(Clip(0, load_recording(p.audio)))
    for u in scenario.utterances:
        if u.audio is not None:
            track(u.speaker).add(Clip(round(u.start / FRAME_SECONDS), load_recording(u.audio)))
    for t in tracks.values():
        audio.add(t)
