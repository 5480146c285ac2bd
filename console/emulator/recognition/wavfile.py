"""WAV headers and raw data without numpy: scenario files are checked with this even when the
speech extra is not installed."""

from __future__ import annotations

import struct
from pathlib import Path

WAVE_FORMAT_PCM = 1
WAVE_FORMAT_FLOAT = 3
WAVE_FORMAT_EXTENSIBLE = 0xFFFE


class AudioFileError(ValueError):
    """A file that is not usable audio; the message names the file and the problem."""


def wav_duration(path: Path) -> float:
    """Seconds of audio in a WAV file, from its header (cheap: reads no samples)."""
    _, channels, rate, width, data_bytes = header(path)
    return data_bytes / (channels * width) / rate


def header(path: Path) -> tuple[int, int, int, int, int]:
    """(format tag, channels, rate, bytes per sample, data bytes), read from the RIFF chunks so
    float and extensible WAVs (which the stdlib ``wave`` refuses) work too."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                raise AudioFileError(f"{path}: not a WAV file")
            fmt_chunk: bytes | None = None
            data_bytes: int | None = None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    break
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt_chunk = f.read(size)
                elif cid == b"data":
                    here = f.tell()
                    f.seek(0, 2)
                    data_bytes = min(size, f.tell() - here)
                    break
                else:
                    f.seek(size + (size & 1), 1)
    except OSError as exc:
        raise AudioFileError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    if fmt_chunk is None or len(fmt_chunk) < 16 or data_bytes is None:
        raise AudioFileError(f"{path}: not a WAV file (no format or data chunk)")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt_chunk[:16])
    if tag == WAVE_FORMAT_EXTENSIBLE and len(fmt_chunk) >= 26:
        tag = struct.unpack("<H", fmt_chunk[24:26])[0]
    width = bits // 8
    pcm = tag == WAVE_FORMAT_PCM and width in (1, 2, 3, 4)
    if not (pcm or (tag == WAVE_FORMAT_FLOAT and width in (4, 8))):
        raise AudioFileError(
            f"{path}: unsupported WAV encoding (format {tag}, {bits} bits); "
            "use PCM (8/16/24/32-bit) or 32-bit float"
        )
    if channels < 1 or not 4000 <= rate <= 384_000:
        raise AudioFileError(f"{path}: unsupported WAV ({channels} channels at {rate} Hz)")
    if data_bytes == 0:
        raise AudioFileError(f"{path}: the WAV file holds no audio")
    return tag, channels, rate, width, data_bytes


def data(path: Path) -> bytes:
    with open(path, "rb") as f:
        f.seek(12)
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return b""
            cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if cid == b"data":
                return f.read(size)
            f.seek(size + (size & 1), 1)
