"""A read-only text view that appends settled lines and keeps one provisional line at the end.

Built on QPlainTextEdit, whose layout is per block and lazy, so a four-hour transcript appends
and scrolls at the same speed as a fresh one. Finals (and markers) are appended as new blocks;
the provisional (intermediate) text is the last block and is the only thing ever replaced.
Follows the live edge until the operator scrolls up; ``following`` says which.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, QPoint, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QFont,
    QResizeEvent,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolButton, QToolTip, QWidget

from console.ui.icons import icon

# Scrolled within this many lines of the end still counts as "at the live edge".
_EDGE_SLACK = 2
MAX_FIND_HIGHLIGHTS = 5000


@dataclass(slots=True)
class Fragment:
    text: str
    fmt: QTextCharFormat


@dataclass(slots=True)
class Entry:
    """One settled block; ``key`` orders it among keyed blocks (None: append)."""

    fragments: Sequence[Fragment]
    key: tuple[float, ...] | None = None
    centered: bool = False


class PhraseView(QPlainTextEdit):
    following_changed = Signal(bool)
    copy_all_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)  # an undo stack would keep every edit of a long call
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setCenterOnScroll(False)
        self.document().setDocumentMargin(10)
        font = self.font()
        font.setPointSizeF(font.pointSizeF() + 1)  # read for hours: a size up from UI text
        self.setFont(font)
        self._block_fmt = QTextBlockFormat()
        self._block_fmt.setBottomMargin(4)
        self._center_fmt = QTextBlockFormat(self._block_fmt)
        self._center_fmt.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self._center_fmt.setTopMargin(4)
        self._empty = True
        self._interim_start: int | None = None  # document position of the provisional block
        self._keys: list[tuple[float, ...]] = []  # ordering keys of settled blocks (if sorted)
        self._following = True
        self._adjusting = False
        self._find_selections: list[QTextEdit.ExtraSelection] = []
        self._find_current: QTextEdit.ExtraSelection | None = None
        self.jump_button = QToolButton(self.viewport())
        self.jump_button.setObjectName("JumpToLive")
        self.jump_button.setText("Jump to live")
        self.jump_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.jump_button.setIconSize(QSize(14, 14))
        self.jump_button.setAccessibleName("Jump to live")
        self.jump_button.setToolTip("Follow the newest text again (Ctrl+J)")
        self.jump_button.clicked.connect(self.jump_to_live)
        self.jump_button.hide()
        sb = self.verticalScrollBar()
        sb.valueChanged.connect(self._on_scrolled)
        sb.rangeChanged.connect(self._on_range)
        self.viewport().installEventFilter(self)

    # --- live edge ---------------------------------------------------------------------------
    @property
    def following(self) -> bool:
        return self._following

    def set_jump_icon_colour(self, colour: str) -> None:
        self.jump_button.setIcon(icon("live", colour))

    def _at_edge(self) -> bool:
        sb = self.verticalScrollBar()
        return sb.value() >= sb.maximum() - _EDGE_SLACK

    def _set_following(self, value: bool) -> None:
        if value != self._following:
            self._following = value
            self.jump_button.setVisible(not value)
            self._place_jump_button()
            self.following_changed.emit(value)

    def _on_scrolled(self, _value: int) -> None:
        if not self._adjusting:
            self._set_following(self._at_edge())

    def _on_range(self, _lo: int, hi: int) -> None:
        if self._following:
            self._adjusting = True
            self.verticalScrollBar().setValue(hi)
            self._adjusting = False

    def jump_to_live(self) -> None:
        self._adjusting = True
        sb = self.verticalScrollBar()
        sb.setValue(sb.maximum())
        self._adjusting = False
        self._set_following(True)

    def _place_jump_button(self) -> None:
        vp = self.viewport()
        self.jump_button.adjustSize()
        size = self.jump_button.sizeHint()
        self.jump_button.move(
            QPoint(vp.width() - size.width() - 12, vp.height() - size.height() - 10)
        )
        self.jump_button.raise_()

    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._place_jump_button()

    def event(self, e: QEvent) -> bool:
        handled = super().event(e)
        if e.type() in (QEvent.Type.Polish, QEvent.Type.StyleChange):
            # The style sheet turns the viewport's own background fill off, which made every
            # repaint of the text repaint each widget beneath it too (window, splitters, pane
            # frame). Filled with the same colour, the viewport is opaque and paints alone.
            self.viewport().setAutoFillBackground(True)
        return handled

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        # Tooltips from the character format under the mouse (confidence and time range).
        if obj is self.viewport() and event.type() == QEvent.Type.ToolTip:
            cursor = self.cursorForPosition(event.pos())
            tip = cursor.charFormat().toolTip()
            if tip:
                QToolTip.showText(event.globalPos(), tip, self.viewport())
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().eventFilter(obj, event)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = self.createStandardContextMenu(event.pos())
        menu.addSeparator()
        menu.addAction("Copy whole transcript", self.copy_all_requested.emit)
        menu.addAction("Jump to live", self.jump_to_live)
        menu.exec(event.globalPos())
        menu.deleteLater()

    # --- content -----------------------------------------------------------------------------
    def _remove_interim(self, cursor: QTextCursor) -> None:
        if self._interim_start is None:
            return
        start = self._interim_start
        # From the separator before the provisional block (if any) to the end.
        cursor.setPosition(max(0, start - 1))
        cursor.setPosition(self._end(), QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._interim_start = None
        if start == 0:
            self._empty = True

    def _end(self) -> int:
        # setPosition, not movePosition(End): movePosition lays out the block it starts from,
        # which made every appended block cost a text layout even while off screen.
        return self.document().characterCount() - 1

    def _write_block(
        self, cursor: QTextCursor, fragments: Sequence[Fragment], centered: bool = False
    ) -> None:
        fmt = self._center_fmt if centered else self._block_fmt
        if self._empty:
            cursor.setBlockFormat(fmt)
            self._empty = False
        else:
            cursor.insertBlock(fmt, QTextCharFormat())
        for frag in fragments:
            cursor.insertText(frag.text, frag.fmt)

    def update_content(
        self,
        settled: Sequence[Entry],
        interim: Sequence[Fragment] | None,
        *,
        interim_changed: bool = True,
    ) -> None:
        """Append settled blocks and set (or clear) the provisional block, in one edit.

        A settled block with a key is placed in key order among keyed blocks (the combined
        view); keyless blocks are appended.
        """
        if not settled and not interim_changed:
            return
        follow = self._following
        self._adjusting = True
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        try:
            if settled or interim_changed:
                self._remove_interim(cursor)
            for entry in settled:
                self._insert_settled(cursor, entry)
            if interim:
                cursor.setPosition(self._end())
                was_empty = self._empty
                self._write_block(cursor, ())
                block = cursor.block()
                self._interim_start = block.position()
                for frag in interim:
                    cursor.insertText(frag.text, frag.fmt)
                if was_empty:
                    self._empty = False
        finally:
            cursor.endEditBlock()
            self._adjusting = False
        if follow:
            self.jump_to_live()

    def _insert_settled(self, cursor: QTextCursor, entry: Entry) -> None:
        key = entry.key
        if key is None or not self._keys or (key >= self._keys[-1] and self._interim_start is None):
            cursor.setPosition(self._end())
            self._write_block(cursor, entry.fragments, entry.centered)
            if key is not None:
                self._keys.append(key)
            return
        # Out of order (a late final from another speaker), or before the provisional block:
        # insert before the next later block.
        index = bisect_right(self._keys, key)
        self._keys.insert(index, key)
        block = self.document().findBlockByNumber(index)
        at = block.position()
        cursor.setPosition(at)
        cursor.insertBlock(block.blockFormat(), QTextCharFormat())
        cursor.setPosition(at)  # the emptied block before the one that moved down
        cursor.setBlockFormat(self._center_fmt if entry.centered else self._block_fmt)
        for frag in entry.fragments:
            cursor.insertText(frag.text, frag.fmt)

    def prepend(self, settled: Sequence[Entry]) -> None:
        """Write settled blocks (oldest first) before everything shown: older text of a
        transcript brought into view after its tail. The view stays where it was read."""
        if not settled:
            return
        keys = [e.key for e in settled if e.key is not None]
        if self._empty:
            self.update_content(settled, None, interim_changed=False)
            return
        if keys and self._keys and keys[-1] > self._keys[0]:
            # A late line already sits among them: place each by its key.
            before = self.document().characterCount()
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            for entry in settled:
                self._insert_settled(cursor, entry)  # before the provisional block, if any
            cursor.endEditBlock()
            if self._interim_start is not None:
                self._interim_start += self.document().characterCount() - before
            return
        doc = self.document()
        sb = self.verticalScrollBar()
        value, follow = sb.value(), self._following
        before = doc.characterCount()
        self._adjusting = True
        cursor = QTextCursor(doc)
        cursor.beginEditBlock()
        try:
            first = doc.firstBlock()
            cursor.setPosition(0)
            cursor.insertBlock(first.blockFormat(), first.charFormat())  # it moves down as is
            cursor.setPosition(0)
            for i, entry in enumerate(settled):
                fmt = self._center_fmt if entry.centered else self._block_fmt
                if i:
                    cursor.insertBlock(fmt, QTextCharFormat())
                else:
                    cursor.setBlockFormat(fmt)
                for frag in entry.fragments:
                    cursor.insertText(frag.text, frag.fmt)
        finally:
            cursor.endEditBlock()
        if self._interim_start is not None:
            self._interim_start += doc.characterCount() - before
        self._keys[0:0] = keys
        if follow:
            self.jump_to_live()
        else:
            sb.setValue(value + len(settled))  # a block not laid out yet counts as one line
        self._adjusting = False

    def clear_all(self) -> None:
        self.document().clear()
        self._empty = True
        self._interim_start = None
        self._keys.clear()
        self._find_selections = []
        self._find_current = None

    @property
    def interim_text(self) -> str:
        if self._interim_start is None:
            return ""
        return self.document().findBlock(self._interim_start).text()

    def settled_count(self) -> int:
        blocks = self.document().blockCount()
        if self._empty:
            return 0
        return blocks - (1 if self._interim_start is not None else 0)

    # --- find --------------------------------------------------------------------------------
    def highlight(self, needle: str, background: QColor) -> int:
        """Highlight every case-insensitive match; returns how many there are."""
        self._find_selections = []
        self._find_current = None
        count = 0
        if needle:
            text = self.document().toPlainText().casefold()
            folded = needle.casefold()
            fmt = QTextCharFormat()
            fmt.setBackground(background)
            pos = text.find(folded)
            while pos >= 0:
                count += 1
                if len(self._find_selections) < MAX_FIND_HIGHLIGHTS:
                    sel = QTextEdit.ExtraSelection()
                    c = QTextCursor(self.document())
                    c.setPosition(pos)
                    c.setPosition(pos + len(folded), QTextCursor.MoveMode.KeepAnchor)
                    sel.cursor = c
                    sel.format = fmt
                    self._find_selections.append(sel)
                pos = text.find(folded, pos + max(1, len(folded)))
        self._apply_selections()
        return count

    def match_positions(self) -> list[int]:
        return [s.cursor.selectionStart() for s in self._find_selections]

    def show_match(self, index: int, current: QColor) -> None:
        if not 0 <= index < len(self._find_selections):
            return
        base = self._find_selections[index]
        sel = QTextEdit.ExtraSelection()
        sel.cursor = QTextCursor(base.cursor)
        fmt = QTextCharFormat()
        fmt.setBackground(current)
        sel.format = fmt
        self._find_current = sel
        self._apply_selections()
        self._set_following(False)
        c = QTextCursor(base.cursor)
        c.clearSelection()
        self.setTextCursor(c)
        self.ensureCursorVisible()

    def clear_highlights(self) -> None:
        self._find_selections = []
        self._find_current = None
        self._apply_selections()

    def _apply_selections(self) -> None:
        sels = list(self._find_selections)
        if self._find_current is not None:
            sels.append(self._find_current)
        self.setExtraSelections(sels)


def char_format(
    colour: QColor | str | None = None,
    *,
    italic: bool = False,
    bold: bool = False,
    background: QColor | str | None = None,
    underline: QColor | str | None = None,
    underline_style: QTextCharFormat.UnderlineStyle | None = None,
    tooltip: str = "",
    point_delta: float = 0.0,
    base_font: QFont | None = None,
) -> QTextCharFormat:
    fmt = QTextCharFormat()
    if colour is not None:
        fmt.setForeground(QColor(colour))
    if italic:
        fmt.setFontItalic(True)
    if bold:
        fmt.setFontWeight(QFont.Weight.DemiBold)
    if background is not None:
        fmt.setBackground(QColor(background))
    if underline is not None:
        fmt.setUnderlineColor(QColor(underline))
        fmt.setUnderlineStyle(underline_style or QTextCharFormat.UnderlineStyle.SingleUnderline)
    if tooltip:
        fmt.setToolTip(tooltip)
    if point_delta and base_font is not None:
        fmt.setFontPointSize(max(6.0, base_font.pointSizeF() + point_delta))
    return fmt
