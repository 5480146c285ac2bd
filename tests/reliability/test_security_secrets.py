"""No access key, connection string, JWT or HMAC signature in any file or log line.

A real headless call runs with DEBUG logging (``-v``) against the embedded emulator, whose
connection string has the same shape as Azure's; then every file under the data dir and every
line on stdout/stderr is searched. Two files are the emulator's own secret store and are meant
to hold the key: ``identity.json`` (access key and audience) and ``emulator.json`` (the standalone
emulator's connection string for the developer; a headless run does not write it).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from reliability_kit import console_env

from console.acs.calls import CallService, CallServiceError, CallServiceOptions
from console.config import Preferences, SecretStore
from console.emulator.server import Emulator
from console.logs import install_redaction
from console.transcript.export import export, load_json

# The emulator's own secret store: where the access key is supposed to be.
EMULATOR_SECRET_FILES = {"identity.json", "emulator.json"}
JWT = re.compile(rb"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.")
UNREDACTED = re.compile(
    rb"(?i)(signature=(?!<redacted>)[A-Za-z0-9+/%=]{16,}|bearer (?!<redacted>)[\w.~+/=-]{20,})"
)
AZURE_CS = (
    "endpoint=https://contoso.communication.azure.com/;accesskey=QXp1cmUta2V5LWZvci10ZXN0cw=="
)


def forms(secret: str) -> list[bytes]:
    """The ways a secret could be written: as is, URL-encoded, JSON-escaped."""
    return [secret.encode(), quote(secret, safe="").encode(), json.dumps(secret)[1:-1].encode()]


def leaks(blob: bytes, secrets: list[str]) -> list[str]:
    found = [s for s in secrets for form in forms(s) if form in blob]
    if JWT.search(blob):
        found.append("a JWT")
    if UNREDACTED.search(blob):
        found.append("an unredacted Authorization value")
    return found


def test_a_whole_call_leaves_no_secret_in_any_file_or_log_line(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    # The operator set up the Azure profile too: its connection string lives in the keyring.
    prefs = Preferences(profile="local", acs_resource_id="5e3f0a4c-1d2b-4c6e-8f90-123456789abc")
    store = SecretStore()
    store.set(AZURE_CS)
    try:
        prefs.save(data)
    finally:
        store.delete()

    out = tmp_path / "exports" / "call.json"
    out.parent.mkdir()
    proc = subprocess.run(
        [
            sys.executable, "-m", "console", "-v", "run", "--target", "+15550100",
            "--scenario", "multilingual", "--switch-locale", "es-ES@15s", "--duration", "40",
            "--speed", "20", "--out", str(out), "--data-dir", str(data),
        ],
        capture_output=True, timeout=60, check=False, env=console_env(),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")
    logs = proc.stdout + proc.stderr
    assert b"DEBUG" in logs
    # Request headers were logged (and redacted), so the check below saw real header dumps.
    assert b"Bearer <redacted>" in logs

    key = json.loads((data / "emulator" / "identity.json").read_text("utf-8"))["access_key"]
    endpoint = re.search(rb"ACS emulator listening on (https://\S+)", logs)
    assert endpoint is not None
    emulator_cs = f"endpoint={endpoint.group(1).decode()}/;accesskey={key}"
    secrets = [emulator_cs, key, AZURE_CS, AZURE_CS.split("accesskey=")[1]]
    assert base64.b64decode(key)  # the real thing, not an empty placeholder

    # The console's other export formats, written by the console's own code.
    transcript = load_json(out)
    for fmt in ("txt", "vtt", "srt", "csv"):
        export(transcript, out.with_suffix(f".{fmt}"))

    scanned = []
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        if path.name in EMULATOR_SECRET_FILES:
            continue
        scanned.append(path.relative_to(tmp_path).as_posix())
        assert leaks(path.read_bytes(), secrets) == [], path
    assert "data/settings.json" in scanned
    assert any(name.startswith("data/journals/") for name in scanned)
    assert {f"exports/call.{f}" for f in ("json", "txt", "vtt", "srt", "csv")} <= set(scanned)
    for line in logs.splitlines():
        assert leaks(line, secrets) == [], line


@pytest.fixture
def redacted_root() -> Iterator[list[str]]:
    """Root logging at DEBUG into a list, with the console's redaction installed."""
    factory = logging.getLogRecordFactory()
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect(logging.DEBUG)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    install_redaction()
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        logging.setLogRecordFactory(factory)


async def test_the_sdks_own_header_trace_cannot_leak_the_signature_or_key(
    make_emulator: Callable[..., Awaitable[Emulator]], redacted_root: list[str]
) -> None:
    emu = await make_emulator()
    # logging_enable: azure-core's network trace prints every request header at DEBUG.
    options = CallServiceOptions(connection_verify=str(emu.cert_path), retry_total=0)
    options.extra["logging_enable"] = True
    async with CallService(emu.connection_string, options) as calls:
        with pytest.raises(CallServiceError):
            await calls.get_call("no-such-call")
        await asyncio.sleep(0)
    text = "\n".join(redacted_root).encode()
    assert b"SignedHeaders=" in text  # the HMAC Authorization header was traced ...
    assert b"Signature=<redacted>" in text  # ... with its signature hidden
    assert leaks(text, [emu.connection_string, emu.access_key]) == []
