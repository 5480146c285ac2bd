"""The doctor inside a running console, for the Settings dialog's **Test connection**.

The same checks as ``acs-console doctor``, on the values the form holds now, probing the
running console's own listeners (nothing else is started). Also the Event Grid URL the dialog
shows, and its rotation. The main window hands the dialog ``LiveDoctor(runtime, secrets)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.config import (
    EventGridSecret,
    EventGridSecretStore,
    Preferences,
    Profile,
    SecretStore,
    SecretStoreError,
)
from console.doctor.checks import run_checks
from console.doctor.result import DoctorReport, warned
from console.doctor.target import DoctorTarget
from console.listener.callbacks import EVENTGRID_PATH
from console.logs import register_secret
from console.runtime import ConsoleRuntime


@dataclass(frozen=True, slots=True)
class EventGridView:
    """The Event Grid URL to subscribe to ("" until there is a public callback base)."""

    url: str
    persistent: bool
    note: str  # why it is for this session only ("" when kept in the keyring)


class LiveDoctor:
    def __init__(self, runtime: ConsoleRuntime, secrets: SecretStore) -> None:
        self._runtime = runtime
        self._secrets = secrets
        self._stored: EventGridSecret | None = None  # read once: the keyring may be slow

    def _eventgrid_secret(self) -> EventGridSecret:
        rt = self._runtime
        # A console on the Azure profile serves the kept secret already; on the local profile
        # the Azure one is read (or created) for the day the profile is switched.
        if rt.profile.kind == "azure":
            return rt.eventgrid_secret
        if self._stored is None:
            self._stored = EventGridSecretStore(rt.data_dir).load()
            register_secret(self._stored.value)
        return self._stored

    def eventgrid(self, public_callback_base: str) -> EventGridView:
        """The Azure profile's Event Grid URL on ``public_callback_base``."""
        secret = self._eventgrid_secret()
        base = public_callback_base.strip().rstrip("/")
        url = f"{base}{EVENTGRID_PATH}/{secret.value}" if base else ""
        return EventGridView(url, secret.persistent, secret.note)

    def rotate_eventgrid(self, public_callback_base: str) -> EventGridView:
        """A new Event Grid URL (the old one is refused from now on where it is served)."""
        rt = self._runtime
        if rt.profile.kind == "azure":
            rt.rotate_eventgrid_secret()
        else:
            self._stored = EventGridSecretStore(rt.data_dir).rotate()
            register_secret(self._stored.value)
        return self.eventgrid(public_callback_base)

    async def run(self, prefs: Preferences, connection_string: str | None = None) -> DoctorReport:
        """Check ``prefs`` (the form's values; ``connection_string`` as typed, else the stored
        one) against this console's running listeners."""
        rt = self._runtime
        if prefs.profile != "azure":
            if rt.profile.kind != "local":
                return _restart_first(
                    "the local emulator starts with the console: save, restart and test again"
                )
            target = DoctorTarget(
                rt.profile, rt, rt.eventgrid_secret, connection_source="the embedded emulator"
            )
            return await run_checks(target)
        source, problem = "", ""
        value = (connection_string or "").strip()
        if value:
            source = "the Settings form"
        else:
            try:
                value = self._secrets.get() or ""
            except SecretStoreError as exc:
                problem = str(exc)
            source = "the system keyring" if value else ""
        target = DoctorTarget(
            Profile.azure_unchecked(prefs, value),
            rt,
            self._eventgrid_secret(),
            connection_source=source,
            connection_problem=problem,
        )
        return await run_checks(target)


def _restart_first(detail: str) -> DoctorReport:
    return DoctorReport(
        checks=(warned("connection_string", detail),),
        callback_url="",
        websocket_url="",
        eventgrid_url="",
    )
