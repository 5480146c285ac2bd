"""Asking where to save a transcript, and in which format.

What the operator types wins: a known suffix (``call.vtt``) chooses the format, and the
"Files of type" filter follows it as they type; a name without a known suffix gets the filter's
suffix. The file that will really be written is checked for: nothing is overwritten without
asking, whatever the dialog itself confirmed. Qt's own dialog is used on every platform, so
this behaves the same everywhere (and can be tested).
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from PySide6.QtWidgets import QCheckBox, QFileDialog, QGridLayout, QLineEdit, QMessageBox, QWidget

from console.transcript.export import format_for_path

# Filter text -> format.
SAVE_FILTERS: tuple[tuple[str, str], ...] = (
    ("Plain text (*.txt)", "txt"),
    ("JSON transcript, reopenable (*.json)", "json"),
    ("WebVTT subtitles (*.vtt)", "vtt"),
    ("SubRip subtitles (*.srt)", "srt"),
    ("CSV spreadsheet (*.csv)", "csv"),
)
_FILTER_OF = {fmt: text for text, fmt in SAVE_FILTERS}
_FORMAT_OF = dict(SAVE_FILTERS)


def _known_format(name: str) -> str | None:
    try:
        return format_for_path(name)
    except ValueError:
        return None


def resolve(typed: str, chosen_filter: str) -> tuple[Path, str]:
    """The file and format a typed name and the filter in force mean."""
    path = Path(typed)
    fmt = _known_format(path.name)
    if fmt is not None:
        return path, fmt
    fmt = _FORMAT_OF.get(chosen_filter, "txt")
    return path.with_name(f"{path.name}.{fmt}"), fmt


REDACT_TEXT = "&Redact personal data (card, account and phone numbers, e-mail addresses, spellings)"
REDACT_FORCED = "Settings ▸ Privacy ▸ Always redact saved transcripts is on."


class SaveChoice(NamedTuple):
    path: Path
    fmt: str
    redact: bool


def redact_box(parent: QWidget, checked: bool, forced: bool) -> QCheckBox:
    """The "Redact personal data" option; checked and fixed when Settings always redact."""
    box = QCheckBox(REDACT_TEXT, parent)
    box.setObjectName("redactCheck")
    box.setChecked(checked or forced)
    box.setEnabled(not forced)
    box.setToolTip(
        REDACT_FORCED
        if forced
        else "Save a copy with personal data masked ([CARD], [PHONE], …); the call's own "
        "transcript is unchanged."
    )
    return box


class SaveDialog(QFileDialog):
    def __init__(
        self,
        parent: QWidget | None,
        directory: Path,
        stem: str,
        fmt: str,
        *,
        redact: bool = False,
        redact_forced: bool = False,
    ) -> None:
        super().__init__(parent, "Save transcript", str(directory))
        self.setObjectName("SaveTranscriptDialog")
        self.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        self.setFileMode(QFileDialog.FileMode.AnyFile)
        # The name typed may not be the file written (a suffix is added): confirmed below.
        self.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        self.setNameFilters([text for text, _ in SAVE_FILTERS])
        self.selectNameFilter(_FILTER_OF.get(fmt, SAVE_FILTERS[0][0]))
        self.selectFile(f"{stem}.{fmt}")
        name_edit = self.findChild(QLineEdit, "fileNameEdit")  # Qt's own dialog's name field
        if name_edit is not None:
            name_edit.textEdited.connect(self._follow_suffix)
        self.redact = redact_box(self, redact, redact_forced)
        grid = self.layout()  # Qt's own dialog lays out in a grid: the option goes below it
        if isinstance(grid, QGridLayout):
            grid.addWidget(self.redact, grid.rowCount(), 0, 1, grid.columnCount())

    def _follow_suffix(self, text: str) -> None:
        fmt = _known_format(text.strip())
        if fmt is not None and _FORMAT_OF.get(self.selectedNameFilter()) != fmt:
            self.selectNameFilter(_FILTER_OF[fmt])


def ask_save_path(
    parent: QWidget | None,
    directory: Path,
    stem: str,
    fmt: str = "txt",
    *,
    redact: bool = False,
    redact_forced: bool = False,
) -> SaveChoice | None:
    """Ask where, in which format and whether redacted to save; None when cancelled."""
    dialog = SaveDialog(parent, directory, stem, fmt, redact=redact, redact_forced=redact_forced)
    while dialog.exec():
        chosen = dialog.selectedFiles()
        if not chosen:
            return None
        path, fmt = resolve(chosen[0], dialog.selectedNameFilter())
        if not path.exists() or _overwrite(parent, path):
            return SaveChoice(path, fmt, dialog.redact.isChecked())
        dialog.selectFile(path.name)
    return None


def _overwrite(parent: QWidget | None, path: Path) -> bool:
    answer = QMessageBox.question(
        parent,
        "Replace the file?",
        f"{path.name} already exists in {path.parent}. Replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes
