"""The "Participants' audio" menu: people who really talk in an emulator call.

On the local (emulator) profile the operator can add a participant who plays a WAV file from
now, or speak into the call through the microphone as a participant. Both need a connected call;
on Azure the actions stay disabled and say why. The work is done by
:class:`console.local_audio.LocalAudio`; this module only asks, forwards and reports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMainWindow, QMenu

from console.local_audio import (
    LOCAL_ONLY,
    EmulatorAudioClient,
    LocalAudio,
    LocalAudioError,
    microphone_problem,
    name_from_file,
    new_raw_id,
)
from console.session import Notice

log = logging.getLogger(__name__)

NO_CALL = "Place or answer a call first."
NOT_REAL_TIME = "Speaking live needs the emulator in real time: start the console with --speed 1."
MICROPHONE_NAME = "Operator (microphone)"
WAV_FILTER = "WAV audio (*.wav);;All files (*)"


class LocalAudioMenu(QObject):
    """Owns the two actions and the live speaker of one window."""

    def __init__(
        self,
        window: QMainWindow,
        runtime: Any | None,
        *,
        spawn: Callable[[Coroutine[Any, Any, Any], str], None],
        notify: Callable[[Notice], None],
    ) -> None:
        super().__init__(window)
        self._window = window
        self._spawn = spawn
        self._notify = notify
        profile = getattr(runtime, "profile", None)
        client = EmulatorAudioClient.from_profile(profile) if profile is not None else None
        self.audio = LocalAudio(client, on_live_ended=self._live_ended) if client else None
        self._real_time = getattr(profile, "call_time_factor", None) == 1.0
        self.mic_problem = microphone_problem() if self.audio is not None else None
        self._call_id: str | None = None
        self._mic_raw_id = new_raw_id("microphone")
        self._last_dir = Path.home()

        self.menu = QMenu("Participants' &audio", window)
        self.menu.setToolTipsVisible(True)  # a disabled entry says why
        self.act_add_wav = QAction("Add a participant from a &WAV file…", window)
        self.act_add_wav.setShortcut(QKeySequence("Ctrl+Shift+W"))
        self.act_add_wav.triggered.connect(self.add_wav_file)
        self.act_speak = QAction("&Speak as a participant", window)
        self.act_speak.setCheckable(True)
        self.act_speak.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.act_speak.triggered.connect(self.set_speaking)
        for act in (self.act_add_wav, self.act_speak):
            act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(act)  # the shortcut works with the menu closed
            self.menu.addAction(act)
        self._refresh()

    # --- state ---------------------------------------------------------------------------------
    def set_call(self, call_connection_id: str | None) -> None:
        """The connected call's id, or None when no call is connected."""
        if call_connection_id == self._call_id:
            return
        self._call_id = call_connection_id
        if call_connection_id is None:
            self._mic_raw_id = new_raw_id("microphone")  # the next call, a new participant
            if self.audio is not None and (self.audio.speaking or self.act_speak.isChecked()):
                self._spawn(self._stop(), "stop-speaking")
        self._refresh()

    def _add_reason(self) -> str | None:
        if self.audio is None:
            return LOCAL_ONLY
        return None if self._call_id else NO_CALL

    def _speak_reason(self) -> str | None:
        if self.audio is None:
            return LOCAL_ONLY
        if self.mic_problem:
            return self.mic_problem
        if not self._real_time:
            return NOT_REAL_TIME
        return None if self._call_id or self.act_speak.isChecked() else NO_CALL

    def _refresh(self) -> None:
        add = self._add_reason()
        self.act_add_wav.setEnabled(add is None)
        _tip(self.act_add_wav, add or "Add a participant who plays a WAV file from now")
        speak = self._speak_reason()
        self.act_speak.setEnabled(speak is None)
        _tip(
            self.act_speak,
            speak
            or (
                "Stop speaking into the call"
                if self.act_speak.isChecked()
                else "Speak into the call through the microphone, as a participant"
            ),
        )

    def _say(self, level: str, title: str, text: str) -> None:
        self._notify(Notice(time.time(), level, title, text))
        if level != "error":  # errors reach the status bar through the window already
            self._window.statusBar().showMessage(text, 6000)

    # --- a WAV participant -----------------------------------------------------------------------
    def add_wav_file(self) -> None:
        reason = self._add_reason()
        if reason is not None:
            self._say("warning", "Participant not added", reason)
            return
        path, _ = QFileDialog.getOpenFileName(
            self._window, "Add a participant from a WAV file", str(self._last_dir), WAV_FILTER
        )
        if not path:
            return
        file = Path(path)
        self._last_dir = file.parent
        name, ok = QInputDialog.getText(
            self._window,
            "Add a participant",
            f"Name of the participant speaking {file.name}:",
            QLineEdit.EchoMode.Normal,
            name_from_file(file),
        )
        if ok:
            self.add_wav_path(file, name)

    def add_wav_path(self, path: Path, name: str | None = None) -> None:
        if self.audio is None or self._call_id is None:
            return
        self._spawn(self._add(self.audio, self._call_id, path, name), "add-wav-participant")

    async def _add(self, audio: LocalAudio, call_id: str, path: Path, name: str | None) -> None:
        try:
            added = await audio.add_wav(call_id, path, name)
        except LocalAudioError as exc:
            self._say("error", "Participant not added", str(exc))
            return
        self._say(
            "info",
            "Participant added",
            f"{added.display_name} joined the call, speaking {path.name} "
            f"({added.duration:.1f} s) from now.",
        )

    # --- speaking through the microphone --------------------------------------------------------
    def set_speaking(self, on: bool) -> None:
        if not on:
            self._refresh()
            self._spawn(self._stop(), "stop-speaking")
            return
        reason = self._speak_reason()
        call_id = self._call_id
        if reason is not None or self.audio is None or call_id is None:
            self._uncheck()
            self._say("warning", "Cannot speak into the call", reason or NO_CALL)
            return
        self._refresh()
        self._spawn(self._start(self.audio, call_id), "start-speaking")

    async def _start(self, audio: LocalAudio, call_id: str) -> None:
        try:
            await audio.start_microphone(call_id, self._mic_raw_id, MICROPHONE_NAME)
        except LocalAudioError as exc:
            self._uncheck()
            self._say("error", "Cannot speak into the call", str(exc))
            return
        if not self.act_speak.isChecked() or self._call_id != call_id:
            await audio.stop_live()  # stopped (or the call ended) while connecting
            return
        self._say("info", "Speaking", f"You are in the call as {MICROPHONE_NAME}.")

    async def _stop(self) -> None:
        self._uncheck()
        if self.audio is not None and self.audio.speaking:
            await self.audio.stop_live()
            self._say("info", "Stopped speaking", "The microphone is no longer in the call.")

    def _live_ended(self, message: str | None) -> None:
        self._uncheck()
        if message:
            self._say("error", "Speaking stopped", message)

    def _uncheck(self) -> None:
        if self.act_speak.isChecked():
            self.act_speak.setChecked(False)  # setChecked does not emit triggered
        self._refresh()

    def shutdown(self) -> None:
        """The window is going: stop capturing now (the socket closes with its task)."""
        if self.audio is not None and self.audio.source is not None:
            self.audio.source.stop()


def _tip(act: QAction, text: str) -> None:
    act.setToolTip(text)
    act.setStatusTip(text)
