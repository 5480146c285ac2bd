"""``--audio PARTICIPANT=FILE.wav`` from the command line, and what happens without the recogniser.

Real processes for the CLI (``acs-console run`` and ``acs-console emulator``); the in-process
emulator and console for the no-recogniser cases (``ACS_CONSOLE_LOCAL_SPEECH=off`` stands in for
a machine without the speech extra).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from console.emulator.listening import load_recording
from console.emulator.recognition.audio import write_wav
from console.emulator.recognition.wer import wer
from console.emulator.scenario import ScenarioError, load_scenario
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallState, TranscriptionState
from console.transcript.export import load_json
from tests.console_process import acs_console
from tests.waiting import local

SPOKEN = load_scenario("support-call-spoken")
CUSTOMER = "4:+15550100142"
AGENTS = {p.raw_id for p in SPOKEN.participants if p.role == "agent"}


def customer_lines(tmp_path: Path, count: int) -> tuple[Path, str]:
    """The customer's first recordings as one WAV with pauses, and what they say."""
    import numpy as np

    lines = [u for u in SPOKEN.utterances if u.speaker == CUSTOMER][:count]
    pause = np.zeros(16000, np.int16)
    parts = [pause]
    for u in lines:
        assert u.audio is not None
        parts += [load_recording(u.audio), pause]
    path = tmp_path / "customer.wav"
    write_wav(path, np.concatenate(parts))
    return path, " ".join(u.text_for("en-US") for u in lines)


def test_run_with_audio_transcribes_the_wav_as_that_participant(tmp_path: Path) -> None:
    wav, said = customer_lines(tmp_path, 3)
    out = tmp_path / "call.json"
    proc = acs_console(
        "run", "--target", "+15550100142", "--scenario", "support-call",
        "--audio", f"{CUSTOMER}={wav}", "--speed", "2", "--duration", "24",
        "--out", str(out), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    finals = load_json(out).finals
    heard = " ".join(p.text for p in finals if p.raw_id == CUSTOMER)
    assert wer(said, heard) < 0.10, heard
    # The agent's lines are still the script's; the customer's scripted lines are gone.
    script = {u.text_for("en-US") for u in load_scenario("support-call").utterances}
    assert not any(p.text in script for p in finals if p.raw_id == CUSTOMER)
    assert any(p.text in script for p in finals if p.raw_id != CUSTOMER)


def test_a_wav_for_the_dialled_number_replaces_the_scenarios_customer(tmp_path: Path) -> None:
    wav, said = customer_lines(tmp_path, 2)
    out = tmp_path / "call.json"
    proc = acs_console(
        "run", "--target", "+15550100", "--scenario", "support-call",
        "--audio", f"4:+15550100={wav}", "--speed", "2", "--duration", "18",
        "--out", str(out), "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    transcript = load_json(out)
    # Two parties: the agent, and the number dialled speaking the WAV (no third, scripted one).
    assert CUSTOMER not in {p.raw_id for p in transcript.participants}
    assert {p.raw_id for p in transcript.finals} <= {"4:+15550100", *AGENTS}
    heard = " ".join(p.text for p in transcript.finals if p.raw_id == "4:+15550100")
    assert wer(said, heard) < 0.10, heard


def test_audio_argument_errors_are_plain(tmp_path: Path) -> None:
    proc = acs_console("emulator", "--audio", "no-equals-sign.wav")
    assert proc.returncode == 2
    assert "acs-console emulator: error: --audio: expected PARTICIPANT=FILE.wav" in proc.stderr
    missing = tmp_path / "missing.wav"
    proc = acs_console(
        "emulator", "--port", "0", "--data-dir", str(tmp_path / "emu"),
        "--audio", f"{CUSTOMER}={missing}",
    )  # fmt: skip
    assert proc.returncode == 2
    assert f"{missing}: cannot read" in proc.stderr
    wav, _ = customer_lines(tmp_path, 1)
    proc = acs_console(
        "emulator", "--port", "0", "--data-dir", str(tmp_path / "emu"),
        "--audio", f"{CUSTOMER}={wav}",
        env={"ACS_CONSOLE_LOCAL_SPEECH": "off"},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "error: --audio: needs local speech recognition" in proc.stderr


async def test_without_the_recogniser_a_spoken_scenario_plays_its_script(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACS_CONSOLE_LOCAL_SPEECH", "off")
    emu = await make_emulator(scenario="support-call-spoken", speed=30.0, answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    await session.place(CUSTOMER, locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.call is CallState.DISCONNECTED, 30)
    texts = [p.text for p in session.transcript.finals]
    assert texts == [u.text_for("en-US") for u in SPOKEN.utterances]


async def test_without_the_recogniser_an_audio_only_participant_fails_transcription_plainly(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    wav, _ = customer_lines(tmp_path, 1)
    doc = tmp_path / "talker.json"
    doc.write_text(
        json.dumps({"format": 1, "participants": [{"raw_id": CUSTOMER, "audio": wav.name}]}),
        encoding="utf-8",
    )
    monkeypatch.setenv("ACS_CONSOLE_LOCAL_SPEECH", "off")
    emu = await make_emulator(scenario=doc, speed=5.0, answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    await session.place(CUSTOMER, locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.FAILED, 10)
    text = session.state.last_error or ""
    assert "speech recognition is not installed" in text
    assert "pip install 'acs-transcription-console[speech]'" in text
    await session.hang_up()


async def test_audio_without_the_recogniser_is_refused_at_start(
    make_emulator: Callable[..., Awaitable[Emulator]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    wav, _ = customer_lines(tmp_path, 1)
    monkeypatch.setenv("ACS_CONSOLE_LOCAL_SPEECH", "off")
    with pytest.raises(ScenarioError, match="--audio needs local speech recognition"):
        await make_emulator(audio=((CUSTOMER, wav),))
