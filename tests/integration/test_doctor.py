"""``acs-console doctor`` against the emulator: the command in a subprocess (local profile, and the
Azure profile pointed at a standalone ``acs-console emulator``), and the reachability checks
directly, through a forwarder standing in for a tunnel and servers that answer like a tunnel
that is private, down or pointing elsewhere."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from console.config import EventGridSecret, Profile
from console.doctor.checks import check_callback_reachable, check_websocket_reachable, run_checks
from console.doctor.result import CHECK_NAMES, FAIL, PASS, WARN
from console.doctor.target import DoctorTarget
from console.emulator.server import Emulator
from console.runtime import ConsoleRuntime
from tests.file_keyring import FILE_ENV
from tests.reliability.reliability_kit import EmulatorProcess, console_env, free_port
from tests.waiting import local

DOCTOR_TIMEOUT = 120.0
COGNITIVE = "https://contoso-speech.cognitiveservices.azure.com/"


@contextlib.asynccontextmanager
async def serving(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[int]:
    """Another HTTP server on a loopback port (answering every request with ``handler``)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def forwarding(to_port: int) -> AsyncIterator[int]:
    """A TCP forwarder to ``to_port`` (what a tunnel does), on a port of its own."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", to_port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


# -- the command, in a subprocess -------------------------------------------------------------


class Doctor:
    """Runs ``acs-console doctor`` with a file-backed keyring (what one run keeps, the next has)."""

    def __init__(self, tmp_path: Path) -> None:
        self.data_dir = tmp_path / "console"
        self.env = console_env(
            PYTHON_KEYRING_BACKEND="tests.file_keyring.FileKeyring",
            **{FILE_ENV: str(tmp_path / "keyring.json")},
        )
        self.env.pop("ACS_CONNECTION_STRING", None)

    async def run(self, *args: str) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "console", "doctor", "--data-dir", str(self.data_dir), *args,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self.env,
        )  # fmt: skip
        out, err = await asyncio.wait_for(proc.communicate(), DOCTOR_TIMEOUT)
        assert proc.returncode is not None
        return proc.returncode, out.decode(), err.decode()

    async def json(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = await self.run(*args, "--json")
        assert "Traceback" not in err, err
        return code, json.loads(out)


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {c["check"]: c["status"] for c in doc["checks"]}


def result(doc: dict[str, Any], check: str) -> dict[str, Any]:
    (found,) = [c for c in doc["checks"] if c["check"] == check]
    return found


@pytest.fixture
def doctor(tmp_path: Path) -> Doctor:
    return Doctor(tmp_path)


@pytest.fixture
async def standalone(tmp_path: Path) -> AsyncIterator[dict[str, Any]]:
    """A standalone ``acs-console emulator``; its emulator.json."""
    emulator = EmulatorProcess(tmp_path / "emulator", free_port())
    try:
        yield await emulator.start()
    finally:
        await emulator.stop()


def azure_args(info: dict[str, Any], callback_port: int, ws_port: int, **over: str) -> list[str]:
    """The Azure profile aimed at the emulator: its connection string and certificate, and
    loopback bases on the doctor's own ports."""
    values = {
        "--connection-string": info["connection_string"],
        "--ca-cert": info["cert_path"],
        "--cognitive-endpoint": COGNITIVE,
        "--caller-id": "+15550199",
        "--resource-id": info["audience"],
        "--callback-base": f"http://127.0.0.1:{callback_port}",
        "--ws-base": f"ws://127.0.0.1:{ws_port}",
        "--callback-port": str(callback_port),
        "--ws-port": str(ws_port),
        **over,
    }
    return ["--profile", "azure", *(x for pair in values.items() for x in pair)]


async def test_the_local_profile_passes(doctor: Doctor) -> None:
    code, out, err = await doctor.run()  # a fresh data dir: the local profile
    assert code == 0, out + err
    lines = out.splitlines()
    names = [line.split(":", 1)[0].split(" ", 1)[1] for line in lines]
    assert names == [n for n in CHECK_NAMES if n not in ("callback_base", "websocket_base")]
    assert all(line.startswith(f"{PASS} ") for line in lines), out
    assert "reached this console's callback listener" in out
    assert "reached this console's WebSocket listener" in out


async def test_the_azure_profile_on_the_emulator_passes_and_keeps_its_eventgrid_url(
    doctor: Doctor, standalone: dict[str, Any]
) -> None:
    callback_port, ws_port = free_port(), free_port()
    args = azure_args(standalone, callback_port, ws_port)
    code, doc = await doctor.json(*args)
    assert code == 0, doc
    assert set(doc) == {"checks", "callback_url", "websocket_url", "eventgrid_url"}
    assert [c["check"] for c in doc["checks"]] == list(CHECK_NAMES)
    for check in doc["checks"]:
        assert set(check) == {"check", "status", "detail", "fix"}
        if check["status"] == PASS:
            assert check["fix"] == ""
    assert statuses(doc) == {
        **dict.fromkeys(CHECK_NAMES, PASS),
        "callback_base": WARN,  # loopback http/ws: only the emulator accepts it
        "websocket_base": WARN,
    }
    assert doc["callback_url"].startswith(f"http://127.0.0.1:{callback_port}/api/callbacks/")
    assert doc["websocket_url"].startswith(f"ws://127.0.0.1:{ws_port}/ws/transcription/")
    assert doc["eventgrid_url"].startswith(f"http://127.0.0.1:{callback_port}/api/eventgrid/")
    assert doc["eventgrid_url"] in result(doc, "eventgrid_url")["detail"]
    assert standalone["connection_string"].split("accesskey=")[1] not in json.dumps(doc)

    # A second run with the same data dir: the same Event Grid URL, new per-start secrets.
    code, again = await doctor.json(*args)
    assert code == 0
    assert again["eventgrid_url"] == doc["eventgrid_url"]
    assert again["callback_url"] != doc["callback_url"]
    # Another data dir has its own.
    other = Doctor(doctor.data_dir.parent / "elsewhere")
    other.env = doctor.env
    code, elsewhere = await other.json(*args)
    assert code == 0
    assert elsewhere["eventgrid_url"] != doc["eventgrid_url"]

    # The text form: a line per check, the same URL.
    code, out, _ = await doctor.run(*args)
    assert code == 0
    assert f"PASS eventgrid_url: {doc['eventgrid_url']} " in out
    assert "WARN callback_base: http://127.0.0.1:" in out


async def test_a_wrong_access_key_fails_access_key(
    doctor: Doctor, standalone: dict[str, Any]
) -> None:
    endpoint = standalone["connection_string"].split(";")[0]
    wrong = f"{endpoint};accesskey=d3Jvbmcta2V5LWZvci10aGUtZW11bGF0b3I="
    args = azure_args(standalone, free_port(), free_port(), **{"--connection-string": wrong})
    code, out, err = await doctor.run(*args)
    assert code == 1, out + err
    assert "FAIL access_key: the service refused the access key (HTTP 401)" in out
    assert "PASS endpoint_tls:" in out  # not a network error
    assert "    fix: Copy the connection string again" in out
    assert [line for line in out.splitlines() if line.startswith(FAIL)] == [
        line for line in out.splitlines() if line.startswith("FAIL access_key")
    ]


async def test_an_unreachable_base_fails_reachability(
    doctor: Doctor, standalone: dict[str, Any]
) -> None:
    nothing = free_port()  # nobody listens there
    args = azure_args(
        standalone, free_port(), free_port(), **{"--callback-base": f"http://127.0.0.1:{nothing}"}
    )
    code, doc = await doctor.json(*args)
    assert code == 1
    failed = result(doc, "callback_reachable")
    assert failed["status"] == FAIL
    assert f"nothing answers at 127.0.0.1:{nothing}" in failed["detail"]
    assert "devtunnel host" in failed["fix"]
    assert [c["check"] for c in doc["checks"] if c["status"] == FAIL] == ["callback_reachable"]


async def test_a_base_that_reaches_another_server_fails_reachability(
    doctor: Doctor, standalone: dict[str, Any]
) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="Hello from another app\n")

    async with serving(hello) as other:
        callback_port, ws_port = free_port(), free_port()
        args = azure_args(
            standalone,
            callback_port,
            ws_port,
            **{
                "--callback-base": f"http://127.0.0.1:{other}",
                "--ws-base": f"ws://127.0.0.1:{other}",
            },
        )
        code, doc = await doctor.json(*args)
    assert code == 1
    for check in ("callback_reachable", "websocket_reachable"):
        failed = result(doc, check)
        assert failed["status"] == FAIL
        assert f"another server answered at 127.0.0.1:{other}" in failed["detail"]
    assert f"127.0.0.1:{callback_port}" in result(doc, "callback_reachable")["fix"]
    assert f"127.0.0.1:{ws_port}" in result(doc, "websocket_reachable")["fix"]


async def test_a_busy_port_fails_reachability_saying_so(
    doctor: Doctor, standalone: dict[str, Any]
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, doc = await doctor.json(*azure_args(standalone, port, free_port()))
    assert code == 1
    failed = result(doc, "callback_reachable")
    assert failed["status"] == FAIL
    assert f"Port {port} on 127.0.0.1 is already in use" in failed["detail"]
    assert result(doc, "websocket_reachable")["status"] == PASS
    assert result(doc, "access_key")["status"] == PASS


# -- the reachability checks, directly --------------------------------------------------------


@pytest.fixture
async def runtime(
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> ConsoleRuntime:
    return await make_runtime(local(await make_emulator()))


def through(runtime: ConsoleRuntime, callback_base: str, ws_base: str) -> DoctorTarget:
    """The running console, with public bases to check."""
    profile = Profile(
        kind="azure",
        connection_string=runtime.profile.connection_string,
        connection_verify=runtime.profile.connection_verify,
        public_callback_base=callback_base,
        public_websocket_base=ws_base,
    )
    return DoctorTarget(profile, runtime, EventGridSecret("x" * 32, persistent=True), timeout=5)


async def test_a_tunnel_to_the_listeners_passes(runtime: ConsoleRuntime) -> None:
    async with (
        forwarding(runtime.callbacks.port) as callback_port,
        forwarding(runtime.transcripts.port) as ws_port,
    ):
        target = through(runtime, f"http://127.0.0.1:{callback_port}", f"ws://127.0.0.1:{ws_port}")
        callback = await check_callback_reachable(target)
        websocket = await check_websocket_reachable(target)
    assert callback.status == PASS, callback
    assert f"http://127.0.0.1:{callback_port}/api/callbacks/..." in callback.detail
    assert websocket.status == PASS, websocket
    assert runtime.stats().streams_open == 0  # a probe is no transcript stream
    assert runtime.callbacks.stats.events_total == 0


@pytest.mark.parametrize(
    ("status", "headers", "expected", "fix"),
    [
        (302, {"Location": "https://login.microsoftonline.com/x"}, "private", "--allow-anonymous"),
        (401, {}, "private (sign-in required)", "--allow-anonymous"),
        (502, {}, "nothing answers on the port it forwards to", "listener on 127.0.0.1:"),
        (404, {}, "another server answered", "listener on 127.0.0.1:"),
    ],
)
async def test_what_answers_instead_is_named(
    runtime: ConsoleRuntime, status: int, headers: dict[str, str], expected: str, fix: str
) -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.Response(status=status, headers=headers, text="not the console\n")

    async with serving(answer) as port:
        target = through(runtime, f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}")
        callback = await check_callback_reachable(target)
        websocket = await check_websocket_reachable(target)
    for found in (callback, websocket):
        assert found.status == FAIL
        assert expected in found.detail, found.detail
        assert fix in found.fix, found.fix


async def test_another_console_is_not_this_one(
    runtime: ConsoleRuntime,
    make_emulator: Callable[..., Awaitable[Emulator]],
    make_runtime: Callable[..., Awaitable[ConsoleRuntime]],
) -> None:
    other = await make_runtime(local(await make_emulator()))
    target = through(
        runtime,
        f"http://127.0.0.1:{other.callbacks.port}",
        f"ws://127.0.0.1:{other.transcripts.port}",
    )
    report = await run_checks(target)
    assert report.get("callback_reachable").status == FAIL  # type: ignore[union-attr]
    assert report.get("websocket_reachable").status == FAIL  # type: ignore[union-attr]
    assert other.stats().auth_rejected == 2  # its listeners refused our secret


async def test_a_verbose_run_logs_no_secret(doctor: Doctor, standalone: dict[str, Any]) -> None:
    code, out, err = await doctor.run(
        *azure_args(standalone, free_port(), free_port()), "--json", "-v"
    )
    assert code == 0, err
    doc = json.loads(out)
    assert "DEBUG" in err  # it did log, in detail
    secrets = [
        standalone["connection_string"].split("accesskey=")[1],
        doc["callback_url"].rsplit("/", 1)[1],
        doc["eventgrid_url"].rsplit("/", 1)[1],
    ]
    for secret in secrets:
        assert secret not in err
