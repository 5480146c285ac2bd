"""Calls already in progress (``POST /emulator/calls``, ``--existing-call``) and Connect.

The application joins such a call with ``connect_call(server_call_id=...)``: its connection
gets CallConnected and the call's participants, transcription starts at setup if asked (on the
call's own clock), updateTranscription is refused as the service refuses it for Connect (405/8520),
leaving (DELETE) lets the call go on, terminating ends it for every connection.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from azure.communication.callautomation import StreamingTransportType, TranscriptionOptions
from azure.communication.callautomation.aio import CallAutomationClient
from azure.core.exceptions import HttpResponseError

from console.acs.errors import row
from console.emulator.scenario import load_scenario
from console.emulator.server import Emulator
from tests.integration.conftest import Receiver, WsRecorder, aio_client, signed_request
from tests.integration.recorded_service import FIXTURES

COGNITIVE = "https://my-cog.cognitiveservices.azure.com/"
ALTERNATING = str(FIXTURES / "scenarios" / "alternating.json")
ROOT = Path(__file__).resolve().parents[2]


def transcription(ws: WsRecorder) -> TranscriptionOptions:
    return TranscriptionOptions(
        transport_url=ws.url(),
        transport_type=StreamingTransportType.WEBSOCKET,
        locale="en-US",
        start_transcription=True,
        enable_intermediate_results=False,
    )


async def test_connect_joins_a_call_in_progress_with_transcription(
    make_emulator: Any, receiver: Receiver, ws_server: WsRecorder
) -> None:
    emu: Emulator = await make_emulator(hangup_after_script=False)
    status, made = await signed_request(emu, "POST", "/emulator/calls", {"scenario": ALTERNATING})
    assert status == 201
    server_call_id = made["serverCallId"]
    assert set(made) == {"serverCallId"}
    scenario = load_scenario(ALTERNATING)

    async with aio_client(emu, retry_total=0) as client:
        joined = await client.connect_call(
            receiver.url(),
            server_call_id=server_call_id,
            cognitive_services_endpoint=COGNITIVE,
            transcription=transcription(ws_server),
            operation_context="join",
        )
        leg = joined.call_connection_id
        assert joined.call_connection_state == "connecting"
        assert joined.targets == []
        connected = await receiver.wait_for("CallConnected", leg)
        assert connected.data["serverCallId"] == server_call_id
        assert connected.data["operationContext"] == "join"
        updated = await receiver.wait_for("ParticipantsUpdated", leg)
        on_call = {p["identifier"]["rawId"] for p in updated.data["participants"]}
        assert on_call == {p.raw_id for p in scenario.participants}
        await receiver.wait_for("TranscriptionStarted", leg)
        conn = await ws_server.wait_finals(1)
        assert conn.headers["x-ms-call-connection-id"] == leg

        call = client.get_call_connection(leg)
        props = await call.get_call_properties()
        assert (props.server_call_id, props.call_connection_state) == (server_call_id, "connected")
        with pytest.raises(HttpResponseError) as info:
            await call.update_transcription(locale="de-DE")
        r = row("update_not_supported_connect")
        assert (info.value.status_code, info.value.error.code) == (r.code, str(r.sub_code))

        # Leaving lets the call go on: a second connection joins the same call.
        await call.hang_up(False)
        await receiver.wait_for("CallDisconnected", leg)
        again = await client.connect_call(receiver.url(), server_call_id=server_call_id)
        await receiver.wait_for("CallConnected", again.call_connection_id)
        second = await receiver.wait_for("ParticipantsUpdated", again.call_connection_id)
        assert second.data["sequenceNumber"] > updated.data["sequenceNumber"]

        # Terminating ends it for everyone; it cannot be joined any more.
        await client.get_call_connection(again.call_connection_id).hang_up(True)
        ended = await receiver.wait_for("CallDisconnected", again.call_connection_id)
        assert ended.data["resultInformation"]["subCode"] == 7000
        with pytest.raises(HttpResponseError) as info:
            await client.connect_call(receiver.url(), server_call_id=server_call_id)
        assert (info.value.status_code, info.value.error.code) == (400, "8528")

    # The script plays on the call's clock, from before the application joined.
    assert len(receiver.of(leg, "TranscriptionStarted")) == 1


async def test_existing_calls_are_refused_when_unusable(emulator: Emulator) -> None:
    status, body = await signed_request(emulator, "POST", "/emulator/calls", {"scenario": "nope"})
    assert (status, body["error"]["code"]) == (400, "BadRequest")
    assert "nope" in body["error"]["message"]
    status, made = await signed_request(emulator, "POST", "/emulator/calls", {})
    assert status == 201
    status, body = await signed_request(
        emulator, "POST", "/emulator/calls", {"serverCallId": made["serverCallId"]}
    )
    assert status == 409


async def test_existing_call_at_start_from_the_command_line(
    tmp_path: Path, receiver: Receiver
) -> None:
    data_dir = tmp_path / "emu"
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.emulator.cli",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        "--speed",
        "20",
        "--existing-call",
        "aHR0cHM6Ly9leGFtcGxlL2V4aXN0aW5nLzE",
        "--existing-call",
        "aHR0cHM6Ly9leGFtcGxlL2V4aXN0aW5nLzI",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        async with asyncio.timeout(15):
            while not lines or "Press Ctrl+C" not in lines[-1]:
                line = (await proc.stdout.readline()).decode()
                assert line, f"the emulator ended early: {lines}"
                lines.append(line.rstrip("\n"))
        assert "Call in progress: serverCallId aHR0cHM6Ly9leGFtcGxlL2V4aXN0aW5nLzE" in lines
        info = json.loads((data_dir / "emulator.json").read_text())
        async with CallAutomationClient.from_connection_string(
            info["connection_string"], connection_verify=info["cert_path"], retry_total=0
        ) as client:
            joined = await client.connect_call(
                receiver.url(), server_call_id="aHR0cHM6Ly9leGFtcGxlL2V4aXN0aW5nLzI"
            )
            updated = await receiver.wait_for("ParticipantsUpdated", joined.call_connection_id)
            assert len(updated.data["participants"]) == 2  # the support-call scenario's people
            await client.get_call_connection(joined.call_connection_id).hang_up(False)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(proc.communicate(), 15)
    assert proc.returncode == 0, err.decode()
