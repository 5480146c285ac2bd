"""Live call transcript: participants, phrases (intermediate -> final) and timeline markers.

A pure domain model: no Qt, no I/O, single-threaded (it lives on the asyncio loop). The
WebSocket listener feeds it packets, the call session feeds it typed callback events and operator
intent, and a UI subscribes to small change records (``changes``) and repaints at most once per
frame, using ``revision`` to coalesce.

Time: packet offsets are 100 ns ticks. Every phrase carries ``anchor`` (ticks) so that
``anchor + offset`` is its position on the *call clock* (seconds since ``call_started_at``).
While offsets follow the call clock the anchor stays 0. The first packet of each new stream
decides its anchor: offsets clearly behind the wall clock (counted from the subscription start)
or clearly ahead of it (another origin altogether, such as the docs' sample offset of
2516998782481234400 ticks) are rebased onto the call clock, and offsets that restart below what
the speaker already said continue after it, so the timeline stays chronological and within the
call. Markers carry wall-clock times and are placed on the same call clock.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from console.acs import events as ev
from console.acs.identifiers import default_name
from console.acs.locales import canonical_locale
from console.acs.streaming import (
    TICKS_PER_SECOND,
    Packet,
    ResultStatus,
    TranscriptionData,
    TranscriptionMetadata,
    Word,
)
from console.signals import Signal
from console.transcript.anchoring import stream_anchor
from console.transcript.event_markers import markers_for
from console.transcript.participants import (
    NameSource,
    Participant,
    participant_kind,
)
from console.transcript.timeline import (
    ENDS_PHRASES,
    FAMILY,
    NEW_SEGMENT,
    Change,
    Marker,
    MarkerAdded,
    MarkerKind,
    ParticipantAdded,
    ParticipantRenamed,
    Phrase,
    PhraseChanged,
    PhraseStatus,
    SearchMatch,
    TimelineItem,
    interleave,
    marker_state,
)

log = logging.getLogger(__name__)

_C = TypeVar("_C", PhraseChanged, ParticipantAdded, ParticipantRenamed, MarkerAdded)


@dataclass(slots=True, eq=False)
class _Speaker:
    participant: Participant
    open: Phrase | None = None
    finals: list[Phrase] | None = None
    last_start: int | None = None  # call-clock ticks of this speaker's latest Final
    last_end: int | None = None


_LOCALE_SHAPED = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def _canonical(language: str) -> str:
    """An identified language in canonical spelling; what is not locale-shaped stays as sent."""
    return canonical_locale(language) if _LOCALE_SHAPED.fullmatch(language) else language


def _final_key(phrase: Phrase) -> tuple[int, int]:
    return (phrase.anchor + phrase.offset, phrase.seq)


def _marker_key(marker: Marker) -> tuple[float, int]:
    return (marker.at, marker.seq)


def _insert_sorted(items: list[Phrase], phrase: Phrase) -> None:
    # Finals nearly always arrive in order: appending is the O(1) common case.
    if not items or _final_key(items[-1]) <= _final_key(phrase):
        items.append(phrase)
    else:
        bisect.insort(items, phrase, key=_final_key)


class Transcript:
    """The transcript of one call. Feed it packets/events; read finals, timeline, changes."""

    def __init__(
        self,
        *,
        call_info: Mapping[str, Any] | None = None,
        call_started_at: float | None = None,
        locale: str | None = None,
    ) -> None:
        self.call_info: dict[str, Any] = dict(call_info or {})
        self.call_started_at: float | None = call_started_at  # wall time; exports count from it
        self.metadata: TranscriptionMetadata | None = None  # the latest stream's metadata
        self.ignored_late = 0
        self.ignored_duplicates = 0
        self._locale = canonical_locale(locale) if locale else None
        self._speakers: dict[str, _Speaker] = {}
        self._finals: list[Phrase] = []
        self._abandoned: list[Phrase] = []
        self._markers: list[Marker] = []
        self._seen_finals: set[tuple[str, int, str]] = set()
        self._vocab: dict[str, str] = {}
        self._states: dict[str, str] = {}  # family -> state (see marker_state)
        self._free_markers: set[tuple[str, float, str]] = set()
        self.changes: Signal[Change] = Signal("transcript changes")  # every change, in order
        self._revision = 0
        self._next_id = 1
        self._seq = 0
        self._next_colour = 0
        self._anchor = 0
        self._new_segment = True
        self._max_end = 0
        self._first_seen: float | None = None

    # -- reading ---------------------------------------------------------------------------

    @property
    def revision(self) -> int:
        """Increases with every change record; a UI repaints when it differs from its last."""
        return self._revision

    @property
    def locale(self) -> str | None:
        """The confirmed locale in force."""
        return self._locale

    @property
    def clock_rate(self) -> float:
        """Call seconds per wall second (``call_info["clock_rate"]``): 1 on a real call, the
        emulator's speed factor on a sped-up one. Maps marker wall times onto the call clock."""
        rate = self.call_info.get("clock_rate", 1.0)
        if isinstance(rate, int | float) and not isinstance(rate, bool) and 0 < rate < 1e6:
            return float(rate)
        return 1.0

    @property
    def origin(self) -> float:
        """Wall time of call-clock zero: the call start, else the first thing received."""
        if self.call_started_at is not None:
            return self.call_started_at
        return self._first_seen if self._first_seen is not None else 0.0

    @property
    def participants(self) -> tuple[Participant, ...]:
        """In order of first appearance."""
        return tuple(sp.participant for sp in self._speakers.values())

    @property
    def finals(self) -> tuple[Phrase, ...]:
        """Chronological by call-clock offset, then receipt."""
        return tuple(self._finals)

    @property
    def markers(self) -> tuple[Marker, ...]:
        return tuple(self._markers)

    @property
    def final_count(self) -> int:
        return len(self._finals)

    def participant(self, raw_id: str) -> Participant | None:
        sp = self._speakers.get(raw_id)
        return sp.participant if sp is not None else None

    def finals_for(self, raw_id: str) -> tuple[Phrase, ...]:
        sp = self._speakers.get(raw_id)
        return tuple(sp.finals) if sp is not None and sp.finals else ()

    @property
    def abandoned(self) -> tuple[Phrase, ...]:
        """Hypotheses whose Final never came (transcription stopped, the call ended)."""
        return tuple(self._abandoned)

    def settled_for(self, raw_id: str) -> list[Phrase]:
        """A speaker's finals and abandoned phrases, by start."""
        phrases = [*self.finals_for(raw_id), *(p for p in self._abandoned if p.raw_id == raw_id)]
        return sorted(phrases, key=_final_key)

    def open_intermediate(self, raw_id: str) -> Phrase | None:
        sp = self._speakers.get(raw_id)
        return sp.open if sp is not None else None

    def open_intermediates(self) -> tuple[Phrase, ...]:
        return tuple(sp.open for sp in self._speakers.values() if sp.open is not None)

    def time_of(self, item: TimelineItem) -> float:
        """Seconds on the call clock (relative to the call start)."""
        if isinstance(item, Marker):
            return (item.at - self.origin) * self.clock_rate
        return item.start

    def timeline(self, *, abandoned: bool = False) -> list[TimelineItem]:
        """Finals (and, if asked, abandoned phrases) and markers in call order."""
        return [item for _, item in self.placed(abandoned=abandoned)]

    def placed(self, *, abandoned: bool = False) -> list[tuple[float, TimelineItem]]:
        """The timeline with each item's place on the call clock (see ``interleave``)."""
        phrases = [*self._finals, *self._abandoned] if abandoned else self._finals
        return interleave(self._markers, phrases, self.origin, self.clock_rate)

    def search(self, text: str) -> list[SearchMatch]:
        """Case-insensitive matches of ``text`` in the finals, in chronological order."""
        needle = text.strip()
        if not needle:
            return []
        pattern = re.compile(re.escape(needle), re.IGNORECASE)
        return [
            SearchMatch(phrase, m.start(), m.end())
            for phrase in self._finals
            for m in pattern.finditer(phrase.text)
        ]

    # -- change notification ---------------------------------------------------------------

    def subscribe(self, callback: Callable[[Change], None]) -> Callable[[], None]:
        """Call ``callback`` with every change record; returns a function that unsubscribes."""
        return self.changes.connect(callback)

    def _emit(self, change: _C) -> _C:
        self.changes.emit(change)
        return change

    def _next_revision(self) -> int:
        self._revision += 1
        return self._revision

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _seen(self, at: float) -> None:
        if self._first_seen is None:
            self._first_seen = at

    def _seen_earliest(self, at: float) -> None:
        if self._first_seen is None or at < self._first_seen:
            self._first_seen = at

    # -- participants ----------------------------------------------------------------------

    def _speaker(self, raw_id: str) -> _Speaker:
        sp = self._speakers.get(raw_id)
        if sp is None:
            participant = Participant(
                raw_id, participant_kind(raw_id), default_name(raw_id), self._next_colour
            )
            self._next_colour += 1
            sp = self._speakers[raw_id] = _Speaker(participant)
            self._emit(ParticipantAdded(participant, self._next_revision()))
        return sp

    def learn_participants(
        self, raw_ids: Iterable[str], names: Mapping[str, str] | None = None
    ) -> list[Participant]:
        """Add participants not seen yet; adopt service-provided names unless the operator
        renamed them. Returns the participants that were new."""
        added = []
        for raw_id in raw_ids:
            if not isinstance(raw_id, str) or not raw_id:
                continue
            is_new = raw_id not in self._speakers
            participant = self._speaker(raw_id).participant
            if is_new:
                added.append(participant)
            name = (names or {}).get(raw_id)
            if (
                isinstance(name, str)
                and name.strip()
                and participant.name_source is not NameSource.OPERATOR
                and name.strip() != participant.display_name
            ):
                self._set_name(participant, name.strip(), NameSource.SERVICE)
        return added

    def rename(self, raw_id: str, name: str) -> Participant:
        """Operator rename; an empty name restores the default. KeyError for unknown ids."""
        participant = self._speakers[raw_id].participant
        name = " ".join(name.split())
        if name:
            self._set_name(participant, name, NameSource.OPERATOR)
        else:
            self._set_name(participant, default_name(raw_id), NameSource.DEFAULT)
        return participant

    def _set_name(self, participant: Participant, name: str, source: NameSource) -> None:
        if participant.display_name == name and participant.name_source is source:
            return
        old = participant.display_name
        participant.display_name = name
        participant.name_source = source
        by_operator = source is not NameSource.SERVICE
        self._emit(ParticipantRenamed(participant, old, by_operator, self._next_revision()))

    # -- packets ---------------------------------------------------------------------------

    def apply(self, packet: Packet, *, received_at: float) -> PhraseChanged | None:
        """Apply any parsed packet; kinds the transcript does not use are ignored."""
        if isinstance(packet, TranscriptionData):
            return self.apply_packet(packet, received_at=received_at)
        if isinstance(packet, TranscriptionMetadata):
            self.apply_metadata(packet, received_at=received_at)
        return None

    def apply_metadata(self, md: TranscriptionMetadata, *, received_at: float) -> None:
        """A transcription stream (re)opened: a new offset origin, maybe a new locale."""
        self._seen(received_at)
        self.metadata = md
        self._new_segment = True
        if self._states.get("connection") == MarkerKind.CONNECTION_INTERRUPTED:
            self.add_marker(MarkerKind.CONNECTION_REESTABLISHED, received_at)
        self.add_marker(MarkerKind.TRANSCRIPTION_STARTED, received_at)
        if md.locale:
            self.set_locale_confirmed(md.locale, received_at)

    def apply_packet(
        self, packet: TranscriptionData, *, received_at: float
    ) -> PhraseChanged | None:
        """Apply one transcription packet in O(1) (amortised). Returns the change, or None
        when the packet was ignored (a duplicate Final or a late Intermediate)."""
        if self._first_seen is None:
            self._first_seen = received_at
        raw_id = packet.participant_raw_id
        final = packet.result_status is ResultStatus.FINAL
        if final and (raw_id, packet.offset, packet.text) in self._seen_finals:
            self.ignored_duplicates += 1
            return None
        sp = self._speakers.get(raw_id) or self._speaker(raw_id)
        anchor = (
            self._segment_anchor(sp, packet, received_at) if self._new_segment else self._anchor
        )
        start = anchor + packet.offset
        if (
            not final
            and sp.last_start is not None
            and (start <= sp.last_start or start < (sp.last_end or 0))
        ):
            # A hypothesis for an utterance whose Final is already here: never overwrite it.
            # An ignored packet changes nothing (so a journal that skips it replays the same).
            self.ignored_late += 1
            return None
        if self._new_segment:
            self._new_segment = False
            if anchor != self._anchor:
                log.info(
                    "transcript stream re-anchored by %+.3f s",
                    (anchor - self._anchor) / TICKS_PER_SECOND,
                )
                self._anchor = anchor
        if final:
            return self._apply_final(sp, packet, start, received_at)
        phrase = sp.open
        if phrase is None:
            phrase = sp.open = self._new_phrase(sp, packet, PhraseStatus.INTERMEDIATE, received_at)
        else:
            self._update(phrase, packet, received_at)
        return self._emit(PhraseChanged(phrase, PhraseStatus.INTERMEDIATE, self._next_revision()))

    def _apply_final(
        self,
        sp: _Speaker,
        packet: TranscriptionData,
        start: int,
        received_at: float,
    ) -> PhraseChanged:
        phrase = sp.open
        if phrase is not None and not (
            start < phrase.start_ticks and start + packet.duration <= phrase.start_ticks
        ):
            # The open hypothesis settles in place, so a view keeps the same row.
            sp.open = None
            self._update(phrase, packet, received_at)
            phrase.status = PhraseStatus.FINAL
        else:
            # No hypothesis, or the open one is a later utterance: it stays open.
            phrase = self._new_phrase(sp, packet, PhraseStatus.FINAL, received_at)
        # Finals are kept for the whole call: share repeated strings instead of holding
        # one copy per packet.
        phrase.words = self._shared_words(packet.words)
        language = packet.language
        phrase.language = _canonical(language) if language else None
        phrase.sentiment = packet.sentiment
        self._seen_finals.add((phrase.raw_id, packet.offset, phrase.text))
        self._insert_final(sp, phrase)
        return self._emit(PhraseChanged(phrase, PhraseStatus.FINAL, self._next_revision()))

    def _new_phrase(
        self, sp: _Speaker, packet: TranscriptionData, status: PhraseStatus, received_at: float
    ) -> Phrase:
        phrase = Phrase(
            id=self._next_id,
            raw_id=sp.participant.raw_id,
            text=packet.text,
            status=status,
            offset=packet.offset,
            duration=packet.duration,
            anchor=self._anchor,
            confidence=packet.confidence,
            words=packet.words,
            locale=self._locale,
            received_at=received_at,
            first_received_at=received_at,
            seq=self._next_seq(),
        )
        self._next_id += 1
        return phrase

    def _update(self, phrase: Phrase, packet: TranscriptionData, received_at: float) -> None:
        phrase.text = packet.text
        phrase.offset = packet.offset
        phrase.duration = packet.duration
        phrase.anchor = self._anchor
        phrase.confidence = packet.confidence
        phrase.words = packet.words
        phrase.locale = self._locale
        phrase.received_at = received_at
        phrase.seq = self._next_seq()

    def _shared_words(self, words: tuple[Word, ...]) -> tuple[Word, ...]:
        vocab = self._vocab
        shared = []
        for word in words:
            text = vocab.setdefault(word.text, word.text)
            shared.append(word if text is word.text else Word(text, word.offset, word.duration))
        return tuple(shared)

    def _insert_final(self, sp: _Speaker, phrase: Phrase) -> None:
        _insert_sorted(self._finals, phrase)
        if sp.finals is None:
            sp.finals = []
        _insert_sorted(sp.finals, phrase)
        start = phrase.start_ticks
        end = start + phrase.duration
        if sp.last_start is None or start > sp.last_start:
            sp.last_start = start
        if sp.last_end is None or end > sp.last_end:
            sp.last_end = end
        if end > self._max_end:
            self._max_end = end

    def _segment_anchor(self, sp: _Speaker, packet: TranscriptionData, at: float) -> int:
        """Where the first packet of a new stream puts that stream's offsets on the call clock
        (see :mod:`console.transcript.anchoring`)."""
        return stream_anchor(
            self._anchor,
            now=round((at - self.origin) * self.clock_rate * TICKS_PER_SECOND),
            offset=packet.offset,
            duration=packet.duration,
            call_known=self.call_started_at is not None,
            clock_rate=self.clock_rate,
            last_start=sp.last_start,
            max_end=self._max_end,
        )

    def abandon_open(self) -> list[Phrase]:
        """Resolve every open hypothesis as abandoned (its Final will not come)."""
        abandoned = []
        for sp in self._speakers.values():
            phrase = sp.open
            if phrase is None:
                continue
            sp.open = None
            phrase.status = PhraseStatus.ABANDONED
            _insert_sorted(self._abandoned, phrase)
            abandoned.append(phrase)
            self._emit(PhraseChanged(phrase, PhraseStatus.ABANDONED, self._next_revision()))
        return abandoned

    # -- markers, locale, events -----------------------------------------------------------

    def set_locale_confirmed(self, locale: str, at: float) -> Marker | None:
        """The service confirmed ``locale``; a change adds a locale marker."""
        canon = canonical_locale(locale)
        if not canon or canon == self._locale:
            return None
        self._seen(at)
        self._locale = canon
        return self._add(Marker(MarkerKind.LOCALE_CHANGED, at, canon, self._next_seq()))

    def add_marker(self, kind: str, at: float, detail: str = "") -> Marker | None:
        """Add a timeline marker. State markers (call/transcription/connection) are added only
        when they change that state, so reporting a transition twice is harmless. Returns the
        marker, or None when it changed nothing."""
        kind = str(kind)
        if kind == MarkerKind.LOCALE_CHANGED:
            return self.set_locale_confirmed(detail, at)
        self._seen(at)
        if kind in ENDS_PHRASES:
            self.abandon_open()
        if kind in NEW_SEGMENT:
            self._new_segment = True
        if kind == MarkerKind.CALL_CONNECTED and self.call_started_at is None:
            self.call_started_at = at
        family = FAMILY.get(kind)
        if family is not None:
            state = marker_state(kind, detail)
            if self._states.get(family) == state:
                return None
            self._states[family] = state
        else:
            key = (kind, at, detail)
            if key in self._free_markers:
                return None
            self._free_markers.add(key)
        return self._add(Marker(kind, at, detail, self._next_seq()))

    def _add(self, marker: Marker) -> Marker:
        if not self._markers or _marker_key(self._markers[-1]) <= _marker_key(marker):
            self._markers.append(marker)
        else:
            bisect.insort(self._markers, marker, key=_marker_key)
        self._emit(MarkerAdded(marker, self._next_revision()))
        return marker

    def apply_event(self, event: ev.CallEvent, *, received_at: float) -> None:
        """Project one typed callback event onto the transcript: participants, and the
        markers of :func:`~console.transcript.event_markers.markers_for`."""
        if isinstance(event, ev.ParticipantsUpdated):
            people = event.participants
            names = {p.raw_id: p.display_name for p in people if p.display_name}
            self.learn_participants([p.raw_id for p in people], names)
        for kind, detail in markers_for(event):
            self.add_marker(kind, received_at, detail)

    # -- reopening a saved transcript ------------------------------------------------------

    @classmethod
    def restore(
        cls,
        *,
        participants: Iterable[Participant],
        finals: Iterable[Phrase],
        markers: Iterable[Marker],
        locale: str | None = None,
        call_started_at: float | None = None,
        call_info: Mapping[str, Any] | None = None,
    ) -> Transcript:
        """Rebuild a transcript from saved state (used by the JSON reader), colours and ids
        as saved. No change records are emitted."""
        t = cls(call_info=call_info, call_started_at=call_started_at)
        t._locale = locale
        for p in participants:
            t._speakers[p.raw_id] = _Speaker(p)
            t._next_colour = max(t._next_colour, p.colour + 1)
        for phrase in finals:
            if phrase.status is PhraseStatus.ABANDONED:
                _insert_sorted(t._abandoned, phrase)
                continue
            sp = t._speakers.get(phrase.raw_id)
            if sp is None:
                sp = t._speakers[phrase.raw_id] = _Speaker(
                    Participant(
                        phrase.raw_id,
                        participant_kind(phrase.raw_id),
                        default_name(phrase.raw_id),
                        t._next_colour,
                    )
                )
                t._next_colour += 1
            t._seen_finals.add((phrase.raw_id, phrase.offset, phrase.text))
            t._insert_final(sp, phrase)
            t._next_id = max(t._next_id, phrase.id + 1)
            t._seq = max(t._seq, phrase.seq)
            t._anchor = phrase.anchor
            t._seen_earliest(phrase.received_at)
        for marker in sorted(markers, key=_marker_key):
            t._markers.append(marker)
            t._seq = max(t._seq, marker.seq)
            family = FAMILY.get(marker.kind)
            if family is not None:
                t._states[family] = marker_state(marker.kind, marker.detail)
            else:
                t._free_markers.add((marker.kind, marker.at, marker.detail))
            t._seen_earliest(marker.at)
        return t
