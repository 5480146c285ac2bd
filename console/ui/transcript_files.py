"""The window's transcript files: save, copy, open for review, recover after a crash, and the
question before a new call replaces an unsaved transcript.

Review windows delete themselves when closed and are forgotten then, so an all-day session that
opens many keeps none of them.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

from console.call.state import Notice
from console.transcript.export import TranscriptFormatError, load_json
from console.transcript.journal import JournalError, find_unfinished, mark_recovered, replay
from console.transcript.model import Transcript
from console.transcript.saving import save
from console.ui.files import (
    RecoveryDialog,
    ReviewWindow,
    ask_open_path,
    copy_transcript,
    recovered_title,
)
from console.ui.save_dialog import ask_save_path

if TYPE_CHECKING:
    from console.ui.main_window import MainWindow

log = logging.getLogger(__name__)


class TranscriptFiles(QObject):
    """Files for the transcript the window shows (``current()``), and review windows."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._parent = self._w = window
        self.data_dir = window.data_dir
        # Where Save first opens; the app sets it (platform folder, or under --data-dir).
        self.save_dir: Path | None = None
        self.saved_revision: int | None = None
        # The file the transcript shown was saved to, and its format: Save writes it again.
        self.saved_to: tuple[Path, str] | None = None
        self.review_windows: list[ReviewWindow] = []
        self.recovery_dialog: RecoveryDialog | None = None

    def _current(self) -> Transcript | None:
        return self._w.transcript_view.transcript

    def _notify(self, notice: Notice) -> None:
        self._w.add_notice(notice)

    def _status(self, text: str, ms: int) -> None:
        self._w.statusBar().showMessage(text, ms)

    def transcripts_dir(self) -> Path:
        d = self.save_dir or self.data_dir / "transcripts"
        d.mkdir(parents=True, exist_ok=True)
        return d

    # --- saving -----------------------------------------------------------------------------
    def new_transcript(self) -> None:
        """A new call's transcript is shown: it has not been saved anywhere yet."""
        self.saved_revision = None
        self.saved_to = None

    def save_transcript(self) -> Path | None:
        """Save (Ctrl+S): again to the same file and format after a first save."""
        if self.saved_to is not None and self._current() is not None:
            path, fmt = self.saved_to
            return self.save_to(path, fmt, again=True)
        return self.save_transcript_as()

    def save_transcript_as(self) -> Path | None:
        """Save As (Ctrl+Shift+S): ask, in the folder and format this profile used last."""
        if self._current() is None:
            self._status("There is no transcript to save yet.", 5000)
            return None
        w = self._w
        prefs = w.prefs
        profile = w.runtime.profile.kind if w.runtime is not None else prefs.profile
        folder = Path(prefs.save_folders.get(profile) or self.transcripts_dir())
        if not folder.is_dir():
            folder = self.transcripts_dir()
        stem = "transcript-" + time.strftime("%Y%m%d-%H%M%S")
        choice = ask_save_path(self._parent, folder, stem, prefs.save_formats.get(profile, "txt"))
        if choice is None:
            return None
        out = self.save_to(*choice)
        if out is not None:
            prefs.save_folders[profile] = str(out.parent)
            prefs.save_formats[profile] = choice[1]
            w.settings.save_prefs()
        return out

    def save_to(self, path: Path, fmt: str, *, again: bool = False) -> Path | None:
        t = self._current()
        if t is None:
            return None
        try:
            out = save(t, path, fmt)
        except OSError as exc:
            text = (
                f"Saving to {path} failed: {exc.strerror or exc}. Any earlier file there is "
                "unchanged."
            )
            self._notify(Notice(time.time(), "error", "Transcript not saved", text, repr(exc)))
            return None
        self.saved_revision = t.revision
        self.saved_to = (out, fmt)
        text = f"Saved again to {out} ({fmt.upper()})." if again else f"Saved as {out}."
        self._notify(Notice(time.time(), "info", "Transcript saved", text, path=str(out)))
        return out

    def copy_all(self) -> None:
        """The whole transcript as plain text (Ctrl+C in a pane copies the selection)."""
        if copy_transcript(self._current()):
            self._status("Transcript copied to the clipboard.", 4000)
        else:
            self._status("There is no transcript text to copy yet.", 4000)

    def confirm_discard(self, has_session: bool) -> bool:
        """Before a new call replaces the transcript shown: save it, go on, or cancel."""
        t = self._current()
        if t is None or not t.final_count or self.saved_revision == t.revision or not has_session:
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Start a new call",
            "The current transcript has not been saved. It stays in the autosave "
            "journal, but will no longer be shown here.",
            parent=self._parent,
        )
        save_first = box.addButton("Save first…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Continue", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is cancel:
            return False
        if box.clickedButton() is save_first:
            return self.save_transcript() is not None
        return True

    # --- review windows -----------------------------------------------------------------------
    def open_transcript(self) -> ReviewWindow | None:
        path = ask_open_path(self._parent, self.transcripts_dir())
        return self.open_path(path) if path else None

    def open_path(self, path: Path) -> ReviewWindow | None:
        try:
            transcript = load_json(path)
        except (OSError, TranscriptFormatError) as exc:
            QMessageBox.warning(self._parent, "Cannot open transcript", f"{path.name}: {exc}")
            return None
        return self.show_review(transcript, path.name)

    def show_review(self, transcript: Transcript, title: str) -> ReviewWindow:
        win = ReviewWindow(transcript, title, self.transcripts_dir(), self._parent)
        win.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.review_windows.append(win)
        win.destroyed.connect(lambda *_: self._forget(win))
        win.show()
        return win

    def _forget(self, win: ReviewWindow) -> None:
        if win in self.review_windows:
            self.review_windows.remove(win)

    def close_reviews(self) -> None:
        for win in list(self.review_windows):
            win.close()

    # --- recovery -------------------------------------------------------------------------------
    def offer_recovery(self, *, startup: bool = False) -> RecoveryDialog | None:
        """Offer journals of calls that did not end cleanly (non-blocking dialog)."""
        try:
            journals = find_unfinished(self.data_dir)
        except OSError as exc:
            log.warning("journals unreadable: %s", exc)
            journals = []
        if not journals:
            if not startup:
                self._status("There are no unsaved transcripts to recover.", 5000)
            return None
        dialog = RecoveryDialog(journals, self._parent)
        dialog.accepted.connect(lambda: self.apply_recovery(dialog.choice, dialog.selected()))
        dialog.finished.connect(dialog.deleteLater)
        self.recovery_dialog = dialog
        dialog.open()
        return dialog

    def apply_recovery(self, choice: str, journals: list[Any]) -> list[ReviewWindow]:
        windows = []
        for info in journals:
            try:
                if choice == "recover":
                    transcript = replay(info.path)
                    title = recovered_title(info.call, info.created_at, transcript)
                    windows.append(self.show_review(transcript, title))
                mark_recovered(info.path)
            except (OSError, JournalError) as exc:
                self._notify(
                    Notice(
                        time.time(),
                        "error",
                        "Recovery failed",
                        f"{info.path.name} could not be recovered: {exc}",
                    )
                )
        return windows
