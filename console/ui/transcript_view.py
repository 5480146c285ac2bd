"""The transcript area: one pane per participant (or the combined view), bound to a Transcript.

Change records from the model only mark state dirty; a ~30 ms timer flushes them into the
widgets in one edit per pane. Under a packet burst that costs one repaint per frame instead of
one per packet, and the model keeps taking packets at full speed. Audio level meters ride on the
same timer: an audio frame only marks them dirty, and a flush reads every meter once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QColor
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from console.audio_levels import CALL_MIX, EMPTY, FLOOR_DB, AudioLevels, LevelReading
from console.transcript.alerts import Alert
from console.transcript.model import Transcript
from console.transcript.timeline import (
    Change,
    Marker,
    MarkerAdded,
    MarkerKind,
    ParticipantAdded,
    ParticipantRenamed,
    Phrase,
    PhraseChanged,
    PhraseStatus,
)
from console.ui.call_marks import CallMarks, InsightsSource
from console.ui.formatting import Styler, Thresholds, trend_text
from console.ui.insights_strip import InsightsStrip
from console.ui.pane import ParticipantPane
from console.ui.pane_grid import PaneGrid
from console.ui.phrase_view import Entry, Fragment, PhraseView
from console.ui.theme import current_scheme
from console.ui.transcript_bar import TranscriptBar

log = logging.getLogger(__name__)

FLUSH_MS = 30
_ANNOUNCE_PER_FLUSH = 3


@dataclass(slots=True)
class _Pending:
    """What changed since the last flush, in arrival order per pane."""

    new_participants: list[str] = field(default_factory=list)
    renamed: set[str] = field(default_factory=set)
    settled: list[Phrase | Marker] = field(default_factory=list)  # finals, abandoned, markers
    interim: set[str] = field(default_factory=set)
    finals: list[Phrase] = field(default_factory=list)

    def any(self) -> bool:
        return bool(self.new_participants or self.renamed or self.settled or self.interim)


class CombinedView(QFrame):
    """All participants interleaved chronologically, each in their colour."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Pane")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(1, 1, 1, 1)
        self.view = PhraseView(self)
        self.view.setAccessibleName("Combined transcript, all participants")
        self.view.setObjectName("CombinedView")
        self.view.set_jump_icon_colour(current_scheme().base)
        layout.addWidget(self.view)


class TranscriptView(QWidget):
    rename_requested = Signal(str, str)  # raw id, name
    hold_requested = Signal(str, bool)  # raw id, on hold
    redacted_toggled = Signal(bool)  # the operator switched the Redacted view
    copy_all_requested = Signal()
    flushed = Signal(int)  # transcript revision now on screen
    final_announced = Signal(str)

    def __init__(
        self, parent: QWidget | None = None, *, read_only: bool = False, holdable: bool = False
    ) -> None:
        super().__init__(parent)
        self.read_only = read_only
        self._holdable_view = holdable  # a live call's view: participants can be held
        self._held: frozenset[str] = frozenset()
        self._can_hold = False
        self.transcript: Transcript | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._thresholds = Thresholds()
        self._redacted = False
        self._styler = Styler(current_scheme(), self._thresholds, self.font())
        self.marks = CallMarks()  # alerts, sentiment trends, insights
        self._pending = _Pending()
        self.panes: dict[str, ParticipantPane] = {}
        self._order: list[str] = []
        self._combined_dirty_rebuild = False
        self._origin: float | None = None
        self._switch_markers: set[int] = set()
        self.flush_count = 0
        self.shown_revision = 0
        self.audio: AudioLevels | None = None
        self._unsubscribe_audio: Callable[[], None] | None = None
        self._levels_revision = -1
        self._levels_moving = False  # a meter is above empty: keep flushing while it falls

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FLUSH_MS)
        self._timer.timeout.connect(self.flush)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(6)
        self.bar = TranscriptBar(self, self._thresholds)
        self.panes_button, self.combined_button = self.bar.panes_button, self.bar.combined_button
        self.redacted_button, self.legend_label = self.bar.redacted_button, self.bar.legend_label
        self.mix_label, self.mix_meter = self.bar.mix_label, self.bar.mix_meter
        self.bar.view_chosen.connect(self.show_combined)
        self.redacted_button.toggled.connect(self.redacted_toggled)
        outer.addWidget(self.bar)
        self.insights = InsightsStrip(self)
        self.insights.setVisible(False)
        outer.addWidget(self.insights)

        self.stack = QStackedWidget(self)
        self.split_host = PaneGrid(self.stack)
        self.empty_label = self.split_host.empty_label
        self.stack.addWidget(self.split_host)
        self.combined = CombinedView(self.stack)
        self.combined.view.copy_all_requested.connect(self.copy_all_requested)
        self.stack.addWidget(self.combined)
        outer.addWidget(self.stack, 1)

        # Screen readers hear Finals only: this label changes (and is announced) per Final.
        self.live_label = QLabel("", self)
        self.live_label.setAccessibleName("Latest transcript line")
        self.live_label.setMaximumHeight(0)  # present for assistive tech, not drawn
        outer.addWidget(self.live_label)

    # --- binding ----------------------------------------------------------------------------
    def set_transcript(
        self,
        transcript: Transcript | None,
        *,
        alerts: list[Alert] | None = None,
        insights: InsightsSource | None = None,
    ) -> None:
        """Show a transcript (live or saved); renders what it already has, then follows it.
        A live call gives its alerts and running insights; a saved one has them worked out."""
        self.marks.reset(transcript, alerts=alerts, insights=insights)
        self._bind(transcript)

    def _bind(self, transcript: Transcript | None) -> None:
        self.marks.restart_trends()  # rebuilt as the Finals are rendered again
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._timer.stop()
        self._pending = _Pending()
        for pane in self.panes.values():
            pane.setParent(None)
            pane.deleteLater()
        self.panes.clear()
        self._order.clear()
        self.split_host.reset()
        self.combined.view.clear_all()
        self.transcript = transcript
        if transcript is None:
            self.split_host.arrange([self.panes[r] for r in self._order])
            self.insights.setVisible(False)
            return
        self._origin = transcript.origin
        self._unsubscribe = transcript.subscribe(self._on_change)
        self._render_all()

    def _render_all(self) -> None:
        t = self.transcript
        assert t is not None
        for p in t.participants:
            self._add_pane(p.raw_id)
        for raw_id, pane in self.panes.items():
            entries = [self._entry(ph) for ph in t.settled_for(raw_id)]
            pane.view.update_content(entries, None, interim_changed=False)
        self._rebuild_combined()
        for raw_id in self.panes:
            self._pending.interim.add(raw_id)
        self.split_host.arrange([self.panes[r] for r in self._order])
        self.shown_revision = t.revision
        self._show_trends(self.panes)
        self.refresh_insights()
        self._schedule()

    def note_alert(self, alert: Alert) -> None:
        """An alert on the call in view (raised before its Final is painted)."""
        self.marks.note_alert(alert)

    def refresh_insights(self) -> None:
        self.insights.show_snapshot(self.marks.snapshot(), self._name, self.marks.alert_count)

    def _show_trends(self, raw_ids: Iterable[str]) -> None:
        for raw_id in raw_ids:
            pane = self.panes.get(raw_id)
            if pane is not None:
                trend = self.marks.trend(raw_id)
                pane.set_trend(trend, trend_text(trend))

    def _rebuild_combined(self) -> None:
        t = self.transcript
        view = self.combined.view
        view.clear_all()
        if t is None:
            return
        self._origin = t.origin
        entries = []
        for item in t.timeline(abandoned=True):
            if isinstance(item, Marker):
                entries.append(self._marker_entry(item, keyed=True))
            else:
                entries.append(self._combined_entry(item))
        view.update_content(entries, self._combined_interim(), interim_changed=True)
        self._combined_dirty_rebuild = False

    def _on_change(self, change: Change) -> None:
        # Runs once per packet: record, never touch widgets here.
        p = self._pending
        if isinstance(change, PhraseChanged):
            raw_id = change.phrase.raw_id
            if change.kind == PhraseStatus.INTERMEDIATE:
                p.interim.add(raw_id)
            else:
                p.settled.append(change.phrase)
                p.interim.add(raw_id)
                if change.kind == PhraseStatus.FINAL:
                    p.finals.append(change.phrase)
        elif isinstance(change, ParticipantAdded):
            p.new_participants.append(change.participant.raw_id)
        elif isinstance(change, ParticipantRenamed):
            p.renamed.add(change.participant.raw_id)
        elif isinstance(change, MarkerAdded):
            p.settled.append(change.marker)
            t = self.transcript
            if change.marker.kind == MarkerKind.LOCALE_CHANGED and t is not None and t.final_count:
                self._switch_markers.add(change.marker.seq)
        self._schedule()

    def _schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()

    # --- audio levels ---------------------------------------------------------------------------
    def set_audio(self, levels: AudioLevels | None) -> None:
        """Follow a call's audio levels (None: no meters, as for a saved transcript)."""
        if self._unsubscribe_audio is not None:
            self._unsubscribe_audio()
            self._unsubscribe_audio = None
        self.audio = levels
        self._levels_revision = -1
        for pane in self.panes.values():
            pane.meter.setVisible(levels is not None)
            pane.set_level(None)
        self.mix_meter.set_reading(None)
        self.mix_label.setVisible(False)
        self.mix_meter.setVisible(False)
        if levels is not None:
            # Runs once per audio frame: only schedule the flush, which reads the meters.
            self._unsubscribe_audio = levels.subscribe(self._schedule)
            self._schedule()

    def _flush_levels(self) -> None:
        levels = self.audio
        if levels is None or (levels.revision == self._levels_revision and not self._levels_moving):
            return
        self._levels_revision = levels.revision
        readings = levels.readings()
        moving = False
        for raw_id, pane in self.panes.items():
            reading = readings.get(raw_id, EMPTY)  # streaming, but nothing from them now
            pane.set_level(reading)
            moving = moving or _moving(reading)
        mix = readings.get(CALL_MIX)
        self.mix_label.setVisible(mix is not None)
        self.mix_meter.setVisible(mix is not None)
        self.mix_meter.set_reading(mix)
        moving = moving or _moving(mix)
        self._levels_moving = moving
        if moving:
            self._schedule()  # no frames may come (the stream stalled): let the meters fall

    # --- flushing -------------------------------------------------------------------------------
    def flush(self) -> None:
        self._timer.stop()
        self._flush_transcript()
        self._flush_levels()

    def _flush_transcript(self) -> None:
        t = self.transcript
        p = self._pending
        if t is None or not p.any():
            return
        self._pending = _Pending()
        self.flush_count += 1
        for raw_id in p.new_participants:
            self._add_pane(raw_id)
        if len(self._order) != self.split_host.count:
            self.split_host.arrange([self.panes[r] for r in self._order])
        if t.origin != self._origin:
            self._combined_dirty_rebuild = True  # the call clock's zero moved
        if p.renamed:
            for raw_id in p.renamed:
                pane = self.panes.get(raw_id)
                participant = t.participant(raw_id)
                if pane is not None and participant is not None:
                    pane.set_name(participant.display_name)
            self._combined_dirty_rebuild = True  # names are part of each combined line
        # Per pane, in arrival order: its own phrases and every marker.
        per_pane: dict[str, list[Entry]] = {}
        marker_seen = False
        for item in p.settled:
            if isinstance(item, Marker):
                if not self._marker_in_panes(item):
                    continue
                entry = self._marker_entry(item, keyed=False)
                for raw_id in self.panes:
                    per_pane.setdefault(raw_id, []).append(entry)
                marker_seen = True
            else:
                per_pane.setdefault(item.raw_id, []).append(self._entry(item))
        touched = set(per_pane) | p.interim
        if marker_seen:
            touched |= set(self.panes)
        for raw_id in touched:
            pane = self.panes.get(raw_id)
            if pane is None:
                continue
            entries = per_pane.get(raw_id, [])
            interim_changed = raw_id in p.interim or bool(entries)
            phrase = t.open_intermediate(raw_id)
            interim = self._interim_fragments(phrase) if phrase is not None else None
            pane.view.update_content(entries, interim, interim_changed=interim_changed)
            pane.set_speaking(phrase is not None)
        if self._combined_dirty_rebuild:
            self._rebuild_combined()
        else:
            combined = [
                self._marker_entry(item, keyed=True)
                if isinstance(item, Marker)
                else self._combined_entry(item)
                for item in p.settled
            ]
            combined.sort(key=lambda e: e.key or ())
            self.combined.view.update_content(combined, self._combined_interim())
        self._announce(p.finals)
        if p.finals:
            self._show_trends({f.raw_id for f in p.finals})
        self.shown_revision = t.revision
        self.flushed.emit(t.revision)

    def _announce(self, finals: list[Phrase]) -> None:
        if not finals or self.read_only:
            return
        t = self.transcript
        assert t is not None
        for phrase in finals[-_ANNOUNCE_PER_FLUSH:]:
            participant = t.participant(phrase.raw_id)
            name = participant.display_name if participant else phrase.raw_id
            text = f"{name}: {phrase.text}"
            self.live_label.setText(text)
            if QAccessible.isActive():
                QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(self.live_label, text))
            self.final_announced.emit(text)

    # --- entries ---------------------------------------------------------------------------------
    def _colour(self, raw_id: str) -> int:
        t = self.transcript
        participant = t.participant(raw_id) if t is not None else None
        return participant.colour if participant is not None else 0

    def _name(self, raw_id: str) -> str:
        t = self.transcript
        participant = t.participant(raw_id) if t is not None else None
        return participant.display_name if participant is not None else raw_id

    def _entry(self, phrase: Phrase) -> Entry:
        colour = self._colour(phrase.raw_id)
        if phrase.status is PhraseStatus.ABANDONED:
            return Entry(self._styler.abandoned(phrase, colour))
        self.marks.note_final(phrase)
        return Entry(self._final(phrase, colour))

    def _final(self, phrase: Phrase, colour: int, speaker: str | None = None) -> list[Fragment]:
        locale = self.transcript.locale if self.transcript is not None else None
        alerts = self.marks.alerts_on(phrase)
        return self._styler.final(
            phrase, colour, speaker=speaker, call_locale=locale, alerts=alerts
        )

    def _combined_entry(self, phrase: Phrase) -> Entry:
        colour = self._colour(phrase.raw_id)
        name = self._name(phrase.raw_id)
        if phrase.status is PhraseStatus.ABANDONED:
            frags = self._styler.abandoned(phrase, colour, speaker=name)
        else:
            frags = self._final(phrase, colour, speaker=name)
        return Entry(frags, key=(phrase.start, 1.0, float(phrase.seq)))

    def _marker_in_panes(self, marker: Marker) -> bool:
        """Panes show what changes how to read the text after it; the rest is in Combined."""
        if marker.kind == MarkerKind.CALL_CONNECTED:
            return False
        if marker.kind == MarkerKind.LOCALE_CHANGED:
            # A confirmation before any text is not a switch; "transcription started" says it.
            return marker.seq in self._switch_markers
        return True

    def _marker_entry(self, marker: Marker, *, keyed: bool) -> Entry:
        assert self.transcript is not None
        frags = self._styler.marker(marker, self.transcript)
        key = (self.transcript.time_of(marker), 0.0, float(marker.seq)) if keyed else None
        return Entry(frags, key=key, centered=True)

    def _interim_fragments(self, phrase: Phrase) -> list[Fragment]:
        return self._styler.interim(phrase, self._colour(phrase.raw_id))

    def _combined_interim(self) -> list[Fragment] | None:
        t = self.transcript
        if t is None:
            return None
        frags: list[Fragment] = []
        for phrase in t.open_intermediates():
            if frags:
                frags.append(Fragment("\u2028", frags[-1].fmt))  # line break inside the block
            colour = self._colour(phrase.raw_id)
            frags += self._styler.interim(phrase, colour, speaker=self._name(phrase.raw_id))
        return frags or None

    # --- panes and layout ------------------------------------------------------------------------
    def _add_pane(self, raw_id: str) -> None:
        if raw_id in self.panes or self.transcript is None:
            return
        participant = self.transcript.participant(raw_id)
        name = participant.display_name if participant else raw_id
        colour = participant.colour if participant else len(self._order)
        pane = ParticipantPane(raw_id, name, colour, self.split_host)
        if self.read_only:
            pane.name_edit.setReadOnly(True)
            pane.name_edit.setToolTip("")
        pane.rename_requested.connect(self.rename_requested)
        pane.hold_requested.connect(self.hold_requested)
        pane.view.copy_all_requested.connect(self.copy_all_requested)
        if self._holdable_view:
            pane.set_held(raw_id in self._held, holdable=self._can_hold)
        pane.meter.setVisible(self.audio is not None)
        self._levels_revision = -1  # read its meter at the next flush
        self.panes[raw_id] = pane
        self._order.append(raw_id)

    def set_held(self, held: frozenset[str], *, holdable: bool) -> None:
        """Who is on hold in the call in view, and whether holding applies now."""
        if not self._holdable_view:
            return
        self._held, self._can_hold = held, holdable
        for raw_id, pane in self.panes.items():
            pane.set_held(raw_id in held, holdable=holdable)

    @property
    def splitter(self) -> QSplitter | None:
        return self.split_host.splitter

    # --- operator actions ------------------------------------------------------------------------
    def show_combined(self, on: bool) -> None:
        self.stack.setCurrentWidget(self.combined if on else self.split_host)
        (self.combined_button if on else self.panes_button).setChecked(True)

    @property
    def combined_shown(self) -> bool:
        return self.stack.currentWidget() is self.combined

    def set_thresholds(self, warn: float, critical: float) -> None:
        self._thresholds.warn = warn
        self._thresholds.critical = critical
        self.restyle()

    @property
    def redacted(self) -> bool:
        return self._styler.redacted

    def set_redacted(self, on: bool) -> None:
        """The Redacted view (for screen sharing): shown masked, the transcript unchanged."""
        self.redacted_button.blockSignals(True)
        self.redacted_button.setChecked(on)
        self.redacted_button.blockSignals(False)
        if on != self._styler.redacted:
            self._redacted = on
            self.restyle()

    def restyle(self) -> None:
        """Re-render with the current theme and thresholds (rare: a settings change)."""
        self._styler = Styler(
            current_scheme(), self._thresholds, self.font(), redacted=self._redacted
        )
        self.bar.update_legend()
        self.insights.restyle()
        self.empty_label.setStyleSheet(f"color: {current_scheme().muted}; font-size: 11pt;")
        for pane in self.panes.values():
            pane.apply_colours()
        self.combined.view.set_jump_icon_colour(current_scheme().base)
        if self.transcript is not None:
            self._bind(self.transcript)

    def jump_to_live(self) -> None:
        for view in self.views():
            view.jump_to_live()

    def views(self) -> list[PhraseView]:
        return [self.panes[r].view for r in self._order] + [self.combined.view]

    def visible_views(self) -> list[PhraseView]:
        if self.combined_shown:
            return [self.combined.view]
        return [self.panes[r].view for r in self._order]

    def highlight(self, needle: str) -> list[tuple[PhraseView, int]]:
        """Highlight matches in every view; returns (view, position) of each, in pane order."""
        bg = QColor(current_scheme().find_bg)
        out: list[tuple[PhraseView, int]] = []
        for view in self.views():
            view.highlight(needle, bg)
        for view in self.visible_views():
            out += [(view, pos) for pos in view.match_positions()]
        return out

    def clear_highlights(self) -> None:
        for view in self.views():
            view.clear_highlights()

    def close_binding(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._unsubscribe_audio is not None:
            self._unsubscribe_audio()
            self._unsubscribe_audio = None
        self.audio = None  # a flush already queued must not restart the timer for falling meters
        self._timer.stop()


def _moving(reading: LevelReading | None) -> bool:
    """Whether a meter will still change without new frames (it is falling, or held)."""
    return reading is not None and (
        reading.level_db > FLOOR_DB or reading.peak_db > FLOOR_DB or reading.speaking
    )
