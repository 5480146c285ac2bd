"""Insights into a call, computed by the console from its Finals (with or without the service's
preview features): talk time per speaker, overtalk, long silences, words per minute and each
speaker's recent sentiments.

:class:`Insights` takes one Final at a time (``add``, amortised O(log n): cheap enough to run per
Final on a live call, see ``tests/bench/bench_insights.py``) and gives an immutable
:class:`InsightsSnapshot` on demand; :func:`compute_insights` does the same from scratch for any
transcript (a reopened file, an export). Pure: no Qt, no I/O.

Definitions (times on the call clock, from the Finals' offsets and durations):

- talk time: the time covered by a speaker's Finals (their union); the share is of the talk time
  of everyone together;
- overtalk: pairs of overlapping Finals of different speakers, their count and the seconds they
  overlap (three people at once count as three pairs);
- long silences: gaps of at least ``silence_threshold`` seconds between speech and the next
  speech in which no one speaks (before the first and after the last Final are not gaps);
- words per minute: a speaker's words (in the Finals' text) per minute of their talk time.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from typing import Any

from console.acs.streaming import TICKS_PER_SECOND
from console.transcript.model import Transcript
from console.transcript.timeline import Phrase, PhraseStatus

LONG_SILENCE_S = 5.0
TREND_TURNS = 5  # the recent sentiments kept per speaker


def _seconds(ticks: int) -> float:
    return round(ticks / TICKS_PER_SECOND, 3)


@dataclass(frozen=True, slots=True)
class SpeakerInsights:
    raw_id: str
    turns: int  # Finals
    talk_seconds: float
    share: float  # of everyone's talk time, 0..1
    words: int
    words_per_minute: float | None  # None: no talk time to divide by
    sentiments: tuple[str, ...]  # the last TREND_TURNS sentiments given, oldest first

    def to_dict(self) -> dict[str, Any]:
        return {
            "raw_id": self.raw_id,
            "turns": self.turns,
            "talk_seconds": self.talk_seconds,
            "share": round(self.share, 4),
            "words": self.words,
            "words_per_minute": None
            if self.words_per_minute is None
            else round(self.words_per_minute, 1),
            "sentiments": list(self.sentiments),
        }


@dataclass(frozen=True, slots=True)
class Silence:
    start: float  # call seconds: the end of the speech before it
    end: float  # the start of the speech after it

    @property
    def duration(self) -> float:
        return round(self.end - self.start, 3)

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "duration": self.duration}


@dataclass(frozen=True, slots=True)
class InsightsSnapshot:
    speakers: tuple[SpeakerInsights, ...]  # in order of their first Final
    talk_seconds: float  # everyone's talk time together
    overtalk_count: int
    overtalk_seconds: float
    silences: tuple[Silence, ...]  # chronological
    silence_threshold: float
    finals: int

    @property
    def silence_count(self) -> int:
        return len(self.silences)

    @property
    def longest_silence(self) -> Silence | None:
        return max(self.silences, key=lambda s: s.end - s.start, default=None)

    def speaker(self, raw_id: str) -> SpeakerInsights | None:
        return next((s for s in self.speakers if s.raw_id == raw_id), None)

    def to_dict(self) -> dict[str, Any]:
        longest = self.longest_silence
        return {
            "finals": self.finals,
            "talk_seconds": self.talk_seconds,
            "speakers": [s.to_dict() for s in self.speakers],
            "overtalk": {"count": self.overtalk_count, "seconds": self.overtalk_seconds},
            "silences": {
                "threshold": self.silence_threshold,
                "count": self.silence_count,
                "longest": None if longest is None else longest.duration,
                "list": [s.to_dict() for s in self.silences],
            },
        }


class _Spans:
    """Disjoint, sorted intervals (ticks) and their total length."""

    __slots__ = ("ends", "starts", "total")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.total = 0

    def add(self, start: int, end: int) -> bool:
        """Cover [start, end); True when it went after everything so far or merely extended
        the last interval (the in-order case), False when it was merged in earlier."""
        if end <= start:
            return True
        starts, ends = self.starts, self.ends
        if not starts or start > ends[-1]:
            starts.append(start)
            ends.append(end)
            self.total += end - start
            return True
        if start >= starts[-1]:
            if end > ends[-1]:
                self.total += end - ends[-1]
                ends[-1] = end
            return True
        lo = bisect.bisect_left(ends, start)  # the first interval that ends at or after start
        hi = bisect.bisect_right(starts, end)  # past the last that starts at or before end
        if lo < hi:
            start = min(start, starts[lo])
            end = max(end, ends[hi - 1])
            self.total -= sum(ends[i] - starts[i] for i in range(lo, hi))
        starts[lo:hi] = [start]
        ends[lo:hi] = [end]
        self.total += end - start
        return False


class _Speaker:
    __slots__ = ("raw_id", "sentiments", "spans", "turns", "words")

    def __init__(self, raw_id: str, trend: int) -> None:
        self.raw_id = raw_id
        self.spans = _Spans()
        self.turns = 0
        self.words = 0
        self.sentiments: deque[str] = deque(maxlen=trend)


class Insights:
    """The insights of one call, updated one Final at a time."""

    def __init__(
        self, *, silence_threshold: float = LONG_SILENCE_S, trend_turns: int = TREND_TURNS
    ) -> None:
        self.silence_threshold = silence_threshold
        self._threshold = round(silence_threshold * TICKS_PER_SECOND)
        self._trend = trend_turns
        self._speakers: dict[str, _Speaker] = {}
        self._all = _Spans()  # everyone's speech: silences are its gaps
        self._silences: list[Silence] = []
        self._silences_stale = False
        # Every Final with a duration, by start: (start, end, speaker); for overtalk.
        self._by_start: list[int] = []
        self._spans: list[tuple[int, int, str]] = []
        self._longest = 0
        self._overtalk_count = 0
        self._overtalk = 0
        self.finals = 0

    @classmethod
    def of(cls, transcript: Transcript, **kwargs: Any) -> Insights:
        insights = cls(**kwargs)
        for phrase in transcript.finals:
            insights.add(phrase)
        return insights

    def add(self, phrase: Phrase) -> None:
        """Take one Final into account (other phrases are ignored)."""
        if phrase.status is not PhraseStatus.FINAL:
            return
        self.finals += 1
        raw_id = phrase.raw_id
        sp = self._speakers.get(raw_id)
        if sp is None:
            sp = self._speakers[raw_id] = _Speaker(raw_id, self._trend)
        sp.turns += 1
        sp.words += len(phrase.text.split())
        if phrase.sentiment:
            sp.sentiments.append(phrase.sentiment)
        start = phrase.anchor + phrase.offset
        end = start + phrase.duration
        if end <= start:
            return
        sp.spans.add(start, end)
        self._overlap(start, end, raw_id)
        self._speech(start, end)

    def _overlap(self, start: int, end: int, raw_id: str) -> None:
        by_start, spans = self._by_start, self._spans
        # Any Final overlapping this one starts after start - (the longest Final so far).
        i = bisect.bisect_right(by_start, start - self._longest)
        j = bisect.bisect_left(by_start, end)
        for k in range(i, j):
            other_start, other_end, other = spans[k]
            if other != raw_id and other_end > start:
                self._overtalk_count += 1
                self._overtalk += min(end, other_end) - max(start, other_start)
        at = bisect.bisect_right(by_start, start)
        by_start.insert(at, start)
        spans.insert(at, (start, end, raw_id))
        self._longest = max(self._longest, end - start)

    def _speech(self, start: int, end: int) -> None:
        everyone = self._all
        before = everyone.ends[-1] if everyone.ends else None
        if everyone.add(start, end):
            if before is not None and start - before >= self._threshold and start > before:
                self._silences.append(Silence(_seconds(before), _seconds(start)))
        else:
            self._silences_stale = True  # merged in earlier: recount on the next snapshot

    def _current_silences(self) -> list[Silence]:
        if self._silences_stale:
            starts, ends = self._all.starts, self._all.ends
            self._silences = [
                Silence(_seconds(ends[i]), _seconds(starts[i + 1]))
                for i in range(len(starts) - 1)
                if starts[i + 1] - ends[i] >= self._threshold
            ]
            self._silences_stale = False
        return self._silences

    def sentiments(self, raw_id: str) -> tuple[str, ...]:
        """A speaker's recent sentiments (the trend), oldest first."""
        sp = self._speakers.get(raw_id)
        return tuple(sp.sentiments) if sp is not None else ()

    def snapshot(self) -> InsightsSnapshot:
        total = sum(sp.spans.total for sp in self._speakers.values())
        speakers = []
        for sp in self._speakers.values():
            talk = sp.spans.total
            minutes = talk / TICKS_PER_SECOND / 60
            speakers.append(
                SpeakerInsights(
                    raw_id=sp.raw_id,
                    turns=sp.turns,
                    talk_seconds=_seconds(talk),
                    share=talk / total if total else 0.0,
                    words=sp.words,
                    words_per_minute=sp.words / minutes if talk else None,
                    sentiments=tuple(sp.sentiments),
                )
            )
        return InsightsSnapshot(
            speakers=tuple(speakers),
            talk_seconds=_seconds(total),
            overtalk_count=self._overtalk_count,
            overtalk_seconds=_seconds(self._overtalk),
            silences=tuple(self._current_silences()),
            silence_threshold=self.silence_threshold,
            finals=self.finals,
        )


def compute_insights(
    transcript: Transcript, *, silence_threshold: float = LONG_SILENCE_S
) -> InsightsSnapshot:
    """The insights of a whole transcript, from scratch."""
    return Insights.of(transcript, silence_threshold=silence_threshold).snapshot()


def shown_language(phrase: Phrase, call_locale: str | None) -> str | None:
    """The identified language to mark on a Final: only when it differs from the call's."""
    language = phrase.language
    if not language or (call_locale and language.lower() == call_locale.lower()):
        return None
    return language
