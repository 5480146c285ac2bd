"""Command line: the GUI (default), ``emulator`` (standalone) and ``run`` (headless).

Building the parser imports neither the window nor the emulator: each command loads what it
needs once it is chosen.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from console import __version__
from console.arguments import (
    MAX_SPEED,
    ConsoleArgumentParser,
    add_audio_argument,
    check_local_inputs,
    check_output,
    fail,
    locale,
    nonempty,
    number,
    port,
    switch,
    target,
)
from console.config import ConfigError, Preferences, default_data_dir, prepare_data_dir

log = logging.getLogger(__name__)


def _add_common(p: argparse.ArgumentParser, *, sub: bool = False) -> None:
    # A subcommand's copy of an option must not reset a value given before the subcommand.
    def d(value: object) -> object:
        return argparse.SUPPRESS if sub else value

    p.add_argument(
        "--data-dir", type=Path, default=d(None), help="isolate settings, journals and transcripts"
    )
    p.add_argument("--listen-host", default=d(None), help="address the listeners bind (127.0.0.1)")
    p.add_argument("--callback-port", type=port, default=d(None), help="port for ACS callbacks")
    p.add_argument("--ws-port", type=port, default=d(None), help="port for transcript WebSockets")
    p.add_argument(
        "--allow-non-loopback",
        action="store_true",
        default=d(False),
        help="permit binding the listeners to a non-loopback address",
    )
    p.add_argument(
        "--profile",
        choices=("local", "azure"),
        default=d(None),
        help="local: the embedded emulator (default); azure: the resource set in Settings",
    )
    p.add_argument("--scenario", default=d(None), help="emulator scenario: a name or a file path")
    p.add_argument(
        "--speed",
        type=number(above=0, high=MAX_SPEED),
        default=d(1.0),
        help="run the emulator's conversation X times faster than real time",
    )
    add_audio_argument(p, default=d(None))
    p.add_argument(
        "--existing-call",
        type=nonempty,
        action="append",
        default=d(None),
        metavar="ID",
        help="local profile: the emulator starts with a call in progress with this server call "
        "id, to join (repeatable)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", default=d(False), help="log debug detail"
    )


def _languages(text: str) -> tuple[str, ...]:
    """``en-US,es-ES`` -> the languages to identify among (2 to 4 locales)."""
    from console.acs.intelligence import check_locales

    try:
        return check_locales(code.strip() for code in text.split(",") if code.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _detecting(languages: list[str]) -> tuple[str, ...]:
    """The languages to detect set in Settings (none when they cannot be used)."""
    from console.acs.intelligence import check_locales

    try:
        return check_locales(x for x in languages if isinstance(x, str))
    except ValueError:
        return ()


def _alert_rule(text: str) -> str:
    """A phrase or ``re:`` pattern an alert fires on."""
    from console.transcript.alerts import AlertRuleError, compile_rule

    try:
        compile_rule(text)
    except AlertRuleError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def _add_intelligence(run: argparse.ArgumentParser) -> None:
    """``run``'s call intelligence and alerts (default: as in Settings)."""
    run.add_argument(
        "--detect-languages",
        type=_languages,
        default=None,
        metavar="LOCALE,LOCALE[,…]",
        help="the service identifies each phrase's language among these, 2 to 4 "
        "(e.g. en-US,es-ES; its preview api-version)",
    )
    run.add_argument(
        "--sentiment",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the service gives each Final a sentiment (its preview api-version)",
    )
    run.add_argument(
        "--service-redaction",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the service masks personal data (card, account and phone numbers, e-mail "
        "addresses) before sending the text (its preview api-version)",
    )
    run.add_argument(
        "--alert",
        type=_alert_rule,
        action="append",
        default=None,
        metavar="PHRASE",
        help="alert when a Final says this (any case, whole words; * stands for any letters; "
        "re:PATTERN for a regular expression); repeatable, replaces the Settings' phrases",
    )
    run.add_argument(
        "--negative-streak",
        type=_streak,
        default=None,
        metavar="N",
        help="alert after N negative turns in a row of one speaker (0: never; default 3)",
    )


def _streak(text: str) -> int:
    from console.transcript.alerts import MAX_NEGATIVE_STREAK

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 0 <= value <= MAX_NEGATIVE_STREAK:
        raise argparse.ArgumentTypeError(
            f"must be 0 (never) to {MAX_NEGATIVE_STREAK} turns, not {text}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = ConsoleArgumentParser(
        prog="acs-console",
        description="Operator console for Azure Communication Services call transcription.",
    )
    parser.add_argument("--version", action="version", version=f"acs-console {__version__}")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="place a call on the embedded emulator through the window (offscreen), transcribe "
        "until a Final, save JSON; exit 0 if all of it works, else 1 with the reason",
    )
    _add_common(parser)
    parser.set_defaults(command_parser=parser)
    sub = parser.add_subparsers(dest="command")

    # The emulator has its own parser (``acs-console emulator --help``); it is loaded only
    # when this command runs.
    emu = sub.add_parser(
        "emulator",
        help="run the ACS emulator on its own (see acs-console emulator --help)",
        add_help=False,
        prefix_chars="\0",
    )
    emu.add_argument("emulator_args", nargs=argparse.REMAINDER)

    from console.doctor import command as doctor_command

    doctor_command.add_arguments(sub.add_parser("doctor", help=doctor_command.HELP))

    from console import redact_command

    redact_command.add_arguments(sub.add_parser("redact", help=redact_command.HELP))

    run = sub.add_parser("run", help="place one call headless, transcribe it and save it")
    run.set_defaults(command_parser=run)
    _add_common(run, sub=True)
    who = run.add_mutually_exclusive_group(required=True)
    who.add_argument("--target", type=target, help="+E.164 number, 8:acs:… or 8:orgid:… user")
    who.add_argument(
        "--join", type=nonempty, metavar="SERVER_CALL_ID", help="join a call in progress"
    )
    who.add_argument(
        "--join-group", type=nonempty, metavar="GROUP_ID", help="join a group call in progress"
    )
    who.add_argument(
        "--join-room", type=nonempty, metavar="ROOM_ID", help="join a room call in progress"
    )
    run.add_argument(
        "--locale", default="en-US", type=locale, help="transcription locale, e.g. en-US"
    )
    run.add_argument(
        "--switch-locale",
        type=switch,
        action="append",
        default=[],
        metavar="LOCALE@Ns",
        help="switch the locale at this call time, e.g. es-ES@20s (repeatable)",
    )
    run.add_argument(
        "--duration",
        type=number(above=0),
        default=60.0,
        help="call time to transcribe, seconds",
    )
    run.add_argument("--out", type=Path, required=True, help="where to save the transcript")
    run.add_argument(
        "--format",
        choices=("txt", "json", "vtt", "srt", "csv"),
        default=None,
        help="file format (default: from --out's suffix, else json)",
    )
    run.add_argument(
        "--redact",
        action="store_true",
        help="redact personal data (cards, phones, e-mails, accounts, SSNs, spelled names) in "
        "the saved file and the FINAL lines",
    )
    run.add_argument(
        "--speech-model-endpoint-id",
        default=None,
        metavar="ID",
        help="a Custom Speech model's endpoint id for this call (default: the one in Settings)",
    )
    _add_intelligence(run)
    return parser


def _setup_logging(verbose: bool) -> None:
    from console.logs import install_redaction

    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_redaction()


def _check(args: argparse.Namespace) -> None:
    """Every argument, before anything starts (exit 2 with one line saying what is wrong)."""
    parser = args.command_parser
    if args.command == "run":
        args.format = check_output(parser, args.out, args.format)
        if args.switch_locale and not args.target:
            fail(
                parser,
                "--switch-locale",
                "a call joined in progress keeps its language (the service refuses to change "
                "it); choose it with --locale",
            )
        for code, at in args.switch_locale:
            if at >= args.duration:
                fail(parser, "--switch-locale", f"{code}@{at:g}s is after the call's end "
                     f"(--duration {args.duration:g})")  # fmt: skip
    if args.command in (None, "run"):
        settings = Preferences.load((args.data_dir or default_data_dir()).expanduser())
        if args.command == "run" and args.switch_locale:
            detecting = args.detect_languages
            if detecting is None:  # as in Settings
                detecting = _detecting(settings.detect_languages)
            if detecting:
                fail(parser, "--switch-locale", "the locale cannot be switched while the service "
                     "identifies the language (--detect-languages, or Settings)")  # fmt: skip
        if (args.profile or settings.profile) == "local":
            check_local_inputs(parser, args.scenario, args.audio)
    try:  # last: it creates the folder when it is missing
        args.data_dir = prepare_data_dir(args.data_dir)
    except ConfigError as exc:
        fail(parser, "--data-dir", str(exc))


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "emulator":
        from console.emulator import cli as emulator_cli

        return emulator_cli.main(args.emulator_args)
    _setup_logging(args.verbose)
    if args.command == "redact":
        from console.redact_command import run as redact

        return redact(args)
    if args.self_test and args.command is None:
        from console.ui.self_test import self_test

        return self_test(args)
    if args.command != "doctor":
        _check(args)
    else:
        try:
            args.data_dir = prepare_data_dir(args.data_dir)
        except ConfigError as exc:
            print(f"acs-console: {exc}", file=sys.stderr)
            return 2
    if args.command == "doctor":
        from console.doctor import command as doctor_command

        return doctor_command.run(args)
    if args.command == "run":
        from console.headless import run_headless

        try:
            return asyncio.run(run_headless(args))
        except KeyboardInterrupt:
            return 130
    from console.app import main as gui_main

    return gui_main(args)
