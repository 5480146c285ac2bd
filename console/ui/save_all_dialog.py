"""Asking where to save every call's transcript at once, and in which format.

The dialog shows the files it will write (one per call, named by call start and target), so the
operator sees the names before anything is written; files already there are replaced only after
asking.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from console.ui.save_dialog import SAVE_FILTERS, redact_box


class SaveAllDialog(QDialog):
    def __init__(
        self,
        parent: QWidget | None,
        folder: Path,
        fmt: str,
        calls: list[tuple[str, str]],
        *,
        redact: bool = False,
        redact_forced: bool = False,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("SaveAllDialog")
        self.setWindowTitle("Save all transcripts")
        self._calls = calls  # (label, file stem) per call
        layout = QVBoxLayout(self)
        intro = QLabel(
            f"One file per call ({len(calls)}), named by when the call started and whom it is "
            "with.",
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        row = QHBoxLayout()
        self.folder = QLineEdit(str(folder), self)
        self.folder.setObjectName("folderEdit")
        browse = QPushButton("Browse…", self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        form.addRow("&Folder:", row)
        self.format = QComboBox(self)
        self.format.setObjectName("formatCombo")
        for text, code in SAVE_FILTERS:
            self.format.addItem(text.split(" (")[0], code)
        index = self.format.findData(fmt)
        self.format.setCurrentIndex(max(index, 0))
        form.addRow("F&ormat:", self.format)
        layout.addLayout(form)
        self.redact = redact_box(self, redact, redact_forced)
        layout.addWidget(self.redact)
        self.preview = QListWidget(self)
        self.preview.setObjectName("filesPreview")
        layout.addWidget(self.preview, 1)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.format.currentIndexChanged.connect(self._show_names)
        self._show_names()
        self.resize(560, 360)

    def chosen_format(self) -> str:
        return str(self.format.currentData())

    def chosen_folder(self) -> Path:
        return Path(self.folder.text().strip()).expanduser()

    def file_names(self) -> list[str]:
        ext = self.chosen_format()
        return [f"{stem}.{ext}" for _label, stem in self._calls]

    def _show_names(self) -> None:
        self.preview.clear()
        for (label, _stem), name in zip(self._calls, self.file_names(), strict=True):
            self.preview.addItem(f"{name}    ({label})")

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(
            self,
            "Save all transcripts in",
            str(self.chosen_folder()),
            QFileDialog.Option.DontUseNativeDialog | QFileDialog.Option.ShowDirsOnly,
        )
        if chosen:
            self.folder.setText(chosen)

    def _accept(self) -> None:
        folder = self.chosen_folder()
        if not self.folder.text().strip():
            QMessageBox.warning(self, "Save all transcripts", "Choose a folder to save into.")
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            text = f"{folder} cannot be used: {exc.strerror or exc}."
            QMessageBox.warning(self, "Save all transcripts", text)
            return
        existing = [n for n in self.file_names() if (folder / n).exists()]
        if existing:
            shown = "\n".join(f"  {n}" for n in existing[:8])
            more = f"\n  … and {len(existing) - 8} more" if len(existing) > 8 else ""
            answer = QMessageBox.question(
                self,
                "Replace files?",
                f"{len(existing)} of these files exist in {folder} already:\n{shown}{more}\n\n"
                "Replace them?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.accept()


def ask_save_all(
    parent: QWidget | None,
    folder: Path,
    fmt: str,
    calls: list[tuple[str, str]],
    *,
    redact: bool = False,
    redact_forced: bool = False,
) -> tuple[Path, str, bool] | None:
    """Ask for a folder, one format for every call and whether to redact; None when
    cancelled."""
    dialog = SaveAllDialog(parent, folder, fmt, calls, redact=redact, redact_forced=redact_forced)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen_folder(), dialog.chosen_format(), dialog.redact.isChecked()
