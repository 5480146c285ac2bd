"""The "Participants' audio" menu: WAV participants and the microphone, on the emulator profile."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QInputDialog

from console import local_audio as la
from console.config import Preferences
from console.ui.local_audio_menu import NO_CALL
from console.ui.main_window import MainWindow
from tests.audio_fixtures import FakeSoundDevice, use_sounddevice, write_wav
from tests.gui.conftest import Console, running_console, wait_until


async def _place_call(console: Console, qtbot) -> None:
    cc = console.window.call_controls
    qtbot.keyClicks(cc.target.lineEdit(), "+1 425 555 0100")
    qtbot.mouseClick(cc.call_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: cc.state_label.text() == "Connected", what="Connected")


def _choose(monkeypatch: pytest.MonkeyPatch, path: Path, name: str | None = None) -> list[str]:
    """Answer the file dialog with ``path`` and the name prompt with ``name`` (or its default)."""
    defaults: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), "WAV audio (*.wav)")
    )

    def get_text(parent: Any, title: str, label: str, mode: Any, text: str) -> tuple[str, bool]:
        defaults.append(text)
        return (name if name is not None else text), True

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    return defaults


async def _local_participants(console: Console) -> list[str]:
    client = la.EmulatorAudioClient.from_profile(console.runtime.profile)
    assert client is not None
    calls = await client.calls()
    session = console.window.session
    assert session is not None
    call = next(c for c in calls if c["callConnectionId"] == session.state.call_connection_id)
    return [p for p in call["participants"] if p.startswith("8:acs:local-")]


async def test_a_wav_participant_added_from_the_menu_joins_the_call(
    app: QApplication, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wav = write_wav(tmp_path / "front_desk.wav", 1.0)
    async with running_console(tmp_path) as console:
        w = console.window
        add = w.local_audio.act_add_wav
        assert add in w.local_audio.menu.actions()
        assert w.local_audio.menu.menuAction() in w.menuBar().actions()[1].menu().actions()
        assert not add.isEnabled()
        assert add.toolTip() == NO_CALL

        await _place_call(console, qtbot)
        await wait_until(add.isEnabled, what="Add a WAV participant enabled")
        defaults = _choose(monkeypatch, wav)
        add.trigger()
        assert defaults == ["front desk"]  # the name offered comes from the file name
        row = await wait_until(
            lambda: next((r for r in w.event_log.rows() if "Participant" in r[1]), None),
            what="the participant's notice",
        )
        assert row[:2] == ("info", "Participant added"), row
        assert re.fullmatch(
            r"front desk joined the call, speaking front_desk\.wav \(1\.0 s\) from now\.", row[2]
        )
        assert w.statusBar().currentMessage() == row[2]
        joined = await _local_participants(console)
        assert len(joined) == 1
        assert joined[0].startswith("8:acs:local-wav_")


async def test_a_bad_wav_file_is_reported_plainly(
    app: QApplication, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "not-audio.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEnothing here")
    async with running_console(tmp_path) as console:
        w = console.window
        await _place_call(console, qtbot)
        await wait_until(w.local_audio.act_add_wav.isEnabled, what="Add enabled")
        _choose(monkeypatch, bad, "Somebody")
        w.local_audio.act_add_wav.trigger()
        row = await wait_until(
            lambda: next((r for r in w.event_log.rows() if "Participant" in r[1]), None),
            what="the error notice",
        )
        assert row[:2] == ("error", "Participant not added")
        assert row[2].startswith("not-audio.wav was not added to the call: ")
        assert "Traceback" not in row[2]
        assert row[2] in w.statusBar().currentMessage()
        assert await _local_participants(console) == []
        # The same menu still works for a good file: the refusal was about the file.
        _choose(monkeypatch, write_wav(tmp_path / "good.wav", 0.5), "Somebody")
        w.local_audio.act_add_wav.trigger()
        added = await wait_until(
            lambda: [r for r in w.event_log.rows() if r[1] == "Participant added"],
            what="the good file's notice",
        )
        assert added[0][2].startswith("Somebody joined the call, speaking good.wav")
        assert len(await _local_participants(console)) == 1


async def test_speaking_is_disabled_with_the_reason_when_the_microphone_cannot_work(
    app: QApplication, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if la.microphone_problem() is None:  # a machine with a microphone: take PortAudio away
        use_sounddevice(monkeypatch, OSError("PortAudio library not found"))
    problem = la.microphone_problem()
    assert problem is not None
    async with running_console(tmp_path) as console:
        w = console.window
        speak = w.local_audio.act_speak
        assert speak.isCheckable()
        await _place_call(console, qtbot)
        await wait_until(w.local_audio.act_add_wav.isEnabled, what="the call's audio actions")
        assert not speak.isEnabled()
        assert speak.toolTip() == problem
        assert speak.statusTip() == problem
        # Asked anyway (e.g. from code or a stale menu), it says the same and stays off.
        w.local_audio.set_speaking(True)
        assert not speak.isChecked()
        assert w.event_log.rows()[-1] == ("warning", "Cannot speak into the call", problem)
        assert w.statusBar().currentMessage() == problem
        assert not w.local_audio.audio.speaking


def test_without_the_emulator_the_actions_say_they_are_for_the_local_profile(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    w = MainWindow(None, prefs=Preferences(), data_dir=tmp_path)
    qtbot.addWidget(w)
    w.show()
    menu = w.local_audio
    assert menu.audio is None
    assert menu.menu.toolTipsVisible()
    for act in (menu.act_add_wav, menu.act_speak):
        assert not act.isEnabled()
        assert act.toolTip() == la.LOCAL_ONLY
    menu.add_wav_file()  # a stray shortcut: a plain word, no dialog
    assert w.event_log.rows()[-1] == ("warning", "Participant not added", la.LOCAL_ONLY)


def test_the_audio_actions_have_their_own_shortcuts(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    w = MainWindow(None, prefs=Preferences(), data_dir=tmp_path)
    qtbot.addWidget(w)
    ours = [w.local_audio.act_add_wav, w.local_audio.act_speak]
    keys = [a.shortcut().toString() for a in w.actions() if not a.shortcut().isEmpty()]
    assert len(set(keys)) == len(keys)
    assert {a.shortcut().toString() for a in ours} == {"Ctrl+Shift+W", "Ctrl+Shift+M"}
    assert all(a in w.actions() for a in ours)  # reachable with the menu closed


async def test_speaking_through_the_microphone_until_stopped_or_hung_up(
    app: QApplication, qtbot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    card = FakeSoundDevice()  # no microphone on test machines: a tone from a capture thread
    use_sounddevice(monkeypatch, card)
    async with running_console(tmp_path, speed=1.0) as console:
        w = console.window
        speak = w.local_audio.act_speak
        audio = w.local_audio.audio
        assert audio is not None
        assert not speak.isEnabled()
        assert speak.toolTip() == NO_CALL
        await _place_call(console, qtbot)
        await wait_until(speak.isEnabled, what="Speak enabled")

        speak.trigger()
        assert speak.isChecked()
        await wait_until(lambda: ("info", "Speaking") in [r[:2] for r in w.event_log.rows()])
        assert audio.speaking
        sender = audio.live
        assert sender is not None
        await wait_until(lambda: sender.stats.frames_sent >= 10, what="frames sent")
        joined = await _local_participants(console)
        assert joined == [sender.raw_id]
        assert sender.raw_id.startswith("8:acs:local-microphone_")
        assert sender.display_name == "Operator (microphone)"

        speak.trigger()  # off again
        assert not speak.isChecked()
        await wait_until(lambda: not audio.speaking, what="speaking stopped")
        assert sender.closed
        assert card.streams[0].closed
        assert w.event_log.rows()[-1][:2] == ("info", "Stopped speaking")

        speak.trigger()  # speaking again, then the call ends under it
        await wait_until(lambda: audio.speaking, what="speaking again")
        again = audio.live
        assert again is not None
        assert again.raw_id == sender.raw_id  # the same participant in the same call
        qtbot.mouseClick(w.call_controls.hang_up_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: not audio.speaking and again.closed, what="closed on hang-up")
        assert card.streams[1].closed
        assert not speak.isChecked()
        assert not speak.isEnabled()
