"""The lines a transcript view writes: a phrase's line in its speaker's pane (with its marks:
language, sentiment, alerts), its line in the combined view (the same fragments with the
speaker's name), markers and provisional text."""

from __future__ import annotations

from console.transcript.model import Transcript
from console.transcript.timeline import Marker, MarkerKind, Phrase, PhraseStatus
from console.ui.call_marks import CallMarks
from console.ui.formatting import Styler
from console.ui.phrase_view import Entry, Fragment


class TranscriptLines:
    def __init__(self, styler: Styler, marks: CallMarks) -> None:
        self.styler = styler
        self.marks = marks  # the alerts each Final carries
        self.transcript: Transcript | None = None
        self.switch_markers: set[int] = set()  # language switches made after text was shown

    def colour(self, raw_id: str) -> int:
        t = self.transcript
        participant = t.participant(raw_id) if t is not None else None
        return participant.colour if participant is not None else 0

    def name(self, raw_id: str) -> str:
        t = self.transcript
        participant = t.participant(raw_id) if t is not None else None
        return participant.display_name if participant is not None else raw_id

    def pane_line(self, phrase: Phrase) -> Entry:
        colour = self.colour(phrase.raw_id)
        if phrase.status is PhraseStatus.ABANDONED:
            return Entry(self.styler.abandoned(phrase, colour))
        locale = self.transcript.locale if self.transcript is not None else None
        alerts = self.marks.alerts_on(phrase)
        return Entry(self.styler.final(phrase, colour, call_locale=locale, alerts=alerts))

    def combined_line(self, item: Phrase | Marker, pane_line: Entry | None = None) -> Entry:
        """A phrase's is its pane line (styled once for both) with the speaker's name added."""
        if isinstance(item, Marker):
            return self.marker_line(item, keyed=True)
        frags = list((pane_line or self.pane_line(item)).fragments)
        frags.insert(1, self.styler.speaker(self.name(item.raw_id), self.colour(item.raw_id)))
        return Entry(frags, key=(item.start, 1.0, float(item.seq)))

    def marker_in_panes(self, marker: Marker) -> bool:
        """Panes show what changes how to read the text after it; the rest is in Combined."""
        if marker.kind == MarkerKind.CALL_CONNECTED:
            return False
        if marker.kind == MarkerKind.LOCALE_CHANGED:
            # A confirmation before any text is not a switch; "transcription started" says it.
            return marker.seq in self.switch_markers
        return True

    def marker_line(self, marker: Marker, *, keyed: bool) -> Entry:
        assert self.transcript is not None
        frags = self.styler.marker(marker, self.transcript)
        key = (self.transcript.time_of(marker), 0.0, float(marker.seq)) if keyed else None
        return Entry(frags, key=key, centered=True)

    def interim(self, phrase: Phrase) -> list[Fragment]:
        return self.styler.interim(phrase, self.colour(phrase.raw_id))

    def combined_interim(self) -> list[Fragment] | None:
        t = self.transcript
        if t is None:
            return None
        frags: list[Fragment] = []
        for phrase in t.open_intermediates():
            if frags:
                frags.append(Fragment("\u2028", frags[-1].fmt))  # line break inside the block
            colour = self.colour(phrase.raw_id)
            frags += self.styler.interim(phrase, colour, speaker=self.name(phrase.raw_id))
        return frags or None
