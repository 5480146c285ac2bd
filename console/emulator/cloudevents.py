"""Callback events in the service's shape: CloudEvents 1.0 whose data carries the call ids."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

PREFIX = "Microsoft.Communication."


@dataclass(frozen=True)
class CallIds:
    call_connection_id: str
    server_call_id: str
    correlation_id: str


def result_information(code: int, sub_code: int, message: str) -> dict[str, Any]:
    return {"code": code, "subCode": sub_code, "message": message}


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def cloud_event(
    short_type: str,
    ids: CallIds,
    *,
    version: str,
    result: dict[str, Any] | None,
    operation_context: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One CloudEvent; ``operationContext`` only when the request had one (as the service does)."""
    event_type = PREFIX + short_type
    data: dict[str, Any] = {
        "callConnectionId": ids.call_connection_id,
        "serverCallId": ids.server_call_id,
        "correlationId": ids.correlation_id,
    }
    if operation_context is not None:
        data["operationContext"] = operation_context
    if result is not None:
        data["resultInformation"] = result
    data.update(extra)
    data["version"] = version
    data["publicEventType"] = event_type
    source = f"calling/callConnections/{ids.call_connection_id}"
    return {
        "id": str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "data": data,
        "time": now_iso(),
        "specversion": "1.0",
        "datacontenttype": "application/json",
        "subject": source,
    }
