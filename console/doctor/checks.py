"""The doctor's checks: one small async function each, returning a :class:`CheckResult`.

They read a :class:`DoctorTarget` and never raise for what they find: every problem is a FAIL
(or WARN) with the detail and the fix in plain words. Secrets never appear in a detail or fix,
except the Event Grid URL the operator must copy into Azure.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import re
import ssl
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from azure.communication.callautomation.aio import CallAutomationClient

from console.acs.calls import CallServiceError, translate_error
from console.doctor.reach import (
    check_callback_reachable,
    check_websocket_reachable,
    classify_connect_error,
)
from console.doctor.result import (
    FAIL,
    CheckResult,
    DoctorReport,
    failed,
    passed,
    warned,
)
from console.doctor.target import DoctorTarget
from console.logs import register_connection_string

__all__ = [
    "check_access_key",
    "check_callback_base",
    "check_callback_reachable",
    "check_caller_id",
    "check_cognitive_endpoint",
    "check_connection_string",
    "check_endpoint_tls",
    "check_eventgrid_url",
    "check_resource_id",
    "check_websocket_base",
    "check_websocket_reachable",
    "run_checks",
]

_KEYS_FIX = (
    "Copy the connection string again from the Azure portal (your Communication Services "
    "resource > Keys) into Settings, or give it with --connection-string or "
    "ACS_CONNECTION_STRING."
)
_AI_FIX = (
    "Use a multi-service Azure AI services resource with a custom subdomain, connected to the "
    "ACS resource (Cognitive Services > connect) whose managed identity has the 'Cognitive "
    "Services User' role on it, and enter https://<name>.cognitiveservices.azure.com/."
)
_CUSTOM_SUBDOMAIN = re.compile(
    r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.cognitiveservices\.azure\.(?:com|us|cn)$"
)
_REGIONAL = re.compile(r"^[a-z0-9-]+\.api\.cognitive\.(?:microsoft\.com|azure\.cn|microsoft\.us)$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


# -- the connection string, its endpoint, its key ---------------------------------------------


def parse_connection_string(text: str) -> tuple[str, bytes]:
    """(endpoint, access key bytes); ValueError in words that never echo the key."""
    fields: dict[str, str] = {}
    for part in text.strip().split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError("it is not a list of name=value pairs separated by ';'")
        fields[name.strip().lower()] = value.strip()
    endpoint, key = fields.get("endpoint", ""), fields.get("accesskey", "")
    if not endpoint:
        raise ValueError("it has no endpoint=...")
    if not key:
        raise ValueError("it has no accesskey=...")
    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("its endpoint is not an https:// address")
    try:
        raw_key = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("its access key is not base64") from None
    if not raw_key:
        raise ValueError("its access key is empty")
    return endpoint, raw_key


def _endpoint(target: DoctorTarget) -> str | None:
    try:
        return parse_connection_string(target.profile.connection_string)[0]
    except ValueError:
        return None


async def check_connection_string(target: DoctorTarget) -> CheckResult:
    check = "connection_string"
    text = target.profile.connection_string
    if not text:
        return failed(
            check,
            target.connection_problem or "no connection string is set",
            "Enter it in Settings (kept in the system keyring), or give it with "
            "--connection-string or the ACS_CONNECTION_STRING environment variable.",
        )
    try:
        endpoint, _ = parse_connection_string(text)
    except ValueError as exc:
        return failed(check, f"the connection string is not usable: {exc}", _KEYS_FIX)
    source = f" (from {target.connection_source})" if target.connection_source else ""
    return passed(check, f"endpoint {endpoint}, access key present{source}")


@dataclass(frozen=True, slots=True)
class SignedAnswer:
    """How the endpoint answered one signed request: an HTTP status, or why nothing came."""

    status: int | None
    error: CallServiceError | None = None
    cause: BaseException | None = None


def _root_cause(exc: BaseException) -> BaseException:
    """The transport error under azure-core's wrappers (TLS, DNS, refused, timeout)."""
    seen: set[int] = set()
    while id(exc) not in seen:
        seen.add(id(exc))
        inner = getattr(exc, "inner_exception", None) or exc.__cause__
        if not isinstance(inner, BaseException):
            break
        exc = inner
    return exc


async def signed_request(target: DoctorTarget) -> SignedAnswer:
    """One signed, harmless request through the SDK, as the console makes them: read a call
    that cannot exist (a fresh random id). Made once per target; both the TLS and the access
    key check read its outcome."""
    cached = target.cache.get("signed_request")
    if cached is None:
        cached = target.cache["signed_request"] = asyncio.ensure_future(_signed(target))
    return await asyncio.shield(cached)


async def _signed(target: DoctorTarget) -> SignedAnswer:
    register_connection_string(target.profile.connection_string)  # kept out of any log line
    try:
        client = CallAutomationClient.from_connection_string(
            target.profile.connection_string,
            connection_verify=target.profile.connection_verify,
            retry_total=0,
            connection_timeout=target.timeout,
            read_timeout=target.timeout,
        )
        async with client:
            await client.get_call_connection(str(uuid.uuid4())).get_call_properties()
    except Exception as exc:
        error = translate_error(exc, "")
        return SignedAnswer(error.status, error, _root_cause(exc))
    return SignedAnswer(200)


async def check_endpoint_tls(target: DoctorTarget) -> CheckResult:
    check = "endpoint_tls"
    endpoint = _endpoint(target)
    if endpoint is None:
        return warned(check, "not checked: the connection string is not usable")
    host = urlsplit(endpoint).netloc
    if target.ca_file is not None:
        try:
            ssl.create_default_context(cafile=target.ca_file)
        except (OSError, ssl.SSLError) as exc:
            return failed(
                check,
                f"the CA certificate {target.ca_file} cannot be used ({exc})",
                "Give a readable PEM file with --ca-cert (Settings: Trusted CA certificate).",
            )
    answer = await signed_request(target)
    if answer.status is not None:
        return passed(
            check, f"{host} answers over TLS with a trusted certificate (HTTP {answer.status})"
        )
    reason = classify_connect_error(answer.cause) if answer.cause is not None else None
    if reason is not None and reason.error == "tls":
        return failed(
            check,
            f"{host} does not present a certificate this machine trusts ({reason.error_text})",
            "Behind a TLS-inspecting proxy, give the proxy's CA certificate with --ca-cert "
            "(Settings: Trusted CA certificate); for the emulator, its certificate (cert_path "
            "in emulator.json).",
        )
    if reason is not None and reason.error == "dns":
        return failed(
            check,
            f"{host} does not resolve",
            f"Check the endpoint in the connection string. {_KEYS_FIX}",
        )
    if (reason is not None and reason.error == "timeout") or (
        answer.error is not None and answer.error.kind == "timeout"
    ):
        return failed(
            check,
            f"{host} did not answer within {target.timeout:.0f} s",
            "Check the network (a proxy or firewall) and try again.",
        )
    text = reason.error_text if reason is not None and reason.error_text else ""
    return failed(
        check,
        f"cannot connect to {host} ({text or (answer.error.message if answer.error else '?')})",
        "Check the network (a proxy or firewall), or that the emulator is running.",
    )


async def check_access_key(target: DoctorTarget) -> CheckResult:
    """404 for the call that cannot exist means the service took the signature (the key is
    right); 401 means it did not."""
    check = "access_key"
    if _endpoint(target) is None:
        return warned(check, "not checked: the connection string is not usable")
    answer = await signed_request(target)
    status = answer.status
    if status is None:
        return warned(check, "not checked: the endpoint did not answer (see endpoint_tls)")
    if status in (401, 403):
        return failed(
            check,
            f"the service refused the access key (HTTP {status}): the key is wrong or was rotated",
            _KEYS_FIX,
        )
    return passed(
        check,
        f"the service accepted a signed request (HTTP {status} for a call id that cannot "
        "exist, as expected)",
    )


# -- the resource's other settings ------------------------------------------------------------


async def check_cognitive_endpoint(target: DoctorTarget) -> CheckResult:
    check = "cognitive_endpoint"
    url = (target.profile.cognitive_services_endpoint or "").strip()
    if not url:
        return failed(check, "not set: ACS needs it to transcribe", _AI_FIX)
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return failed(check, f"{url} is not a URL", _AI_FIX)
    if parts.scheme != "https" or not host:
        return failed(check, f"{url} is not an https:// address", _AI_FIX)
    if _REGIONAL.match(host):
        return failed(
            check,
            f"{url} is a regional endpoint; ACS needs the resource's custom subdomain "
            "(without it transcription fails with 401/8565)",
            _AI_FIX,
        )
    if parts.path not in ("", "/") or parts.query:
        return failed(check, f"{url} has a path; give the resource's endpoint only", _AI_FIX)
    if not _CUSTOM_SUBDOMAIN.match(host):
        return warned(
            check,
            f"{url} does not have the usual form https://<name>.cognitiveservices.azure.com/",
            _AI_FIX,
        )
    return passed(
        check,
        f"{url} has the custom-subdomain form (the managed-identity role cannot be checked "
        "from here: a missing 'Cognitive Services User' role shows as 401/8565)",
    )


async def check_caller_id(target: DoctorTarget) -> CheckResult:
    check = "caller_id"
    caller = (target.profile.caller_id or "").strip()
    if not caller:
        return warned(
            check,
            "not set: phone numbers cannot be called (ACS and Teams users can)",
            "Enter a phone number the ACS resource owns, in +E.164 form (+14255550199).",
        )
    if not _E164.match(caller):
        return failed(
            check,
            f"{caller!r} is not a +E.164 number",
            "Enter the number as + and country code and digits, no spaces: +14255550199.",
        )
    return passed(check, f"{caller} is a +E.164 number")


async def check_resource_id(target: DoctorTarget) -> CheckResult:
    check = "resource_id"
    fix = (
        "Copy the immutable resource id (a GUID) from the Azure portal: your Communication "
        "Services resource > JSON View > immutableResourceId."
    )
    value = (target.profile.audience or "").strip()
    if not value:
        return failed(check, "not set: the tokens ACS signs cannot be checked", fix)
    if not _GUID.match(value):
        return failed(check, f"{value!r} is not a GUID", fix)
    return passed(check, f"{value} is a GUID")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_base(check: str, base: str, secure: str, plain: str, what: str) -> CheckResult:
    fix = (
        f"Forward the {what} port with an anonymous dev tunnel and enter its {secure}:// "
        "address in Settings (see the README: Using a real ACS resource)."
    )
    if not base:
        return failed(check, f"no public {what} URL is set: Azure cannot reach this console", fix)
    try:
        parts = urlsplit(base)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return failed(check, f"{base} is not a URL", fix)
    if not host or parts.scheme not in (secure, plain):
        return failed(check, f"{base} is not a {secure}:// address", fix)
    if _is_loopback(host):
        return warned(
            check,
            f"{base} is on this machine: only the emulator accepts it, Azure cannot reach it",
            fix,
        )
    if parts.scheme != secure:
        return failed(check, f"{base} is not {secure}://: ACS only uses {secure}", fix)
    return passed(check, f"{base} is a public {secure}:// address")


async def check_callback_base(target: DoctorTarget) -> CheckResult:
    return _check_base(
        "callback_base", target.profile.public_callback_base or "", "https", "http", "callback"
    )


async def check_websocket_base(target: DoctorTarget) -> CheckResult:
    return _check_base(
        "websocket_base", target.profile.public_websocket_base or "", "wss", "ws", "WebSocket"
    )


async def check_eventgrid_url(target: DoctorTarget) -> CheckResult:
    check = "eventgrid_url"
    url = target.eventgrid_url
    if not url:
        return failed(
            check,
            "there is no Event Grid URL: the console's listeners are not running",
            "Fix the listener problem reported above.",
        )
    if not target.is_azure:
        return passed(check, f"{url} (the embedded emulator is given this URL at each start)")
    subscribe = (
        "Subscribe the ACS resource's IncomingCall event (Event Grid, webhook, either schema) "
        "to this URL."
    )
    if not target.profile.public_callback_base:
        return warned(
            check, f"{url} is local: set the public callback URL to get the public one", subscribe
        )
    if not target.eventgrid.persistent:
        return warned(check, f"{url} ({target.eventgrid.note})", subscribe)
    return passed(
        check, f"{url} (its secret is kept in the system keyring: the same after a restart)"
    )


# -- all of them ------------------------------------------------------------------------------


async def _service_checks(target: DoctorTarget) -> list[CheckResult]:
    connection = await check_connection_string(target)
    if connection.status == FAIL:
        skipped = "not checked: the connection string is not usable"
        return [connection, warned("endpoint_tls", skipped), warned("access_key", skipped)]
    tls = await check_endpoint_tls(target)
    if tls.status == FAIL:
        return [connection, tls, warned("access_key", "not checked: the endpoint is not usable")]
    return [connection, tls, await check_access_key(target)]


async def run_checks(target: DoctorTarget) -> DoctorReport:
    """Every check that applies to the target's profile, in the documented order."""
    service, callback, websocket = await asyncio.gather(
        _service_checks(target),
        check_callback_reachable(target),
        check_websocket_reachable(target),
    )
    results = [
        *service,
        await check_cognitive_endpoint(target),
        await check_caller_id(target),
        await check_resource_id(target),
    ]
    if target.is_azure:  # the local profile has no public bases: the emulator is on loopback
        results += [await check_callback_base(target), await check_websocket_base(target)]
    results += [callback, websocket, await check_eventgrid_url(target)]
    return DoctorReport(
        checks=tuple(results),
        callback_url=target.callback_url,
        websocket_url=target.websocket_url,
        eventgrid_url=target.eventgrid_url,
    )
