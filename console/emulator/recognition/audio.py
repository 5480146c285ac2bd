"""Audio in the form the recogniser and media streaming use: 16 kHz mono PCM16, 20 ms frames.

Any PCM WAV (8/16/24/32-bit integer or 32-bit float, any rate, any channel count) is converted:
channels are averaged and the rate changed by band-limited (windowed-sinc) interpolation, so a
44.1 kHz music-quality file and an 8 kHz phone recording both end up as the service would hear
them.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np

from console.emulator.recognition.wavfile import (
    WAVE_FORMAT_FLOAT,
    AudioFileError,
    data,
    header,
    wav_duration,
)

__all__ = ["AudioFileError", "load_wav", "resample", "wav_duration", "write_wav"]

SAMPLE_RATE = 16_000
FRAME_SECONDS = 0.02
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_SECONDS)  # 320
FRAME_BYTES = FRAME_SAMPLES * 2
# A participant's recording longer than this is refused: it would pin too much memory.
MAX_SECONDS = 4 * 3600


def load_wav(path: Path) -> np.ndarray:
    """The file as 16 kHz mono int16 samples."""
    fmt, channels, rate, width, data_bytes = header(path)
    if data_bytes / (channels * width) / rate > MAX_SECONDS:
        raise AudioFileError(f"{path}: longer than {MAX_SECONDS // 3600} hours")
    raw = data(path)
    usable = len(raw) - len(raw) % (channels * width)
    samples = _decode(raw[:usable], fmt, width)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return to_int16(resample(samples, rate, SAMPLE_RATE))


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float samples in [-1, 1] as int16 (clipped)."""
    return np.clip(np.round(samples * 32767.0), -32768, 32767).astype(np.int16)


def to_float(samples: np.ndarray) -> np.ndarray:
    """int16 samples as float32 in [-1, 1] (what Whisper takes)."""
    return samples.astype(np.float32) / 32768.0


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Change the sample rate; float64 in, float64 out. Downsampling low-passes first.

    Polyphase: the rates' ratio is rational (up/down), so there are only ``up`` distinct filter
    phases; each is computed once and applied to every output sample that falls on it."""
    samples = np.asarray(samples, dtype=np.float64)
    if rate_in == rate_out or samples.size == 0:
        return samples
    g = math.gcd(rate_in, rate_out)
    up, down = rate_out // g, rate_in // g
    cutoff = min(1.0, up / down)  # of the input Nyquist
    width = math.ceil(16 / cutoff)  # taps each side, at the input rate
    taps = np.arange(-width + 1, width + 1)
    window = np.hanning(2 * width + 2)[1:-1]
    phases = np.arange(up) / up  # fractional input position of each phase
    dist = taps[None, :] - phases[:, None]
    table = cutoff * np.sinc(cutoff * dist) * window[None, :]
    table /= table.sum(axis=1, keepdims=True)
    n_out = samples.size * up // down
    padded = np.concatenate([np.zeros(width), samples, np.zeros(width + 1)])
    out = np.empty(n_out)
    block = 16384  # keeps the (block x taps) gather small for long files
    for lo in range(0, n_out, block):
        n = np.arange(lo, min(lo + block, n_out))
        base, phase = np.divmod(n * down, up)
        idx = base[:, None] + taps[None, :] + width
        out[lo : lo + n.size] = np.einsum("ij,ij->i", padded[idx], table[phase])
    return out


def _decode(raw: bytes, tag: int, width: int) -> np.ndarray:
    """Samples as float64 in [-1, 1]."""
    if tag == WAVE_FORMAT_FLOAT:
        return np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float64)
    if width == 1:  # 8-bit WAV is unsigned
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.float64) / 32768.0
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        v = np.where(v & 0x800000, v - 0x1000000, v)
        return v.astype(np.float64) / 8388608.0
    return np.frombuffer(raw, dtype="<i4").astype(np.float64) / 2147483648.0


def write_wav(path: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> None:
    """Write int16 mono samples as a PCM16 WAV (tests and fixture tools)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.asarray(samples, dtype="<i2").tobytes())
