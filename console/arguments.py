"""Argument types shared by the console's and the emulator's command lines (no imports of
either, so building a parser loads neither the emulator nor the window)."""

from __future__ import annotations

import argparse
from pathlib import Path


def parse_audio(text: str) -> tuple[str, Path]:
    """``RAW_ID=FILE.wav`` (a raw id never holds '=', a path may)."""
    raw_id, sep, path = text.partition("=")
    if not sep or not raw_id.strip() or not path.strip():
        raise argparse.ArgumentTypeError(
            f"expected PARTICIPANT=FILE.wav (a raw id such as 4:+15550100 or 8:acs:…), got {text!r}"
        )
    return raw_id.strip(), Path(path.strip()).expanduser()


def add_audio_argument(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument(
        "--audio",
        type=parse_audio,
        action="append",
        default=default,
        metavar="PARTICIPANT=FILE.wav",
        help="this participant (raw id) speaks the WAV from the start of each call, heard by the "
        "local recogniser (needs the speech extra; repeatable)",
    )
