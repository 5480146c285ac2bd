"""Live audio level meters in the participant panes, fed by the real audio stream."""

from __future__ import annotations

import base64
import json
import math
import struct
import wave
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from websockets.asyncio.client import connect

from console.audio_levels import FLOOR_DB, AudioLevels
from console.config import Preferences, SecretStore
from console.session import CallState, MediaStreamingState
from console.transcript.model import Transcript
from console.ui.settings_dialog import SettingsDialog
from console.ui.transcript_view import TranscriptView
from tests.gui.conftest import Console, running_console, wait_until

GUEST = "8:acs:00000000-1111-2222-3333-444444444444_guest-with-a-microphone"
AGENT = "8:acs:7c2f3e1a-9b4d-4e8f-a1c3-5d6e7f809a1b_00000021-4f3a-8b2c-9d0e-1f2a3b4c5d6e"
TONE = base64.b64encode(
    struct.pack("<320h", *(round(9000 * math.sin(2 * math.pi * i / 16)) for i in range(320)))
).decode("ascii")


def audio_frame(raw_id: str, *, silent: bool = False, data: str = TONE) -> str:
    return json.dumps(
        {
            "kind": "AudioData",
            "audioData": {
                "timestamp": "2026-01-15T10:00:03.120Z",
                "participantRawID": raw_id,
                "data": data,
                "silent": silent,
            },
        }
    )


async def _call(console: Console) -> None:
    w = console.window
    w.place_call("4:+14255550100")
    await wait_until(
        lambda: w.session is not None and w.session.state.call is CallState.CONNECTED,
        what="connected",
    )


async def test_a_pane_meter_follows_its_speakers_audio_and_empties_at_the_end(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    async with running_console(tmp_path) as console:
        w = console.window
        view = w.transcript_view
        await _call(console)
        session = w.session
        assert session is not None
        await wait_until(lambda: session.state.audio_connected, what="the emulator's audio")

        # The emulator's own stream is quiet and names no one: the call-mix meter shows it.
        await wait_until(view.mix_meter.isVisible, what="the call-audio meter")
        assert view.mix_meter.accessibleDescription() in ("silent", "speaking")

        # Someone new is heard on the real audio listener, before saying anything transcribed.
        url = console.runtime.transcripts.url("audio", session=session.id)
        headers = {
            "Authorization": f"Bearer {console.emulator.tokens.websocket_token()}",
            "x-ms-call-connection-id": session.state.call_connection_id,
        }
        async with connect(url, additional_headers=headers) as ws:
            meta = {"subscriptionId": "s", "encoding": "PCM", "sampleRate": 16000, "channels": 1}
            await ws.send(json.dumps({"kind": "AudioMetadata", "audioMetadata": meta}))
            await ws.send(audio_frame(GUEST))
            await wait_until(lambda: GUEST in view.panes, what="the guest's pane")
            pane = view.panes[GUEST]
            assert pane.view.toPlainText() == ""  # no transcript yet: the pane came from audio
            assert pane.meter.isVisible()
            assert pane.meter.accessibleName() == f"Audio level of {pane.name}"

            # A burst of frames reaches the meter a few times (per flush), not once per frame.
            updates: list[object] = []
            set_reading = pane.meter.set_reading

            def counted(reading: object) -> None:
                updates.append(reading)
                set_reading(reading)  # type: ignore[arg-type]

            pane.meter.set_reading = counted  # type: ignore[method-assign]
            for _ in range(100):
                await ws.send(audio_frame(GUEST))
            await wait_until(lambda: session.audio.frames_of(GUEST) == 101, what="the burst")
            await wait_until(lambda: updates, what="a flush after the burst")
            await wait_until(lambda: pane.meter.fill_pixels > 0, what="the meter to rise")
            assert pane.speaking
            assert pane.meter.accessibleDescription() == "speaking"
            assert "dBFS" in pane.meter.toolTip()
            # A 9000-peak sine is -14.2 dBFS RMS: the held peak says so (the level may have
            # begun to fall since the last frame).
            assert pane.meter.reading.peak_db == pytest.approx(-14.23, abs=0.05)
            assert pane.meter.reading.level_db <= pane.meter.reading.peak_db
            assert 0 < len(updates) < 50
            del pane.meter.set_reading

            # Only silent frames now: the meter falls away and the speaking light goes out.
            for _ in range(5):
                await ws.send(
                    audio_frame(GUEST, silent=True, data=base64.b64encode(bytes(640)).decode())
                )
            await wait_until(
                lambda: pane.meter.fill_pixels == 0 and not pane.speaking,
                timeout=5,
                what="the meter to fall",
            )
            # With no frame for a while the guest's audio reads as gone.
            await wait_until(
                lambda: pane.meter.accessibleDescription() == "no audio", what="no audio"
            )

        await session.hang_up()
        await wait_until(lambda: session.state.call.value == "disconnected", what="ended")
        # Every meter reads empty, and the call-audio meter goes away.
        await wait_until(lambda: not view.mix_meter.isVisible(), what="no call audio")
        assert session.audio.readings() == {}
        for pane in view.panes.values():
            assert pane.meter.reading is not None
            assert pane.meter.reading.level_db == FLOOR_DB
            assert pane.meter.fill_pixels == 0
            assert pane.meter.accessibleDescription() == "no audio"
        assert session.state.media_streaming is MediaStreamingState.STOPPED
        assert ("info", "Audio streaming started") in [r[:2] for r in w.event_log.rows()]


async def test_meters_keep_falling_without_frames_then_the_view_goes_idle(
    app: QApplication, qtbot
) -> None:
    now = [1000.0]
    levels = AudioLevels(clock=lambda: now[0])
    t = Transcript()
    t.learn_participants([GUEST])
    view = TranscriptView()
    qtbot.addWidget(view)
    view.set_transcript(t)
    view.set_audio(levels)
    view.show()
    levels.feed_frame(GUEST, TONE, False)
    await wait_until(lambda: view.panes[GUEST].meter.fill_pixels > 0, what="the meter")
    high = view.panes[GUEST].meter.fill_pixels
    now[0] += 0.6  # no frame arrives: the flush timer alone moves the meter
    await wait_until(lambda: view.panes[GUEST].meter.fill_pixels < high, what="a fall")
    now[0] += 30.0
    await wait_until(lambda: view.panes[GUEST].meter.fill_pixels == 0, what="empty")
    await wait_until(lambda: not view._timer.isActive(), what="the timer to stop")
    assert view.panes[GUEST].meter.reading is not None
    assert view.panes[GUEST].meter.reading.level_db == FLOOR_DB

    # A saved transcript's view has no meters at all.
    view.set_audio(None)
    assert not view.panes[GUEST].meter.isVisible()
    view.close_binding()


async def test_audio_streaming_is_a_setting_that_applies_to_the_next_call(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    dialog = SettingsDialog(Preferences(), SecretStore())
    qtbot.addWidget(dialog)
    assert dialog.stream_audio_local.isChecked()
    assert not dialog.stream_audio_azure.isChecked()
    assert "billed" in dialog.stream_audio_azure.toolTip()
    dialog.stream_audio_local.setChecked(False)
    dialog.stream_audio_azure.setChecked(True)
    dialog.accept()
    prefs = dialog.result_prefs
    assert prefs is not None
    assert (prefs.stream_audio_local, prefs.stream_audio_azure) == (False, True)
    prefs.save(tmp_path)
    assert Preferences.load(tmp_path).stream_audio_for("local") is False
    assert Preferences.load(tmp_path).stream_audio_for("azure") is True

    async with running_console(tmp_path / "console") as console:
        w = console.window
        w.settings.apply(prefs)
        await _call(console)
        session = w.session
        assert session is not None
        assert console.emulator.calls.get(session.state.call_connection_id).media is None
        assert session.state.media_streaming is MediaStreamingState.OFF
        # An audio stream would open at connect; the transcript stream opens later, so once it
        # is up, an audio stream would be too.
        await session.start_transcription("en-US")
        await wait_until(lambda: console.runtime.stats().streams_open >= 1, what="transcripts")
        assert console.runtime.stats().audio_streams_open == 0
        await wait_until(lambda: w.transcript_view.panes, what="the panes")
        # No audio on this call: no meters to suggest otherwise.
        assert not any(p.meter.isVisible() for p in w.transcript_view.panes.values())


# --- needs the emulator to stream each participant's own audio ----------------------------------


def _tone_scenario(folder: Path) -> Path:
    rate = 16000
    samples = [round(0.3 * 32767 * math.sin(2 * math.pi * 300 * i / rate)) for i in range(rate * 4)]
    with wave.open(str(folder / "agent.wav"), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))
    path = folder / "tones.json"
    path.write_text(
        json.dumps(
            {
                "format": 1,
                "participants": [
                    {"raw_id": AGENT, "display_name": "Priya", "audio": "agent.wav"},
                    {"raw_id": "4:+14255550100", "display_name": "Dana"},
                ],
            }
        ),
        encoding="utf-8",
    )
    return path


async def test_the_emulators_participant_audio_moves_that_participants_meter(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    scenario = _tone_scenario(tmp_path)
    async with running_console(tmp_path / "console", scenario=str(scenario), speed=1.0) as console:
        view = console.window.transcript_view
        await _call(console)
        await wait_until(lambda: AGENT in view.panes, what="the agent's pane")
        meter = view.panes[AGENT].meter
        await wait_until(lambda: meter.fill_pixels > 0, what="the agent's meter")

        def at_the_tones_level() -> bool:  # the meter rises over a few frames, then holds there
            reading = meter.reading
            return reading is not None and -16.0 < reading.level_db < -11.0  # tone: -13.5 dBFS

        await wait_until(at_the_tones_level, what="the agent's meter at the tone's level")
        other = view.panes.get("4:+14255550100")
        assert other is None or other.meter.fill_pixels == 0
