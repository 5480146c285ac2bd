"""The operator's main window: call and transcription controls, transcript, event log, status.

It binds to a :class:`console.runtime.ConsoleRuntime` (the listeners and call service) and to
one :class:`console.session.CallSession` per call, forwards the operator's intent, and renders
what :func:`console.ui.presenter.present` decides. Its actions and menus are
:class:`~console.ui.window_actions.WindowActions`, its files
:class:`~console.ui.transcript_files.TranscriptFiles`. It parses nothing and calls no SDK itself.
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
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from console.acs.calls import CallServiceError
from console.acs.events import IncomingCall
from console.config import Preferences, SecretStore
from console.runtime import ConsoleRuntime
from console.session import CallSession, Notice, SessionError, SessionState
from console.ui.call_controls import CallControls
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
    session_changed = Signal(object)  # the new CallSession
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
        self.session: CallSession | None = None
        self._unsubscribe_session: Callable[[], None] | None = None
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
        self.transcript_view = TranscriptView(central)
        layout.addWidget(self.transcript_view, 1)
        self.find_bar = FindBar(self.transcript_view, central)
        layout.addWidget(self.find_bar)
        self.setCentralWidget(central)
        self.event_dock = EventLogDock(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.event_dock)
        self.event_log = self.event_dock.log
        self.event_log.open_folder_requested.connect(
            lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(str(Path(path).parent)))
        )
        self.status = ConsoleStatusBar(self)
        self.setStatusBar(self.status)

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
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._on_tick)
        self._tick.start()
        self._bind_runtime()
        self._render_state(SessionState(requested_locale=self.prefs.default_locale))
        self.resize(1280, 820)
        self.resizeDocks([self.event_dock], [170], Qt.Orientation.Vertical)
        self.settings.restore_layout()

    def rerender(self) -> None:
        """Render the last state again (after a theme change)."""
        if self._last_state is not None:
            self._render_state(self._last_state)

    def _wire(self) -> None:
        cc, tc = self.call_controls, self.transcription
        cc.call_requested.connect(self.place_call)
        cc.hang_up_requested.connect(self.hang_up)
        tc.start_requested.connect(self.start_transcription)
        tc.stop_requested.connect(self.stop_transcription)
        tc.locale_chosen.connect(self.choose_locale)
        self.banner.answer_requested.connect(self.answer_call)
        self.banner.decline_requested.connect(self.decline_call)
        missed = "{} called; the call was not answered."
        self.banner.missed.connect(
            lambda c: self._say("warning", "Missed call", missed.format(caller_text(c)))
        )
        self.transcript_view.rename_requested.connect(self.rename_participant)
        self.transcript_view.copy_all_requested.connect(self.files.copy_all)
        self.transcript_view.flushed.connect(lambda _rev: self.find_bar.transcript_changed())
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
        self._unsubscribe_incoming = rt.on_incoming_call(self.ring)
        self._on_tick()

    # --- session binding ---------------------------------------------------------------------
    def _new_session(self) -> CallSession:
        assert self.runtime is not None
        old = self.session
        if old is not None:
            if self._unsubscribe_session is not None:
                self._unsubscribe_session()
            self.runtime.discard_session(old)
        # Audio streaming (level meters) follows Settings, from the next call on.
        session = self.runtime.new_session(
            stream_audio=self.prefs.stream_audio_for(self.runtime.profile.kind)
        )
        self.session = session
        self.files.new_transcript()
        self._unsubscribe_session = session.subscribe(self._render_state, self.add_notice)
        self.transcript_view.set_transcript(session.transcript)
        self.transcript_view.set_audio(session.audio if session.stream_audio else None)
        if self.find_bar.isVisible():
            self.find_bar.close_bar()
        self.session_changed.emit(session)
        return session

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> None:
        self.tasks.spawn(coro, name=name)

    def _task_failed(self, exc: BaseException) -> None:
        if isinstance(exc, SessionError):
            self.statusBar().showMessage(str(exc), 8000)  # already in the event log
        elif isinstance(exc, CallServiceError):
            self._say("error", exc.operation or "Failed", exc.operator_text, str(exc))
        else:
            log.error("action failed", exc_info=exc)
            text = str(exc) or type(exc).__name__
            self._say("error", "Something went wrong", text, f"{type(exc).__name__}: {exc}")

    def _in_call(self) -> bool:
        return self.session is not None and self.session.state.call.live

    def _locale(self) -> str:
        return self.transcription.locale.locale() or self.prefs.default_locale

    # --- operator intent ---------------------------------------------------------------------
    def place_call(self, raw_target: str) -> None:
        if self.runtime is None or self._in_call() or not self._confirm_discard():
            return
        session = self._new_session()
        self.prefs.remember_target(raw_target.removeprefix("4:"))
        self.call_controls.set_recent(self.prefs.recent_targets)
        self.settings.save_prefs()
        self.spawn(session.place(raw_target, locale=self._locale()), "place")

    def hang_up(self) -> None:
        if self.session is not None and self._in_call():
            self.spawn(self.session.hang_up(), "hang-up")

    def ring(self, incoming: IncomingCall) -> None:
        who = caller_text(incoming)
        if self._in_call():
            busy = f"{who} called while another call is in progress."
            self._say("info", "Incoming call while busy", busy)
            return
        self.banner.ring(incoming)
        QApplication.alert(self)
        self._say("info", "Incoming call", f"{who} is calling.")

    def answer_call(self, incoming: IncomingCall, start_transcription: bool) -> None:
        if self.runtime is None or self._in_call() or not self._confirm_discard():
            return
        session = self._new_session()
        answer = session.answer(
            incoming, locale=self._locale(), start_transcription=start_transcription
        )
        self.spawn(answer, "answer")

    def decline_call(self, incoming: IncomingCall) -> None:
        if self.runtime is not None:
            self.spawn(self.runtime.decline(incoming), "decline")
            self._say("info", "Call declined", f"Declined {caller_text(incoming)}.")

    def toggle_transcription(self) -> None:
        if self.session is not None and self.session.can_stop_transcription()[0]:
            self.stop_transcription()
        else:
            self.start_transcription()

    def start_transcription(self) -> None:
        if self.session is not None and self.session.can_start_transcription()[0]:
            self.spawn(self.session.start_transcription(self._locale()), "start")

    def stop_transcription(self) -> None:
        if self.session is not None and self.session.can_stop_transcription()[0]:
            self.spawn(self.session.stop_transcription(), "stop")

    def choose_locale(self, code: str) -> None:
        if self.session is None or not self._in_call():
            return  # used at the next start
        try:
            self.session.request_locale(code)
        except SessionError as exc:
            self.statusBar().showMessage(str(exc), 8000)

    def rename_participant(self, raw_id: str, name: str) -> None:
        shown = self.transcript_view.transcript
        if self.session is not None and shown is self.session.transcript:
            self.session.rename_participant(raw_id, name)
        elif shown is not None:
            shown.rename(raw_id, name)

    def _confirm_discard(self) -> bool:
        return self.files.confirm_discard(self.session is not None)

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
        self.call_controls.set_call_state(v.call, v.connected_at)
        self.transcription.set_state(
            v.transcription,
            can_start=v.can_start,
            can_stop=v.can_stop,
            requested_locale=v.requested_locale,
            confirmed_locale=v.confirmed_locale,
            failed=v.failed,
        )
        self.acts.hang_up.setEnabled(v.can_hang_up)
        self.acts.transcribe.setEnabled(v.can_toggle_transcription)
        self.acts.call.setEnabled(v.can_call)
        self.local_audio.set_call(v.connected_call_id)
        self.status.set_health(v.health)
        self.setWindowTitle(v.title)
        self.state_shown.emit(state)

    def add_notice(self, notice: Notice) -> None:
        self.event_log.add_notice(notice)
        if notice.level == "error":
            self.statusBar().showMessage(f"{notice.title}: {notice.text}", 10000)

    def _say(self, level: str, title: str, text: str, detail: str = "") -> None:
        self.add_notice(Notice(time.time(), level, title, text, detail))

    def _on_tick(self) -> None:
        self.call_controls.tick()
        if self.runtime is not None:
            self.status.poll(self.runtime)

    # --- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._in_call():
            answer = QMessageBox.question(
                self,
                "Quit",
                "A call is in progress. Hang up and quit?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            if self.session is not None:
                self.spawn(self.session.hang_up(), "hang-up-on-quit")
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
        for undo in (self._unsubscribe_session, self._unsubscribe_incoming):
            if undo is not None:
                undo()
        self._unsubscribe_session = self._unsubscribe_incoming = None
