"""Render the spoken support call (resources/scenarios/support-call-spoken) from support-call.json.

Each utterance of the scripted call becomes a 16 kHz mono PCM16 clip,
resources/scenarios/support-call-spoken/NN.wav (NN = utterance index), and
support-call-spoken.json is written next to it: the same call, with every utterance pointing at its
clip instead of a scripted pace, so the emulator's local recogniser hears and transcribes it live.

The clips are committed, so nothing at build or run time needs a speech synthesiser; run this
again after changing support-call.json. It needs the hibari-tts package (an offline English TTS
with one bundled voice)::

    .venv/bin/pip install hibari-tts
    .venv/bin/python packaging/render_recordings.py

Rendering is seeded, so the same hibari-tts version gives the same files.
"""

from __future__ import annotations

import json
import re
import sys
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from hibari import SAMPLE_RATE as TTS_RATE
from hibari import Hibari

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "resources" / "scenarios"
SOURCE = SCENARIOS / "support-call.json"
NAME = "support-call-spoken"
TARGET = SCENARIOS / f"{NAME}.json"
CLIPS = SCENARIOS / NAME

RATE = 16000
SEED = 0
EDGE_SILENCE = 0.05  # seconds kept before the first and after the last sound
SILENCE_DB = -40.0  # a 10 ms frame this far below the loudest frame counts as silence
PEAK = 0.7  # every clip is scaled to this peak, so both speakers are equally loud

DESCRIPTION = (
    "The billing support call of support-call, spoken: each utterance is a recorded clip that the "
    "emulator recognises live with local speech recognition (needs the speech extra)."
)

# Fields that only make sense for scripted text: with a clip, its length is the span and the
# recogniser computes confidence and makes its own mistakes.
SCRIPTED_ONLY = ("pace", "duration", "confidence", "word_confidence", "revisions")


# Spellings that steer the synthesiser only (the scenario keeps the script's text): it says
# "Dana" as "Donna", and a bare "uh" comes out as a short vowel that Whisper writes as "a" or
# "off", so hesitations are rendered as a drawn-out "um", which it writes as a filler.
RESPELL = (
    (re.compile(r"\bDana\b"), "Dayna"),
    (re.compile(r",? \b(?:uh|um)\b,"), "... um..."),
)


@dataclass(frozen=True)
class Voice:
    """How one participant sounds: the single bundled voice at a speed and pitch of its own.

    ``pitch`` < 1 lowers pitch and formants together (the clip is played slower by resampling),
    which is what makes a second speaker sound like a different person; ``speed`` is the
    synthesiser's speaking rate *after* that slowdown.
    """

    speed: float = 1.0
    pitch: float = 1.0


# The agent speaks with the bundled voice as it is; the customer lower and a little slower.
AGENT = Voice()
CUSTOMER = Voice(speed=0.95, pitch=0.78)


def resample(audio: np.ndarray, rate_in: float, rate_out: int) -> np.ndarray:
    """Band-limited resampling via the spectrum (clips are short; the edges are padded so the
    FFT's wrap-around stays in the silence that is trimmed later)."""
    pad = int(0.1 * rate_in)
    padded = np.pad(audio.astype(np.float64), pad)
    n_in = len(padded)
    n_out = round(n_in * rate_out / rate_in)
    spectrum = np.fft.rfft(padded)
    out = np.zeros(n_out // 2 + 1, complex)
    keep = min(len(spectrum), len(out))
    out[:keep] = spectrum[:keep]
    result = np.fft.irfft(out, n_out) * (n_out / n_in)
    cut = round(pad * rate_out / rate_in)
    return result[cut : len(result) - cut]


def trim(audio: np.ndarray, rate: int) -> np.ndarray:
    """Cut leading and trailing silence down to EDGE_SILENCE, with 5 ms fades against clicks."""
    frame = rate // 100
    frames = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: frames * frame].reshape(frames, frame) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(20 * np.log10(rms / rms.max()) > SILENCE_DB)
    margin = int(EDGE_SILENCE * rate)
    start = max(0, loud[0] * frame - margin)
    end = min(len(audio), (loud[-1] + 1) * frame + margin)
    clip = audio[start:end].copy()
    fade = np.linspace(0.0, 1.0, rate // 200)
    clip[: len(fade)] *= fade
    clip[len(clip) - len(fade) :] *= fade[::-1]
    return clip


def render(tts: Hibari, text: str, voice: Voice) -> np.ndarray:
    """Text -> float clip at RATE: synthesise, lower the pitch by resampling, trim, level."""
    # Resampling from TTS_RATE * pitch plays the audio 1/pitch times slower; the synthesiser
    # speaks that much faster to keep the requested speed.
    for pattern, spoken in RESPELL:
        text = pattern.sub(spoken, text)
    audio = tts(text, speed=voice.speed / voice.pitch, seed=SEED)
    audio = trim(resample(audio, TTS_RATE * voice.pitch, RATE), RATE)
    return audio * (PEAK / np.abs(audio).max())


def write_wav(path: Path, audio: np.ndarray) -> None:
    pcm = np.round(np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


def spoken_scenario(source: dict[str, Any], clips: list[str]) -> dict[str, Any]:
    utterances = []
    for utterance, clip in zip(source["utterances"], clips, strict=True):
        spoken = {k: v for k, v in utterance.items() if k not in SCRIPTED_ONLY and k != "text"}
        spoken["audio"] = clip
        spoken["text"] = utterance["text"]
        utterances.append(spoken)
    # Same key order as the source, so the two files read alike.
    return {
        **source,
        "name": NAME,
        "description": DESCRIPTION,
        "utterances": utterances,
    }


def dump(scenario: dict[str, Any]) -> str:
    """JSON laid out like the hand-written scenarios: one line per utterance."""
    lines = ["{"]
    items = list(scenario.items())
    for index, (key, value) in enumerate(items):
        comma = "," if index < len(items) - 1 else ""
        if key == "utterances":
            rows = [f"    {json.dumps(u, ensure_ascii=False)}" for u in value]
            lines.append('  "utterances": [\n' + ",\n".join(rows) + f"\n  ]{comma}")
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
            lines.append(f"  {json.dumps(key)}: {text}{comma}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main() -> int:
    source = json.loads(SOURCE.read_text(encoding="utf-8"))
    locale = source.get("default_locale", "en-US")
    roles = {p["raw_id"]: p.get("role") for p in source["participants"]}
    tts = Hibari()
    CLIPS.mkdir(exist_ok=True)
    for stale in CLIPS.glob("*.wav"):
        stale.unlink()
    clips, total = [], 0.0
    for index, utterance in enumerate(source["utterances"]):
        text = utterance["text"]
        text = text if isinstance(text, str) else text[locale]
        voice = CUSTOMER if roles[utterance["speaker"]] == "customer" else AGENT
        audio = render(tts, text, voice)
        name = f"{index:02d}.wav"
        write_wav(CLIPS / name, audio)
        clips.append(f"{NAME}/{name}")
        total += len(audio) / RATE
        print(f"{NAME}/{name}  {len(audio) / RATE:5.2f} s  {text}")
    TARGET.write_text(dump(spoken_scenario(source, clips)), encoding="utf-8")
    print(f"{TARGET.relative_to(ROOT)}: {len(clips)} clips, {total:.1f} s of speech")
    return 0


if __name__ == "__main__":
    sys.exit(main())
