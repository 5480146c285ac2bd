"""``acs-console emulator``: run the ACS emulator standalone (or ring through a running one).

Prints the connection string and writes ``emulator.json`` (mode 0600: it holds the access key)
in the data dir with ``connection_string``, ``endpoint``, ``cert_path``, ``jwks_url``, ``issuer``
and ``audience``. Binds loopback unless told otherwise; Ctrl+C stops it cleanly.

``--ring FROM`` rings the application once it is up (retrying until its Event Grid webhook
answers). With ``--attach`` nothing is started: the rings go through the emulator already
running with that data dir (its admin endpoint ``POST /emulator/incomingCalls``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import signal
import ssl
import sys
from pathlib import Path
from typing import Any

import aiohttp

from console.arguments import (
    MAX_SPEED,
    ConsoleArgumentParser,
    add_audio_argument,
    check_local_inputs,
    fail,
    nonempty,
    number,
    port,
    target,
    web_url,
)
from console.emulator import hmac_auth
from console.emulator.config import (
    DEFAULT_PORT,
    MAX_RESPONSE_DELAY,
    DataDirError,
    EmulatorConfig,
    default_data_dir,
)
from console.emulator.eventgrid import SCHEMAS, RingError
from console.emulator.scenario import ScenarioError
from console.emulator.server import INFO_FILE, Emulator
from console.emulator.urls import is_loopback_host
from console.logs import install_redaction

log = logging.getLogger(__name__)

PROG = "acs-console emulator"
RING_PATIENCE = 120.0  # seconds to keep trying a --ring while the webhook is not up yet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument(
        "--port", type=port, default=DEFAULT_PORT, help=f"HTTPS port (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--scenario",
        default="support-call",
        help="scenario name, scenario .json file or console journal (.jsonl) to replay",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="where keys, certificate and emulator.json live"
    )
    parser.add_argument(
        "--speed",
        type=number(above=0, high=MAX_SPEED),
        default=1.0,
        help="call time runs this many times faster",
    )
    parser.add_argument(
        "--answer-delay",
        type=number(low=0),
        default=3.0,
        help="seconds (call time) until CallConnected",
    )
    parser.add_argument(
        "--response-delay",
        type=number(low=0, high=MAX_RESPONSE_DELAY),
        default=0.0,
        metavar="S",
        help="hold every Call Automation request S seconds (a slow network; default 0)",
    )
    parser.add_argument(
        "--eventgrid-url", type=web_url, default=None, help="Event Grid webhook for rings"
    )
    parser.add_argument(
        "--eventgrid-schema",
        choices=SCHEMAS,
        default=None,
        help="deliver rings in the Event Grid schema (default) or as CloudEvents 1.0",
    )
    add_audio_argument(parser)
    parser.add_argument(
        "--custom-speech-model",
        type=nonempty,
        action="append",
        default=[],
        metavar="ID",
        help="a custom speech model endpoint id to accept (repeatable)",
    )
    parser.add_argument(
        "--unreachable",
        type=target,
        action="append",
        default=[],
        metavar="TARGET",
        help="a +E.164 number or raw id that never answers (repeatable)",
    )
    parser.add_argument(
        "--existing-call",
        type=nonempty,
        action="append",
        default=[],
        metavar="ID",
        help="a call already in progress with this server call id, playing the scenario, that "
        "the application can join with Connect (repeatable)",
    )
    parser.add_argument(
        "--ring",
        type=target,
        action="append",
        default=[],
        metavar="FROM",
        help="ring the application from this caller (+E.164 or raw id; repeatable)",
    )
    parser.add_argument(
        "--attach",
        action="store_true",
        help="do not start an emulator: send the --ring requests to the running one",
    )


def _config(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        host=args.host,
        port=args.port,
        data_dir=args.data_dir or default_data_dir(),
        scenario=args.scenario,
        speed=args.speed,
        answer_delay=args.answer_delay,
        eventgrid_webhook_url=args.eventgrid_url,
        eventgrid_schema=args.eventgrid_schema or "eventgrid",
        custom_speech_models=tuple(args.custom_speech_model),
        unreachable_targets=tuple(args.unreachable),
        response_delay=args.response_delay,
        audio=tuple(args.audio or ()),
        existing_calls=tuple(getattr(args, "existing_call", None) or ()),
    )


def run(args: argparse.Namespace) -> int:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    install_redaction()  # no key, JWT or signature in its log, whoever adds a handler
    try:
        config = _config(args)
    except ValueError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    try:
        if args.attach:
            webhook = args.eventgrid_url
            return asyncio.run(_ring_running(config, args.ring, webhook, args.eventgrid_schema))
        return asyncio.run(_serve(config, args.ring))
    except KeyboardInterrupt:
        return 0


async def _serve(config: EmulatorConfig, rings: list[str]) -> int:
    if not is_loopback_host(config.host):
        log.warning("Binding %s: the emulator is reachable from other machines", config.host)
    emu = Emulator(config)
    try:
        await emu.start()
    except DataDirError as exc:
        print(f"{PROG}: error: --data-dir: {exc}", file=sys.stderr)
        return 2
    except ScenarioError as exc:
        print(f"{PROG}: error: --scenario: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot listen on {config.host}:{config.port}: {exc}", file=sys.stderr)
        return 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    ringers: list[asyncio.Task[None]] = []
    try:
        try:
            info_path = emu.write_info()
        except OSError as exc:
            print(
                f"{PROG}: error: --data-dir: {DataDirError(config.data_dir, exc)}", file=sys.stderr
            )
            return 2
        print(f"ACS emulator running at {emu.endpoint}", flush=True)
        print(f"Connection string: {emu.connection_string}", flush=True)
        print(f"Certificate: {emu.cert_path}", flush=True)
        print(f"Details: {info_path}", flush=True)
        for server_call_id in config.existing_calls:
            print(f"Call in progress: serverCallId {server_call_id}", flush=True)
        print("Press Ctrl+C to stop.", flush=True)
        ringers = [asyncio.create_task(_ring_when_ready(emu, caller)) for caller in rings]
        await stop.wait()
    finally:
        for task in ringers:
            task.cancel()
        await asyncio.gather(*ringers, return_exceptions=True)
        await emu.stop()
        print("ACS emulator stopped.", flush=True)
    return 0


async def _ring_when_ready(emu: Emulator, caller: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RING_PATIENCE
    while True:
        try:
            event = await emu.ring(caller)
        except RingError as exc:
            if loop.time() > deadline:
                log.error("Giving up ringing from %s: %s", caller, exc)
                return
            log.info("Ringing from %s not delivered yet (%s); retrying", caller, exc)
            await asyncio.sleep(2.0)
            continue
        log.info(
            "Rang the application from %s (serverCallId %s)", caller, event["data"]["serverCallId"]
        )
        return


async def _ring_running(
    config: EmulatorConfig, rings: list[str], webhook: str | None, schema: str | None = None
) -> int:
    path = config.data_dir / INFO_FILE
    try:
        info: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        endpoint = info["endpoint"]
        key = dict(
            part.split("=", 1) for part in info["connection_string"].split(";") if "=" in part
        )["accesskey"]
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: no running emulator described in {path}: {exc}", file=sys.stderr)
        return 1
    if not rings:
        print("error: --attach needs at least one --ring FROM", file=sys.stderr)
        return 2
    ctx = ssl.create_default_context(cafile=info["cert_path"])
    failures = 0
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx)) as session:
        for caller in rings:
            body: dict[str, Any] = {"from": caller}
            if webhook:
                body["eventGridUrl"] = webhook
            if schema:
                body["schema"] = schema
            status, answer = await admin_request(
                session, "POST", f"{endpoint}/emulator/incomingCalls", key, body
            )
            if status == 201:
                print(f"Rang from {caller}: serverCallId {answer.get('serverCallId')}")
            else:
                failures += 1
                print(f"error: ringing from {caller} failed: {status} {answer}", file=sys.stderr)
    return 1 if failures else 0


async def admin_request(
    session: aiohttp.ClientSession, method: str, url: str, access_key: str, body: Any = None
) -> tuple[int, Any]:
    """Send an HMAC-signed request to the emulator (for its admin endpoints)."""
    data = json.dumps(body).encode("utf-8") if body is not None else b""
    headers = hmac_auth.sign(method, url, data, base64.b64decode(access_key))
    if body is not None:
        headers["Content-Type"] = "application/json"
    async with session.request(method, url, data=data, headers=headers) as resp:
        text = await resp.text()
        try:
            return resp.status, json.loads(text) if text else {}
        except ValueError:
            return resp.status, text


def main(argv: list[str] | None = None) -> int:
    parser = ConsoleArgumentParser(prog=PROG, description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    if len(set(args.existing_call)) != len(args.existing_call):
        fail(parser, "--existing-call", "each call already in progress needs its own id")
    if not args.attach:
        check_local_inputs(parser, args.scenario, args.audio)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
