"""Help > About: what this copy of the console is and where its files are."""

from __future__ import annotations

import platform
from html import escape
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from console import APP_ID, __version__
from console.ui.icons import app_icon

SUMMARY = (
    "Operator console for Azure Communication Services real-time call transcription, "
    "with an embedded ACS emulator."
)


class AboutDialog(QDialog):
    """Version, application id, library versions and the folders in use (selectable text)."""

    def __init__(self, folders: dict[str, Path | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AboutDialog")
        self.setWindowTitle("About ACS Transcription Console")
        layout = QVBoxLayout(self)
        layout.setSpacing(12)

        head = QHBoxLayout()
        logo = QLabel(self)
        logo.setPixmap(app_icon().pixmap(64, 64))
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)
        head.addWidget(logo)
        self.title = QLabel(
            f"<b style='font-size:15pt'>ACS Transcription Console</b><br>"
            f"Version {escape(__version__)}<br><br>{escape(SUMMARY)}",
            self,
        )
        self.title.setObjectName("AboutTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.title, 1)
        layout.addLayout(head)

        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.rows: dict[str, str] = {
            "Version": __version__,
            "Application id": APP_ID,
            "Qt / PySide6": f"{qVersion()} / {PySide6.__version__}",
            "Python": f"{platform.python_version()} on {platform.system() or 'unknown'}",
            "License": "MIT",
        }
        for label, path in folders.items():
            self.rows[label] = str(path) if path is not None else "—"
        for label, text in self.rows.items():
            value = QLabel(text, self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            form.addRow(f"{label}:", value)
        layout.addLayout(form)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
