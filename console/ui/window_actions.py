"""The main window's actions (each with its shortcut, working wherever focus is) and menus."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QWidget

from console.ui.icons import themed
from console.ui.local_audio_menu import LocalAudioMenu

if TYPE_CHECKING:
    from console.ui.main_window import MainWindow

Shortcut = str | QKeySequence.StandardKey | None


class WindowActions:
    """Every action of the window, by name (``window.acts.save``), and its menu bar."""

    def __init__(self, w: MainWindow) -> None:
        self._w = w
        a = self._action
        files, view, find, desk, calls = w.files, w.transcript_view, w.find_bar, w.desk, w.calls
        std = QKeySequence.StandardKey
        self.open = a("&Open transcript…", files.open_transcript, std.Open, "open")
        self.save = a("&Save transcript", files.save_transcript, std.Save, "save")
        self.save_as = a("Save transcript &as…", files.save_transcript_as, "Ctrl+Shift+S")
        self.save_all = a("Save a&ll calls' transcripts…", files.save_all, "Ctrl+Alt+S")
        self.copy = a("&Copy transcript", files.copy_all, "Ctrl+Shift+C", "copy")
        self.recover = a("&Recover unsaved transcripts…", files.offer_recovery)
        self.settings = a("Se&ttings…", w.settings.open_dialog, "Ctrl+,", "settings")
        # Spelt out: some platforms (and Qt's offscreen one) map StandardKey.Quit to nothing.
        self.quit = a("&Quit", w.close, "Ctrl+Q")
        self.call = a("&Call", w.call_controls._on_call, "Ctrl+Return", "call")
        self.hang_up = a("&Hang up", desk.hang_up, "Ctrl+Shift+H", "hangup")
        self.join = a("&Join a call in progress…", desk.join_call, "Ctrl+Shift+J")
        self.close_call = a("Cl&ose call", desk.close_call, "Ctrl+W")
        self.delete_call = a("De&lete this call's data…", desk.delete_call_data)
        self.next_call = a("&Next call", lambda: calls.step(1), "Ctrl+PgDown")
        self.prev_call = a("&Previous call", lambda: calls.step(-1), "Ctrl+PgUp")
        # Alt+1 … Alt+9: the call with that number in the list (one row in the shortcut list).
        self.call_number = [
            a(f"Go to call {n}", lambda _=False, n=n: calls.select_number(n), f"Alt+{n}")
            for n in range(1, 10)
        ]
        for act in self.call_number:
            act.setProperty("shortcut_group", "Go to call 1 … 9 in the call list")
        self.answer = a("&Answer incoming call", w.banner.answer, "Ctrl+Shift+A")
        self.decline = a("&Decline incoming call", w.banner.decline, "Ctrl+Shift+D")
        self.target = a("Go to &target field", self._focus_target, "Ctrl+L")
        self.dialpad = a(
            "Show &dial pad", w.call_controls.dial_button.showMenu, "Ctrl+D", "dialpad"
        )
        self.transcribe = a(
            "&Start / stop transcription", desk.toggle_transcription, "Ctrl+T", "transcribe"
        )
        self.locale = a("Choose &language…", self._focus_locale, "Ctrl+Shift+L")
        self.by_speaker = a("By &speaker", lambda: view.show_combined(False), "Ctrl+1", "split")
        self.combined = a("&Combined view", lambda: view.show_combined(True), "Ctrl+2", "combined")
        self.redacted = a("&Redacted view", w.set_redacted_view, "Ctrl+Shift+R", "redact")
        self.redacted.setCheckable(True)
        self.find = a("&Find…", find.open_bar, std.Find, "search")
        self.find_next = a("Find &next", find.next, std.FindNext)
        self.find_prev = a("Find &previous", find.previous, std.FindPrevious)
        self.live = a("&Jump to live", view.jump_to_live, "Ctrl+J", "live")
        self.focus_transcript = a("Go to t&ranscript", self._focus_transcript, "Ctrl+Shift+T")
        self.log = w.event_dock.toggleViewAction()
        self.log.setText("&Event log")
        self.log.setShortcut(QKeySequence("Ctrl+E"))
        w.addAction(self.log)
        self.about = a("&About", w.settings.about)
        self.keys = a("&Keyboard shortcuts", w.settings.show_shortcuts, "F1")
        # Emulator calls only: participants who play a WAV file or speak through the microphone.
        self.local_audio = LocalAudioMenu(w, w.runtime, spawn=w.spawn, notify=w.add_notice)
        self._menus()
        # A combo box's open list or completer is a popup window of its own, where the
        # window's shortcuts would not reach: forward them from there too.
        self._forwarder = _ShortcutForwarder(w)
        for combo in (w.call_controls.target, w.transcription.locale):
            self._forwarder.watch(combo.view())
            completer = combo.completer()
            popup = completer.popup() if completer is not None else None
            if popup is not None:  # None: inline completion, no popup
                self._forwarder.watch(popup)

    def _action(
        self, text: str, slot: Callable[..., Any], shortcut: Shortcut = None, icon: str = ""
    ) -> QAction:
        act = QAction(text, self._w)
        if icon:
            themed(act, icon)
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        act.triggered.connect(slot)
        self._w.addAction(act)
        return act

    def _focus_target(self) -> None:
        target = self._w.call_controls.target
        target.setFocus(Qt.FocusReason.ShortcutFocusReason)
        target.lineEdit().selectAll()

    def _focus_locale(self) -> None:
        locale = self._w.transcription.locale
        locale.setFocus(Qt.FocusReason.ShortcutFocusReason)
        locale.lineEdit().selectAll()

    def _focus_transcript(self) -> None:
        views = self._w.transcript_view.visible_views()
        if views:
            views[0].setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _menus(self) -> None:
        mb = self._w.menuBar()
        m = mb.addMenu("&File")
        m.addActions([self.open, self.save, self.save_as, self.save_all, self.copy, self.recover])
        m.addSeparator()
        m.addAction(self.settings)
        m.addSeparator()
        m.addAction(self.quit)
        m = mb.addMenu("&Call")
        m.addActions([self.call, self.join, self.hang_up, self.close_call, self.delete_call])
        m.addSeparator()
        m.addActions([self.answer, self.decline])
        m.addSeparator()
        m.addActions([self.next_call, self.prev_call])
        m.addSeparator()
        m.addActions([self.target, self.dialpad])
        m.addSeparator()
        m.addMenu(self.local_audio.menu)
        m = mb.addMenu("&Transcription")
        m.addActions([self.transcribe, self.locale])
        m = mb.addMenu("&View")
        m.addActions([self.by_speaker, self.combined, self.redacted])
        m.addSeparator()
        m.addActions([self.find, self.find_next, self.find_prev, self.live])
        m.addSeparator()
        m.addActions([self.focus_transcript, self.log])
        m = mb.addMenu("&Help")
        m.addActions([self.keys, self.about])


class _ShortcutForwarder(QObject):
    """Triggers the window's action for a shortcut pressed in one of its popups."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._w = window

    def watch(self, popup: QWidget) -> None:
        popup.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            return False
        assert isinstance(event, QKeyEvent)
        chord = event.modifiers() & (
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
        )
        if not chord and not Qt.Key.Key_F1 <= event.key() <= Qt.Key.Key_F35:
            return False  # typing goes to the list or the search text
        pressed = QKeySequence(event.keyCombination())
        for act in self._w.actions():
            if (
                act.isEnabled()
                and act.shortcut().matches(pressed) == QKeySequence.SequenceMatch.ExactMatch
            ):
                if event.type() == QEvent.Type.KeyPress:
                    if isinstance(watched, QWidget):
                        watched.hide()
                    act.trigger()
                event.accept()
                return True
        return False
