"""The event log dock: every call event and listener incident, in operator language.

Each row is a session Notice (time, title, text); its technical detail is a child row the
operator can expand, and the row's tooltip.
"""

from __future__ import annotations

import html
import time
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDockWidget,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from console.ui.theme import current_scheme

MAX_ROWS = 5000  # bounded: an all-day session must not grow without limit


class NoticeLike(Protocol):
    at: float
    level: str
    title: str
    text: str
    detail: str
    path: str


_LEVEL_MARK = {"info": "●", "warning": "▲", "error": "■"}


class EventLog(QTreeWidget):
    open_folder_requested = Signal(str)  # the file whose folder the operator wants to see

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("EventLog")
        self.setColumnCount(3)
        self.setHeaderLabels(["Time", "Event", "What happened"])
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(False)
        self.setAlternatingRowColors(True)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAccessibleName("Event log")
        header = self.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        header.resizeSection(1, 200)

    def add_notice(self, notice: NoticeLike) -> QTreeWidgetItem:
        s = current_scheme()
        level = notice.level if notice.level in _LEVEL_MARK else "info"
        stamp = time.strftime("%H:%M:%S", time.localtime(notice.at))
        item = QTreeWidgetItem([stamp, f"{_LEVEL_MARK[level]} {notice.title}", notice.text])
        colour = {"info": s.muted, "warning": s.warn_line, "error": s.bad}[level]
        item.setForeground(1, QBrush(QColor(colour if level != "info" else s.text)))
        if level != "info":
            font = QFont(item.font(1))
            font.setBold(True)
            item.setFont(1, font)
        item.setData(0, Qt.ItemDataRole.UserRole, level)
        tip = notice.text + (f"\n\n{notice.detail}" if notice.detail else "")
        for col in range(3):
            item.setToolTip(col, tip)
        if notice.detail:
            child = QTreeWidgetItem(["", "Details", notice.detail])
            mono = QFont("DejaVu Sans Mono")
            mono.setStyleHint(QFont.StyleHint.Monospace)
            child.setFont(2, mono)
            child.setForeground(1, QBrush(QColor(s.muted)))
            item.addChild(child)
        self.addTopLevelItem(item)
        path = getattr(notice, "path", "")
        if path:  # a saved file: the row offers its folder
            item.setText(2, "")
            link = QLabel(self)
            link.setTextFormat(Qt.TextFormat.RichText)
            link.setText(
                f'{html.escape(notice.text)} <a href="{html.escape(path)}">Open folder</a>'
            )
            link.setToolTip(tip)
            link.setAccessibleName(notice.text)
            link.linkActivated.connect(lambda target: self.open_folder_requested.emit(target))
            self.setItemWidget(item, 2, link)
            item.setData(2, Qt.ItemDataRole.UserRole, notice.text)
        while self.topLevelItemCount() > MAX_ROWS:
            self.takeTopLevelItem(0)
        self.scrollToItem(item)
        return item

    def rows(self) -> list[tuple[str, str, str]]:
        """(level, title, text) of every row, oldest first: what the operator reads."""
        out = []
        for i in range(self.topLevelItemCount()):
            item = self.topLevelItem(i)
            level = item.data(0, Qt.ItemDataRole.UserRole)
            text = item.data(2, Qt.ItemDataRole.UserRole) or item.text(2)
            out.append((level, item.text(1).split(" ", 1)[1], text))
        return out


class EventLogDock(QDockWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Event log", parent)
        self.setObjectName("EventLogDock")
        self.log = EventLog(self)
        self.setWidget(self.log)
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
