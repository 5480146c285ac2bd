"""How phrases and markers look: fragments with colours, highlights and tooltips."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QTextCharFormat

from console.acs import locales
from console.transcript.export import NOT_FINALISED
from console.transcript.insights import shown_language
from console.transcript.model import Transcript
from console.transcript.redaction import redact_provisional, redact_text
from console.transcript.timeline import Marker, MarkerKind, Phrase, describe_marker
from console.ui import palette
from console.ui.palette import Scheme
from console.ui.phrase_view import Fragment, char_format

DEFAULT_WARN = 0.75
DEFAULT_CRITICAL = 0.5

# A Final's sentiment as a shape (readable without colour) and an Okabe–Ito hue per theme
# (light, dark); any other value the service sends is shown as "?" with the value in words.
SENTIMENT_MARKS: dict[str, tuple[str, str, str]] = {
    "positive": ("▲", "#0072B2", "#56B4E9"),
    "negative": ("▼", "#C2410C", "#FF9E6B"),
    "mixed": ("◆", "#A8467F", "#E0A3C8"),
    "neutral": ("●", "#66717A", "#9AA5AE"),
}
ALERT_MARK = "⚑"


def sentiment_shape(sentiment: str) -> str:
    return SENTIMENT_MARKS.get(sentiment.lower(), ("?", "", ""))[0]


def trend_text(sentiments: Sequence[str]) -> str:
    """A speaker's last turns as shapes, oldest first ("▼ ▼ ● ▲")."""
    return " ".join(sentiment_shape(s) for s in sentiments)


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

    def __init__(
        self, scheme: Scheme, thresholds: Thresholds, base_font: QFont, *, redacted: bool = False
    ) -> None:
        self.scheme = scheme
        self.thresholds = thresholds
        # Redacted view (screen sharing): personal data masked as in a redacted export, and
        # numbers in provisional text hidden until their Final settles.
        self.redacted = redacted
        self._masked: dict[str, str] = {}
        self._time_fmt = char_format(scheme.muted, point_delta=-1.0, base_font=base_font)
        self._marker_fmt = char_format(
            scheme.marker, italic=True, point_delta=-0.5, base_font=base_font
        )
        self._text: dict[int, QColor] = {}
        self._interim: dict[int, QTextCharFormat] = {}
        self._speaker: dict[tuple[int, bool], QTextCharFormat] = {}  # (colour, provisional)

    def _shown(self, text: str) -> str:
        if not self.redacted:
            return text
        masked = self._masked.get(text)
        if masked is None:
            if len(self._masked) > 4096:  # a Final is masked once; keep the cache bounded
                self._masked.clear()
            masked = self._masked[text] = redact_text(text).text
        return masked

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
        call_locale: str | None = None,
        alerts: Sequence[str] = (),
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
        frags.append(Fragment(self._shown(phrase.text), fmt))
        frags.extend(self._marks(phrase, call_locale, alerts))
        return frags

    def _marks(
        self, phrase: Phrase, call_locale: str | None, alerts: Sequence[str]
    ) -> list[Fragment]:
        """After a Final: its language when not the call's, its sentiment, its alerts."""
        marks: list[Fragment] = []
        language = shown_language(phrase, call_locale)
        if language:
            tip = f"Identified language: {locales.display_name(language)} ({language})"
            fmt = char_format(self.scheme.muted, point_delta=-1.5, tooltip=tip)
            marks.append(Fragment(f"  {language}", fmt))
        if phrase.sentiment:
            shape, light, dark = SENTIMENT_MARKS.get(phrase.sentiment.lower(), ("?", "", ""))
            colour = (dark if self.scheme.dark else light) or self.scheme.muted
            tip = f"Sentiment: {phrase.sentiment}"
            marks.append(Fragment(f"  {shape}", char_format(colour, tooltip=tip)))
        for rule in alerts:
            tip = f"Alert: {rule}"
            fmt = char_format(self.scheme.bad, bold=True, tooltip=tip)
            marks.append(Fragment(f"  {ALERT_MARK} {rule}", fmt))
        return marks

    def abandoned(
        self, phrase: Phrase, colour_index: int, *, speaker: str | None = None
    ) -> list[Fragment]:
        # Settled, not provisional: nothing more will come for it, and it says so.
        tip = "Not finalised: transcription ended before the service confirmed this phrase."
        colour = self.text_colour(colour_index)
        frags = [Fragment(clock(phrase.start) + "  ", self._time_fmt)]
        if speaker is not None:
            frags.append(self.speaker(speaker, colour_index))
        frags.append(Fragment(self._shown(phrase.text), char_format(colour, tooltip=tip)))
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
        text = redact_provisional(phrase.text) if self.redacted else phrase.text
        frags.append(Fragment(text + " …", fmt))
        return frags

    def marker(self, marker: Marker, transcript: Transcript) -> list[Fragment]:
        at = clock(transcript.time_of(marker))
        label = marker_label(marker)
        if marker.kind == MarkerKind.NOTE:  # an operator's note may hold a number
            label = self._shown(label)
        return [Fragment(f"──  {label} · {at}  ──", self._marker_fmt)]


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
