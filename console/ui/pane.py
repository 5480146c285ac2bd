"""One participant's transcript pane: a coloured header (name, raw id, audio level meter,
speaking light) and text."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent, QFont, QFontMetrics, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from console.audio_levels import LevelReading
from console.ui import palette
from console.ui.level_meter import LevelMeter
from console.ui.phrase_view import PhraseView
from console.ui.theme import current_scheme


class NameEdit(QLineEdit):
    """The participant's name: looks like a heading, edits in place (click, Enter or F2).

    A name wider than the pane is shown elided in the middle ("Teams user …4f5a6b" stays
    readable at both ends), whole in the tooltip and while it is edited."""

    renamed = Signal(str)

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._committed = text
        self.setFrame(False)
        self.editingFinished.connect(self._commit)
        self._show_elided()

    @property
    def full_text(self) -> str:
        return self.text() if self.hasFocus() else self._committed

    def set_committed(self, text: str) -> None:
        self._committed = text
        if not self.hasFocus():
            self._show_elided()

    def _show_elided(self) -> None:
        room = self.contentsRect().width() - 8  # the style's text margins and padding
        shown = self.fontMetrics().elidedText(self._committed, Qt.TextElideMode.ElideMiddle, room)
        self.setText(shown if room > 0 else self._committed)
        self.setCursorPosition(0)  # the start is what a clipped name must never lose
        self.setToolTip(f"{self._committed} — click to rename")

    def abandon_edit(self) -> None:
        """Drop an edit under way (the pane is about to show someone else)."""
        if self.hasFocus():
            self.setText(self._committed)
            self.clearFocus()

    def _commit(self) -> None:
        text = self.text().strip()
        if text and text != self._committed:
            self._committed = text
            self.renamed.emit(text)

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.setText(self._committed)
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._show_elided()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if not self.hasFocus():
            self._show_elided()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.setText(self._committed)
            self.clearFocus()
            return
        super().keyPressEvent(event)


class ParticipantPane(QFrame):
    rename_requested = Signal(str, str)  # raw id, new name
    hold_requested = Signal(str, bool)  # raw id, put on hold (False: resume)

    def __init__(
        self, raw_id: str, name: str, colour_index: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("Pane")
        self.raw_id = raw_id
        self.colour_index = colour_index
        self._speaking = False  # shown: transcript or audio says so
        self._speaking_text = False  # an intermediate result is open
        self._speaking_audio = False  # the audio stream's voice activity
        outer = QVBoxLayout(self)
        outer.setContentsMargins(1, 1, 1, 1)
        outer.setSpacing(0)

        self.header = QFrame(self)
        self.header.setObjectName("PaneHeader")
        hl = QVBoxLayout(self.header)
        hl.setContentsMargins(12, 6, 10, 6)
        hl.setSpacing(0)
        top = QHBoxLayout()
        top.setSpacing(6)
        self.name_edit = NameEdit(name, self.header)
        self.name_edit.setAccessibleName(f"Name of participant {raw_id}")
        font = self.name_edit.font()
        font.setPointSizeF(font.pointSizeF() + 1.5)
        font.setBold(True)
        self.name_edit.setFont(font)
        self.name_edit.renamed.connect(lambda n: self.rename_requested.emit(self.raw_id, n))
        top.addWidget(self.name_edit, 1)
        # Hidden until the view has a live audio source (never in a saved transcript's review).
        self.meter = LevelMeter(self.header, subject=name)
        self.meter.setVisible(False)
        top.addWidget(self.meter, 0, Qt.AlignmentFlag.AlignVCenter)
        self.speaking_label = QLabel("", self.header)
        self.speaking_label.setAccessibleName("Speaking indicator")
        plain = QFont(self.speaking_label.font())
        plain.setWeight(QFont.Weight.Normal)
        strong = QFont(plain)
        strong.setWeight(QFont.Weight.DemiBold)
        self._speaking_fonts = (plain, strong)
        widest = QFontMetrics(strong).horizontalAdvance("❚❚ on hold")
        self.speaking_label.setFixedWidth(max(84, widest + 6))
        self.speaking_label.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        top.addWidget(self.speaking_label)
        # Hidden until the window says this call's participants can be held.
        self.hold_button = QToolButton(self.header)
        self.hold_button.setObjectName("HoldButton")
        self.hold_button.setCheckable(True)
        self.hold_button.setText("Hold")
        self.hold_button.setAccessibleName(f"Hold {raw_id}")
        self.hold_button.setToolTip("Put this participant on hold (their transcript pauses)")
        self.hold_button.clicked.connect(lambda on: self.hold_requested.emit(self.raw_id, bool(on)))
        self.hold_button.setVisible(False)
        top.addWidget(self.hold_button)
        self.held = False
        hl.addLayout(top)
        self.raw_label = QLabel(raw_id, self.header)
        self.raw_label.setObjectName("PaneRawId")
        self.raw_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.raw_label.setAccessibleName("Raw id")
        self.raw_label.setToolTip(raw_id)
        # The speaker's sentiment over their last turns, as shapes (hidden until there is one).
        self.trend_label = QLabel("", self.header)
        self.trend_label.setObjectName("SentimentTrend")
        self.trend_label.setVisible(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.raw_label, 1)
        bottom.addWidget(self.trend_label)
        hl.addLayout(bottom)
        outer.addWidget(self.header)

        self.view = PhraseView(self)
        self.view.setAccessibleName(f"Transcript of {name}")
        outer.addWidget(self.view, 1)
        self.apply_colours()

    def reuse(self, raw_id: str, name: str, colour_index: int) -> None:
        """Show another participant here (another call came into view): far cheaper than
        building a pane, and a pane kept in its place in the grid is not laid out again."""
        self.name_edit.abandon_edit()
        self.raw_id = raw_id
        self.name_edit.setAccessibleName(f"Name of participant {raw_id}")
        self.hold_button.setAccessibleName(f"Hold {raw_id}")
        self.raw_label.setText(raw_id)
        self.raw_label.setToolTip(raw_id)
        self.set_name(name)
        self.view.clear_all()
        self.view.jump_to_live()
        self.meter.set_reading(None)
        self._speaking_text = self._speaking_audio = False
        self.held = False
        self.set_held(False, holdable=False)
        if colour_index != self.colour_index:
            self.colour_index = colour_index
            self.apply_colours()
        else:
            self._update_speaking()

    @property
    def name(self) -> str:
        return self.name_edit.full_text

    def set_name(self, name: str) -> None:
        self.name_edit.set_committed(name)
        self.view.setAccessibleName(f"Transcript of {name}")
        self.meter.set_subject(name)

    @property
    def speaking(self) -> bool:
        return self._speaking

    def set_speaking(self, on: bool) -> None:
        """From the transcript: an intermediate result is open for this participant."""
        self._speaking_text = on
        self._update_speaking()

    def set_level(self, reading: LevelReading | None) -> None:
        """From the audio stream (None: no audio for this participant now)."""
        self.meter.set_reading(reading)
        self._speaking_audio = self.meter.speaking
        self._update_speaking()

    def _update_speaking(self) -> None:
        on = self._speaking_text or self._speaking_audio
        if on == self._speaking:
            return
        self._speaking = on
        self._paint_speaking()

    def set_trend(self, sentiments: tuple[str, ...], shapes: str) -> None:
        """The last turns' sentiments, oldest first (▲ positive, ▼ negative, ● neutral,
        ◆ mixed)."""
        self.trend_label.setVisible(bool(sentiments))
        self.trend_label.setText(shapes)
        words = ", ".join(sentiments)
        self.trend_label.setToolTip(f"Sentiment of the last {len(sentiments)} turns: {words}")
        self.trend_label.setAccessibleName(f"Sentiment trend: {words}")

    def set_held(self, held: bool, *, holdable: bool) -> None:
        """On hold (the service says so), and whether the button applies now."""
        self.hold_button.setVisible(holdable or held)
        self.hold_button.setEnabled(holdable)
        self.hold_button.setChecked(held)
        self.hold_button.setText("Resume" if held else "Hold")
        self.hold_button.setToolTip(
            "On hold: click to resume (their transcript continues)"
            if held
            else "Put this participant on hold (their transcript pauses)"
        )
        if held != self.held:
            self.held = held
            self._paint_speaking()

    def _paint_speaking(self) -> None:
        # Toggled with every Final: text and font weight only (a style sheet set here restyled
        # the label each time), at a fixed width so the header is never laid out again.
        label = self.speaking_label
        if self.held:
            text, state = "❚❚ on hold", "on hold"
        elif self._speaking:
            text, state = "● speaking", "speaking"
        else:
            text, state = "○", "silent"
        label.setText(text)
        label.setFont(self._speaking_fonts[state != "silent"])
        label.setAccessibleDescription(state)

    def apply_colours(self) -> None:
        s = current_scheme()
        bg = palette.swatch(self.colour_index).name()
        fg = palette.on_swatch(self.colour_index).name()
        self.header.setStyleSheet(
            f"QFrame#PaneHeader {{ background: {bg}; border-top-left-radius: 7px;"
            f" border-top-right-radius: 7px; }}"
            f" QLineEdit {{ background: transparent; color: {fg}; border: 1px solid transparent;"
            f" border-radius: 4px; padding: 0 2px; }}"
            f" QLineEdit:hover {{ border-color: {fg}; }}"
            f" QLineEdit:focus {{ background: {s.base}; color: {s.text}; border-color: {fg}; }}"
            f" QLabel {{ color: {fg}; background: transparent; }}"
        )
        self.view.set_jump_icon_colour(s.base)
        self.meter.set_colours(palette.on_swatch(self.colour_index))
        self._paint_speaking()
