"""SVG icons from resources/icons, tinted to the theme and rendered at the exact device size.

``currentColor`` in the SVG is replaced by a tint before rendering, so one drawing serves light
and dark themes. The engine renders at the requested size times the device pixel ratio, which
keeps icons crisp on high-DPI screens.
"""

from __future__ import annotations

import logging
from functools import cache

from PySide6.QtCore import QByteArray, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QIconEngine, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from console.resources import resource_path

log = logging.getLogger(__name__)

ICON_DIR = resource_path("icons")


@cache
def _svg_text(name: str) -> str:
    path = ICON_DIR / f"{name}.svg"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        log.warning("icon %s missing", path)
        return '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"/>'


class _SvgEngine(QIconEngine):
    def __init__(self, name: str, tint: str, disabled_tint: str) -> None:
        super().__init__()
        self._name = name
        self._tint = tint
        self._disabled = disabled_tint
        self._renderers: dict[str, QSvgRenderer] = {}

    def _renderer(self, mode: QIcon.Mode) -> QSvgRenderer:
        colour = self._disabled if mode == QIcon.Mode.Disabled else self._tint
        renderer = self._renderers.get(colour)
        if renderer is None:
            data = _svg_text(self._name).replace("currentColor", colour)
            renderer = QSvgRenderer(QByteArray(data.encode("utf-8")))
            self._renderers[colour] = renderer
        return renderer

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode, state: QIcon.State) -> None:
        self._renderer(mode).render(painter, QRectF(rect))

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        return self.scaledPixmap(size, mode, state, 1.0)

    def scaledPixmap(
        self, size: QSize, mode: QIcon.Mode, state: QIcon.State, scale: float
    ) -> QPixmap:
        w = max(1, round(size.width() * scale))
        h = max(1, round(size.height() * scale))
        pm = QPixmap(w, h)
        pm.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pm)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._renderer(mode).render(painter, QRectF(QPoint(0, 0), QSize(w, h)))
        painter.end()
        pm.setDevicePixelRatio(scale)
        return pm

    def clone(self) -> QIconEngine:
        return _SvgEngine(self._name, self._tint, self._disabled)

    def key(self) -> str:
        return "acs-console-svg"


def icon(name: str, tint: QColor | str, disabled: QColor | str | None = None) -> QIcon:
    """A themed icon; ``tint`` replaces currentColor, ``disabled`` is used for disabled mode."""
    tint_s = QColor(tint).name()
    # SVG has no #AARRGGBB, so the disabled look is an opaque neutral, not an alpha.
    dis = QColor(disabled).name() if disabled is not None else "#9099A1"
    return QIcon(_SvgEngine(name, tint_s, dis))


# Widgets and actions whose icon follows the theme: (object, icon name, scheme attribute).
_THEMED: list[tuple[object, str, str]] = []


def themed(target: object, name: str, role: str = "text") -> None:
    """Give ``target`` (a button or action) an icon tinted with the scheme's ``role`` colour,
    re-tinted by :func:`retint` when the theme changes."""
    from console.ui.theme import current_scheme

    s = current_scheme()
    target.setIcon(icon(name, getattr(s, role), s.muted))  # type: ignore[attr-defined]
    _THEMED.append((target, name, role))


def retint() -> None:
    """Re-tint every themed icon for the scheme now in force (deleted widgets are dropped)."""
    from shiboken6 import isValid

    from console.ui.theme import current_scheme

    s = current_scheme()
    alive = [(t, n, r) for t, n, r in _THEMED if isValid(t)]
    _THEMED[:] = alive
    for target, name, role in alive:
        target.setIcon(icon(name, getattr(s, role), s.muted))  # type: ignore[attr-defined]


def app_icon() -> QIcon:
    """The application icon: the rendered hicolor PNGs (crisp at small sizes, and shown even
    where Qt's SVG icon plugin is missing) plus the SVG for any other size."""
    result = QIcon()
    for png in sorted(ICON_DIR.glob("hicolor/*/apps/*.png")):
        result.addFile(str(png))
    svg = ICON_DIR / "app.svg"
    if svg.exists():
        result.addFile(str(svg))
    return result
