"""``acs-console doctor``: check a profile's setup and say what is wrong, and how to fix it.

Prints ``PASS|WARN|FAIL <check>: <detail>`` per check (the fix under each FAIL), or with
``--json`` one object: ``{"checks": [...], "callback_url", "websocket_url", "eventgrid_url"}``.
Exits 1 when any check FAILs, else 0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from console.doctor.report import render_json, render_text
from console.doctor.result import DoctorReport

HELP = "check a profile's setup (Azure or the emulator) and say what is wrong"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # Options the main parser also has default to SUPPRESS here, so a value given before the
    # subcommand is kept.
    keep = argparse.SUPPRESS
    parser.add_argument(
        "--data-dir", type=Path, metavar="D", default=keep, help="the console's data folder"
    )
    parser.add_argument(
        "--profile",
        choices=("local", "azure"),
        default=keep,
        help="the profile to check (default: the one chosen in Settings)",
    )
    parser.add_argument(
        "--listen-host", metavar="H", default=keep, help="address the listeners bind"
    )
    parser.add_argument(
        "--callback-port", type=int, metavar="P", default=keep, help="callback listener port"
    )
    parser.add_argument(
        "--ws-port", type=int, metavar="P", default=keep, help="WebSocket listener port"
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=keep, help="log debug detail"
    )
    parser.add_argument(
        "--connection-string",
        metavar="S",
        default=None,
        help="the ACS connection string (default: ACS_CONNECTION_STRING, else the keyring)",
    )
    parser.add_argument(
        "--ca-cert",
        type=Path,
        metavar="PEM",
        default=None,
        help="trust this CA certificate for the ACS endpoint (a TLS-inspecting proxy's, or "
        "the emulator's) for this run",
    )
    parser.add_argument("--cognitive-endpoint", metavar="URL", default=None)
    parser.add_argument("--caller-id", metavar="+E164", default=None)
    parser.add_argument("--resource-id", metavar="ID", default=None, help="immutable resource id")
    parser.add_argument("--callback-base", metavar="URL", default=None, help="public https base")
    parser.add_argument("--ws-base", metavar="URL", default=None, help="public wss base")
    parser.add_argument("--json", action="store_true", default=False, help="one JSON object")


async def diagnose(args: argparse.Namespace) -> DoctorReport:
    """Run every check for the profile the arguments select, with this console's listeners
    started on the given ports for the duration."""
    # Imported here: building the command line must stay quick for every other command.
    from console.config import Preferences, SecretStore
    from console.doctor.checks import run_checks
    from console.doctor.listeners import listening_target
    from console.doctor.profile import doctor_profile

    data_dir = Path(args.data_dir)
    prefs = Preferences.load(data_dir)
    secrets = SecretStore(data_dir)
    async with (
        doctor_profile(args, prefs, secrets) as choice,
        listening_target(choice, data_dir) as target,
    ):
        return await run_checks(target)


def run(args: argparse.Namespace) -> int:
    """``args.data_dir`` must be prepared (it is by ``acs-console``'s main)."""
    try:
        report = asyncio.run(diagnose(args))
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError) as exc:  # the embedded emulator could not start
        print(f"acs-console doctor: the local emulator could not start: {exc}", file=sys.stderr)
        return 1
    out = render_json(report) if getattr(args, "json", False) else render_text(report)
    sys.stdout.write(out)
    sys.stdout.flush()
    return report.exit_code
