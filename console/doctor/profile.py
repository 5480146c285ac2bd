"""The profile ``acs-console doctor`` checks: Settings, overridden by its command line.

``--profile`` defaults to the profile chosen in Settings. For Azure the connection string comes
from ``--connection-string``, else ``ACS_CONNECTION_STRING``, else the keyring; an incomplete
profile is built all the same (the checks say what is missing). The local profile starts the
embedded emulator for as long as the checks run.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from console.config import (
    CONNECTION_STRING_ENV,
    Preferences,
    Profile,
    SecretStore,
    SecretStoreError,
    keyring_available,
)
from console.launch import local_profile


@dataclass(frozen=True, slots=True)
class ProfileChoice:
    """A profile to check, where its connection string came from, and why there is none."""

    profile: Profile
    connection_source: str = ""
    connection_problem: str = ""


def _arg(args: argparse.Namespace, name: str) -> object:
    return getattr(args, name, None)


def doctor_prefs(args: argparse.Namespace, prefs: Preferences) -> Preferences:
    """Settings with the command line's values put over them (Settings are not changed)."""
    out = copy.deepcopy(prefs)
    out.profile = str(_arg(args, "profile") or prefs.profile)
    for option, field_name in (
        ("cognitive_endpoint", "cognitive_services_endpoint"),
        ("caller_id", "caller_id"),
        ("resource_id", "acs_resource_id"),
        ("callback_base", "public_callback_base"),
        ("ws_base", "public_websocket_base"),
        ("listen_host", "listen_host"),
    ):
        value = _arg(args, option)
        if value is not None:
            setattr(out, field_name, str(value).strip())
    for option in ("callback_port", "ws_port"):
        value = _arg(args, option)
        if value is not None:
            setattr(out, option, int(value))  # type: ignore[call-overload]
    ca = _arg(args, "ca_cert")
    if ca is not None:
        out.ca_cert = str(Path(str(ca)).expanduser().resolve())
    return out


def connection_string(args: argparse.Namespace, secrets: SecretStore) -> tuple[str, str, str]:
    """(the connection string, where it came from, why there is none)."""
    given = str(_arg(args, "connection_string") or "").strip()
    if given:
        return given, "--connection-string", ""
    env = os.environ.get(CONNECTION_STRING_ENV, "").strip()
    if env:
        return env, CONNECTION_STRING_ENV, ""
    try:
        stored = secrets.get()
    except SecretStoreError as exc:
        return "", "", str(exc)
    if stored:
        return stored, "the system keyring", ""
    usable, why = keyring_available()
    problem = (
        "no connection string: none was given (--connection-string or "
        f"{CONNECTION_STRING_ENV}) and the system keyring holds none"
    )
    return "", "", f"{problem}. {why}" if not usable else problem


def azure_choice(
    args: argparse.Namespace, prefs: Preferences, secrets: SecretStore
) -> ProfileChoice:
    """The Azure profile to check (built even when incomplete)."""
    value, source, problem = connection_string(args, secrets)
    profile = Profile.azure_unchecked(doctor_prefs(args, prefs), value)
    profile.allow_non_loopback = bool(_arg(args, "allow_non_loopback"))
    return ProfileChoice(profile, source, problem)


@contextlib.asynccontextmanager
async def doctor_profile(
    args: argparse.Namespace, prefs: Preferences, secrets: SecretStore
) -> AsyncIterator[ProfileChoice]:
    """The profile ``acs-console doctor`` checks (the local one with its emulator running)."""
    chosen = doctor_prefs(args, prefs)
    listen = {
        "listen_host": chosen.listen_host,
        "callback_port": chosen.callback_port,
        "ws_port": chosen.ws_port,
        "allow_non_loopback": bool(_arg(args, "allow_non_loopback")),
    }
    if chosen.profile == "azure":
        yield azure_choice(args, prefs, secrets)
        return
    data_dir = Path(str(_arg(args, "data_dir")))
    speed = float(_arg(args, "speed") or 1.0)  # type: ignore[arg-type]
    scenario = _arg(args, "scenario")
    async with local_profile(
        data_dir, scenario=str(scenario) if scenario else None, speed=speed, **listen
    ) as profile:
        yield ProfileChoice(profile, "the embedded emulator")
