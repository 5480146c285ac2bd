"""Where the participant panes sit: side by side up to three, beyond that a balanced grid
(2 × 2, 3 × 2, 3 × 3, 4 × 3…), and a hint while there are none yet."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from console.ui.pane import ParticipantPane
from console.ui.theme import current_scheme

MAX_SIDE_BY_SIDE = 3


def columns(n: int) -> int:
    """How many panes a row holds when there are ``n``: rows as even as they can be."""
    if n <= MAX_SIDE_BY_SIDE:
        return n
    return math.ceil(math.sqrt(n))


class PaneGrid(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.empty_label = QLabel(
            "No transcript yet.\nPlace or answer a call, then start transcription.", self
        )
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet(f"color: {current_scheme().muted}; font-size: 11pt;")
        self._layout.addWidget(self.empty_label)
        self.splitter: QSplitter | None = None
        self.count = 0  # panes in the current arrangement

    def arrange(self, panes: Sequence[ParticipantPane]) -> None:
        """Lay the panes out in order, in rows of a vertical splitter (one row up to three).

        Only what changed moves: a pane joining goes into its place, a pane whose row changes
        (the 4th, 5th, 10th… joining) is moved, and a pane no longer wanted is hidden where it
        is, ready to show the next call's participant in the same place. Moving a pane to
        another splitter restyles every widget in it, so the grid is never rebuilt wholesale.
        """
        n = len(panes)
        self.count = n
        self.empty_label.setVisible(n == 0)
        root = self.splitter
        if root is None:
            if n == 0:
                return
            root = QSplitter(Qt.Orientation.Vertical, self)
            root.setChildrenCollapsible(False)
            root.setHandleWidth(8)
            self.splitter = root
            self._layout.addWidget(root, 1)
        width = columns(n) or 1
        rows = [panes[i : i + width] for i in range(0, n, width)]
        resized: list[QSplitter] = []
        for r, wanted in enumerate(rows):
            if r >= root.count():
                row = QSplitter(Qt.Orientation.Horizontal, root)
                row.setChildrenCollapsible(False)
                root.addWidget(row)
                resized.append(root)
            row = self._row(root, r)
            row.setHandleWidth(8 if len(rows) == 1 else -1)  # a grid's columns: the style's gap
            if row.isHidden():
                row.show()
                resized.append(root)
            for c, pane in enumerate(wanted):
                if row.widget(c) is not pane:
                    row.insertWidget(c, pane)
                    resized.append(row)
                if pane.isHidden():
                    pane.show()
                    resized.append(row)
        for r in range(root.count()):
            row = self._row(root, r)
            for c in range(len(rows[r]) if r < len(rows) else 0, row.count()):
                left = row.widget(c)
                if left is not None and not left.isHidden():
                    left.hide()
                    resized.append(row)
            if r >= len(rows) and not row.isHidden():
                row.hide()
                resized.append(root)
        # Equal shares; a splitter would otherwise size panes by their content.
        for sp in dict.fromkeys(resized):
            sp.setSizes([10_000] * sp.count())
        root.setVisible(n > 0)

    @staticmethod
    def _row(root: QSplitter, index: int) -> QSplitter:
        row = root.widget(index)
        assert isinstance(row, QSplitter)
        return row
