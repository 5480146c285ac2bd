"""The screenshot command renders every main state to a PNG of the window's size."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from console.ui.screenshots import render_all


def test_screenshots_render_every_state(app: QApplication, tmp_path: Path) -> None:
    paths = render_all(tmp_path)
    assert [p.name for p in paths] == [
        "01-idle.png",
        "02-in-call-three-speakers.png",
        "03-low-confidence.png",
        "04-combined-view.png",
        "05-dark-theme.png",
        "06-four-party-grid.png",
        "07-stopped-not-finalised.png",
        "08-call-list-three-calls.png",
        "09-call-intelligence.png",
    ]
    sizes = {(QImage(str(p)).width(), QImage(str(p)).height()) for p in paths}
    assert sizes == {(1440, 900)}

    # The dark theme really is dark: its average pixel is far darker than the idle window's.
    def mean_lightness(path: Path) -> float:
        img = QImage(str(path)).scaled(64, 40)
        return sum(img.pixelColor(x, y).lightness() for x in range(64) for y in range(40)) / (
            64 * 40
        )

    assert mean_lightness(paths[4]) < mean_lightness(paths[0]) - 100
