"""Save / open dialogs and the read-only review window for saved or recovered transcripts."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from console.acs.identifiers import short_label
from console.transcript.export import export, to_text
from console.transcript.journal import JournalInfo
from console.transcript.model import Transcript
from console.transcript.redacted import redact_transcript
from console.ui.find_bar import FindBar
from console.ui.icons import app_icon, icon
from console.ui.save_dialog import ask_save_path
from console.ui.theme import current_scheme
from console.ui.transcript_view import TranscriptView

log = logging.getLogger(__name__)


def ask_open_path(parent: QWidget, directory: Path) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open saved transcript", str(directory), "JSON transcript (*.json)"
    )
    return Path(path) if path else None


def copy_transcript(transcript: Transcript | None) -> bool:
    if transcript is None or not transcript.final_count:
        return False
    QGuiApplication.clipboard().setText(to_text(transcript))
    return True


class ReviewWindow(QMainWindow):
    """A saved or recovered transcript, read-only: find, copy and save in another format."""

    def __init__(
        self, transcript: Transcript, title: str, save_dir: Path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{title} — review (read-only)")
        self.setWindowIcon(app_icon())
        self.setObjectName("ReviewWindow")
        self.transcript = transcript
        self._save_dir = save_dir
        self._title = title
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 10, 10, 4)
        banner = QLabel(
            "Read-only review. Names, text and times are as saved; use Save As to export.",
            central,
        )
        banner.setStyleSheet(f"color: {current_scheme().muted};")
        layout.addWidget(banner)
        self.view = TranscriptView(central, read_only=True)
        layout.addWidget(self.view, 1)
        self.find_bar = FindBar(self.view, central)
        layout.addWidget(self.find_bar)
        self.setCentralWidget(central)
        self._build_menu()
        self.view.set_transcript(transcript)
        self.view.flush()
        self.resize(1100, 700)

    def _build_menu(self) -> None:
        s = current_scheme()
        menu = self.menuBar().addMenu("&File")
        save = QAction(icon("save", s.text), "Save &As…", self)
        save.setShortcut(QKeySequence.StandardKey.Save)
        save.triggered.connect(self.save_as)
        copy = QAction(icon("copy", s.text), "&Copy transcript", self)
        copy.setShortcut(QKeySequence("Ctrl+Shift+C"))
        copy.triggered.connect(lambda: copy_transcript(self.transcript))
        close = QAction("&Close", self)
        close.setShortcut(QKeySequence.StandardKey.Close)
        close.triggered.connect(self.close)
        menu.addActions([save, copy])
        menu.addSeparator()
        menu.addAction(close)
        view = self.menuBar().addMenu("&View")
        find = QAction(icon("search", s.text), "&Find…", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(self.find_bar.open_bar)
        by_speaker = QAction("By &speaker", self)
        by_speaker.setShortcut(QKeySequence("Ctrl+1"))
        by_speaker.triggered.connect(lambda: self.view.show_combined(False))
        combined = QAction("&Combined", self)
        combined.setShortcut(QKeySequence("Ctrl+2"))
        combined.triggered.connect(lambda: self.view.show_combined(True))
        view.addActions([find, by_speaker, combined])

    def save_as(self) -> Path | None:
        choice = ask_save_path(self, self._save_dir, Path(self._title).stem, "txt")
        if choice is None:
            return None
        t = redact_transcript(self.transcript).transcript if choice.redact else self.transcript
        try:
            return export(t, choice.path, choice.fmt)
        except OSError as exc:
            QMessageBox.warning(self, "Not saved", f"The transcript was not saved: {exc}")
            return None


def call_label(call: dict[str, object]) -> str:
    """Who a journalled call was with, as the operator knows them."""
    target = call.get("target")
    if isinstance(target, str) and target:
        return short_label(target)
    return str(call.get("direction") or "call")


def recovered_title(call: dict[str, object], started: float, transcript: Transcript) -> str:
    """ "Recovered call with +15550100 · 2026-12-03 14:02 · 3 min 20 s": which call it is."""
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(started))
    length = max(
        [p.end for p in transcript.finals] + [t for t, _ in transcript.placed()], default=0.0
    )
    minutes, seconds = divmod(round(max(0.0, length)), 60)
    duration = f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"
    return f"Recovered call with {call_label(call)} · {when} · {duration}"


def kept_as(info: JournalInfo) -> str:
    """How a journal was kept, or why it cannot be read."""
    if info.error:
        return "cannot be read: its key is gone"
    how = ["encrypted" if info.encrypted else "unencrypted"]
    if info.redacted:
        how.append("redacted")
    return ", ".join(how)


def kept_note(journals: list[JournalInfo]) -> str:
    """How long these journals are kept, as the retention setting says."""
    days = next((i.retention_days for i in journals if i.retention_days is not None), None)
    if days is None:
        return ""
    then = (
        "then deleted at once"
        if days <= 0
        else f"then deleted after {days} day{'s' if days != 1 else ''}"
    )
    return f"These are kept until you recover or discard them, {then} (Settings ▸ Privacy)."


class RecoveryDialog(QDialog):
    """Offered at start when journals of calls that did not end cleanly exist."""

    def __init__(self, journals: list[JournalInfo], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recover unsaved transcripts")
        self.setMinimumWidth(560)
        self.journals = journals
        self.choice: str = "later"  # "recover" | "discard" | "later"
        layout = QVBoxLayout(self)
        intro = QLabel(
            "The console did not close cleanly last time. These calls were autosaved and can "
            "be recovered for review and saving:",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.list = QTreeWidget(self)
        self.list.setHeaderLabels(["Started", "Call", "Phrases", "Size", "Kept"])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setAccessibleName("Unfinished transcripts")
        for info in journals:
            who = call_label(info.call)
            item = QTreeWidgetItem(
                [
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at)),
                    who,
                    str(info.finals) if not info.error else "—",
                    f"{info.size / 1024:.0f} KB",
                    kept_as(info),
                ]
            )
            item.setToolTip(0, str(info.path))
            if info.error:  # its key is gone: only Discard can apply
                item.setToolTip(4, info.error)
                item.setForeground(4, QColor(current_scheme().bad))
            self.list.addTopLevelItem(item)
            item.setSelected(True)
        header = self.list.header()
        header.setStretchLastSection(False)
        for column in (0, 2, 3, 4):  # dates and numbers are shown whole; the call takes the rest
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.list)
        self.kept_note = QLabel(kept_note(journals), self)
        self.kept_note.setWordWrap(True)
        self.kept_note.setStyleSheet(f"color: {current_scheme().muted};")
        layout.addWidget(self.kept_note)
        buttons = QDialogButtonBox(self)
        self.recover_button = QPushButton("&Recover selected", self)
        self.discard_button = QPushButton("&Discard selected", self)
        later = QPushButton("&Later", self)
        buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.discard_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.addButton(later, QDialogButtonBox.ButtonRole.RejectRole)
        self.recover_button.setDefault(True)
        self.recover_button.clicked.connect(lambda: self._finish("recover"))
        self.discard_button.clicked.connect(lambda: self._finish("discard"))
        later.clicked.connect(self.reject)
        layout.addWidget(buttons)
        self.list.itemSelectionChanged.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        chosen = self.selected()
        unreadable = [i for i in chosen if i.error]
        self.recover_button.setEnabled(bool(chosen) and not unreadable)
        self.discard_button.setEnabled(bool(chosen))
        self.recover_button.setToolTip(unreadable[0].error if unreadable else "")

    def selected(self) -> list[JournalInfo]:
        rows = {self.list.indexOfTopLevelItem(i) for i in self.list.selectedItems()}
        return [info for i, info in enumerate(self.journals) if i in rows]

    def _finish(self, choice: str) -> None:
        self.choice = choice
        self.accept()
