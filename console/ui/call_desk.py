"""The operator's actions on calls: place one (while others go on), answer, decline, join one in
progress, hang up, hold a participant, transcription on and off, the language, close a call.

Each acts on the call in view (the call list's selection); nothing is routed by "the" call.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMessageBox

from console.acs.calls import CallLocator
from console.acs.events import IncomingCall
from console.acs.identifiers import typed_form
from console.acs.intelligence import IntelligenceSettings
from console.call.state import Notice, SessionError
from console.privacy import delete_call_data
from console.session import CallSession
from console.transcript.journal import JournalError
from console.ui.incoming import caller_text
from console.ui.intelligence_settings import DetectLanguagesDialog
from console.ui.join_dialog import JoinDialog

if TYPE_CHECKING:
    from console.ui.call_book import CallEntry
    from console.ui.main_window import MainWindow


class CallDesk(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._w = window

    @property
    def session(self) -> CallSession | None:
        return self._w.session

    def _locale(self) -> str:
        return self._w.transcription.locale.locale() or self._w.prefs.default_locale

    def _new_session(self) -> CallSession:
        w = self._w
        assert w.runtime is not None
        # Audio streaming (level meters) follows Settings, from the next call on.
        streams = w.prefs.stream_audio_for(w.runtime.profile.kind)
        session = w.runtime.new_session(stream_audio=streams)
        w.show_session(session)
        return session

    # --- calls ------------------------------------------------------------------------------
    def place_call(self, raw_target: str) -> None:
        w = self._w
        if w.runtime is None:
            return
        session = self._new_session()
        w.prefs.remember_target(typed_form(raw_target))
        w.call_controls.set_recent(w.prefs.recent_targets)
        w.settings.save_prefs()
        w.spawn(session.place(raw_target, locale=self._locale()), "place")

    def ring(self, incoming: IncomingCall) -> None:
        w = self._w
        who = caller_text(incoming)
        busy = [e.label for e in w.calls.live()]
        w.banner.ring(incoming, busy_with=", ".join(busy) if busy else None)
        QApplication.alert(w)
        text = f"{who} is calling" + (f" (you are on a call with {busy[0]})." if busy else ".")
        w.say("info", "Incoming call", text)

    def answer_call(self, incoming: IncomingCall, start_transcription: bool) -> None:
        w = self._w
        if w.runtime is None:
            return
        session = self._new_session()
        answer = session.answer(
            incoming, locale=self._locale(), start_transcription=start_transcription
        )
        w.spawn(answer, "answer")

    def decline_call(self, incoming: IncomingCall) -> None:
        w = self._w
        if w.runtime is not None:
            w.spawn(w.runtime.decline(incoming), "decline")
            w.say("info", "Call declined", f"Declined {caller_text(incoming)}.")

    def join_call(self) -> None:
        """Ask for a call in progress to join (a supervisor transcribing someone's call)."""
        w = self._w
        if w.runtime is None:
            return
        dialog = JoinDialog(w, locale=self._locale())
        if not dialog.exec() or dialog.locator is None:
            return
        self.join(
            dialog.locator,
            locale=dialog.chosen_locale,
            start_transcription=dialog.start_transcription,
        )

    def join(self, locator: CallLocator, *, locale: str, start_transcription: bool) -> None:
        session = self._new_session()
        join = session.join(locator, locale=locale, start_transcription=start_transcription)
        self._w.spawn(join, "join")

    def hang_up(self) -> None:
        s = self.session
        if s is not None and s.state.call.live:
            # A joined call is left, not ended: it goes on for the people on it.
            self._w.spawn(s.hang_up(for_everyone=not s.state.joined), "hang-up")

    def hold(self, raw_id: str, on_hold: bool) -> None:
        s = self.session
        if s is not None:
            self._w.spawn(s.hold(raw_id, on_hold=on_hold), "hold" if on_hold else "resume")

    def _ended_call(self) -> CallEntry | None:
        """The call in view, once it is over (else None, and the status bar says why)."""
        entry = self._w.calls.current
        if entry is not None and entry.state.call.live:
            self._w.statusBar().showMessage("Hang up first: the call is still going on.", 6000)
            return None
        return entry

    def close_call(self) -> None:
        """Take the call in view off the list (once it is over; its journal is closed)."""
        w = self._w
        entry = self._ended_call()
        if entry is None or w.runtime is None:
            return
        transcript = entry.session.transcript
        if not w.files.confirm_discard(transcript, journaled=entry.session.journal is not None):
            return
        unsaved = bool(transcript.final_count) and not w.files.is_saved(transcript)
        w.runtime.discard_session(entry.session, keep_for_recovery=unsaved)
        w.calls.remove(entry)

    def delete_call_data(self) -> None:
        """Delete this call's data: its journal, its target in the recent targets and in the
        console's logs (not files the operator saved). The call leaves the list."""
        w = self._w
        entry = self._ended_call()
        if entry is None or w.runtime is None:
            return
        session, target = entry.session, entry.state.target
        question = (
            f"Delete everything the console keeps about the call with {entry.label}?\n\n"
            "• its autosave journal\n• its target in the recent targets\n"
            "• its target in the console's log files\n\n"
            "The transcript leaves the window. Files you saved are not touched."
        )
        answer = QMessageBox.warning(
            w,
            "Delete this call's data",
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        journal = session.journal.path if session.journal is not None else None
        w.runtime.discard_session(session)
        w.calls.remove(entry)
        log_dir = w.log_path.parent if w.log_path is not None else None
        try:
            done = delete_call_data(
                w.data_dir, w.prefs, journal=journal, target=target, log_dir=log_dir
            )
        except (OSError, ValueError, JournalError) as exc:
            w.say("error", "Call data not deleted", str(exc))
            return
        w.call_controls.set_recent(w.prefs.recent_targets)
        parts = [
            "its journal deleted" if done.journal else "no journal was kept",
            "removed from recent targets" if done.recent_target else "not in recent targets",
            f"removed from {done.log_files} log file(s)",
        ]
        w.say(
            "info", "Call data deleted", f"The call with {entry.label}: " + "; ".join(parts) + "."
        )

    # --- transcription ------------------------------------------------------------------------
    def toggle_transcription(self) -> None:
        if self.session is not None and self.session.can_stop_transcription()[0]:
            self.stop_transcription()
        else:
            self.start_transcription()

    def start_transcription(self) -> None:
        s = self.session
        if s is not None and s.can_start_transcription()[0]:
            self._w.spawn(s.start_transcription(self._locale()), "start")

    def stop_transcription(self) -> None:
        s = self.session
        if s is not None and s.can_stop_transcription()[0]:
            self._w.spawn(s.stop_transcription(), "stop")

    def choose_locale(self, code: str) -> None:
        s = self.session
        if s is None or not s.state.call.live:
            return  # used at the next start
        try:
            s.request_locale(code)
        except SessionError as exc:
            self._w.statusBar().showMessage(str(exc), 8000)

    def locale_allowed(self) -> tuple[bool, str]:
        s = self.session
        return s.can_request_locale() if s is not None else (True, "")

    # --- call intelligence ------------------------------------------------------------------
    def intelligence(self) -> tuple[IntelligenceSettings, bool]:
        """What the call in view asks the service for (True), or, with no live call in view,
        what new calls will (False)."""
        s, w = self.session, self._w
        if s is not None and s.state.call.live:
            return s.intelligence, True
        return (w.runtime.intelligence if w.runtime is not None else IntelligenceSettings()), False

    def set_intelligence(self, settings: IntelligenceSettings) -> None:
        """From the transcription panel's menu: the call in view changes now (a new set of
        languages restarts its transcription); with none, new calls (and Settings) do."""
        w, s = self._w, self.session
        if s is not None and s.state.call.live:
            session = s

            async def apply() -> None:
                try:
                    await session.set_intelligence(settings)
                finally:
                    w.rerender()  # the menu shows what the call really asks for now

            w.spawn(apply(), "intelligence")
            return
        try:
            settings = settings.checked()
        except ValueError as exc:
            w.statusBar().showMessage(str(exc), 8000)
            return
        w.prefs.detect_languages = list(settings.locales)
        w.prefs.sentiment_analysis = settings.sentiment
        w.prefs.service_redaction = settings.service_redaction
        w.settings.save_prefs()
        if w.runtime is not None:
            w.runtime.intelligence = settings
        w.rerender()

    def detect_languages(self) -> None:
        """Choose the languages to identify among, for the call in view (or new calls)."""
        current, _ = self.intelligence()
        dialog = DetectLanguagesDialog(self._w, current)
        if dialog.exec():
            codes = dialog.picker.codes()
            self.set_intelligence(
                IntelligenceSettings(
                    codes, current.sentiment, current.service_redaction, current.end_call_summary
                )
            )

    # --- quitting ---------------------------------------------------------------------------
    def confirm_quit(self) -> bool:
        """Asked once, naming every call still going on; they are hung up on Yes."""
        w = self._w
        live = w.calls.live()
        if not live:
            return True
        names = "\n".join(f"  {e.number}. {e.label}" for e in live)
        many = len(live) > 1
        question = (
            f"{'These calls are' if many else 'A call is'} still going on:\n{names}\n\n"
            f"Hang {'them' if many else 'it'} up and quit?"
        )
        answer = QMessageBox.question(
            w, "Quit", question, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        for entry in live:
            w.spawn(entry.session.hang_up(), f"hang-up-on-quit-{entry.number}")
        w.add_notice(Notice(time.time(), "info", "Quitting", f"Hanging up {len(live)} call(s)."))
        return True
