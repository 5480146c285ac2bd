"""This console's listeners, started for the CLI doctor on the profile's ports."""

from __future__ import annotations

import base64
import contextlib
import copy
from collections.abc import AsyncIterator
from pathlib import Path

from console.config import EventGridSecret, EventGridSecretStore
from console.doctor.checks import parse_connection_string
from console.doctor.profile import ProfileChoice
from console.doctor.target import DoctorTarget
from console.listener.common import ListenerError
from console.runtime import ConsoleRuntime

# Stand-ins that let the listeners start for an incomplete profile (the checks report what is
# missing; nothing is ever sent with them).
_UNUSABLE_CONNECTION = "endpoint=https://connection-string-unusable.invalid/;accesskey=" + (
    base64.b64encode(bytes(32)).decode("ascii")
)
_NO_AUDIENCE = "00000000-0000-0000-0000-000000000000"


@contextlib.asynccontextmanager
async def listening_target(choice: ProfileChoice, data_dir: Path) -> AsyncIterator[DoctorTarget]:
    """Start a ConsoleRuntime's listeners for the duration of the checks.

    A listener that cannot start (a busy port) does not stop the others: its reachability
    check FAILs with the reason.
    """
    profile = choice.profile
    runtime_profile = copy.copy(profile)
    try:
        parse_connection_string(profile.connection_string)
    except ValueError:
        runtime_profile.connection_string = _UNUSABLE_CONNECTION
    runtime_profile.audience = profile.audience or _NO_AUDIENCE
    target = DoctorTarget(
        profile,
        None,
        EventGridSecret("", persistent=False),
        connection_source=choice.connection_source,
        connection_problem=choice.connection_problem,
    )
    try:
        runtime = ConsoleRuntime(runtime_profile, data_dir=data_dir)
    except ListenerError as exc:  # a bind address that is refused outright
        target.callback_error = target.websocket_error = str(exc)
        if profile.kind == "azure":
            target.eventgrid = EventGridSecretStore(data_dir).load()
        yield target
        return
    target.runtime = runtime
    target.eventgrid = runtime.eventgrid_secret
    try:
        try:
            await runtime.callbacks.start()
        except ListenerError as exc:
            target.callback_error = str(exc)
        try:
            await runtime.transcripts.start()
        except ListenerError as exc:
            target.websocket_error = str(exc)
        yield target
    finally:
        await runtime.transcripts.stop()
        await runtime.callbacks.stop()
        await runtime.stop()
