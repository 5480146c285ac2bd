"""``acs-console redact SAVED.json --out FILE [--format txt|json|vtt|srt|csv] [--force]``:
a redacted copy of a transcript saved as JSON.

The format is ``--format``, else ``--out``'s suffix. An existing ``--out`` is replaced only with
``--force`` (atomically: a failed write leaves it as it was). Exit 2 for a bad argument (the
last line of stderr ``acs-console redact: error: --<argument>: …``, nothing written), 1 for an
input that cannot be read or is not a transcript (one plain line), 0 when written; stderr then
says what was masked. The input is never changed. No Qt, no network, no data folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.arguments import check_output, fail

HELP = "write a redacted copy of a transcript saved as JSON"
PROG_ERROR = "acs-console redact"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("saved", type=Path, metavar="SAVED.json", help="a transcript saved as JSON")
    parser.add_argument("--out", type=Path, required=True, help="where to write the copy")
    parser.add_argument(
        "--format",
        choices=("txt", "json", "vtt", "srt", "csv"),
        default=None,
        help="file format (default: from --out's suffix)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace --out if it exists (default: refuse)"
    )
    parser.set_defaults(command_parser=parser)


def check(args: argparse.Namespace) -> None:
    """Every argument, before anything is read or written (exit 2 with one line)."""
    parser: argparse.ArgumentParser = args.command_parser
    out = args.out.expanduser()
    if out.is_dir():
        fail(parser, "--out", f"{out} is a folder; give a file name in it")
    if args.format is None and not out.suffix:
        fail(parser, "--out", f"{out.name} has no suffix; give one (.txt, .json, …) or --format")
    args.format = check_output(parser, out, args.format)
    if out.exists() and not args.force:
        fail(parser, "--out", f"{out} exists; add --force to replace it")
    args.out = out


def run(args: argparse.Namespace) -> int:
    # Loaded here: building the command line's parser loads no transcript code.
    from console.transcript.export import TranscriptFormatError, load_json
    from console.transcript.redacted import redact_transcript
    from console.transcript.saving import SaveError, save

    check(args)
    saved: Path = args.saved.expanduser()
    try:
        transcript = load_json(saved)
    except OSError as exc:
        print(f"{PROG_ERROR}: {saved} cannot be read: {exc.strerror or exc}", file=sys.stderr)
        return 1
    except (TranscriptFormatError, RecursionError) as exc:
        print(f"{PROG_ERROR}: {saved}: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    redacted = redact_transcript(transcript)
    try:
        save(redacted.transcript, args.out, args.format)
    except SaveError as exc:
        print(f"{PROG_ERROR}: {exc.operator_text}", file=sys.stderr)
        return 1
    found = ", ".join(f"{n} {kind}" for kind, n in redacted.counts.items()) or "nothing"
    print(f"Wrote {args.out} ({args.format.upper()}); masked {found}", file=sys.stderr)
    return 0


def _one_line(text: str) -> str:
    return " ".join(text.split())
