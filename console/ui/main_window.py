"""The operator's main window: the call list, call and transcription controls, the transcript of
the call in view, its event log, status.

It binds to a :class:`console.runtime.ConsoleRuntime` (the listeners and call service) and holds
one :class:`console.session.CallSession` per call in its :class:`~console.ui.call_book.CallBook`;
the call in view is bound to the widgets and rendered as
:func:`console.ui.presenter.present` decides. The operator's actions on calls are
:class:`~console.ui.call_desk.CallDesk`, its menus
:class:`~console.ui.window_actions.WindowActions`,
its files :class:`~console.ui.transcript_files.TranscriptFiles`. It parses nothing and calls no
SDK itself.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import QApplication, QHBoxLayout, QMainWindow, QVBoxLayout, QWidget

from console.acs.calls import CallServiceError
from console.acs.events import IncomingCall
from console.config import Preferences, SecretStore
from console.runtime import ConsoleRuntime
from console.session import CallSession, Notice, SessionError, SessionState
from console.transcript.alerts import Alert
from console.ui.call_book import CallBook, CallEntry
from console.ui.call_controls import CallControls
from console.ui.call_desk import CallDesk
from console.ui.call_list import CallListDock
from console.ui.event_log import EventLogDock
from console.ui.find_bar import FindBar
from console.ui.icons import app_icon
from console.ui.incoming import IncomingCallBanner, caller_text
from console.ui.presenter import present
from console.ui.status import ConsoleStatusBar
from console.ui.tasks import TaskGroup
from console.ui.transcript_files import TranscriptFiles
from console.ui.transcript_view import TranscriptView
from console.ui.transcription_controls import TranscriptionControls
from console.ui.window_actions import WindowActions
from console.ui.window_settings import WindowSettings

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    session_changed = Signal(object)  # the CallSession now in view
    state_shown = Signal(object)  # the SessionState just rendered

    def __init__(
        self,
        runtime: ConsoleRuntime | None,
        *,
        prefs: Preferences | None = None,
        data_dir: Path | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.prefs = prefs or Preferences()
        self.data_dir = data_dir or Path.home()
        self.secrets = secrets or SecretStore(self.data_dir)
        self.log_path: Path | None = None  # the app sets it; shown in About
        self._unsubscribe_incoming: Callable[[], None] | None = None
        self._last_state: SessionState | None = None
        self.tasks = TaskGroup(self._task_failed)
        self.setObjectName("MainWindow")
        self.setWindowTitle("ACS Transcription Console")
        self.setWindowIcon(app_icon())

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(10, 10, 10, 4)
        layout.setSpacing(8)
        self.banner = IncomingCallBanner(central)
        layout.addWidget(self.banner)
        controls = QHBoxLayout()
        controls.setSpacing(10)
        self.call_controls = CallControls(central)
        self.transcription = TranscriptionControls(central)
        controls.addWidget(self.call_controls, 3)
        controls.addWidget(self.transcription, 2)
        layout.addLayout(controls)
        self.transcript_view = TranscriptView(central, holdable=True)
        layout.addWidget(self.transcript_view, 1)
        self.find_bar = FindBar(self.transcript_view, central)
        layout.addWidget(self.find_bar)
        self.setCentralWidget(central)
        self.call_dock = CallListDock(self)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.call_dock)
        self.event_dock = EventLogDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.event_dock)
        self.event_log = self.event_dock.log
        self.event_log.open_folder_requested.connect(
            lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))
        )
        self.status = ConsoleStatusBar(self)
        self.setStatusBar(self.status)

        self.calls = CallBook(self)
        self.desk = CallDesk(self)
        self.files = TranscriptFiles(self)
        self.settings = WindowSettings(self)
        self.acts = WindowActions(self)
        self.local_audio = self.acts.local_audio
        self._wire()
        self.transcript_view.set_thresholds(
            self.prefs.warn_confidence, self.prefs.critical_confidence
        )
        self.call_controls.set_recent(self.prefs.recent_targets)
        self.transcription.locale.set_locale(self.prefs.default_locale)
        self.set_redacted_view(self.prefs.redacted_view)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        self._bind_runtime()
        self._render_state(SessionState(requested_locale=self.prefs.default_locale))
        self.resize(1440, 860)
        self.resizeDocks([self.event_dock], [170], Qt.Orientation.Vertical)
        self.resizeDocks([self.call_dock], [250], Qt.Orientation.Horizontal)
        self.settings.restore_layout()

    # --- the call in view ---------------------------------------------------------------------
    @property
    def session(self) -> CallSession | None:
        return self.calls.current.session if self.calls.current is not None else None

    @session.setter
    def session(self, session: CallSession) -> None:
        self.show_session(session)

    def show_session(self, session: CallSession) -> CallEntry:
        """Hold ``session`` in the call list (if it is not yet) and bring it into view."""
        entry = self.calls.entry_of(session) or self.calls.add(session)
        self.calls.select(entry)
        return entry

    def _show_call(self, entry: CallEntry | None) -> None:
        session = entry.session if entry is not None else None
        if session is None:
            self.transcript_view.set_transcript(None)
        else:
            self.transcript_view.set_transcript(
                session.transcript,
                alerts=list(session.alert_watcher.alerts),
                insights=session.insights.snapshot,
            )
        audio = session.audio if session is not None and session.stream_audio else None
        self.transcript_view.set_audio(audio)
        self.event_log.clear()
        for notice in self.calls.log_for(entry):
            self.event_log.add_notice(notice)
        if self.find_bar.isVisible():
            self.find_bar.close_bar()
        self.call_dock.list.show_current(entry)
        state = entry.state if entry is not None else SessionState()
        # The language shown is the call's own (and what a call placed from here will use).
        self.transcription.locale.set_locale(state.requested_locale or self.prefs.default_locale)
        self._render_state(state)
        self.session_changed.emit(session)

    def _entry_changed(self, entry: CallEntry) -> None:
        self.call_dock.list.refresh(entry)
        if entry is self.calls.current:
            self._render_state(entry.state)

    def set_redacted_view(self, on: bool) -> None:
        """Redacted view on or off (remembered): personal data masked on screen."""
        self.transcript_view.set_redacted(on)
        self.acts.redacted.setChecked(on)
        if self.prefs.redacted_view != on:
            self.prefs.redacted_view = on
            self.settings.save_prefs()

    def rerender(self) -> None:
        """Render the last state again (after a theme change)."""
        if self._last_state is not None:
            self._render_state(self._last_state)

    def _wire(self) -> None:
        cc, tc, desk = self.call_controls, self.transcription, self.desk
        cc.call_requested.connect(desk.place_call)
        cc.hang_up_requested.connect(desk.hang_up)
        tc.start_requested.connect(desk.start_transcription)
        tc.stop_requested.connect(desk.stop_transcription)
        tc.locale_chosen.connect(desk.choose_locale)
        tc.intelligence_changed.connect(desk.set_intelligence)
        tc.detect_requested.connect(desk.detect_languages)
        self.banner.answer_requested.connect(desk.answer_call)
        self.banner.decline_requested.connect(desk.decline_call)
        missed = "{} called; the call was not answered."
        self.banner.missed.connect(
            lambda c: self.say("warning", "Missed call", missed.format(caller_text(c)))
        )
        self.transcript_view.rename_requested.connect(self.rename_participant)
        self.transcript_view.hold_requested.connect(desk.hold)
        self.transcript_view.copy_all_requested.connect(self.files.copy_all)
        self.transcript_view.redacted_toggled.connect(self.set_redacted_view)
        self.transcript_view.flushed.connect(lambda _rev: self.find_bar.transcript_changed())
        book = self.calls
        book.current_changed.connect(self._show_call)
        book.entry_changed.connect(self._entry_changed)
        book.entries_changed.connect(lambda: self.call_dock.set_entries(book.entries, book.current))
        book.notice_shown.connect(self._show_notice)
        book.alert_raised.connect(self._alert)
        self.call_dock.list.call_chosen.connect(book.select)
        # Focus order: target, dial pad, call, hang up, transcription, language, transcript.
        chain = (cc.target, cc.dial_button, cc.call_button, cc.hang_up_button, tc.toggle, tc.locale)
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _bind_runtime(self) -> None:
        rt = self.runtime
        if rt is None:
            self.status.set_profile("none (review only)")
            self.status.set_addresses(None)
            self.call_controls.setEnabled(False)
            self.call_controls.setToolTip("No call service is running.")
            return
        self.status.set_profile(rt.profile.label)
        self.status.set_addresses(rt.addresses())
        self._unsubscribe_incoming = rt.on_incoming_call(self.desk.ring)
        self._on_tick()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self.tasks.spawn(coro, name=name)

    def _task_failed(self, exc: BaseException) -> None:
        if isinstance(exc, SessionError):
            self.statusBar().showMessage(str(exc), 8000)  # already in the event log
        elif isinstance(exc, CallServiceError):
            self.say("error", exc.operation or "Failed", exc.operator_text, str(exc))
        else:
            log.error("action failed", exc_info=exc)
            text = str(exc) or type(exc).__name__
            self.say("error", "Something went wrong", text, f"{type(exc).__name__}: {exc}")

    def _in_call(self) -> bool:
        return self.session is not None and self.session.state.call.live

    # The desk's, under the names the tests and the self-test use.
    def place_call(self, raw_target: str) -> None:
        self.desk.place_call(raw_target)

    def ring(self, incoming: IncomingCall) -> None:
        self.desk.ring(incoming)

    def rename_participant(self, raw_id: str, name: str) -> None:
        shown = self.transcript_view.transcript
        if self.session is not None and shown is self.session.transcript:
            self.session.rename_participant(raw_id, name)
        elif shown is not None:
            shown.rename(raw_id, name)

    # --- rendering ---------------------------------------------------------------------------
    def _render_state(self, state: SessionState) -> None:
        self._last_state = state
        shown = self.transcript_view.transcript
        v = present(
            state,
            has_session=self.session is not None,
            has_runtime=self.runtime is not None,
            finals_shown=shown.final_count if shown is not None else 0,
        )
        self.call_controls.set_call_state(v.call, v.connected_at, joined=state.joined)
        self.transcription.set_state(
            v.transcription,
            can_start=v.can_start,
            can_stop=v.can_stop,
            requested_locale=v.requested_locale,
            confirmed_locale=v.confirmed_locale,
            failed=v.failed,
        )
        self.transcription.set_locale_allowed(*self.desk.locale_allowed())
        settings, for_call = self.desk.intelligence()
        self.transcription.set_intelligence(settings, for_call=for_call)
        self.transcript_view.set_held(state.held, holdable=v.can_hold)
        self.acts.hang_up.setEnabled(v.can_hang_up)
        self.acts.transcribe.setEnabled(v.can_toggle_transcription)
        self.acts.call.setEnabled(v.can_call)
        over = self.session is not None and not state.call.live
        self.acts.close_call.setEnabled(over)
        self.acts.delete_call.setEnabled(over)
        self.local_audio.set_call(v.connected_call_id)
        self.status.set_health(v.health)
        self.setWindowTitle(v.title)
        self.state_shown.emit(state)

    def add_notice(self, notice: Notice) -> None:
        """A notice not about one call (an incoming call, a save, settings)."""
        self.calls.add_global(notice)

    def _show_notice(self, notice: Notice) -> None:
        self.event_log.add_notice(notice)
        if notice.level == "error":
            self.statusBar().showMessage(f"{notice.title}: {notice.text}", 10000)

    def say(self, level: str, title: str, text: str, detail: str = "") -> None:
        self.add_notice(Notice(time.time(), level, title, text, detail))

    def _alert(self, entry: CallEntry, alert: Alert) -> None:
        if entry is self.calls.current:
            self.transcript_view.note_alert(alert)
        if self.prefs.alert_sound:
            QApplication.beep()

    def _on_tick(self) -> None:
        self.call_controls.tick()
        if self._in_call():
            self.transcript_view.refresh_insights()  # silences grow while nobody speaks
        self.call_dock.list.refresh()
        if self.runtime is not None:
            self.status.poll(self.runtime)

    # --- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.desk.confirm_quit():
            event.ignore()
            return
        self.shutdown()
        self.files.close_reviews()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop timers and subscriptions; the runtime itself is stopped by its owner."""
        if self._tick.isActive():
            self.settings.save_layout()
        self._tick.stop()
        self.transcript_view.close_binding()
        self.local_audio.shutdown()
        self.calls.shutdown()
        if self._unsubscribe_incoming is not None:
            self._unsubscribe_incoming()
            self._unsubscribe_incoming = None
