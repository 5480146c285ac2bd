"""Incoming calls: the Event Grid ``IncomingCall`` delivery and the contexts answer_call takes.

Ringing delivers, like Event Grid, to the configured webhook in the subscription's schema:

- ``eventgrid`` (the Event Grid schema): a JSON array of EventGridEvent objects; first (once per
  webhook URL) a subscription-validation event with ``aeg-event-type: SubscriptionValidation``
  that must be answered 200 with ``{"validationResponse": code}``, then the
  ``Microsoft.Communication.IncomingCall`` notification (``aeg-event-type: Notification``).
- ``cloudevents`` (CloudEvents 1.0): first (once per webhook URL) the abuse-protection handshake,
  an ``OPTIONS`` request with ``WebHook-Request-Origin: eventgrid.azure.net`` that must be
  answered 200 with ``WebHook-Allowed-Origin`` (that origin or ``*``), then the IncomingCall as
  one CloudEvent (``application/cloudevents+json``) or, batched, as an array of them
  (``application/cloudevents-batch+json``).

The ``incomingCallContext`` is an opaque token only this emulator instance recognises; it is good
for one answer/reject/redirect while the call rings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp

from console.emulator.config import EVENTGRID_SCHEMAS
from console.emulator.identifiers import identifier_model
from console.emulator.service_error import ServiceError
from console.emulator.urls import may_contact

log = logging.getLogger(__name__)

RING_SECONDS = 120.0  # wall seconds an unanswered incoming call stays answerable
DEFAULT_CALLEE = "4:+18005550100"  # the number the emulated resource "owns"
TOPIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/emulator/providers/"
    "Microsoft.Communication/communicationServices/acs-emulator"
)
_ATTEMPTS = (0.0, 0.5, 1.0)
SCHEMAS = EVENTGRID_SCHEMAS
EVENTGRID_ORIGIN = "eventgrid.azure.net"  # what Event Grid sends as WebHook-Request-Origin


class RingError(Exception):
    """The webhook could not be reached or did not complete the validation handshake."""


@dataclass(frozen=True)
class Ringing:
    caller: str
    callee: str
    caller_display_name: str
    server_call_id: str
    correlation_id: str
    context: str
    expires: float


def check_schema(schema: str) -> str:
    """The delivery schema, or ServiceError naming the ones there are."""
    if schema not in SCHEMAS:
        raise ServiceError(
            400, "BadRequest", f"Unknown Event Grid schema {schema!r}: use one of {SCHEMAS}."
        )
    return schema


class IncomingCalls:
    def __init__(self, webhook_url: str | None, *, schema: str = "eventgrid") -> None:
        self.webhook_url = webhook_url
        self.schema = check_schema(schema)
        self._ringing: dict[str, Ringing] = {}
        self._validated: set[tuple[str, str]] = set()  # (schema, webhook URL)

    def take(self, context: str) -> Ringing:
        """The ringing call for an answer/reject/redirect; it can be taken only once."""
        now = time.monotonic()
        for key in [k for k, r in self._ringing.items() if r.expires < now]:
            del self._ringing[key]
        ringing = self._ringing.pop(context, None)
        if ringing is None:
            raise ServiceError(400, "BadRequest", "The IncomingCallContext is invalid or expired.")
        return ringing

    async def ring(
        self,
        caller: str,
        *,
        callee: str | None = None,
        caller_display_name: str | None = None,
        webhook_url: str | None = None,
        server_call_id: str,
        schema: str | None = None,
        batch: bool = False,
    ) -> dict[str, Any]:
        """Deliver an IncomingCall in ``schema`` (the configured one by default; ``batch``: as
        a one-element CloudEvents batch); returns the event as posted (Event Grid schema).
        Raises RingError."""
        schema = check_schema(schema or self.schema)
        url = webhook_url or self.webhook_url
        if not url:
            raise RingError("no Event Grid webhook URL is configured")
        if not may_contact(url):
            raise RingError("the emulator only delivers to loopback webhook URLs")
        callee = callee or DEFAULT_CALLEE
        ringing = Ringing(
            caller=caller,
            callee=callee,
            caller_display_name=caller_display_name or "",
            server_call_id=server_call_id,
            correlation_id=str(uuid.uuid4()),
            context=secrets.token_urlsafe(48),
            expires=time.monotonic() + RING_SECONDS,
        )
        data: dict[str, Any] = {
            "to": identifier_model(callee),
            "from": identifier_model(caller),
            "callerDisplayName": ringing.caller_display_name,
            "serverCallId": ringing.server_call_id,
            "incomingCallContext": ringing.context,
            "correlationId": ringing.correlation_id,
        }
        subject = f"/caller/{caller}/recipient/{callee}"
        event = _event("Microsoft.Communication.IncomingCall", data, subject)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            if (schema, url) not in self._validated:
                if schema == "cloudevents":
                    await _handshake(session, url)
                else:
                    await self._validate(session, url)
                self._validated.add((schema, url))
            # Answerable from the moment it is delivered (the handler may answer before replying).
            self._ringing[ringing.context] = ringing
            try:
                if schema == "cloudevents":
                    await _post_cloud_events(session, url, _cloud_event(event), batch=batch)
                else:
                    await _post(session, url, [event], "Notification")
            except RingError:
                self._ringing.pop(ringing.context, None)
                raise
        return event

    async def _validate(self, session: aiohttp.ClientSession, url: str) -> None:
        code = str(uuid.uuid4()).upper()
        event = _event(
            "Microsoft.EventGrid.SubscriptionValidationEvent",
            {"validationCode": code, "validationUrl": url},
            "",
            data_version="2",
        )
        body = await _post(session, url, [event], "SubscriptionValidation")
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or answer.get("validationResponse") != code:
            raise RingError("the webhook did not echo the validation code")


def _event(event_type: str, data: dict[str, Any], subject: str, *, data_version: str = "1.0"):
    return {
        "id": str(uuid.uuid4()),
        "topic": TOPIC,
        "subject": subject,
        "data": data,
        "eventType": event_type,
        "eventTime": dt.datetime.now(dt.UTC).isoformat(),
        "metadataVersion": "1",
        "dataVersion": data_version,
    }


def _cloud_event(event: dict[str, Any]) -> dict[str, Any]:
    """The same event in the CloudEvents 1.0 schema, as Event Grid delivers it there."""
    return {
        "specversion": "1.0",
        "id": event["id"],
        "source": event["topic"],
        "subject": event["subject"],
        "type": event["eventType"],
        "time": event["eventTime"],
        "datacontenttype": "application/json",
        "data": event["data"],
    }


async def _handshake(session: aiohttp.ClientSession, url: str) -> None:
    """CloudEvents 1.0 abuse protection: ask the webhook whether it takes deliveries."""
    headers = {"WebHook-Request-Origin": EVENTGRID_ORIGIN, "WebHook-Request-Rate": "120"}
    problem = ""
    for delay in _ATTEMPTS:
        await asyncio.sleep(delay)
        try:
            async with session.options(url, headers=headers) as resp:
                await resp.read()
                allowed = resp.headers.getall("WebHook-Allowed-Origin", [])
                if resp.status == 200 and any(
                    value.strip() in (EVENTGRID_ORIGIN, "*") for value in allowed
                ):
                    return
                if resp.status == 200:
                    raise RingError(
                        "the webhook did not allow the origin in its CloudEvents handshake"
                    )
                problem = f"HTTP {resp.status}"
                if 400 <= resp.status < 500 and resp.status not in (408, 429):
                    break
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            problem = str(exc) or exc.__class__.__name__
    raise RingError(f"CloudEvents handshake failed: {problem}")


async def _post_cloud_events(
    session: aiohttp.ClientSession, url: str, event: dict[str, Any], *, batch: bool
) -> None:
    content_type = "application/cloudevents-batch+json" if batch else "application/cloudevents+json"
    body = json.dumps([event] if batch else event)
    await _post(session, url, body, "Notification", content_type=content_type)


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    events: list[dict[str, Any]] | str,
    kind: str,
    *,
    content_type: str = "application/json",
) -> bytes:
    headers = {"Content-Type": f"{content_type}; charset=utf-8", "aeg-event-type": kind}
    body = events if isinstance(events, str) else json.dumps(events)
    problem = ""
    for delay in _ATTEMPTS:
        await asyncio.sleep(delay)
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                body = await resp.read()
                if resp.status == 200 or (kind == "Notification" and 200 <= resp.status < 300):
                    return body
                problem = f"HTTP {resp.status}"
                if 400 <= resp.status < 500 and resp.status not in (408, 429):
                    break
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            problem = str(exc) or exc.__class__.__name__
    raise RingError(f"{kind} delivery failed: {problem}")
