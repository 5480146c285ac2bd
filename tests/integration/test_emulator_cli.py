"""The standalone emulator as a user runs it: a real process, its emulator.json, Ctrl+C; and
what persists in the data dir between runs."""

from __future__ import annotations

import asyncio
import json
import signal
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.exceptions import ResourceNotFoundError

from tests.integration.conftest import Receiver

ROOT = Path(__file__).resolve().parents[2]


async def _start(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.emulator.cli",
        *args,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _read_until(proc: asyncio.subprocess.Process, marker: str) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    async with asyncio.timeout(15):
        while True:
            line = (await proc.stdout.readline()).decode()
            if not line:
                raise AssertionError(f"process ended before {marker!r}: {lines}")
            lines.append(line.rstrip("\n"))
            if marker in line:
                return lines


async def test_standalone_emulator_serves_rings_and_stops_on_ctrl_c(
    tmp_path: Path, receiver: Receiver
) -> None:
    data_dir = tmp_path / "emu"
    proc = await _start("--port", "0", "--data-dir", str(data_dir), "--speed", "20")
    try:
        lines = await _read_until(proc, "Press Ctrl+C")
        info_path = data_dir / "emulator.json"
        assert stat.S_IMODE(info_path.stat().st_mode) == 0o600
        info: dict[str, Any] = json.loads(info_path.read_text())
        assert f"Connection string: {info['connection_string']}" in lines
        assert info["endpoint"].startswith("https://127.0.0.1:")
        assert info["connection_string"].startswith(f"endpoint={info['endpoint']}/;accesskey=")
        assert info["jwks_url"] == info["endpoint"] + "/calling/keys"
        assert info["issuer"] == info["endpoint"]
        assert len(info["audience"]) == 36

        # The console's path: connection string + the emulator's certificate, HMAC end to end.
        async with CallAutomationClient.from_connection_string(
            info["connection_string"], connection_verify=info["cert_path"], retry_total=0
        ) as client:
            with pytest.raises(ResourceNotFoundError):
                await client.get_call_connection("nope").get_call_properties()

        ring = await _start(
            "--attach",
            "--data-dir",
            str(data_dir),
            "--ring",
            "+15550142",
            "--eventgrid-url",
            receiver.eventgrid_url,
        )
        out, err = await asyncio.wait_for(ring.communicate(), 15)
        assert ring.returncode == 0, err.decode()
        assert "Rang from +15550142" in out.decode()
        await receiver.wait_eventgrid(2)
        assert receiver.eventgrid[1].body[0]["data"]["from"]["rawId"] == "4:+15550142"
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err.decode()
    assert "ACS emulator stopped." in out.decode()


async def test_attach_without_a_running_emulator_fails_clearly(tmp_path: Path) -> None:
    proc = await _start("--attach", "--data-dir", str(tmp_path), "--ring", "+15550142")
    _, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 1
    assert "no running emulator" in err.decode()


async def test_bad_scenario_is_reported(tmp_path: Path) -> None:
    proc = await _start("--port", "0", "--data-dir", str(tmp_path), "--scenario", "no-such-one")
    _, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 2
    assert "no-such-one" in err.decode()


async def test_identity_and_certificate_persist_across_runs(
    tmp_path: Path, make_emulator: Any
) -> None:
    first = await make_emulator(data_dir=tmp_path)
    cert = first.cert_path.read_bytes()
    key, audience, kid = first.access_key, first.audience, first.tokens.kid
    await first.stop()
    second = await make_emulator(data_dir=tmp_path)
    assert second.cert_path.read_bytes() == cert
    assert (second.access_key, second.audience, second.tokens.kid) == (key, audience, kid)
    for name in ("identity.json", "emulator-key.pem", "jwt-signing-key.pem"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    # A configured key wins and is not written over the stored one.
    third = await make_emulator(data_dir=tmp_path, access_key="c2VjcmV0LWtleS0xMjM0NTY3OA==")
    assert third.access_key == "c2VjcmV0LWtleS0xMjM0NTY3OA=="
    assert json.loads((tmp_path / "identity.json").read_text())["access_key"] == key
