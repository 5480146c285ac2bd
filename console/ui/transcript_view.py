"""The transcript area: one pane per participant (or the combined view), bound to a Transcript.

Change records from the model only mark state dirty; a timer flushes them into the widgets in
one edit per pane, at most once per ~30 ms (at once after a quiet spell). Under a packet burst
that costs one repaint per frame instead of one per packet, and the model keeps taking packets at
full speed. Audio level meters ride on the same timer: an audio frame only marks them dirty, and
a flush reads every meter once.

Bringing a transcript into view writes each view's newest lines at once and the older ones in the
background (:mod:`console.ui.backfill`), into the panes the last transcript used.
"""

from __future__ import annotations

import logging
import time
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
from console.ui.backfill import Backfill, split_tail
from console.ui.call_marks import CallMarks, InsightsSource
from console.ui.formatting import Styler, Thresholds, trend_text
from console.ui.insights_strip import InsightsStrip
from console.ui.pane import ParticipantPane
from console.ui.pane_grid import PaneGrid
from console.ui.phrase_view import Entry, PhraseView
from console.ui.theme import current_scheme
from console.ui.transcript_bar import TranscriptBar
from console.ui.transcript_lines import TranscriptLines

log = logging.getLogger(__name__)

FLUSH_MS = 30
_ANNOUNCE_PER_FLUSH = 3
_SPARE_PANES = 12  # panes kept for the next call brought into view


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
        self.marks = CallMarks()  # alerts, sentiment trends, insights
        styler = Styler(current_scheme(), self._thresholds, self.font())
        self.lines = TranscriptLines(styler, self.marks)
        self._pending = _Pending()
        self.panes: dict[str, ParticipantPane] = {}
        self._order: list[str] = []
        self._spare: list[ParticipantPane] = []  # built panes not in use, reused first
        self._combined_dirty_rebuild = False
        self._origin: float | None = None
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
        self._flushed_at = 0.0  # monotonic start of the last flush
        self._backfill = Backfill(self)
        self._backfill.done.connect(lambda: self.flushed.emit(self.shown_revision))

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

        if holdable:
            # A live call's first speaker then finds a pane ready: the first one built in a
            # process costs several times the others (Qt's one-time set-up), mid-call otherwise.
            spare = self._new_pane("", "", 0)
            spare.hide()
            self._spare.append(spare)

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
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._timer.stop()
        self._backfill.clear()
        self._pending = _Pending()
        # The panes in view are reused in their places for the next transcript's participants.
        self._spare[:0] = [self.panes[r] for r in self._order]
        self.panes.clear()
        self._order.clear()
        self.combined.view.clear_all()
        self.transcript = self.lines.transcript = transcript
        if transcript is None:
            self._arrange()
            self.insights.setVisible(False)
            return
        self._origin = transcript.origin
        self._unsubscribe = transcript.subscribe(self._on_change)
        self._render_all()

    def _render_all(self) -> None:
        # What is on screen first (each view's tail); older text follows in the background.
        t = self.transcript
        assert t is not None
        for p in t.participants:
            self._add_pane(p.raw_id)
        self._arrange()
        for raw_id, pane in self.panes.items():
            older, tail = split_tail(t.settled_for(raw_id))
            pane.view.update_content(
                [self.lines.pane_line(ph) for ph in tail], None, interim_changed=False
            )
            self._backfill.add(pane.view, older, self.lines.pane_line)
        self._rebuild_combined()
        for raw_id in self.panes:
            self._pending.interim.add(raw_id)
        self.shown_revision = t.revision
        self.marks.restart_trends(t)
        self._show_trends(self.panes)
        self.refresh_insights()
        self._schedule()

    def note_alert(self, alert: Alert) -> None:
        """An alert on the call in view (raised before its Final is painted)."""
        self.marks.note_alert(alert)

    def refresh_insights(self) -> None:
        self.insights.show_snapshot(self.marks.snapshot(), self.lines.name, self.marks.alert_count)

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
        self._backfill.cancel(view)
        if t is None:
            return
        self._origin = t.origin
        older, tail = split_tail(t.timeline(abandoned=True))
        entries = [self.lines.combined_line(item) for item in tail]
        view.update_content(entries, self.lines.combined_interim(), interim_changed=True)
        self._backfill.add(view, older, self.lines.combined_line)
        self._combined_dirty_rebuild = False

    def _arrange(self) -> None:
        self.split_host.arrange([self.panes[r] for r in self._order])
        for pane in self._spare[_SPARE_PANES:]:  # parked by the grid; beyond a few, they go
            pane.deleteLater()
        del self._spare[_SPARE_PANES:]

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
                self.lines.switch_markers.add(change.marker.seq)
        self._schedule()

    def _schedule(self) -> None:
        # At most one flush per FLUSH_MS, but at once when the last was longer ago: a packet
        # after a quiet spell is painted on the next loop turn instead of waiting a full frame.
        if not self._timer.isActive():
            since = (time.monotonic() - self._flushed_at) * 1000
            self._timer.start(max(0, round(FLUSH_MS - since)))

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
        self._flushed_at = time.monotonic()
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
            self._arrange()
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
        styled: dict[int, Entry] = {}  # a phrase's pane line, reused for its combined line
        marker_seen = False
        for item in p.settled:
            if isinstance(item, Marker):
                if not self.lines.marker_in_panes(item):
                    continue
                entry = self.lines.marker_line(item, keyed=False)
                for raw_id in self.panes:
                    per_pane.setdefault(raw_id, []).append(entry)
                marker_seen = True
            else:
                entry = styled[id(item)] = self.lines.pane_line(item)
                per_pane.setdefault(item.raw_id, []).append(entry)
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
            interim = self.lines.interim(phrase) if phrase is not None else None
            pane.view.update_content(entries, interim, interim_changed=interim_changed)
            pane.set_speaking(phrase is not None)
        if self._combined_dirty_rebuild:
            self._rebuild_combined()
        else:
            combined = [self.lines.combined_line(item, styled.get(id(item))) for item in p.settled]
            combined.sort(key=lambda e: e.key or ())
            self.combined.view.update_content(combined, self.lines.combined_interim())
        self._announce(p.finals)
        if p.finals:
            for final in p.finals:
                self.marks.note_final(final)
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

    # --- panes and layout ------------------------------------------------------------------------
    def _add_pane(self, raw_id: str) -> None:
        if raw_id in self.panes or self.transcript is None:
            return
        participant = self.transcript.participant(raw_id)
        name = participant.display_name if participant else raw_id
        colour = participant.colour if participant else len(self._order)
        if self._spare:
            pane = self._spare.pop(0)
            pane.reuse(raw_id, name, colour)
        else:
            pane = self._new_pane(raw_id, name, colour)
        if self.read_only:
            pane.name_edit.setReadOnly(True)
            pane.name_edit.setToolTip("")
        if self._holdable_view:
            pane.set_held(raw_id in self._held, holdable=self._can_hold)
        pane.meter.setVisible(self.audio is not None)
        self._levels_revision = -1  # read its meter at the next flush
        self.panes[raw_id] = pane
        self._order.append(raw_id)

    def _new_pane(self, raw_id: str, name: str, colour: int) -> ParticipantPane:
        pane = ParticipantPane(raw_id, name, colour, self.split_host)
        pane.rename_requested.connect(self.rename_requested)
        pane.hold_requested.connect(self.hold_requested)
        pane.view.copy_all_requested.connect(self.copy_all_requested)
        return pane

    def set_held(self, held: frozenset[str], *, holdable: bool) -> None:
        """Who is on hold in the call in view, and whether holding applies now."""
        if not self._holdable_view:
            return
        self._held, self._can_hold = held, holdable
        for raw_id, pane in self.panes.items():
            pane.set_held(raw_id in held, holdable=holdable)

    @property
    def filling(self) -> bool:
        """Older text of the transcript just brought into view is still being written."""
        return self._backfill.pending

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
        return self.lines.styler.redacted

    def set_redacted(self, on: bool) -> None:
        """The Redacted view (for screen sharing): shown masked, the transcript unchanged."""
        self.redacted_button.blockSignals(True)
        self.redacted_button.setChecked(on)
        self.redacted_button.blockSignals(False)
        if on != self.lines.styler.redacted:
            self._redacted = on
            self.restyle()

    def restyle(self) -> None:
        """Re-render with the current theme and thresholds (rare: a settings change)."""
        self.lines.styler = Styler(
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
        self._backfill.clear()


def _moving(reading: LevelReading | None) -> bool:
    """Whether a meter will still change without new frames (it is falling, or held)."""
    return reading is not None and (
        reading.level_db > FLOOR_DB or reading.peak_db > FLOOR_DB or reading.speaking
    )
