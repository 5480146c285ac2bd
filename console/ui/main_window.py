"""The operator's main window: call and transcription controls, transcript, event log, status.

It binds to a :class:`console.runtime.ConsoleRuntime` (the listeners and call service) and to
one :class:`console.session.CallSession` per call; it renders their state and forwards the
operator's intent. It parses nothing and calls no SDK itself.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from console.acs.calls import CallServiceError
from console.config import Preferences, SecretStore
from console.session import CallSession, Notice, SessionError, SessionState
from console.transcript.export import TranscriptFormatError, export, load_json
from console.transcript.journal import JournalError, find_unfinished, mark_recovered, replay
from console.transcript.model import Transcript
from console.ui.about import AboutDialog
from console.ui.call_controls import CallControls
from console.ui.event_log import EventLogDock
from console.ui.files import (
    RecoveryDialog,
    ReviewWindow,
    ask_open_path,
    ask_save_path,
    copy_transcript,
)
from console.ui.find_bar import FindBar
from console.ui.icons import app_icon, retint, themed
from console.ui.incoming import IncomingCallBanner, caller_text
from console.ui.local_audio_menu import LocalAudioMenu
from console.ui.settings_dialog import SettingsDialog
from console.ui.status import ConsoleStatusBar
from console.ui.tasks import TaskGroup
from console.ui.theme import apply_theme
from console.ui.transcript_view import TranscriptView
from console.ui.transcription_controls import TranscriptionControls

log = logging.getLogger(__name__)

_LIVE = ("connecting", "connected", "disconnecting")


class MainWindow(QMainWindow):
    session_changed = Signal(object)  # the new CallSession
    state_shown = Signal(object)  # the SessionState just rendered

    def __init__(
        self,
        runtime: Any | None,
        *,
        prefs: Preferences | None = None,
        data_dir: Path | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.prefs = prefs or Preferences()
        self.data_dir = data_dir or Path.home()
        self.secrets = secrets or SecretStore()
        # Where Save opens and where the log goes; the app sets them (platform folders, or
        # under --data-dir). Unset: the data dir's transcripts folder, and no log file.
        self.save_dir: Path | None = None
        self.log_path: Path | None = None
        self.session: CallSession | None = None
        self._unsubscribe_session: Any = None
        self._unsubscribe_incoming: Any = None
        self._saved_revision: int | None = None
        self._last_state: SessionState | None = None
        self.review_windows: list[ReviewWindow] = []
        self.recovery_dialog: RecoveryDialog | None = None
        self._stats_failed = False
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
        self.status = ConsoleStatusBar(self)
        self.setStatusBar(self.status)

        self._build_actions()
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
        self._restore_layout()

    # --- actions and menus ------------------------------------------------------------------
    def _action(
        self,
        text: str,
        slot: Any,
        shortcut: str | QKeySequence.StandardKey | None = None,
        icon_name: str | None = None,
        tip: str = "",
    ) -> QAction:
        act = QAction(text, self)
        if icon_name:
            themed(act, icon_name)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            act.setStatusTip(tip)
        act.triggered.connect(slot)
        self.addAction(act)
        return act

    def _build_actions(self) -> None:
        a = self._action
        self.act_open = a(
            "&Open transcript…", self.open_transcript, QKeySequence.StandardKey.Open, "open"
        )
        self.act_save = a(
            "&Save transcript…", self.save_transcript, QKeySequence.StandardKey.Save, "save"
        )
        self.act_copy = a("&Copy transcript", self.copy_all, "Ctrl+Shift+C", "copy")
        self.act_recover = a("&Recover unsaved transcripts…", self.offer_recovery)
        self.act_settings = a("Se&ttings…", self.open_settings, "Ctrl+,", "settings")
        self.act_quit = a("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_call = a("&Call", self.call_controls._on_call, "Ctrl+Return", "call")
        self.act_hang_up = a("&Hang up", self.hang_up, "Ctrl+Shift+H", "hangup")
        self.act_answer = a("&Answer incoming call", self.banner.answer, "Ctrl+Shift+A")
        self.act_decline = a("&Decline incoming call", self.banner.decline, "Ctrl+Shift+D")
        self.act_target = a("Go to &target field", self._focus_target, "Ctrl+L")
        self.act_dialpad = a(
            "Show &dial pad", self.call_controls.dial_button.showMenu, "Ctrl+D", "dialpad"
        )
        self.act_transcribe = a(
            "&Start / stop transcription", self.toggle_transcription, "Ctrl+T", "transcribe"
        )
        self.act_locale = a("Choose &language…", self._focus_locale, "Ctrl+Shift+L")
        self.act_by_speaker = a(
            "By &speaker", lambda: self.transcript_view.show_combined(False), "Ctrl+1", "split"
        )
        self.act_combined = a(
            "&Combined view", lambda: self.transcript_view.show_combined(True), "Ctrl+2", "combined"
        )
        self.act_find = a("&Find…", self.find_bar.open_bar, QKeySequence.StandardKey.Find, "search")
        self.act_find_next = a("Find &next", self.find_bar.next, QKeySequence.StandardKey.FindNext)
        self.act_find_prev = a(
            "Find &previous", self.find_bar.previous, QKeySequence.StandardKey.FindPrevious
        )
        self.act_live = a("&Jump to live", self.transcript_view.jump_to_live, "Ctrl+J", "live")
        self.act_focus_transcript = a("Go to t&ranscript", self._focus_transcript, "Ctrl+Shift+T")
        self.act_log = self.event_dock.toggleViewAction()
        self.act_log.setText("&Event log")
        self.act_log.setShortcut(QKeySequence("Ctrl+E"))
        self.addAction(self.act_log)
        self.act_about = a("&About", self.about)
        self.act_keys = a("&Keyboard shortcuts", self.show_shortcuts, "F1")

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.act_open, self.act_save, self.act_copy, self.act_recover])
        m.addSeparator()
        m.addAction(self.act_settings)
        m.addSeparator()
        m.addAction(self.act_quit)
        m = mb.addMenu("&Call")
        m.addActions([self.act_call, self.act_hang_up])
        m.addSeparator()
        m.addActions([self.act_answer, self.act_decline])
        m.addSeparator()
        m.addActions([self.act_target, self.act_dialpad])
        # Emulator calls only: participants who play a WAV file or speak through the microphone.
        self.local_audio = LocalAudioMenu(
            self, self.runtime, spawn=self._spawn, notify=self.add_notice
        )
        m.addSeparator()
        m.addMenu(self.local_audio.menu)
        m = mb.addMenu("&Transcription")
        m.addActions([self.act_transcribe, self.act_locale])
        m = mb.addMenu("&View")
        m.addActions([self.act_by_speaker, self.act_combined])
        m.addSeparator()
        m.addActions([self.act_find, self.act_find_next, self.act_find_prev, self.act_live])
        m.addSeparator()
        m.addActions([self.act_focus_transcript, self.act_log])
        m = mb.addMenu("&Help")
        m.addActions([self.act_keys, self.act_about])

    def _wire(self) -> None:
        cc = self.call_controls
        cc.call_requested.connect(self.place_call)
        cc.hang_up_requested.connect(self.hang_up)
        tc = self.transcription
        tc.start_requested.connect(self.start_transcription)
        tc.stop_requested.connect(self.stop_transcription)
        tc.locale_chosen.connect(self.choose_locale)
        self.banner.answer_requested.connect(self.answer_call)
        self.banner.decline_requested.connect(self.decline_call)
        self.banner.missed.connect(
            lambda incoming: self.add_notice(
                Notice(
                    time.time(),
                    "warning",
                    "Missed call",
                    f"{caller_text(incoming)} called; the call was not answered.",
                )
            )
        )
        self.transcript_view.rename_requested.connect(self.rename_participant)
        self.transcript_view.copy_all_requested.connect(self.copy_all)
        hints = QGuiApplication.styleHints()
        if hints is not None:
            hints.colorSchemeChanged.connect(self._system_scheme_changed)
        self.transcript_view.flushed.connect(lambda _rev: self.find_bar.transcript_changed())
        # Focus order: target, dial pad, call, hang up, transcription, language, transcript.
        QWidget.setTabOrder(cc.target, cc.dial_button)
        QWidget.setTabOrder(cc.dial_button, cc.call_button)
        QWidget.setTabOrder(cc.call_button, cc.hang_up_button)
        QWidget.setTabOrder(cc.hang_up_button, tc.toggle)
        QWidget.setTabOrder(tc.toggle, tc.locale)

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
        self._saved_revision = None
        self._unsubscribe_session = session.subscribe(self._render_state, self.add_notice)
        self.transcript_view.set_transcript(session.transcript)
        self.transcript_view.set_audio(session.audio if session.stream_audio else None)
        if self.find_bar.isVisible():
            self.find_bar.close_bar()
        self.session_changed.emit(session)
        return session

    def _spawn(self, coro: Any, name: str) -> None:
        self.tasks.spawn(coro, name=name)

    def _task_failed(self, exc: BaseException) -> None:
        if isinstance(exc, SessionError):
            self.statusBar().showMessage(str(exc), 8000)  # already in the event log
            return
        if isinstance(exc, CallServiceError):
            self.add_notice(
                Notice(time.time(), "error", exc.operation or "Failed", exc.operator_text, str(exc))
            )
            return
        log.error("action failed", exc_info=exc)
        self.add_notice(
            Notice(
                time.time(),
                "error",
                "Something went wrong",
                str(exc) or type(exc).__name__,
                f"{type(exc).__name__}: {exc}",
            )
        )

    def _current_locale(self) -> str:
        return self.transcription.locale.locale() or self.prefs.default_locale

    def _in_call(self) -> bool:
        return self.session is not None and self.session.state.call.value in _LIVE

    # --- operator intent ---------------------------------------------------------------------
    def place_call(self, raw_target: str) -> None:
        if self.runtime is None or self._in_call():
            return
        if not self._confirm_discard():
            return
        session = self._new_session()
        self.prefs.remember_target(raw_target.removeprefix("4:"))
        self.call_controls.set_recent(self.prefs.recent_targets)
        self._save_prefs()
        self._spawn(session.place(raw_target, locale=self._current_locale()), "place")

    def hang_up(self) -> None:
        if self.session is not None and self._in_call():
            self._spawn(self.session.hang_up(), "hang-up")

    def ring(self, incoming: Any) -> None:
        if self._in_call():
            self.add_notice(
                Notice(
                    time.time(),
                    "info",
                    "Incoming call while busy",
                    f"{caller_text(incoming)} called while another call is in progress.",
                )
            )
            return
        self.banner.ring(incoming)
        QApplication.alert(self)
        self.add_notice(
            Notice(time.time(), "info", "Incoming call", f"{caller_text(incoming)} is calling.")
        )

    def answer_call(self, incoming: Any, start_transcription: bool) -> None:
        if self.runtime is None or self._in_call():
            return
        if not self._confirm_discard():
            return
        session = self._new_session()
        self._spawn(
            session.answer(
                incoming, locale=self._current_locale(), start_transcription=start_transcription
            ),
            "answer",
        )

    def decline_call(self, incoming: Any) -> None:
        if self.runtime is None:
            return
        self._spawn(self.runtime.decline(incoming), "decline")
        self.add_notice(
            Notice(time.time(), "info", "Call declined", f"Declined {caller_text(incoming)}.")
        )

    def toggle_transcription(self) -> None:
        if self.session is None:
            return
        if self.session.can_stop_transcription()[0]:
            self.stop_transcription()
        elif self.session.can_start_transcription()[0]:
            self.start_transcription()

    def start_transcription(self) -> None:
        if self.session is not None and self.session.can_start_transcription()[0]:
            self._spawn(self.session.start_transcription(self._current_locale()), "start")

    def stop_transcription(self) -> None:
        if self.session is not None and self.session.can_stop_transcription()[0]:
            self._spawn(self.session.stop_transcription(), "stop")

    def choose_locale(self, code: str) -> None:
        if self.session is None or self.session.state.call.value not in _LIVE:
            return  # used at the next start
        try:
            self.session.request_locale(code)
        except SessionError as exc:
            self.statusBar().showMessage(str(exc), 8000)

    def rename_participant(self, raw_id: str, name: str) -> None:
        if self.session is not None and self.transcript_view.transcript is self.session.transcript:
            self.session.rename_participant(raw_id, name)
        elif self.transcript_view.transcript is not None:
            self.transcript_view.transcript.rename(raw_id, name)

    # --- rendering ---------------------------------------------------------------------------
    def _render_state(self, state: SessionState) -> None:
        self._last_state = state
        call = state.call.value
        self.call_controls.set_call_state(call, state.connected_at)
        session = self.session
        if session is not None:
            can_start, can_stop = (
                session.can_start_transcription(),
                session.can_stop_transcription(),
            )
        else:
            can_start, can_stop = (False, "Place or answer a call first."), (False, "")
        self.transcription.set_state(
            state.transcription.value,
            can_start=can_start,
            can_stop=can_stop,
            requested_locale=state.requested_locale,
            confirmed_locale=state.confirmed_locale,
            failed=bool(state.last_error),
        )
        live = call in _LIVE
        self.act_hang_up.setEnabled(call in ("connecting", "connected"))
        self.act_transcribe.setEnabled(can_start[0] or can_stop[0])
        self.act_call.setEnabled(not live and self.runtime is not None)
        self.local_audio.set_call(state.call_connection_id if call == "connected" else None)
        if state.stream_connected:
            health = "connected"
        elif state.transcription.value == "active":
            health = (
                "lost"
                if self.transcript_view.transcript and self.transcript_view.transcript.final_count
                else "waiting"
            )
        elif state.transcription.value == "starting":
            health = "waiting"
        else:
            health = "idle"
        self.status.set_health(health)
        title = "ACS Transcription Console"
        if live and state.target:
            title = f"{state.target.removeprefix('4:')} — {title}"
        self.setWindowTitle(title)
        self.state_shown.emit(state)

    def add_notice(self, notice: Notice) -> None:
        self.event_log.add_notice(notice)
        if notice.level == "error":
            self.statusBar().showMessage(f"{notice.title}: {notice.text}", 10000)

    def _on_tick(self) -> None:
        self.call_controls.tick()
        rt = self.runtime
        if rt is None:
            return
        try:
            stats = rt.stats()
        except Exception:  # counters must never break the clock; say they are missing
            if not self._stats_failed:
                log.warning("listener statistics unavailable", exc_info=True)
            self._stats_failed = True
            self.status.set_stats(None)
            return
        self._stats_failed = False
        self.status.set_stats(stats)

    def _focus_target(self) -> None:
        self.call_controls.target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.call_controls.target.lineEdit().selectAll()

    def _focus_locale(self) -> None:
        self.transcription.locale.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.transcription.locale.lineEdit().selectAll()

    def _focus_transcript(self) -> None:
        views = self.transcript_view.visible_views()
        if views:
            views[0].setFocus(Qt.FocusReason.ShortcutFocusReason)

    # --- files ---------------------------------------------------------------------------------
    def _transcripts_dir(self) -> Path:
        d = self.save_dir or self.data_dir / "transcripts"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def _stem(self) -> str:
        return "transcript-" + time.strftime("%Y%m%d-%H%M%S")

    def save_transcript(self) -> Path | None:
        t = self.transcript_view.transcript
        if t is None:
            self.statusBar().showMessage("There is no transcript to save yet.", 5000)
            return None
        choice = ask_save_path(self, self._transcripts_dir(), self._stem())
        if choice is None:
            return None
        return self.save_to(*choice)

    def save_to(self, path: Path, fmt: str) -> Path | None:
        t = self.transcript_view.transcript
        if t is None:
            return None
        try:
            if self.session is not None and t is self.session.transcript:
                out = self.session.save(path, fmt)
            else:
                out = export(t, path, fmt)
        except OSError as exc:
            self.add_notice(
                Notice(
                    time.time(),
                    "error",
                    "Transcript not saved",
                    f"Saving to {path} failed: {exc.strerror or exc}. "
                    "Any earlier file there is unchanged.",
                    repr(exc),
                )
            )
            return None
        self._saved_revision = t.revision
        self.add_notice(Notice(time.time(), "info", "Transcript saved", f"Saved as {out}."))
        return out

    def copy_all(self) -> None:
        """The whole transcript as plain text (Ctrl+C in a pane copies the selection)."""
        if copy_transcript(self.transcript_view.transcript):
            self.statusBar().showMessage("Transcript copied to the clipboard.", 4000)
        else:
            self.statusBar().showMessage("There is no transcript text to copy yet.", 4000)

    def open_transcript(self) -> ReviewWindow | None:
        path = ask_open_path(self, self._transcripts_dir())
        return self.open_path(path) if path else None

    def open_path(self, path: Path) -> ReviewWindow | None:
        try:
            transcript = load_json(path)
        except (OSError, TranscriptFormatError) as exc:
            QMessageBox.warning(self, "Cannot open transcript", f"{path.name}: {exc}")
            return None
        return self.show_review(transcript, path.name)

    def show_review(self, transcript: Transcript, title: str) -> ReviewWindow:
        win = ReviewWindow(transcript, title, self._transcripts_dir(), self)
        self.review_windows.append(win)
        win.destroyed.connect(lambda *_: None)
        win.show()
        return win

    def offer_recovery(self, *, startup: bool = False) -> RecoveryDialog | None:
        """Offer journals of calls that did not end cleanly (non-blocking dialog)."""
        try:
            journals = find_unfinished(self.data_dir)
        except OSError as exc:
            log.warning("journals unreadable: %s", exc)
            journals = []
        if not journals:
            if not startup:
                self.statusBar().showMessage("There are no unsaved transcripts to recover.", 5000)
            return None
        dialog = RecoveryDialog(journals, self)
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
                    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
                    windows.append(self.show_review(transcript, f"Recovered call {when}"))
                mark_recovered(info.path)
            except (OSError, JournalError) as exc:
                self.add_notice(
                    Notice(
                        time.time(),
                        "error",
                        "Recovery failed",
                        f"{info.path.name} could not be recovered: {exc}",
                    )
                )
        return windows

    def _confirm_discard(self) -> bool:
        t = self.transcript_view.transcript
        if (
            t is None
            or not t.final_count
            or self._saved_revision == t.revision
            or self.session is None
        ):
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Start a new call",
            "The current transcript has not been saved. It stays in the autosave "
            "journal, but will no longer be shown here.",
            parent=self,
        )
        save = box.addButton("Save first…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Continue", QMessageBox.ButtonRole.DestructiveRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        if box.clickedButton() is cancel:
            return False
        if box.clickedButton() is save:
            return self.save_transcript() is not None
        return True

    # --- settings ------------------------------------------------------------------------------
    def open_settings(self) -> None:
        dialog = SettingsDialog(self.prefs, self.secrets, self)
        if dialog.exec() and dialog.result_prefs is not None:
            self.apply_settings(dialog.result_prefs)

    def apply_settings(self, prefs: Preferences) -> None:
        old = self.prefs
        self.prefs = prefs
        self._save_prefs()
        app = QApplication.instance()
        if prefs.theme != old.theme and isinstance(app, QApplication):
            apply_theme(app, prefs.theme)
            self.retheme()
        self.transcript_view.set_thresholds(prefs.warn_confidence, prefs.critical_confidence)
        if not self._in_call():
            self.transcription.locale.set_locale(prefs.default_locale)
        connection = (
            "profile",
            "cognitive_services_endpoint",
            "caller_id",
            "public_callback_base",
            "public_websocket_base",
            "acs_resource_id",
            "callback_port",
            "ws_port",
        )
        if any(getattr(old, k) != getattr(prefs, k) for k in connection):
            self.add_notice(
                Notice(
                    time.time(),
                    "info",
                    "Settings saved",
                    "Connection settings take effect the next time the console starts.",
                )
            )

    def _system_scheme_changed(self, *_args: object) -> None:
        app = QApplication.instance()
        if self.prefs.theme == "system" and isinstance(app, QApplication):
            apply_theme(app, "system")
            self.retheme()

    def retheme(self) -> None:
        """Repaint everything that holds theme colours of its own."""
        retint()
        self.transcription.retheme()
        self.transcript_view.restyle()
        for win in self.review_windows:
            win.view.restyle()
        if self._last_state is not None:
            self._render_state(self._last_state)

    def _save_prefs(self) -> None:
        try:
            self.prefs.save(self.data_dir)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    # --- help ----------------------------------------------------------------------------------
    def about(self) -> AboutDialog:
        dialog = AboutDialog(
            {
                "Data folder": self.data_dir,
                "Transcripts": self.save_dir or self.data_dir / "transcripts",
                "Log file": self.log_path,
            },
            self,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def show_shortcuts(self) -> None:
        native = QKeySequence.SequenceFormat.NativeText
        rows = [
            f"{act.shortcut().toString(native):<18} {act.text().replace('&', '')}"
            for act in self.actions()
            if not act.shortcut().isEmpty()
        ]
        box = QMessageBox(
            QMessageBox.Icon.NoIcon, "Keyboard shortcuts", "\n".join(rows), parent=self
        )
        box.setStyleSheet("QLabel { font-family: 'DejaVu Sans Mono', monospace; }")
        box.exec()

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
                self._spawn(self.session.hang_up(), "hang-up-on-quit")
        self.shutdown()
        for win in self.review_windows:
            win.close()
        super().closeEvent(event)

    def _layout_settings(self) -> QSettings:
        # Window layout is a per-data-dir preference, so --data-dir isolates it too.
        return QSettings(str(self.data_dir / "window.ini"), QSettings.Format.IniFormat)

    def _restore_layout(self) -> None:
        if not (self.data_dir / "window.ini").exists():
            return
        qs = self._layout_settings()
        geometry, state = qs.value("geometry"), qs.value("state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def _save_layout(self) -> None:
        try:
            qs = self._layout_settings()
            qs.setValue("geometry", self.saveGeometry())
            qs.setValue("state", self.saveState())
            qs.sync()
        except OSError as exc:  # pragma: no cover - a read-only data dir
            log.warning("window layout not saved: %s", exc)

    def shutdown(self) -> None:
        """Stop timers and subscriptions; the runtime itself is stopped by its owner."""
        if self._tick.isActive():
            self._save_layout()
        self._tick.stop()
        self.transcript_view.close_binding()
        self.local_audio.shutdown()
        if self._unsubscribe_session is not None:
            self._unsubscribe_session()
            self._unsubscribe_session = None
        if self._unsubscribe_incoming is not None:
            self._unsubscribe_incoming()
            self._unsubscribe_incoming = None
