"""One participant's speech, recognised as it is spoken: ACS ``TranscriptionData`` packets.

Voice activity splits the participant's audio into utterances. While an utterance is open, the
audio heard so far is re-decoded about once a second and each new hypothesis goes out as an
Intermediate (Whisper revises earlier words as context grows, just as the service does). When the
utterance closes, a full decode with word timestamps gives the Final: display text, lexical
words with offsets and durations in ticks from call start, and confidence from the word
probabilities.

Decoding runs on the :class:`Engine`'s worker thread, never on the event loop. A participant has
at most one decode in flight, so its packets leave in order; a Final is never skipped, an
Intermediate that a newer one would replace may be.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from console.acs.streaming import TICKS_PER_SECOND
from console.emulator.recognition import models
from console.emulator.recognition.audio import FRAME_SAMPLES, FRAME_SECONDS, SAMPLE_RATE, to_float
from console.emulator.recognition.vad import ONSET_FRAMES, PRE_ROLL_FRAMES, Segment, VoiceActivity
from console.emulator.scenario_words import lexical

log = logging.getLogger(__name__)
# faster-whisper logs every decode at INFO ("Processing audio with duration ..."): noise here.
logging.getLogger("faster_whisper").setLevel(logging.WARNING)

# Seconds of new audio between two Intermediate decodes of the open utterance.
INTERMEDIATE_EVERY = 1.0
# An utterance is cut (and finalised) at this length: Whisper sees 30 s at a time.
MAX_UTTERANCE_SECONDS = 25.0
_MAX_UTTERANCE_FRAMES = int(MAX_UTTERANCE_SECONDS / FRAME_SECONDS)
_PAUSE_FRAMES = 8  # 160 ms of quiet inside an utterance
# A decode whose segments all look like non-speech with a weak transcript is dropped, so
# breathing or a cough does not become a Final ("Thank you." is Whisper's favourite).
_NO_SPEECH = 0.6
_WEAK_LOGPROB = -1.0


@dataclass(frozen=True, slots=True)
class Word:
    text: str  # as decoded, with punctuation
    start: float  # seconds from the start of the decoded audio
    end: float
    probability: float


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    words: tuple[Word, ...] = ()
    speech: bool = True  # False: the decoder judged it non-speech


class Engine:
    """The decoder thread shared by every call of an emulator (one model load per process).

    Jobs wait in a priority queue: Finals first (an operator waits for them, and an Intermediate
    behind schedule is worth little), then Intermediates, then warm-ups, oldest first.
    """

    FINAL, INTERMEDIATE, WARM_UP = 0, 1, 2

    def __init__(self, *, cpu_threads: int | None = None) -> None:
        self._jobs: queue.PriorityQueue[tuple[int, int, Any]] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._cpu_threads = cpu_threads
        self._thread = threading.Thread(target=self._work, name="recogniser", daemon=True)
        self._thread.start()
        self.decodes = 0
        self.busy_seconds = 0.0  # thread time spent decoding (for the benchmark)

    async def decode(self, audio: np.ndarray, locale: str, *, final: bool) -> Decoded:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decoded] = loop.create_future()
        priority = self.FINAL if final else self.INTERMEDIATE
        self._jobs.put((priority, next(self._seq), (audio, locale, final, loop, future)))
        return await future

    @property
    def backlog(self) -> int:
        """Jobs waiting for the decoder (not counting the one it is running)."""
        return self._jobs.qsize()

    def warm_up(self, locale: str = "en-US") -> None:
        """Load the model and run one decode in the background, so the first words spoken on a
        call are not also the ones that pay for loading it."""
        job = (np.zeros(SAMPLE_RATE // 2, np.int16), locale, False, None, None)
        self._jobs.put((self.WARM_UP, next(self._seq), job))

    def _work(self) -> None:
        while True:
            _, _, job = self._jobs.get()
            if job is None:
                return
            audio, locale, final, loop, future = job
            if future is not None and future.cancelled():
                continue  # the call ended or the guess went stale while it waited
            began = time.perf_counter()
            try:
                spec = models.spec_for(locale)
                model = models.load(spec, cpu_threads=self._cpu_threads)
                result: Any = _run_whisper(
                    model, to_float(audio), models.language_of(locale), final
                )
                error: BaseException | None = None
            except Exception as exc:  # reported to the waiting coroutine
                result, error = None, exc
            self.decodes += 1
            self.busy_seconds += time.perf_counter() - began
            if future is None:
                if error is not None:
                    log.info("Speech model warm-up failed: %s", error)
                continue
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop closed while this decode ran: nobody waits
                log.debug("decode finished after its event loop closed")

    async def close(self) -> None:
        """Stop the thread once its current decode is done. It must be joined before the
        process exits: a thread still inside CTranslate2 then aborts the interpreter."""
        self._jobs.put((-1, next(self._seq), None))
        await asyncio.to_thread(self._thread.join)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def _run_whisper(model: Any, audio: np.ndarray, language: str, final: bool) -> Decoded:
    options: dict[str, Any] = {
        "language": language,
        "condition_on_previous_text": False,
        "vad_filter": False,
    }
    if final:
        options.update(beam_size=5, word_timestamps=True)
    else:  # a quick guess: greedy, no timestamps
        options.update(beam_size=1, without_timestamps=True, temperature=0.0)
    segments, _ = model.transcribe(audio, **options)
    segments = list(segments)  # the generator does the work
    text = " ".join(s.text.strip() for s in segments if s.text.strip())
    speech = not segments or not all(
        s.no_speech_prob > _NO_SPEECH and s.avg_logprob < _WEAK_LOGPROB for s in segments
    )
    words = tuple(
        Word(w.word.strip(), float(w.start), float(w.end), float(w.probability))
        for s in segments
        for w in (s.words or ())
        if w.word.strip()
    )
    return Decoded(text, words, speech)


def ticks(seconds: float) -> int:
    return round(seconds * TICKS_PER_SECOND)


@dataclass
class _Utterance:
    start: int  # frame index on the call clock
    locale: str
    frames: list[np.ndarray] = field(default_factory=list)
    end: int | None = None
    decoded_frames: int = 0  # how much audio the latest Intermediate covered
    last_text: str = ""

    def audio(self, upto: int | None = None) -> np.ndarray:
        frames = self.frames if upto is None else self.frames[: upto - self.start]
        return np.concatenate(frames) if frames else np.zeros(0, np.int16)


class ParticipantRecognizer:
    """Feed frames in call order with :meth:`push`; packets come out through ``emit``."""

    def __init__(
        self,
        raw_id: str,
        engine: Engine,
        emit: Callable[[dict[str, Any]], None],
        *,
        locale: Callable[[], str],
        intermediates: bool,
        on_error: Callable[[BaseException], None],
    ) -> None:
        self.raw_id = raw_id
        self._engine = engine
        self._emit = emit
        self._locale = locale
        self._intermediates = intermediates
        self._on_error = on_error
        self._vad = VoiceActivity()
        self._recent: deque[tuple[int, np.ndarray]] = deque(maxlen=ONSET_FRAMES + PRE_ROLL_FRAMES)
        self._open: _Utterance | None = None
        self._closed: deque[_Utterance] = deque()  # awaiting their Final decode
        self._job: asyncio.Task[None] | None = None
        self.finals = 0
        self.intermediates = 0

    @property
    def idle(self) -> bool:
        """Nothing open, nothing waiting, nothing decoding."""
        return self._open is None and not self._closed and self._job is None

    @property
    def decoding(self) -> bool:
        """Utterances heard to their end are waiting for, or in, the decoder."""
        return bool(self._closed) or self._job is not None

    def push(self, index: int, frame: np.ndarray) -> None:
        """Frame ``index`` (20 ms of call time) of this participant's audio."""
        self._recent.append((index, frame))
        _, opened, closed = self._vad.push(index, frame)
        if opened is not None:
            self._begin(opened)
        elif self._open is not None:
            self._open.frames.append(frame)
            if closed is not None:
                self._finish(closed.end or index + 1)
            elif index + 1 - self._open.start >= _MAX_UTTERANCE_FRAMES:
                self._vad.close(index + 1)
                self._finish(index + 1)
        self._schedule()

    def flush(self, index: int) -> None:
        """The audio ended (track over, transcription stopping): close the open utterance."""
        if self._open is not None:
            self._vad.close(index)
            self._finish(index)
        self._schedule()

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def _begin(self, segment: Segment) -> None:
        locale = self._locale()
        self._open = u = _Utterance(segment.start, locale)
        u.frames = [f for i, f in self._recent if i >= segment.start]

    def _finish(self, end: int) -> None:
        u = self._open
        assert u is not None
        self._open = None
        u.end = max(u.start + 1, end)
        u.frames = u.frames[: u.end - u.start]
        self._closed.append(u)

    def _schedule(self) -> None:
        if self._job is not None:
            return
        if self._closed:
            u = self._closed.popleft()
            self._job = asyncio.create_task(self._final(u), name=f"final-{self.raw_id}")
        elif self._intermediates and self._open is not None:
            u = self._open
            heard = len(u.frames)
            step = int(INTERMEDIATE_EVERY / FRAME_SECONDS)
            # Not in a pause: the utterance may be about to close, and a guess decoding then
            # would only hold up its Final.
            pausing = self._vad.quiet_frames >= _PAUSE_FRAMES
            behind = self._engine.backlog > 0  # other work waits: a guess can wait too
            if not pausing and not behind and heard - u.decoded_frames >= step:
                self._job = asyncio.create_task(
                    self._intermediate(u, heard), name=f"partial-{self.raw_id}"
                )
        if self._job is not None:
            self._job.add_done_callback(self._job_done)

    def _job_done(self, task: asyncio.Task[None]) -> None:
        if task is self._job:
            self._job = None
        if task.cancelled():
            return
        if task.exception() is not None:
            self._on_error(task.exception())  # type: ignore[arg-type]
            return
        self._schedule()

    async def _intermediate(self, u: _Utterance, heard: int) -> None:
        audio = u.audio(u.start + heard)
        decoded = await self._engine.decode(audio, u.locale, final=False)
        u.decoded_frames = heard
        # Sent even if the utterance closed meanwhile: its Final is decoded only after this
        # job, so the hypothesis still goes out first, as the service's would have.
        if not decoded.speech:
            return
        text = " ".join(w for w in (lexical(t) for t in decoded.text.split()) if w)
        if not text or text == u.last_text:
            return
        u.last_text = text
        self.intermediates += 1
        self._emit(
            {
                "kind": "TranscriptionData",
                "transcriptionData": {
                    "text": text,
                    "format": "display",
                    "offset": ticks(u.start * FRAME_SECONDS),
                    "duration": ticks(heard * FRAME_SECONDS),
                    "participantRawID": self.raw_id,
                    "resultStatus": "Intermediate",
                },
            }
        )

    async def _final(self, u: _Utterance) -> None:
        audio = u.audio()
        decoded = await self._engine.decode(audio, u.locale, final=True)
        packet = final_packet(self.raw_id, u.start * FRAME_SECONDS, len(audio), decoded)
        if packet is not None:
            self.finals += 1
            self._emit(packet)


def final_packet(
    raw_id: str, start_seconds: float, samples: int, decoded: Decoded
) -> dict[str, Any] | None:
    """The Final for a decoded utterance that began ``start_seconds`` into the call; None when
    nothing was said (silence, noise)."""
    if not decoded.speech or not any(ch.isalnum() for ch in decoded.text):
        return None
    length = samples / SAMPLE_RATE
    words: list[dict[str, Any]] = []
    probabilities: list[float] = []
    for w in decoded.words:
        text = lexical(w.text)
        if not text:
            continue
        # Whisper can place a word's edges a little past the audio; keep them inside it.
        begin = min(max(0.0, w.start), length)
        end = min(max(begin, w.end), length)
        # The service's words carry no confidence of their own: the probabilities only go
        # into the phrase's.
        words.append(
            {
                "text": text,
                "offset": ticks(start_seconds + begin),
                "duration": ticks(end - begin),
            }
        )
        probabilities.append(w.probability)
    if words:
        offset = words[0]["offset"]
        duration = words[-1]["offset"] + words[-1]["duration"] - offset
        confidence = _phrase_confidence(probabilities)
    else:
        offset, duration, confidence = ticks(start_seconds), ticks(length), 0.5
    return {
        "kind": "TranscriptionData",
        "transcriptionData": {
            "text": decoded.text,
            "format": "display",
            "confidence": confidence,
            "offset": offset,
            "duration": duration,
            "words": words,
            "participantRawID": raw_id,
            "resultStatus": "Final",
        },
    }


def _phrase_confidence(probabilities: list[float]) -> float:
    """Geometric mean of the word probabilities: one badly heard word pulls the phrase down
    more than an average would, as the service's phrase confidence does."""
    logs = [math.log(max(p, 1e-6)) for p in probabilities]
    return round(math.exp(sum(logs) / len(logs)), 4)


__all__ = [
    "FRAME_SAMPLES",
    "Decoded",
    "Engine",
    "ParticipantRecognizer",
    "Word",
    "final_packet",
]
