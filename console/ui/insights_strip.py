"""The insights strip above the panes: talk time per speaker (share and seconds), words per
minute, overtalk, long silences and alerts, in one compact line (details in its tooltip)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QWidget

from console.transcript.insights import InsightsSnapshot
from console.ui.formatting import ALERT_MARK, clock, trend_text
from console.ui.theme import current_scheme


def _minutes(seconds: float) -> str:
    return clock(round(seconds))


def strip_text(
    snap: InsightsSnapshot, name_of: Callable[[str], str], alerts: int
) -> tuple[str, str]:
    """(the line, its tooltip) for a snapshot."""
    talk = " · ".join(
        f"{name_of(s.raw_id)} {s.share:.0%} ({_minutes(s.talk_seconds)})" for s in snap.speakers
    )
    parts = [f"Talk: {talk}" if talk else "Talk: nobody yet"]
    parts.append(
        f"Overtalk {snap.overtalk_count}"
        + (f" ({snap.overtalk_seconds:.1f} s)" if snap.overtalk_count else "")
    )
    longest = snap.longest_silence
    silence = f"Long silences {snap.silence_count}"
    if longest is not None:
        silence += f" (longest {longest.duration:.0f} s)"
    parts.append(silence)
    if alerts:
        parts.append(f"{ALERT_MARK} {alerts} alert{'s' if alerts != 1 else ''}")
    lines = []
    for s in snap.speakers:
        pace = f"{s.words_per_minute:.0f} words/min" if s.words_per_minute else "pace unknown"
        trend = f", sentiment {trend_text(s.sentiments)}" if s.sentiments else ""
        lines.append(
            f"{name_of(s.raw_id)}: {s.talk_seconds:.1f} s talking ({s.share:.0%}), "
            f"{s.turns} turns, {pace}{trend}"
        )
    lines.append(
        f"Overtalk: {snap.overtalk_count} times, {snap.overtalk_seconds:.1f} s in all "
        "(Finals of two speakers overlapping)"
    )
    lines.append(
        f"Silences longer than {snap.silence_threshold:.0f} s: {snap.silence_count}"
        + (f", the longest {longest.duration:.1f} s" if longest is not None else "")
    )
    return "   |   ".join(parts), "\n".join(lines)


class InsightsStrip(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("InsightsStrip")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 4, 0)
        self.label = QLabel("", self)
        self.label.setObjectName("InsightsText")
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setAccessibleName("Call insights")
        row.addWidget(self.label, 1)
        self.restyle()

    def restyle(self) -> None:
        self.label.setStyleSheet(f"color: {current_scheme().muted};")

    def show_snapshot(
        self, snap: InsightsSnapshot | None, name_of: Callable[[str], str], alerts: int
    ) -> None:
        if snap is None or not snap.finals:
            self.setVisible(False)
            return
        text, tip = strip_text(snap, name_of, alerts)
        if text != self.label.text():
            self.label.setText(text)
        self.label.setToolTip(tip)
        self.setVisible(True)
