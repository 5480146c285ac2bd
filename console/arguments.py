"""Argument types and checks shared by the console's and the emulator's command lines.

Everything an operator types is checked before anything starts: a bad value ends the command
with exit status 2 and one last line ``acs-console <command>: error: --<argument>: <what is
wrong>``, never a traceback, a placed call or a written file. This module imports neither the
window nor the emulator at load time (building a parser loads neither); the checks that need
the emulator's readers (scenario files, WAVs) import them when they run.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

MAX_SPEED = 1000.0  # the emulator's conversation at most this many times faster than real time
_ARGUMENT = re.compile(r"argument ([^:]+): (.*)", re.S)
_REQUIRED = re.compile(r"the following arguments are required: (.*)", re.S)
_ONE_OF = re.compile(r"one of the arguments (.*) is required", re.S)


class ConsoleArgumentParser(argparse.ArgumentParser):
    """argparse, with errors as ``<prog>: error: --<argument>: <what is wrong>``."""

    def error(self, message: str) -> NoReturn:
        match = _ARGUMENT.fullmatch(message)
        required = _REQUIRED.fullmatch(message)
        one_of = _ONE_OF.fullmatch(message)
        if match is not None:
            name = match.group(1).split("/")[-1]  # "-v/--verbose" -> "--verbose"
            message = f"{name}: {match.group(2)}"
        elif required is not None:
            first = required.group(1).split(", ")[0]
            message = f"{first}: is required"
        elif one_of is not None:
            names = one_of.group(1).split()
            message = f"{names[0]}: one of {', '.join(names)} is required"
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def fail(parser: argparse.ArgumentParser, argument: str, problem: str) -> NoReturn:
    """End the command on a value that passed its type but not the command's checks."""
    parser.error(f"argument {argument}: {problem}")


# --- types --------------------------------------------------------------------------------------


def number(
    *, low: float | None = None, high: float | None = None, above: float | None = None
) -> Callable[[str], float]:
    """A float within bounds (``above``: strictly greater than)."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
        if above is not None and not value > above:
            raise argparse.ArgumentTypeError(f"must be greater than {above:g}, not {text}")
        if low is not None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low:g}, not {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:g}, not {text}")
        return value

    return parse


def port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0 to 65535 (0: any free one), not {text}")
    return value


def locale(text: str) -> str:
    """A transcription locale in canonical form."""
    from console.acs.locales import validate_locale

    try:
        return validate_locale(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def target(text: str) -> str:
    """A call target: +E.164, 8:acs:… or 8:orgid:… (kept as typed; checked here)."""
    from console.acs.identifiers import InvalidTargetError, validate_target

    try:
        validate_target(text)
    except InvalidTargetError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def nonempty(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("must not be empty")
    return text.strip()


def web_url(text: str) -> str:
    """An http(s) URL with a host."""
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http:// or https:// URL")
    return text.strip()


def switch(text: str) -> tuple[str, float]:
    """``es-ES@20s`` -> ("es-ES", 20.0); the time is call time in seconds."""
    code, sep, when = text.partition("@")
    if not sep or not code.strip():
        raise argparse.ArgumentTypeError(f"expected LOCALE@SECONDS, e.g. es-ES@20s, not {text!r}")
    seconds = when.strip().lower().removesuffix("s")
    try:
        at = float(seconds)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad time in {text!r} (e.g. es-ES@20s)") from None
    if not 0 <= at < float("inf"):
        raise argparse.ArgumentTypeError(f"the time in {text!r} must be 0 or more seconds")
    try:
        return locale(code.strip()), at
    except argparse.ArgumentTypeError as exc:
        raise argparse.ArgumentTypeError(f"{text}: {exc}") from None


def parse_audio(text: str) -> tuple[str, Path]:
    """``RAW_ID=FILE.wav`` (a raw id never holds '=', a path may), naming a readable WAV."""
    raw_id, sep, path = text.partition("=")
    if not sep or not raw_id.strip() or not path.strip():
        raise argparse.ArgumentTypeError(
            f"expected PARTICIPANT=FILE.wav (a raw id such as 4:+15550100 or 8:acs:…), got {text!r}"
        )
    wav = Path(path.strip()).expanduser()
    from console.emulator.recognition.wavfile import AudioFileError, header

    try:
        header(wav)
    except AudioFileError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return raw_id.strip(), wav


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


# --- checks across arguments, and the emulator's inputs --------------------------------------


def check_output(parser: argparse.ArgumentParser, out: Path, fmt: str | None) -> str:
    """The format to write ``out`` in; the file's folder must exist and take files."""
    from console.transcript.export import format_for_path

    if fmt is None:
        try:
            fmt = format_for_path(out) if out.suffix else "json"
        except ValueError:
            known = ".txt, .json, .vtt, .srt or .csv"
            fail(parser, "--out", f"{out.name}: unknown suffix; use {known}, or give --format")
    folder = out.expanduser().absolute().parent
    if out.expanduser().is_dir():
        fail(parser, "--out", f"{out} is a folder; give a file name in it")
    if not folder.is_dir():
        fail(parser, "--out", f"the folder {folder} does not exist")
    try:  # a real write (permission bits do not stop root, read-only places do)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".acs-console-probe-"):
            pass
    except OSError as exc:
        fail(parser, "--out", f"the folder {folder} cannot be written to ({exc.strerror or exc})")
    return fmt


def check_local_inputs(
    parser: argparse.ArgumentParser,
    scenario: str | None,
    audio: list[tuple[str, Path]] | None,
) -> None:
    """The embedded emulator's inputs: the scenario loads, ``--audio`` can be heard."""
    from console.emulator.recognition import speech_problem
    from console.emulator.scenario import ScenarioError, load_scenario

    if scenario:
        try:
            load_scenario(scenario)
        except ScenarioError as exc:
            fail(parser, "--scenario", " ".join(str(exc).split()))
    if audio and (problem := speech_problem()) is not None:
        fail(parser, "--audio", f"needs local speech recognition: {problem}")
