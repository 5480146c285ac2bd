"""A compact live audio level meter: a rounded bar, a peak mark, brighter while speaking.

It paints a :class:`console.audio_levels.LevelReading` handed to it by the transcript view's
coalesced flush, and repaints only when a drawn pixel or the spoken state would change. Screen
readers get a name and a coarse description (speaking, silent, no audio), never the 30-per-second
level changes; the tooltip carries the numbers.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from console.audio_levels import FLOOR_DB, LevelReading

WIDTH = 72
HEIGHT = 8
_SILENT_ALPHA = 0.55
_TRACK_ALPHA = 0.28


class LevelMeter(QWidget):
    def __init__(self, parent: QWidget | None = None, *, subject: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("LevelMeter")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setFixedSize(WIDTH, HEIGHT)
        self._fg = QColor("#FFFFFF")
        self._track = QColor("#FFFFFF")
        self._reading: LevelReading | None = None
        self._drawn: tuple[int, int, bool] = (0, 0, False)  # fill px, peak px, speaking
        self._state = ""
        self._tip_db: tuple[int, int] | None = None
        self.set_subject(subject)
        self._describe("off")

    def sizeHint(self) -> QSize:
        return QSize(WIDTH, HEIGHT)

    # --- configuration ------------------------------------------------------------------------
    def set_subject(self, subject: str) -> None:
        """Whose audio this is (for the accessible name)."""
        self.setAccessibleName(f"Audio level of {subject}" if subject else "Audio level")

    def set_colours(self, fg: QColor, track: QColor | None = None) -> None:
        """``fg`` fills the bar; the track is ``track`` or a faint ``fg``."""
        self._fg = QColor(fg)
        if track is None:
            track = QColor(fg)
            track.setAlphaF(_TRACK_ALPHA)
        self._track = QColor(track)
        self.update()

    # --- state --------------------------------------------------------------------------------
    @property
    def reading(self) -> LevelReading | None:
        return self._reading

    @property
    def fill_pixels(self) -> int:
        """How many pixels of the bar are filled (0 when empty)."""
        return self._drawn[0]

    @property
    def speaking(self) -> bool:
        return self._drawn[2]

    def set_reading(self, reading: LevelReading | None) -> None:
        """A new reading (None: no audio for this source, the meter reads empty)."""
        self._reading = reading
        if reading is None or (not reading.live and reading.level_db <= FLOOR_DB):
            drawn = (0, 0, False)
            state = "off" if reading is None else "no audio"
        else:
            drawn = (
                round(reading.fraction * WIDTH),
                round(reading.peak_fraction * WIDTH),
                reading.speaking,
            )
            state = "speaking" if reading.speaking else "silent"
        if drawn != self._drawn:
            self._drawn = drawn
            self.update()
        if state != self._state:
            self._describe(state)
        self._tip(reading)

    def _describe(self, state: str) -> None:
        self._state = state
        self.setAccessibleDescription(state)
        if state in ("off", "no audio"):
            self._tip_db = None
            self.setToolTip(
                "Audio level: no audio is streaming for this speaker"
                if state == "no audio"
                else "Audio level: audio streaming is off for this call"
            )

    def _tip(self, reading: LevelReading | None) -> None:
        if reading is None or self._state in ("off", "no audio"):
            return
        key = (round(reading.level_db), round(reading.peak_db))
        if key == self._tip_db:
            return
        self._tip_db = key
        level = "silence" if reading.level_db <= FLOOR_DB else f"{key[0]} dBFS"
        self.setToolTip(f"Audio level: {level} (peak {key[1]} dBFS), {self._state}")

    # --- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        fill, peak, speaking = self._drawn
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        radius = HEIGHT / 2
        p.setBrush(self._track)
        p.drawRoundedRect(QRectF(0, 0, WIDTH, HEIGHT), radius, radius)
        colour = QColor(self._fg)
        if not speaking:
            colour.setAlphaF(_SILENT_ALPHA)
        if fill > 0:
            p.setBrush(colour)
            p.drawRoundedRect(QRectF(0, 0, max(fill, HEIGHT), HEIGHT), radius, radius)
        if peak > fill + 1:
            p.setBrush(self._fg)
            p.drawRect(QRectF(min(peak, WIDTH - 2), 1, 2, HEIGHT - 2))
        p.end()
