"""The bar above the transcript: By speaker / Combined, the Redacted view, the call's mixed
audio meter and the confidence legend."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QButtonGroup, QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from console.ui.formatting import Thresholds
from console.ui.icons import themed
from console.ui.level_meter import LevelMeter
from console.ui.theme import current_scheme


def _tool_button(parent: QWidget, text: str, icon: str, name: str, tip: str) -> QToolButton:
    button = QToolButton(parent)
    button.setText(text)
    themed(button, icon)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    button.setCheckable(True)
    button.setAccessibleName(name)
    button.setToolTip(tip)
    return button


class TranscriptBar(QFrame):
    view_chosen = Signal(bool)  # True: combined, False: one pane per speaker

    def __init__(self, parent: QWidget | None, thresholds: Thresholds) -> None:
        super().__init__(parent)
        self.setObjectName("Legend")
        self._thresholds = thresholds
        row = QHBoxLayout(self)
        row.setContentsMargins(2, 0, 2, 0)
        row.setSpacing(4)
        self.panes_button = _tool_button(
            self,
            "By speaker",
            "split",
            "Show one pane per speaker",
            "One pane per speaker (Ctrl+1)",
        )
        self.panes_button.setChecked(True)
        self.combined_button = _tool_button(
            self,
            "Combined",
            "combined",
            "Show the combined chronological view",
            "Everyone in one chronological view (Ctrl+2)",
        )
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.panes_button)
        group.addButton(self.combined_button)
        self.panes_button.toggled.connect(lambda on: on and self.view_chosen.emit(False))
        self.combined_button.toggled.connect(lambda on: on and self.view_chosen.emit(True))
        row.addWidget(self.panes_button)
        row.addWidget(self.combined_button)
        row.addSpacing(8)
        self.redacted_button = _tool_button(
            self,
            "Redacted view",
            "redact",
            "Redacted view",
            "Show personal data masked, for screen sharing (Ctrl+Shift+R). The transcript and "
            "what you save are unchanged.",
        )
        row.addWidget(self.redacted_button)
        row.addSpacing(12)
        # The mixed stream's level (frames that name no participant); shown when there is one.
        self.mix_label = QLabel("Call audio", self)
        self.mix_label.setObjectName("LegendText")
        self.mix_meter = LevelMeter(self, subject="the call")
        self.mix_label.setBuddy(self.mix_meter)
        row.addWidget(self.mix_label)
        row.addWidget(self.mix_meter)
        self.mix_label.setVisible(False)
        self.mix_meter.setVisible(False)
        row.addStretch(1)
        self.legend_label = QLabel(self)
        self.legend_label.setObjectName("LegendText")
        self.legend_label.setTextFormat(Qt.TextFormat.RichText)
        self.legend_label.setAccessibleName("Legend")
        row.addWidget(self.legend_label)
        self.update_legend()

    def update_legend(self) -> None:
        s = current_scheme()
        self.mix_label.setStyleSheet(f"color: {s.muted};")
        self.mix_meter.set_colours(QColor(s.accent), QColor(s.border))
        t = self._thresholds
        chip = (
            '<span style="background:{bg}; color:{fg}; text-decoration: underline;">'
            "&nbsp;{label}&nbsp;</span>"
        )
        self.legend_label.setText(
            f'<span style="color:{s.muted}">Confidence:</span> '
            + chip.format(bg=s.warn_bg, fg=s.text, label=f"below {t.warn:.0%}")
            + " "
            + chip.format(bg=s.crit_bg, fg=s.text, label=f"below {t.critical:.0%}")
            + f'&nbsp;&nbsp;<i style="color:{s.muted}">italic = provisional</i>'
        )
        self.legend_label.setToolTip(
            f"Amber (dotted underline): confidence below {t.warn:.0%}. "
            f"Red (wavy underline): below {t.critical:.0%}. Hover a phrase for details. "
            "After a Final: its language when the service identified another than the call's, "
            "its sentiment (▲ positive, ▼ negative, ● neutral, ◆ mixed) and ⚑ any alert."
        )
