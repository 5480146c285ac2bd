"""The composition root: builds the profile and the runtime that the window, ``run``,
``--self-test`` and ``doctor`` all use. No Qt.

The embedded emulator is imported only when the local profile starts it, so an Azure console
never loads it.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from console.acs.intelligence import IntelligenceSettings
from console.config import CONNECTION_STRING_ENV, Preferences, Profile, SecretStore
from console.privacy import journal_options, start_retention, stop_task
from console.runtime import ConsoleRuntime
from console.transcript.alerts import AlertRuleError, AlertRules

log = logging.getLogger(__name__)


class EmulatorStartError(ValueError):
    """The embedded emulator cannot start with what it was given (a scenario, an ``--audio``
    file); the message names the problem."""


def listen_options(args: argparse.Namespace, prefs: Preferences) -> dict[str, Any]:
    """Where the listeners bind: the command line's choice, else the Settings'."""
    port = getattr(args, "callback_port", None)
    ws_port = getattr(args, "ws_port", None)
    return {
        "listen_host": getattr(args, "listen_host", None) or prefs.listen_host,
        "callback_port": port if port is not None else prefs.callback_port,
        "ws_port": ws_port if ws_port is not None else prefs.ws_port,
        "allow_non_loopback": bool(getattr(args, "allow_non_loopback", False)),
    }


def intelligence_from(prefs: Preferences) -> IntelligenceSettings:
    """The call intelligence set in Settings (unusable languages: detection off, logged)."""
    settings = IntelligenceSettings(
        tuple(x for x in prefs.detect_languages if isinstance(x, str)),
        prefs.sentiment_analysis,
        prefs.service_redaction,
    )
    try:
        return settings.checked()
    except ValueError as exc:
        log.warning("language detection in the settings is off: %s", exc)
        return IntelligenceSettings((), prefs.sentiment_analysis, prefs.service_redaction)


def alert_rules_from(prefs: Preferences) -> AlertRules:
    """The alert rules set in Settings (unusable ones: the defaults, logged)."""
    rules = AlertRules(
        tuple(x for x in prefs.alert_phrases if isinstance(x, str)), prefs.negative_streak
    )
    try:
        return rules.checked()
    except AlertRuleError as exc:
        log.warning("the alert rules in the settings cannot be used (%s); using the defaults", exc)
        return AlertRules()


def profile_kind(args: argparse.Namespace, prefs: Preferences) -> str:
    """``--profile`` if given, else the profile chosen in Settings."""
    return getattr(args, "profile", None) or prefs.profile


def use_connection_string_from_env(secrets: SecretStore) -> bool:
    """``ACS_CONNECTION_STRING``, when set, for this run only (never stored)."""
    value = os.environ.get(CONNECTION_STRING_ENV, "").strip()
    if value:
        secrets.set(value, session_only=True)
    return bool(value)


def azure_profile(prefs: Preferences, secrets: SecretStore, listen: dict[str, Any]) -> Profile:
    """The Azure profile from Settings and the secret store (raises ConfigError)."""
    profile = Profile.azure(prefs, secrets)
    for key, value in listen.items():
        setattr(profile, key, value)
    return profile


@contextlib.asynccontextmanager
async def local_profile(
    data_dir: Path,
    *,
    scenario: str | None,
    speed: float,
    audio: Sequence[tuple[str, Path]] = (),
    existing_calls: Sequence[str] = (),
    **listen: Any,
) -> AsyncIterator[Profile]:
    """Start the embedded emulator and yield the profile that reaches it (with calls already
    in progress to join, when asked)."""
    from console.emulator.scenario import ScenarioError
    from console.emulator.server import Emulator, EmulatorConfig

    cfg = EmulatorConfig(
        data_dir=data_dir / "emulator",
        speed=speed,
        audio=tuple(audio),
        existing_calls=tuple(existing_calls),
    )
    if scenario:
        cfg.scenario = scenario
    emu = Emulator(cfg)
    try:
        await emu.start()
    except ScenarioError as exc:
        raise EmulatorStartError(str(exc)) from exc
    try:
        yield Profile.local(emu.info(), speed=speed, **listen)
    finally:
        await emu.stop()


@contextlib.asynccontextmanager
async def open_profile(
    args: argparse.Namespace, prefs: Preferences, secrets: SecretStore
) -> AsyncIterator[Profile]:
    """The chosen profile; for "local" the embedded emulator runs while it is open."""
    listen = listen_options(args, prefs)
    if profile_kind(args, prefs) == "azure":
        yield azure_profile(prefs, secrets, listen)
        return
    async with local_profile(
        Path(args.data_dir),
        scenario=getattr(args, "scenario", None),
        speed=getattr(args, "speed", 1.0) or 1.0,
        audio=getattr(args, "audio", None) or (),
        existing_calls=getattr(args, "existing_call", None) or (),
        **listen,
    ) as profile:
        yield profile


@contextlib.asynccontextmanager
async def open_runtime(
    args: argparse.Namespace,
    prefs: Preferences,
    secrets: SecretStore,
    *,
    default_locale: str | None = None,
) -> AsyncIterator[ConsoleRuntime]:
    """The runtime (listeners and call service) for the chosen profile, started; journals as
    the Settings say (encrypted with the keyring's key, redacted at rest, kept how long), and
    expired journals swept now and daily while it runs."""
    async with open_profile(args, prefs, secrets) as profile:
        runtime = ConsoleRuntime(
            profile,
            data_dir=Path(args.data_dir),
            default_locale=default_locale or prefs.default_locale,
            speech_model_endpoint_id=prefs.speech_model_endpoint_id or None,
            journal_options=journal_options(prefs, Path(args.data_dir)),
            intelligence=intelligence_from(prefs),
            alert_rules=alert_rules_from(prefs),
        )
        async with runtime:
            sweeper = start_retention(Path(args.data_dir), prefs)
            try:
                yield runtime
            finally:
                await stop_task(sweeper)
