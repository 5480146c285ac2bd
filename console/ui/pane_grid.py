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
        self.count = -1  # panes in the current arrangement (-1: none made yet)

    def reset(self) -> None:
        self.count = -1

    def arrange(self, panes: Sequence[ParticipantPane]) -> None:
        """Lay the panes out in order.

        A pane joining the current shape is added in place; the splitters are rebuilt only
        when the number of columns changes (4th, 5th, 10th pane…), since reparenting every pane
        is costly.
        """
        n = len(panes)
        old_n = max(self.count, 0)
        self.count = n
        self.empty_label.setVisible(n == 0)
        root = self.splitter
        same_shape = (
            root is not None
            and old_n > 0
            and n > old_n
            and (
                n <= MAX_SIDE_BY_SIDE or (old_n > MAX_SIDE_BY_SIDE and columns(n) == columns(old_n))
            )
        )
        if same_shape:
            assert root is not None
            for index in range(old_n, n):
                self._place(root, panes[index], index, n)
            return
        for pane in panes:
            pane.setParent(self)
        if root is not None:
            self._layout.removeWidget(root)
            root.setParent(None)
            root.deleteLater()
            self.splitter = None
        if n == 0:
            return
        orientation = (
            Qt.Orientation.Horizontal if n <= MAX_SIDE_BY_SIDE else Qt.Orientation.Vertical
        )
        root = QSplitter(orientation, self)
        root.setChildrenCollapsible(False)
        root.setHandleWidth(8)
        for index, pane in enumerate(panes):
            self._place(root, pane, index, n)
        # Equal shares; a splitter would otherwise size panes by their content.
        for sp in [root, *root.findChildren(QSplitter)]:
            sp.setSizes([10_000] * sp.count())
        self.splitter = root
        self._layout.addWidget(root, 1)
        for pane in panes:
            pane.show()

    @staticmethod
    def _place(root: QSplitter, pane: ParticipantPane, index: int, n: int) -> None:
        if root.orientation() == Qt.Orientation.Horizontal:
            root.addWidget(pane)
            root.setSizes([10_000] * root.count())
        else:
            row_index = index // columns(n)
            if row_index >= root.count():
                row = QSplitter(Qt.Orientation.Horizontal, root)
                row.setChildrenCollapsible(False)
                root.addWidget(row)
                root.setSizes([10_000] * root.count())
            row = root.widget(row_index)
            assert isinstance(row, QSplitter)
            row.addWidget(pane)
            row.setSizes([10_000] * row.count())
        pane.show()
