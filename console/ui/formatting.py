"""How phrases and markers look: fragments with colours, highlights and tooltips."""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QTextCharFormat

from console.acs import locales
from console.transcript.export import NOT_FINALISED
from console.transcript.model import Transcript
from console.transcript.timeline import Marker, MarkerKind, Phrase, describe_marker
from console.ui import palette
from console.ui.palette import Scheme
from console.ui.phrase_view import Fragment, char_format

DEFAULT_WARN = 0.75
DEFAULT_CRITICAL = 0.5


def clock(seconds: float) -> str:
    """[mm:ss] or [h:mm:ss] on the call clock."""
    seconds = max(0, int(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


def _precise(seconds: float) -> str:
    seconds = max(0.0, seconds)
    m, s = divmod(seconds, 60)
    h, m = divmod(int(m), 60)
    return f"{h}:{m:02d}:{s:04.1f}" if h else f"{m:02d}:{s:04.1f}"


@dataclass(slots=True)
class Thresholds:
    warn: float = DEFAULT_WARN
    critical: float = DEFAULT_CRITICAL

    def level(self, confidence: float | None) -> str:
        if confidence is None:
            return "ok"
        if confidence < self.critical:
            return "critical"
        if confidence < self.warn:
            return "warn"
        return "ok"


class Styler:
    """Builds fragments for one theme and one set of thresholds (cheap to rebuild)."""

    def __init__(self, scheme: Scheme, thresholds: Thresholds, base_font: QFont) -> None:
        self.scheme = scheme
        self.thresholds = thresholds
        self._time_fmt = char_format(scheme.muted, point_delta=-1.0, base_font=base_font)
        self._marker_fmt = char_format(
            scheme.marker, italic=True, point_delta=-0.5, base_font=base_font
        )
        self._text: dict[int, QColor] = {}
        self._interim: dict[int, QTextCharFormat] = {}
        self._speaker: dict[tuple[int, bool], QTextCharFormat] = {}  # (colour, provisional)

    def text_colour(self, colour_index: int) -> QColor:
        c = self._text.get(colour_index)
        if c is None:
            c = self._text[colour_index] = palette.text_colour(colour_index, dark=self.scheme.dark)
        return c

    def speaker(self, name: str, colour_index: int, *, provisional: bool = False) -> Fragment:
        """The "Name: " that starts a line in the combined view."""
        key = (colour_index, provisional)
        fmt = self._speaker.get(key)
        if fmt is None:
            colour = self.text_colour(colour_index)
            fmt = self._speaker[key] = char_format(colour, bold=True, italic=provisional)
        return Fragment(f"{name}: ", fmt)

    def tooltip(self, phrase: Phrase) -> str:
        start, end = phrase.start, phrase.end
        span = f"{_precise(start)} – {_precise(end)}"
        received = time.strftime("%H:%M:%S", time.localtime(phrase.received_at))
        if phrase.confidence is None:
            conf = "Confidence not reported"
        else:
            conf = f"Confidence {phrase.confidence:.0%}"
            level = self.thresholds.level(phrase.confidence)
            if level == "critical":
                conf += f" — below {self.thresholds.critical:.0%}, check this phrase"
            elif level == "warn":
                conf += f" — below {self.thresholds.warn:.0%}"
        locale = f" · {phrase.locale}" if phrase.locale else ""
        return f"{conf}\nCall time {span}{locale}\nReceived {received}"

    def final(
        self,
        phrase: Phrase,
        colour_index: int,
        *,
        speaker: str | None = None,
    ) -> list[Fragment]:
        s = self.scheme
        level = self.thresholds.level(phrase.confidence)
        background = underline = None
        style = None
        if level == "critical":
            background, underline = s.crit_bg, s.crit_line
            style = QTextCharFormat.UnderlineStyle.WaveUnderline
        elif level == "warn":
            background, underline = s.warn_bg, s.warn_line
            style = QTextCharFormat.UnderlineStyle.DotLine
        colour = self.text_colour(colour_index)
        fmt = char_format(
            colour,
            background=background,
            underline=underline,
            underline_style=style,
            tooltip=self.tooltip(phrase),
        )
        frags = [Fragment(clock(phrase.start) + "  ", self._time_fmt)]
        if speaker is not None:
            frags.append(self.speaker(speaker, colour_index))
        frags.append(Fragment(phrase.text, fmt))
        return frags

    def abandoned(
        self, phrase: Phrase, colour_index: int, *, speaker: str | None = None
    ) -> list[Fragment]:
        # Settled, not provisional: nothing more will come for it, and it says so.
        tip = "Not finalised: transcription ended before the service confirmed this phrase."
        colour = self.text_colour(colour_index)
        frags = [Fragment(clock(phrase.start) + "  ", self._time_fmt)]
        if speaker is not None:
            frags.append(self.speaker(speaker, colour_index))
        frags.append(Fragment(phrase.text, char_format(colour, tooltip=tip)))
        muted = QColor(self.scheme.muted)
        frags.append(Fragment(f" {NOT_FINALISED}", char_format(muted, tooltip=tip)))
        return frags

    def interim(
        self, phrase: Phrase, colour_index: int, *, speaker: str | None = None
    ) -> list[Fragment]:
        fmt = self._interim.get(colour_index)
        if fmt is None:
            # Provisional: the speaker's hue, faded towards the background, in italics.
            c = QColor(self.text_colour(colour_index))
            base = QColor(self.scheme.base)
            mixed = QColor(
                (c.red() * 55 + base.red() * 45) // 100,
                (c.green() * 55 + base.green() * 45) // 100,
                (c.blue() * 55 + base.blue() * 45) // 100,
            )
            fmt = self._interim[colour_index] = char_format(
                mixed, italic=True, tooltip="Provisional: may still change"
            )
        frags = []
        if speaker is not None:
            frags.append(self.speaker(speaker, colour_index, provisional=True))
        frags.append(Fragment(phrase.text + " …", fmt))
        return frags

    def marker(self, marker: Marker, transcript: Transcript) -> list[Fragment]:
        at = clock(transcript.time_of(marker))
        return [Fragment(f"──  {marker_label(marker)} · {at}  ──", self._marker_fmt)]


def marker_label(marker: Marker) -> str:
    """Operator wording for a timeline marker."""
    kind, detail = marker.kind, marker.detail
    if kind == MarkerKind.LOCALE_CHANGED and detail:
        return f"Language: {locales.display_name(detail)} ({detail})"
    if kind == MarkerKind.TRANSCRIPTION_STARTED:
        return f"Transcription started ({detail})" if detail else "Transcription started"
    if kind == MarkerKind.CALL_CONNECTED:
        return "Call connected"
    return describe_marker(marker)
