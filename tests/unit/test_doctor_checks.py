"""The doctor's checks of the settings themselves (no network), and its two output forms."""

from __future__ import annotations

import json
from typing import Any

import pytest

from console.config import EventGridSecret, Profile
from console.doctor.checks import (
    check_access_key,
    check_callback_base,
    check_caller_id,
    check_cognitive_endpoint,
    check_connection_string,
    check_endpoint_tls,
    check_eventgrid_url,
    check_resource_id,
    check_websocket_base,
)
from console.doctor.report import render_json, render_text
from console.doctor.result import FAIL, PASS, WARN, CheckResult, DoctorReport
from console.doctor.target import DoctorTarget

KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHM="
CS = f"endpoint=https://contoso.communication.azure.com/;accesskey={KEY}"


def target(**profile: Any) -> DoctorTarget:
    values: dict[str, Any] = {"kind": "azure", "connection_string": CS, **profile}
    return DoctorTarget(Profile(**values), None, EventGridSecret("s" * 32, persistent=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "no connection string"),
        ("endpoint=https://x.communication.azure.com/", "no accesskey"),
        (f"accesskey={KEY}", "no endpoint"),
        (f"endpoint=http://x.communication.azure.com/;accesskey={KEY}", "not an https://"),
        ("endpoint=https://x.communication.azure.com/;accesskey=not base64!", "not base64"),
        ("just some text", "not a list of name=value pairs"),
    ],
)
async def test_a_bad_connection_string_fails_without_echoing_it(text: str, expected: str) -> None:
    found = await check_connection_string(target(connection_string=text))
    assert found.status == FAIL
    assert expected in found.detail
    assert found.fix
    if "base64" in text:
        assert "not base64!" not in found.detail + found.fix
    # The endpoint and key checks are not run on it.
    assert (await check_endpoint_tls(target(connection_string=text))).status == WARN
    assert (await check_access_key(target(connection_string=text))).status == WARN


async def test_a_good_connection_string_passes_naming_its_source() -> None:
    t = target()
    t.connection_source = "ACS_CONNECTION_STRING"
    found = await check_connection_string(t)
    assert found == CheckResult(
        "connection_string",
        PASS,
        "endpoint https://contoso.communication.azure.com/, access key present "
        "(from ACS_CONNECTION_STRING)",
    )
    assert KEY not in found.detail


async def test_a_keyring_problem_is_the_connection_string_detail() -> None:
    t = target(connection_string="")
    t.connection_problem = "The keyring could not be read (KeyringLocked); it may be locked."
    found = await check_connection_string(t)
    assert found.status == FAIL
    assert found.detail == t.connection_problem


@pytest.mark.parametrize(
    ("endpoint", "status", "words"),
    [
        ("https://contoso-speech.cognitiveservices.azure.com/", PASS, "custom-subdomain form"),
        ("https://contoso-speech.cognitiveservices.azure.com", PASS, "custom-subdomain form"),
        ("https://eastus.api.cognitive.microsoft.com/", FAIL, "regional endpoint"),
        ("https://westeurope.api.cognitive.microsoft.com", FAIL, "401/8565"),
        ("http://contoso.cognitiveservices.azure.com/", FAIL, "not an https://"),
        ("https://contoso.cognitiveservices.azure.com/sts/v1.0", FAIL, "has a path"),
        ("https://contoso.openai.azure.com/", WARN, "usual form"),
        ("", FAIL, "not set"),
    ],
)
async def test_the_cognitive_endpoint_must_be_a_custom_subdomain(
    endpoint: str, status: str, words: str
) -> None:
    found = await check_cognitive_endpoint(target(cognitive_services_endpoint=endpoint))
    assert found.status == status
    assert words in found.detail
    if status != PASS:
        assert "custom subdomain" in found.fix
        assert "Cognitive Services User" in found.fix


@pytest.mark.parametrize(
    ("caller", "status"),
    [("+14255550199", PASS), ("", WARN), ("14255550199", FAIL), ("+1 425 555 0199", FAIL)],
)
async def test_the_caller_id_is_e164(caller: str, status: str) -> None:
    assert (await check_caller_id(target(caller_id=caller or None))).status == status


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("5e3f0a4c-1d2b-4c6e-8f90-123456789abc", PASS),
        ("", FAIL),
        ("/subscriptions/x/resourceGroups/y/providers/Microsoft.Communication/z", FAIL),
    ],
)
async def test_the_resource_id_is_a_guid(value: str, status: str) -> None:
    found = await check_resource_id(target(audience=value))
    assert found.status == status
    if status == FAIL:
        assert "immutableResourceId" in found.fix


@pytest.mark.parametrize(
    ("base", "status", "words"),
    [
        ("https://abc-8080.euw.devtunnels.ms", PASS, "public https://"),
        ("http://127.0.0.1:8080", WARN, "only the emulator accepts it"),
        ("http://localhost:8080", WARN, "only the emulator accepts it"),
        ("http://abc-8080.euw.devtunnels.ms", FAIL, "ACS only uses https"),
        ("ftp://abc", FAIL, "not a https://"),
        ("https://host:notaport", FAIL, "not a URL"),
        ("", FAIL, "no public callback URL"),
    ],
)
async def test_the_callback_base_is_public_https(base: str, status: str, words: str) -> None:
    found = await check_callback_base(target(public_callback_base=base or None))
    assert found.status == status
    assert words in found.detail


async def test_the_websocket_base_is_public_wss() -> None:
    ok = await check_websocket_base(target(public_websocket_base="wss://abc-8081.devtunnels.ms"))
    assert ok.status == PASS
    loopback = await check_websocket_base(target(public_websocket_base="ws://127.0.0.1:8081"))
    assert loopback.status == WARN
    plain = await check_websocket_base(target(public_websocket_base="ws://abc.devtunnels.ms"))
    assert plain.status == FAIL


async def test_the_eventgrid_url_says_whether_it_outlives_the_session() -> None:
    t = target(public_callback_base="https://abc-8080.euw.devtunnels.ms")
    kept = await check_eventgrid_url(t)
    assert kept.status == PASS
    assert kept.detail.startswith(f"https://abc-8080.euw.devtunnels.ms/api/eventgrid/{'s' * 32} ")
    assert "same after a restart" in kept.detail
    t.eventgrid = EventGridSecret("t" * 32, persistent=False, note="No keyring: this session only.")
    session = await check_eventgrid_url(t)
    assert session.status == WARN
    assert "this session only" in session.detail
    assert (await check_eventgrid_url(target())).status == FAIL  # no base and no listener


def test_results_and_both_renderings() -> None:
    with pytest.raises(ValueError, match="unknown check"):
        CheckResult("tunnel", PASS, "")
    with pytest.raises(ValueError, match="no fix"):
        CheckResult("caller_id", PASS, "ok", "do this")
    report = DoctorReport(
        checks=(
            CheckResult("connection_string", PASS, "fine"),
            CheckResult("caller_id", WARN, "not set", "enter one"),
            CheckResult("access_key", FAIL, "refused", "copy it again"),
        ),
        callback_url="https://a/api/callbacks/x",
        websocket_url="wss://b/ws/transcription/x",
        eventgrid_url="https://a/api/eventgrid/y",
    )
    assert report.exit_code == 1
    assert render_text(report) == (
        "PASS connection_string: fine\n"
        "WARN caller_id: not set\n"
        "FAIL access_key: refused\n"
        "    fix: copy it again\n"
    )
    doc = json.loads(render_json(report))
    assert doc == {
        "checks": [
            {"check": "connection_string", "status": "PASS", "detail": "fine", "fix": ""},
            {"check": "caller_id", "status": "WARN", "detail": "not set", "fix": "enter one"},
            {"check": "access_key", "status": "FAIL", "detail": "refused", "fix": "copy it again"},
        ],
        "callback_url": "https://a/api/callbacks/x",
        "websocket_url": "wss://b/ws/transcription/x",
        "eventgrid_url": "https://a/api/eventgrid/y",
    }
    passing = DoctorReport(
        checks=report.checks[:2], callback_url="", websocket_url="", eventgrid_url=""
    )
    assert passing.exit_code == 0
