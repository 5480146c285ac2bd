"""Light and dark themes: a Fusion palette plus the console style sheet.

The operator picks "system", "light" or "dark"; "system" follows the platform colour scheme.
Widgets that paint with scheme colours (transcript panes) ask :func:`current_scheme`.
"""

from __future__ import annotations

import logging
from string import Template

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from console.resources import resource_path
from console.ui.palette import Scheme, scheme

log = logging.getLogger(__name__)

_QSS = resource_path("themes", "console.qss")
_current: Scheme = scheme(False)


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints is not None and hints.colorScheme() == Qt.ColorScheme.Dark


def resolve_dark(theme: str) -> bool:
    if theme == "dark":
        return True
    if theme == "light":
        return False
    return system_is_dark()


def current_scheme() -> Scheme:
    return _current


def _palette(s: Scheme) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    for r, value in (
        (role.Window, s.window),
        (role.WindowText, s.text),
        (role.Base, s.base),
        (role.AlternateBase, s.alt_base),
        (role.Text, s.text),
        (role.Button, s.base),
        (role.ButtonText, s.text),
        (role.ToolTipBase, s.base),
        (role.ToolTipText, s.text),
        (role.PlaceholderText, s.muted),
        (role.Highlight, s.accent),
        (role.HighlightedText, s.base),
        (role.Link, s.accent),
        (role.Mid, s.border),
        (role.Dark, s.border),
    ):
        p.setColor(r, QColor(value))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(disabled, r, QColor(s.muted))
    return p


def style_sheet(s: Scheme) -> str:
    try:
        template = _QSS.read_text(encoding="utf-8")
    except OSError:
        log.warning("style sheet %s missing; using the plain style", _QSS)
        return ""
    return Template(template).safe_substitute(
        {k: getattr(s, k) for k in s.__dataclass_fields__ if isinstance(getattr(s, k), str)}
    )


def apply_theme(app: QApplication, theme: str) -> Scheme:
    """Apply a theme to the whole application; returns the scheme now in force."""
    global _current
    _current = scheme(resolve_dark(theme))
    app.setStyle("Fusion")
    app.setPalette(_palette(_current))
    app.setStyleSheet(style_sheet(_current))
    return _current
