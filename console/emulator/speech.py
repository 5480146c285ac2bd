"""The speech engine: a scenario played on the call clock as ACS transcription packets.

A :class:`Conversation` is one call's script and clock. Each time transcription starts, the
emulator asks it for a :class:`TranscriptionFeed`, which sends ``TranscriptionData`` packets in the
exact wire shape: intermediate hypotheses that grow word by word at speech pace (sometimes with a
mis-heard word corrected later), then a Final with words, offsets, durations and confidence.

One scheduler loop per feed walks a heap of due packets, so overlapping speakers interleave
without a task per utterance and a busy emulator stays cheap. The feed keeps its position between
``run()`` calls: after a cancelled run or a failed send it picks up where it stopped (the packet
whose send raised goes first), so a reconnecting stream neither loses nor repeats a Final.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from console.acs.locales import canonical_locale
from console.acs.streaming import TICKS_PER_SECOND
from console.emulator.scenario import DEFAULT_PACE, Scenario, Utterance, is_locale
from console.emulator.scenario_words import pause_after, tokenize, word_weights
from console.emulator.setup import Intelligence

log = logging.getLogger(__name__)

# Call-time seconds from the end of a word to the hypothesis that contains it.
INTERMEDIATE_LATENCY = 0.15
# Call-time seconds of silence before the recogniser closes a phrase with its Final.
FINAL_LATENCY = 0.4
# Share of a word's slot that is voiced; the rest is the gap before the next word.
_VOICED = 0.88
# A recogniser told the wrong language still emits something, but with poor confidence.
WRONG_LOCALE_FACTOR = 0.3
# Behind schedule by more than this much wall time (a reconnect): skip stale intermediates.
_CATCH_UP_WALL = 0.5

Send = Callable[[dict[str, Any]], Awaitable[None]]
IntelligenceSource = Callable[[], Intelligence]
_NONE = Intelligence()

# Plausible mis-hearings per language (lexical forms), for seeded random revisions.
_CONFUSIONS: dict[str, dict[str, str]] = {
    "en": {
        "to": "two", "for": "four", "their": "there", "there": "their", "right": "write",
        "know": "no", "hear": "here", "here": "hear", "by": "buy", "wait": "weight",
        "week": "weak", "new": "knew", "bill": "build", "billing": "building",
        "charge": "change", "charged": "changed", "modem": "modern", "reset": "recent",
        "cable": "able", "line": "lime", "payment": "pavement", "card": "cart",
        "thanks": "tanks", "sure": "shore", "number": "lumber", "working": "walking",
        "router": "rooter", "account": "count", "late": "light", "meeting": "eating",
        "quarter": "water", "budget": "bud get", "slides": "sides", "launch": "lunch",
    },
    "es": {
        "hola": "ola", "vez": "ves", "casa": "caza", "factura": "fractura",
        "cuenta": "cuento", "pago": "paso", "cobro": "cobre", "tarde": "carde",
        "mañana": "manzana", "gracias": "gracia", "cambio": "campo", "hasta": "asta",
    },
    "fr": {
        "facture": "fracture", "compte": "conte", "cent": "sans", "vert": "verre",
        "mer": "mère", "ver": "vers", "paiement": "pavement", "merci": "mercie",
        "demain": "deux mains", "réunion": "région", "prix": "pris",
    },
    "de": {
        "rechnung": "rechnungen", "wieder": "wider", "meer": "mehr", "seid": "seit",
        "konto": "kontor", "zahlung": "zahlen", "danke": "dank", "morgen": "sorgen",
        "termin": "terminal", "preis": "reis",
    },
}  # fmt: skip


def _ticks(seconds: float) -> int:
    return round(seconds * TICKS_PER_SECOND)


def choose_text(utterance: Utterance, locale: str, default_locale: str) -> tuple[str, float]:
    """Which of the utterance's texts a recogniser set to ``locale`` produces, and a confidence
    factor: exact locale, else same language ("es-MX" -> "es-ES"), else the default-locale text
    recognised poorly."""
    want = (canonical_locale(locale) if is_locale(locale) else locale.strip()).lower()
    for key in utterance.text:
        if key.lower() == want:
            return key, 1.0
    language = want.split("-", 1)[0]
    for key in utterance.text:
        if key.split("-", 1)[0].lower() == language:
            return key, 1.0
    fallback = default_locale if default_locale in utterance.text else next(iter(utterance.text))
    return fallback, WRONG_LOCALE_FACTOR


def identify(
    utterance: Utterance, candidates: tuple[str, ...], default_locale: str
) -> tuple[str, float, str]:
    """Language identification among ``candidates``: (which text is transcribed, confidence
    factor, the language identified). The language the line is spoken in when it is among the
    candidates (exactly, else by language: a line in es-ES identified as es-MX); else the first
    candidate, and what was said recognised poorly, as by a recogniser set to the wrong
    language."""
    spoken = utterance.spoken_language(default_locale)
    for candidate in candidates:
        if candidate.lower() == spoken.lower():
            return spoken, 1.0, candidate
    language = spoken.split("-", 1)[0].lower()
    for candidate in candidates:
        if candidate.split("-", 1)[0].lower() == language:
            return spoken, 1.0, candidate
    return spoken, WRONG_LOCALE_FACTOR, candidates[0]


@dataclass(frozen=True, slots=True)
class _Layout:
    """One utterance's words in one locale, placed on the call clock."""

    displays: tuple[str, ...]  # as written, for the Final's text
    words: tuple[str, ...]  # lexical forms, for intermediates and the Final's words
    starts: tuple[float, ...]  # call-time seconds
    ends: tuple[float, ...]


def _layout(utterance: Utterance, text_locale: str, span: float, rng: random.Random) -> _Layout:
    """Spread the words over the utterance's span: longer words and punctuation pauses take more
    time, with a little seeded jitter; the span never changes, so overlaps stay as scripted."""
    tokens = tokenize(utterance.text[text_locale])
    pace = utterance.pace or DEFAULT_PACE
    slots = [w * rng.uniform(0.85, 1.15) / pace for w in word_weights(tokens)]
    pauses = [pause_after(t.display) for t in tokens[:-1]] + [0.0]
    scale = span / (sum(slots) + sum(pauses))
    starts, ends = [], []
    t = utterance.start
    for slot, pause in zip(slots, pauses, strict=True):
        starts.append(t)
        ends.append(t + slot * scale * _VOICED)
        t += (slot + pause) * scale
    return _Layout(
        tuple(t.display for t in tokens), tuple(t.word for t in tokens), tuple(starts), tuple(ends)
    )


class Conversation:
    """One call's script on its own clock (monotonic time × ``speed``, 0 at :meth:`start`)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        speed: float = 1.0,
        seed: int = 0,
    ) -> None:
        if not (speed > 0 and math.isfinite(speed)):
            raise ValueError(f"speed must be a positive number, got {speed!r}")
        self.scenario = scenario
        self.speed = float(speed)
        self.seed = seed
        self._t0: float | None = None
        self._started = asyncio.Event()
        self._spans = tuple(u.span(scenario.default_locale) for u in scenario.utterances)
        self._layouts: dict[tuple[int, str], _Layout] = {}

    def start(self) -> None:
        """The call connected: call time 0. Later calls keep the first start."""
        if self._t0 is None:
            self._t0 = time.monotonic()
            self._started.set()

    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def call_time(self) -> float:
        """Seconds of call time since :meth:`start` (0 before it)."""
        if self._t0 is None:
            return 0.0
        return (time.monotonic() - self._t0) * self.speed

    @property
    def ended(self) -> bool:
        """The script has finished and its last Final is due."""
        return self.started and self.call_time >= self.scenario.duration + FINAL_LATENCY

    async def wait_until(self, call_time: float) -> None:
        """Sleep until the call clock reaches ``call_time`` (e.g. a scripted fault)."""
        await self._started.wait()
        delay = (call_time - self.call_time) / self.speed
        if delay > 0:
            await asyncio.sleep(delay)

    def transcription(
        self,
        *,
        locale: Callable[[], str],
        intermediate_results: bool = True,
        skip_recorded: bool = False,
        intelligence: IntelligenceSource = lambda: _NONE,
    ) -> TranscriptionFeed:
        """Transcription starts now: a feed for the speech from this moment of call time on.
        ``skip_recorded``: utterances with a recording are left to the recogniser.
        ``intelligence``: the preview options in force (languages to identify among: read as
        each utterance starts; sentiment: as its Final is sent)."""
        return TranscriptionFeed(
            self,
            locale,
            intermediate_results,
            since=self.call_time,
            skip_recorded=skip_recorded,
            intelligence=intelligence,
        )

    def _rng(self, index: int, text_locale: str, purpose: str) -> random.Random:
        # A string seed hashes deterministically (unlike hash()), so packets repeat per seed.
        return random.Random(f"{self.seed}:{index}:{text_locale}:{purpose}")

    def _layout(self, index: int, text_locale: str) -> _Layout:
        key = (index, text_locale)
        layout = self._layouts.get(key)
        if layout is None:
            utterance = self.scenario.utterances[index]
            rng = self._rng(index, text_locale, "timing")
            layout = _layout(utterance, text_locale, self._spans[index], rng)
            self._layouts[key] = layout
        return layout


class _Speech:
    """One utterance being recognised: yields its intermediates, then its Final."""

    __slots__ = (
        "confidence",
        "first",
        "heard",
        "intelligence",
        "language",
        "layout",
        "next_count",
        "raw_id",
        "utterance",
        "with_detail",
        "with_intermediates",
        "word_confidence",
    )  # fmt: skip

    def __init__(
        self,
        conversation: Conversation,
        index: int,
        locale: str,
        since: float,
        with_intermediates: bool,
        intelligence: IntelligenceSource = lambda: _NONE,
    ) -> None:
        scenario = conversation.scenario
        utterance = scenario.utterances[index]
        self.intelligence = intelligence
        candidates = intelligence().locales
        self.language: str | None = None  # identified, when identifying among candidates
        if candidates:
            text_locale, factor, self.language = identify(
                utterance, candidates, scenario.default_locale
            )
        else:
            text_locale, factor = choose_text(utterance, locale, scenario.default_locale)
        self.utterance = utterance
        self.raw_id = utterance.speaker
        self.layout = layout = conversation._layout(index, text_locale)
        self.confidence = round(utterance.confidence * factor, 4)
        self.word_confidence = (
            {w: round(c * factor, 4) for w, c in utterance.word_confidence.items()}
            if utterance.word_confidence
            else None
        )
        self.with_intermediates = with_intermediates
        self.with_detail = scenario.intermediate_detail
        # Words already over when transcription started were never heard (a word cut in on
        # is still recognised).
        self.first = next((i for i, t in enumerate(layout.ends) if t > since), None)
        self.next_count = (self.first or 0) + 1
        self.heard = self._mishearings(conversation, index, text_locale, scenario)

    def _mishearings(
        self, conversation: Conversation, index: int, text_locale: str, scenario: Scenario
    ) -> list[tuple[int, str, int]]:
        """(word index, what is heard, word count from which it is corrected)."""
        scripted = [
            (r.word, r.heard.lower(), r.word + 1 + r.lasts)
            for r in self.utterance.revisions
            if (r.locale or scenario.default_locale) == text_locale
        ]
        if scripted or not self.with_intermediates:
            return scripted
        rng = conversation._rng(index, text_locale, "revision")
        if rng.random() >= scenario.revision_rate:
            return []
        table = _CONFUSIONS.get(text_locale.split("-", 1)[0].lower(), {})
        candidates = [i for i, w in enumerate(self.layout.words) if w in table]
        if not candidates:
            return []
        i = rng.choice(candidates)
        return [(i, table[self.layout.words[i]], i + 1 + rng.choice((1, 2, 2, 3)))]

    @property
    def audible(self) -> bool:
        return self.first is not None

    @property
    def final_due(self) -> float:
        return self.layout.ends[-1] + FINAL_LATENCY

    def next_due(self) -> float:
        if self.with_intermediates and self.next_count <= len(self.layout.words):
            return self.layout.ends[self.next_count - 1] + INTERMEDIATE_LATENCY
        return self.final_due

    def take(self, now: float, speed: float) -> tuple[dict[str, Any] | None, bool]:
        """The packet now due and whether this utterance is finished. Far behind schedule (a
        reconnect), an intermediate the next packet already replaces is skipped (None)."""
        if self.with_intermediates and self.next_count <= len(self.layout.words):
            count = self.next_count
            self.next_count += 1
            following = self.next_due()
            if following <= now and (now - following) / speed > _CATCH_UP_WALL:
                return None, False
            return self._intermediate(count), False
        return self._final(), True

    def _intermediate(self, count: int) -> dict[str, Any]:
        layout, first = self.layout, self.first or 0
        words = list(layout.words[first:count])
        for index, heard, corrected_at in self.heard:
            if first <= index < count < corrected_at:
                words[index - first] = heard
        offset = layout.starts[first]
        body: dict[str, Any] = {"text": " ".join(words), "format": "display"}
        if self.with_detail:
            progress = (count - first) / (len(layout.words) - first)
            body["confidence"] = round(self.confidence * (0.7 + 0.3 * progress), 4)
        body["offset"] = _ticks(offset)
        body["duration"] = _ticks(layout.ends[count - 1]) - _ticks(offset)
        if self.with_detail:
            body["words"] = [
                {
                    "text": heard,
                    "offset": _ticks(layout.starts[first + i]),
                    "duration": _ticks(layout.ends[first + i] - layout.starts[first + i]),
                }
                for i, heard in enumerate(words)
            ]
        body["participantRawID"] = self.raw_id
        body["resultStatus"] = "Intermediate"
        if self.language is not None:
            body["languageIdentified"] = self.language
        return {"kind": "TranscriptionData", "transcriptionData": body}

    def _final(self) -> dict[str, Any]:
        layout, first = self.layout, self.first or 0
        if first == 0:
            text = " ".join(layout.displays)
        else:  # heard from mid-sentence: the recogniser still starts its phrase with a capital
            text = " ".join(layout.displays[first:])
            text = text[:1].upper() + text[1:]
        words = []
        for i in range(first, len(layout.words)):
            word: dict[str, Any] = {
                "text": layout.words[i],
                "offset": _ticks(layout.starts[i]),
                "duration": _ticks(layout.ends[i]) - _ticks(layout.starts[i]),
            }
            if self.word_confidence is not None:
                word["confidence"] = self.word_confidence.get(layout.words[i], self.confidence)
            words.append(word)
        offset = _ticks(layout.starts[first])
        body = {
            "text": text,
            "format": "display",
            "confidence": self.confidence,
            "offset": offset,
            "duration": _ticks(layout.ends[-1]) - offset,
            "words": words,
            "participantRawID": self.raw_id,
            "resultStatus": "Final",
        }
        if self.intelligence().sentiment:
            body["sentimentAnalysisResult"] = {"sentiment": self.utterance.sentiment or "neutral"}
        if self.language is not None:
            body["languageIdentified"] = self.language
        return {"kind": "TranscriptionData", "transcriptionData": body}


class TranscriptionFeed:
    """Transcription packets for one transcription session of a :class:`Conversation`."""

    def __init__(
        self,
        conversation: Conversation,
        locale: Callable[[], str],
        intermediate_results: bool,
        *,
        since: float,
        skip_recorded: bool = False,
        intelligence: IntelligenceSource = lambda: _NONE,
    ) -> None:
        self._conversation = conversation
        self._skip_recorded = skip_recorded
        self._intelligence = intelligence
        self._locale = locale
        self._intermediates = intermediate_results
        self._since = since
        utterances = conversation.scenario.utterances
        spans = conversation._spans
        # Utterances over before transcription started are never heard.
        self._next = next(
            (i for i, u in enumerate(utterances) if u.start + spans[i] > since), len(utterances)
        )
        self._heap: list[tuple[float, int, _Speech]] = []
        self._seq = 0
        self._pending: dict[str, Any] | None = None
        self._running = False
        self.finals_sent = 0

    @property
    def finished(self) -> bool:
        """Every utterance of the script has been sent (or was over before this feed began)."""
        return (
            self._pending is None
            and not self._heap
            and self._next >= len(self._conversation.scenario.utterances)
        )

    async def run(self, send: Send) -> None:
        """Send packets on the call clock until the script ends; cancel the task to stop.
        Waits for :meth:`Conversation.start` if the call has not connected yet.

        Resumable: a later run() continues where this one stopped. If ``send`` raises, that
        packet is sent first next time. A run cancelled inside ``send`` also re-sends it, as
        the packet may not have gone out."""
        if self._running:
            raise RuntimeError("this transcription feed is already running")
        self._running = True
        conversation = self._conversation
        try:
            await conversation._started.wait()
            while True:
                if self._pending is not None:
                    await send(self._pending)
                    if self._pending["transcriptionData"]["resultStatus"] == "Final":
                        self.finals_sent += 1
                    self._pending = None
                delay = self._advance()
                if delay is None:
                    return
                if delay > 0:
                    await asyncio.sleep(delay)
        finally:
            self._running = False

    def _advance(self) -> float | None:
        """Make the next due packet pending, or say how long (wall seconds) until one is due;
        None when the script is done."""
        conversation = self._conversation
        utterances = conversation.scenario.utterances
        now = conversation.call_time
        while True:
            next_start = utterances[self._next].start if self._next < len(utterances) else math.inf
            next_due = self._heap[0][0] if self._heap else math.inf
            due = min(next_start, next_due)
            if due == math.inf:
                return None
            if due > now:
                return (due - now) / conversation.speed
            if next_start <= next_due:
                self._admit(self._next)
                self._next += 1
                continue
            _, _, speech = heapq.heappop(self._heap)
            packet, done = speech.take(now, conversation.speed)
            if not done:
                self._push(speech)
            if packet is not None:
                self._pending = packet
                return 0.0

    def _admit(self, index: int) -> None:
        """The utterance starts: the locale in force now picks its text."""
        if self._skip_recorded and self._conversation.scenario.utterances[index].audio:
            return
        try:
            locale = self._locale()
        except Exception:  # a broken locale source must not stop the stream
            log.exception("locale callback failed; using the scenario's default locale")
            locale = self._conversation.scenario.default_locale
        speech = _Speech(
            self._conversation,
            index,
            str(locale),
            self._since,
            self._intermediates,
            self._intelligence,
        )
        if speech.audible:
            self._push(speech)

    def _push(self, speech: _Speech) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (speech.next_due(), self._seq, speech))
