"""Colours: participant hues from the Okabe–Ito palette, tuned per theme for legible text.

Okabe–Ito stays distinguishable under the common colour-vision deficiencies. Each hue has a
swatch (the header background) and a text variant per theme that keeps WCAG contrast of
about 4.5:1 against the pane background. Confidence highlights also differ by underline
style, so they never rely on hue alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor


@dataclass(frozen=True, slots=True)
class Hue:
    name: str
    swatch: str  # header background, legend chip
    on_swatch: str  # header text on the swatch
    text_light: str  # transcript text on a light pane
    text_dark: str  # transcript text on a dark pane


# Order matters: the first speakers get the most distinct hues.
HUES: tuple[Hue, ...] = (
    Hue("blue", "#0072B2", "#FFFFFF", "#005A8C", "#6CB8EA"),
    Hue("vermillion", "#D55E00", "#FFFFFF", "#A84A00", "#F5995A"),
    Hue("bluish green", "#009E73", "#FFFFFF", "#00714F", "#3FD1A6"),
    Hue("reddish purple", "#CC79A7", "#1A1A1A", "#9C3F72", "#E5A6CA"),
    Hue("orange", "#E69F00", "#1A1A1A", "#8A5F00", "#F5BE45"),
    Hue("sky blue", "#56B4E9", "#1A1A1A", "#1F6F9E", "#9AD3F5"),
    Hue("yellow", "#F0E442", "#1A1A1A", "#6E6600", "#F0E442"),
    Hue("grey", "#5F6B73", "#FFFFFF", "#48525A", "#B5C0C7"),
)


def hue(colour_index: int) -> Hue:
    return HUES[colour_index % len(HUES)]


def text_colour(colour_index: int, *, dark: bool) -> QColor:
    h = hue(colour_index)
    return QColor(h.text_dark if dark else h.text_light)


def swatch(colour_index: int) -> QColor:
    return QColor(hue(colour_index).swatch)


def on_swatch(colour_index: int) -> QColor:
    return QColor(hue(colour_index).on_swatch)


@dataclass(frozen=True, slots=True)
class Scheme:
    """Non-participant colours for one theme."""

    dark: bool
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    border: str
    accent: str
    warn_bg: str  # confidence below the warning threshold (soft amber)
    crit_bg: str  # confidence below the critical threshold (red)
    warn_line: str
    crit_line: str
    find_bg: str
    marker: str
    ok: str
    bad: str


LIGHT = Scheme(
    dark=False,
    window="#F4F5F7",
    base="#FFFFFF",
    alt_base="#F7F8FA",
    text="#1D2327",
    muted="#66717A",
    border="#D5DAE0",
    accent="#0072B2",
    warn_bg="#FFE8A8",
    crit_bg="#FFC9C2",
    warn_line="#B07800",
    crit_line="#C0231A",
    find_bg="#9FD4FF",
    marker="#5B6670",
    ok="#00805C",
    bad="#C0392B",
)

DARK = Scheme(
    dark=True,
    window="#1E2226",
    base="#16191C",
    alt_base="#1B1F23",
    text="#E3E7EA",
    muted="#9AA5AE",
    border="#353C43",
    accent="#56B4E9",
    warn_bg="#5C4A12",
    crit_bg="#6E2621",
    warn_line="#F0C44D",
    crit_line="#FF8A7A",
    find_bg="#1F5E8C",
    marker="#A9B4BD",
    ok="#3FD1A6",
    bad="#FF8A7A",
)


def scheme(dark: bool) -> Scheme:
    return DARK if dark else LIGHT
