"""The window's transcript files: save (the call in view, or every call at once), copy, open
for review, recover after a crash, and the question before an unsaved call is closed.

Review windows delete themselves when closed and are forgotten then, so an all-day session that
opens many keeps none of them.
"""

from __future__ import annotations

import logging
import time
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QMessageBox

from console.acs.identifiers import typed_form
from console.call.state import Notice
from console.privacy import close_recovered, recover, unfinished_journals
from console.transcript.export import TranscriptFormatError, load_json
from console.transcript.journal import JournalError
from console.transcript.model import Transcript
from console.transcript.redacted import REDACTED_AT_REST, redact_transcript
from console.transcript.saving import call_file_stem, save, unique_stems
from console.ui.files import (
    RecoveryDialog,
    ReviewWindow,
    ask_open_path,
    copy_transcript,
    recovered_title,
)
from console.ui.save_all_dialog import ask_save_all
from console.ui.save_dialog import ask_save_path

if TYPE_CHECKING:
    from console.ui.call_book import CallEntry
    from console.ui.main_window import MainWindow

log = logging.getLogger(__name__)


def masked_text(counts: dict[str, int]) -> str:
    """What a redacted save masked, for the event log."""
    if not counts:
        return "Redacted: no personal data was found to mask."
    return "Redacted: " + ", ".join(f"{n} × [{kind}]" for kind, n in counts.items()) + " masked."


def _stem(entry: CallEntry) -> str:
    """A call's file name: its start and its target as typed (``20261203-101500-+1425…``)."""
    target = entry.session.state.target
    return call_file_stem(entry.started_at, typed_form(target) if target else entry.label)


class _Saved:
    """Where a transcript was last saved, in which format, redacted or not, at which
    revision."""

    __slots__ = ("fmt", "path", "redact", "revision")

    def __init__(self, path: Path, fmt: str, redact: bool, revision: int) -> None:
        self.path, self.fmt, self.redact, self.revision = path, fmt, redact, revision


class TranscriptFiles(QObject):
    """Files for the transcript the window shows (``current()``), every call's, and review
    windows. Each call's transcript remembers its own file: Save writes it again."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._parent = self._w = window
        self.data_dir = window.data_dir
        # Where Save first opens; the app sets it (platform folder, or under --data-dir).
        self.save_dir: Path | None = None
        # Per transcript (forgotten with it): the file it was saved to, format and revision.
        self._saved: weakref.WeakKeyDictionary[Transcript, _Saved] = weakref.WeakKeyDictionary()
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
    @property
    def saved_to(self) -> tuple[Path, str] | None:
        """The file the transcript shown was last saved to, and its format."""
        t = self._current()
        saved = self._saved.get(t) if t is not None else None
        return (saved.path, saved.fmt) if saved is not None else None

    def is_saved(self, transcript: Transcript) -> bool:
        """Saved, and nothing has changed since."""
        saved = self._saved.get(transcript)
        return saved is not None and saved.revision == transcript.revision

    def _profile(self) -> str:
        w = self._w
        return w.runtime.profile.kind if w.runtime is not None else w.prefs.profile

    def _default_stem(self) -> str:
        entry = self._w.calls.current
        if entry is not None and entry.session.transcript is self._current():
            return _stem(entry)
        return "transcript-" + time.strftime("%Y%m%d-%H%M%S")

    def save_transcript(self) -> Path | None:
        """Save (Ctrl+S): again to the same file and format (and redacted or not) after a
        first save."""
        t = self._current()
        saved = self._saved.get(t) if t is not None else None
        if saved is not None:
            redact = saved.redact or self._w.prefs.always_redact_saved
            return self.save_to(saved.path, saved.fmt, again=True, redact=redact)
        return self.save_transcript_as()

    def save_transcript_as(self) -> Path | None:
        """Save As (Ctrl+Shift+S): ask, in the folder and format this profile used last."""
        if self._current() is None:
            self._status("There is no transcript to save yet.", 5000)
            return None
        profile = self._profile()
        folder, fmt = self._last_place(profile)
        prefs = self._w.prefs
        choice = ask_save_path(
            self._parent,
            folder,
            self._default_stem(),
            fmt,
            redact=prefs.redact_on_save,
            redact_forced=prefs.always_redact_saved,
        )
        if choice is None:
            return None
        out = self.save_to(choice.path, choice.fmt, redact=choice.redact)
        if out is not None:
            if not prefs.always_redact_saved:
                prefs.redact_on_save = choice.redact
            self._remember_place(profile, out.parent, choice.fmt)
        return out

    def _last_place(self, profile: str) -> tuple[Path, str]:
        prefs = self._w.prefs
        folder = Path(prefs.save_folders.get(profile) or self.transcripts_dir())
        if not folder.is_dir():
            folder = self.transcripts_dir()
        return folder, prefs.save_formats.get(profile, "txt")

    def _remember_place(self, profile: str, folder: Path, fmt: str) -> None:
        prefs = self._w.prefs
        prefs.save_folders[profile] = str(folder)
        prefs.save_formats[profile] = fmt
        self._w.settings.save_prefs()

    def save_all(self) -> list[Path]:
        """Save all: one file per call into a chosen folder, in one chosen format, each named
        ``<YYYYmmdd-HHMMSS>-<target>.<ext>`` (call start, target)."""
        entries = [e for e in self._w.calls.entries if e.session.transcript.final_count]
        if not entries:
            self._status("No call has a transcript to save yet.", 5000)
            return []
        profile = self._profile()
        folder, fmt = self._last_place(profile)
        stems = unique_stems([_stem(e) for e in entries])
        named = list(zip(entries, stems, strict=True))
        prefs = self._w.prefs
        choice = ask_save_all(
            self._parent,
            folder,
            fmt,
            [(e.label, stem) for e, stem in named],
            redact=prefs.redact_on_save,
            redact_forced=prefs.always_redact_saved,
        )
        if choice is None:
            return []
        folder, fmt, redact = choice
        if not prefs.always_redact_saved:
            prefs.redact_on_save = redact
        written: list[Path] = []
        for entry, stem in named:
            t = entry.session.transcript
            out = self.save_to(folder / f"{stem}.{fmt}", fmt, transcript=t, redact=redact)
            if out is None:
                break  # the reason is in the event log; the rest would fail the same way
            written.append(out)
        if written:
            self._remember_place(profile, folder, fmt)
            self._status(f"Saved {len(written)} of {len(named)} calls in {folder}.", 8000)
        return written

    def save_to(
        self,
        path: Path,
        fmt: str,
        *,
        again: bool = False,
        transcript: Transcript | None = None,
        redact: bool = False,
    ) -> Path | None:
        t = transcript or self._current()
        if t is None:
            return None
        redact = redact or self._w.prefs.always_redact_saved
        masked = redact_transcript(t) if redact else None
        try:
            out = save(masked.transcript if masked else t, path, fmt)
        except OSError as exc:
            text = (
                f"Saving to {path} failed: {exc.strerror or exc}. Any earlier file there is "
                "unchanged."
            )
            self._notify(Notice(time.time(), "error", "Transcript not saved", text, repr(exc)))
            return None
        self._saved[t] = _Saved(out, fmt, redact, t.revision)
        text = f"Saved again to {out} ({fmt.upper()})." if again else f"Saved as {out}."
        if masked is not None:
            text += " " + masked_text(masked.counts)
        self._notify(Notice(time.time(), "info", "Transcript saved", text, path=str(out)))
        return out

    def copy_all(self) -> None:
        """The whole transcript as plain text (Ctrl+C in a pane copies the selection)."""
        t = self._current()
        if t is not None and self._w.transcript_view.redacted:  # what the screen shows
            t = redact_transcript(t).transcript
        if copy_transcript(t):
            self._status("Transcript copied to the clipboard.", 4000)
        else:
            self._status("There is no transcript text to copy yet.", 4000)

    def confirm_discard(self, transcript: Transcript, *, journaled: bool = True) -> bool:
        """Before a call's unsaved transcript leaves the window: save it, go on, or cancel."""
        if not transcript.final_count or self.is_saved(transcript):
            return True
        kept = (
            "It stays in the autosave journal (File ▸ Recover) until you recover or discard it."
            if journaled
            else "The autosave journal is off (Settings ▸ Privacy): it will be lost."
        )
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Close call",
            f"This call's transcript has not been saved. {kept}",
            parent=self._parent,
        )
        save_first = box.addButton("Save first…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Close without saving", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is cancel:
            return False
        if box.clickedButton() is save_first:
            # The call closed is the one in view (closing acts on the call in view).
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
            journals = unfinished_journals(self.data_dir, self._w.prefs)
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
                    transcript = recover(info.path, self.data_dir)
                    title = recovered_title(info.call, info.created_at, transcript)
                    if transcript.call_info.get(REDACTED_AT_REST):
                        title += " · redacted (the journal was kept redacted)"
                    windows.append(self.show_review(transcript, title))
                close_recovered(info.path, self._w.prefs)
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
