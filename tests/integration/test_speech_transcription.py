"""Real speech through the emulator and the console: recordings heard by Whisper on this machine.

The spoken support call plays on the emulator; its recogniser streams TranscriptionData to the
console's real listener through the real SDK's call setup, and the console's CallSession builds
the transcript an operator sees. Checked against the script: who said it, what (WER), when (word
timings inside the recording that was playing), and how (intermediates before each Final).
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from console.acs.streaming import TICKS_PER_SECOND
from console.emulator.recognition.audio import SAMPLE_RATE, write_wav
from console.emulator.recognition.wer import normalize, wer
from console.emulator.scenario import load_scenario, scenarios_dir
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from console.session import CallSession, CallState, TranscriptionState
from console.transcript.timeline import PhraseChanged
from tests.integration.conftest import Receiver, WsRecorder, aio_client
from tests.waiting import local, until

SPOKEN = "support-call-spoken"
SPEED = 3.0  # 3 minutes of call in about a minute; recognition keeps up on two cores
# A word may start in the pre-roll the recogniser keeps before the detected onset, or end in
# the short tail after the last voiced frame.
EDGE = 0.25


async def test_the_spoken_support_call_is_transcribed_per_speaker_like_the_script(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    emu = await make_emulator(scenario=SPOKEN, speed=SPEED, answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    order: list[tuple[int, str]] = []  # (phrase id, "intermediate" | "final") as received
    session.transcript.subscribe(
        lambda c: order.append((c.phrase.id, c.kind)) if isinstance(c, PhraseChanged) else None
    )
    await session.place("+15550100142", locale="en-US", start_transcription=True)
    scenario = load_scenario(SPOKEN)
    # The remote party hangs up after the script; every Final is in by then.
    await until(
        lambda: session.state.call is CallState.DISCONNECTED,
        timeout=scenario.duration / SPEED + 60,
    )
    finals = session.transcript.finals
    speakers = {u.speaker for u in scenario.utterances}
    assert {p.raw_id for p in finals} == speakers

    # What each speaker said, against the script: word error rate under 10 %.
    for raw_id in speakers:
        script = " ".join(u.text_for("en-US") for u in scenario.utterances if u.speaker == raw_id)
        heard = " ".join(p.text for p in finals if p.raw_id == raw_id)
        assert wer(script, heard) < 0.10, (raw_id, heard)

    # When: every word lies inside a recording of that speaker, at its place in the call.
    clips = [(u.speaker, u.start, u.start + u.span("en-US")) for u in scenario.utterances]
    for phrase in finals:
        assert phrase.words, phrase.text
        assert phrase.confidence is not None
        assert 0 < phrase.confidence <= 1
        for word in phrase.words:
            start = (phrase.anchor + word.offset) / TICKS_PER_SECOND
            end = start + word.duration / TICKS_PER_SECOND
            assert any(
                who == phrase.raw_id and a - EDGE <= start and end <= b + EDGE
                for who, a, b in clips
            ), (phrase.text, word, start, end)

    # Hypotheses come before their Final, never after it. (At this speed the decoder is busy
    # with Finals first; the next test checks the intermediates at real time.)
    for i, (phrase_id, kind) in enumerate(order):
        if kind == "intermediate":
            assert (phrase_id, "final") not in order[:i]
    assert any(kind == "intermediate" for _, kind in order)


async def test_at_real_time_every_longer_phrase_is_heard_growing_before_its_final(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    tmp_path: Path,
) -> None:
    # The first half minute of the spoken call, at speed 1.
    doc = json.loads((scenarios_dir() / f"{SPOKEN}.json").read_text(encoding="utf-8"))
    for u in doc["utterances"]:
        u["audio"] = str(scenarios_dir() / u["audio"])
    doc["utterances"] = doc["utterances"][:6]
    short = tmp_path / "opening.json"
    short.write_text(json.dumps(doc), encoding="utf-8")
    emu = await make_emulator(scenario=short, speed=1.0, answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session = rt.new_session()
    order: list[tuple[int, str, str]] = []
    session.transcript.subscribe(
        lambda c: (
            order.append((c.phrase.id, c.kind, c.phrase.text))
            if isinstance(c, PhraseChanged)
            else None
        )
    )
    await session.place("+15550100142", locale="en-US", start_transcription=True)
    await until(lambda: session.state.call is CallState.DISCONNECTED, timeout=60)
    finals = session.transcript.finals
    assert len(finals) >= 6
    first_kind: dict[int, str] = {}
    for phrase_id, kind, _ in order:
        first_kind.setdefault(phrase_id, kind)
    longer = [p for p in finals if p.duration > 2 * TICKS_PER_SECOND]
    assert len(longer) >= 3
    # Nearly all: a phrase whose speaker pauses just as its first guess is due may close first.
    grew = [p for p in longer if first_kind[p.id] == "intermediate"]
    assert len(grew) >= 0.75 * len(longer), order
    # Hypotheses are real guesses (sometimes wrong: "whitfi eld" before the spelling), but on
    # the whole most of what they say is in the Final.
    shared = guessed = 0
    for phrase_id, kind, text in order:
        if kind == "intermediate":
            final = next(p for p in finals if p.id == phrase_id)
            words = set(normalize(text))
            guessed += len(words)
            shared += len(words & set(normalize(final.text)))
    assert guessed
    assert shared / guessed > 0.6


async def test_silence_and_room_noise_yield_no_packets(
    make_emulator: Callable[..., Awaitable[Emulator]],
    receiver: Receiver,
    ws_server: WsRecorder,
    tmp_path: Path,
) -> None:
    # Half a minute of a quiet line: digital silence, then low hiss, then a hum.
    rng = np.random.default_rng(7)
    quiet = np.concatenate(
        [
            np.zeros(10 * SAMPLE_RATE),
            rng.normal(0, 30, 10 * SAMPLE_RATE),
            120 * np.sin(2 * math.pi * 50 * np.arange(10 * SAMPLE_RATE) / SAMPLE_RATE),
        ]
    ).astype(np.int16)
    wav = tmp_path / "quiet.wav"
    write_wav(wav, quiet)
    emu = await make_emulator(speed=10.0, answer_delay=0.2, audio=(("4:+15550100142", wav),))
    async with aio_client(emu) as client:
        props = await _transcribed_call(client, receiver, ws_server)
        call_id = props.call_connection_id
        conversation = emu.calls.get(call_id).conversation
        assert conversation is not None
        await until(lambda: conversation.call_time > 31.0, timeout=15)
        await asyncio.sleep(1.0)  # time for a (wrong) Final to arrive, were one coming
        await client.get_call_connection(call_id).hang_up(True)
    packets = [json.loads(f) for c in ws_server.connections for f in c.frames]
    assert packets[0]["kind"] == "TranscriptionMetadata"
    data = [p for p in packets if p["kind"] == "TranscriptionData"]
    # The scripted agent still talks; the quiet participant produced nothing at all.
    assert not [d for d in data if d["transcriptionData"]["participantRawID"] == "4:+15550100142"]


async def _transcribed_call(client: Any, receiver: Receiver, ws_server: WsRecorder) -> Any:
    from azure.communication.callautomation import (
        PhoneNumberIdentifier,
        StreamingTransportType,
        TranscriptionOptions,
    )

    props = await client.create_call(
        PhoneNumberIdentifier("+15550100142"),
        receiver.url(),
        source_caller_id_number=PhoneNumberIdentifier("+15550199"),
        cognitive_services_endpoint="https://my-cog.cognitiveservices.azure.com/",
        transcription=TranscriptionOptions(
            transport_url=ws_server.url(),
            transport_type=StreamingTransportType.WEBSOCKET,
            locale="en-US",
            start_transcription=True,
            enable_intermediate_results=True,
        ),
    )
    await receiver.wait_for("TranscriptionStarted", props.call_connection_id, within=10)
    return props


@pytest.mark.parametrize("locale", ["es-ES"])
async def test_a_locale_without_a_local_model_fails_in_the_services_terms(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
    monkeypatch: pytest.MonkeyPatch,
    locale: str,
) -> None:
    # Only the English model is allowed: as on a machine without the multilingual extra.
    monkeypatch.setenv("ACS_CONSOLE_SPEECH_MODELS", "whisper-tiny.en")
    emu = await make_emulator(scenario=SPOKEN, speed=2.0, answer_delay=0.2)
    rt = await make_runtime(local(emu))
    session: CallSession = rt.new_session()
    await session.place("+15550100142", locale="en-US", start_transcription=True)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.ACTIVE, 10)
    await session.set_locale(locale)
    await session.wait_for(lambda s: s.transcription is TranscriptionState.FAILED, 10)
    text = session.state.last_error or ""
    assert "no speech model for this language" in text
    assert "pip install 'acs-transcription-console[speech-multilingual]'" in text
    await session.hang_up()
