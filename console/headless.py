"""``acs-console run``: one call, transcribed and saved, with no window.

Prints each Final to stdout as it is journalled (``FINAL <call time> <speaker>: <text>``), so a
supervisor script can follow along, and operator notices and alerts to stderr (``ALERT <call
time> <speaker>: <rule>: <text>``). Exits 0 after saving, or 1 with the operator-facing message
(saving whatever was transcribed before the failure).

``--redact`` (or "Always redact saved transcripts" in Settings) redacts both the saved file and
the ``FINAL`` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path

from console.acs.calls import CallLocator
from console.acs.intelligence import IntelligenceSettings
from console.acs.streaming import TICKS_PER_SECOND, TranscriptionData
from console.config import (
    CONNECTION_STRING_ENV,
    ConfigError,
    Preferences,
    Profile,
    SecretStore,
    SecretStoreError,
)
from console.launch import open_runtime, profile_kind, use_connection_string_from_env
from console.listener.common import ListenerError
from console.session import (
    CallSession,
    CallState,
    Notice,
    SaveError,
    SessionError,
    SessionState,
    TranscriptionState,
)
from console.transcript.alerts import Alert, AlertRules
from console.transcript.export import format_for_path
from console.transcript.redaction import redact_text

CONNECT_TIMEOUT_S = 60.0


class RunFailed(Exception):
    pass


def _check_azure(args: argparse.Namespace, prefs: Preferences, secrets: SecretStore) -> None:
    """An incomplete Azure profile fails before anything starts, saying how to run anyway."""
    from_env = use_connection_string_from_env(secrets)
    if profile_kind(args, prefs) != "azure":
        return
    try:
        Profile.azure(prefs, secrets)
    except (ConfigError, SecretStoreError) as exc:
        hint = f" For a run without the keyring, set {CONNECTION_STRING_ENV} instead."
        raise RunFailed(f"{exc}{'' if from_env else hint}") from exc


async def run_headless(args: argparse.Namespace) -> int:
    fmt = args.format or (format_for_path(args.out) if args.out.suffix else "json")
    prefs = Preferences.load(args.data_dir)
    secrets = SecretStore(args.data_dir)
    redact = bool(getattr(args, "redact", False)) or prefs.always_redact_saved
    try:
        _check_azure(args, prefs, secrets)
        async with open_runtime(args, prefs, secrets, default_locale=args.locale) as runtime:
            # No window, no level meters: the call's audio would only cost bandwidth.
            session = runtime.new_session(
                stream_audio=False,
                speech_model_endpoint_id=args.speech_model_endpoint_id,
                intelligence=_intelligence(args, runtime.intelligence),
                alert_rules=_alert_rules(args, runtime.alert_rules),
            )
            try:
                await _drive(session, args, runtime.profile.call_time_factor, redact=redact)
            except BaseException as exc:
                _save(session, args.out, fmt, failure=exc, redact=redact)
                raise
            _save(session, args.out, fmt, redact=redact)
            runtime.discard_session(session)
    except (RunFailed, SessionError, ConfigError, ListenerError, OSError) as exc:
        print(f"acs-console run: {exc}", file=sys.stderr)
        return 1
    print(f"Saved {args.out}", file=sys.stderr)
    return 0


def _intelligence(args: argparse.Namespace, settings: IntelligenceSettings) -> IntelligenceSettings:
    """Settings' call intelligence with the command line's choices in place."""
    languages = getattr(args, "detect_languages", None)
    sentiment = getattr(args, "sentiment", None)
    redaction = getattr(args, "service_redaction", None)
    return IntelligenceSettings(
        settings.locales if languages is None else languages,
        settings.sentiment if sentiment is None else sentiment,
        settings.service_redaction if redaction is None else redaction,
        settings.end_call_summary,
    )


def _alert_rules(args: argparse.Namespace, rules: AlertRules) -> AlertRules:
    phrases = getattr(args, "alert", None)
    streak = getattr(args, "negative_streak", None)
    return AlertRules(
        rules.phrases if phrases is None else tuple(phrases),
        rules.negative_streak if streak is None else streak,
    )


def _save(
    session: CallSession,
    out: Path,
    fmt: str,
    *,
    failure: BaseException | None = None,
    redact: bool = False,
) -> None:
    """Save what was transcribed; when that fails, keep the journal for recovery and say so."""
    if not session.transcript.finals and session.state.connected_at is None:
        return  # the call never got anywhere: no empty file behind a failure
    try:
        session.save(out, fmt, redact=redact)
    except SaveError as exc:
        journal = session.journal.path if session.journal is not None else None
        session.close(keep_for_recovery=True)
        text = exc.operator_text
        if journal is not None:
            text += f" The call is kept in {journal}; it is offered for recovery at the next start."
        if isinstance(failure, RunFailed | SessionError):
            text = f"{failure} {text}"
        raise RunFailed(text) from exc


async def _drive(
    session: CallSession, args: argparse.Namespace, factor: float, *, redact: bool = False
) -> None:
    def on_notice(n: Notice) -> None:
        print(f"[{n.level}] {n.title}: {n.text}", file=sys.stderr, flush=True)

    def on_final(p: TranscriptionData) -> None:
        who = session.transcript.participant(p.participant_raw_id)
        name = who.display_name if who else p.participant_raw_id
        t = p.offset / TICKS_PER_SECOND
        text = redact_text(p.text).text if redact else p.text
        print(f"FINAL {t:8.2f} {name}: {text}", flush=True)

    def on_alert(a: Alert) -> None:
        who = session.transcript.participant(a.raw_id)
        name = who.display_name if who else a.raw_id
        text = redact_text(a.text).text if redact else a.text
        print(f"ALERT {a.at:8.2f} {name}: {a.rule}: {text}", file=sys.stderr, flush=True)

    session.subscribe(on_notice=on_notice, on_final=on_final)
    session.alerts.connect(on_alert)
    if args.target:
        await session.place(args.target, locale=args.locale)
    else:
        await session.join(_locator(args), locale=args.locale)
    state = await _wait(session, lambda s: s.call is not CallState.CONNECTING, CONNECT_TIMEOUT_S)
    if state.call is not CallState.CONNECTED:
        raise RunFailed(state.last_error or "The call did not connect.")
    await session.start_transcription(args.locale)
    state = await _wait(
        session, lambda s: s.transcription is not TranscriptionState.STARTING, CONNECT_TIMEOUT_S
    )
    if state.transcription is not TranscriptionState.ACTIVE:
        raise RunFailed(state.last_error or "Transcription did not start.")

    # Call time runs `factor` times faster than the wall clock on the emulator.
    started = time.monotonic()

    def call_time() -> float:
        return (time.monotonic() - started) * factor

    for locale, at in sorted(args.switch_locale, key=lambda x: x[1]):
        if at >= args.duration:
            break
        await _until_call_time(session, call_time, at)
        await session.set_locale(locale)
    await _until_call_time(session, call_time, args.duration)
    await end_call(session)


async def end_call(session: CallSession) -> None:
    """Stop transcribing and leave: a call this run placed ends for everyone; a call it joined
    in progress is someone else's, and goes on without it."""
    if session.state.call is CallState.CONNECTED:
        if session.state.transcription is TranscriptionState.ACTIVE:
            await session.stop_transcription()
            await _wait(session, lambda s: s.transcription is not TranscriptionState.STOPPING, 30)
        await session.hang_up(for_everyone=not session.state.joined)
        await _wait(session, lambda s: s.call is not CallState.DISCONNECTING, 30)
    elif session.state.last_error:
        raise RunFailed(session.state.last_error)


def _locator(args: argparse.Namespace) -> CallLocator:
    for option, kind in (("join", "server_call_id"), ("join_group", "group_call_id")):
        if getattr(args, option, None):
            return CallLocator(kind, getattr(args, option))
    return CallLocator("room_id", args.join_room)


async def _until_call_time(
    session: CallSession, call_time: Callable[[], float], target: float
) -> None:
    while call_time() < target:
        if session.state.call is not CallState.CONNECTED:
            raise RunFailed(session.state.last_error or "The call ended early.")
        await asyncio.sleep(min(0.05, max(0.0, target - call_time())))


async def _wait(
    session: CallSession, predicate: Callable[[SessionState], bool], timeout: float
) -> SessionState:
    try:
        return await session.wait_for(predicate, timeout)
    except TimeoutError as exc:
        raise RunFailed("The service did not answer in time.") from exc
