"""Profiles, preferences and secrets.

Preferences live in ``settings.json`` in the data dir (plain, non-secret values only). The Azure
connection string lives in the system keyring; when no keyring exists the operator is told so and
may keep it for this session only. It is never written to a file or a log.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import keyring
import keyring.errors
import platformdirs

log = logging.getLogger(__name__)

APP_DIR_NAME = "acs-console"
KEYRING_SERVICE = "acs-transcription-console"
KEYRING_CONNECTION_STRING = "azure-connection-string"

# A headless run may take the connection string from the environment instead of the keyring
# (never stored anywhere by the console).
CONNECTION_STRING_ENV = "ACS_CONNECTION_STRING"

ACS_ISSUER = "https://acscallautomation.communication.azure.com"
ACS_JWKS_URL = "https://acscallautomation.communication.azure.com/calling/keys"


class ConfigError(Exception):
    """A configuration problem, worded for the operator."""


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False))


def prepare_data_dir(path: Path | None) -> Path:
    """Create (if needed) and check the data dir; raise ConfigError in plain words otherwise."""
    data_dir = (path or default_data_dir()).expanduser()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=data_dir, prefix=".write-test-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"The data folder {data_dir} cannot be used ({exc.strerror or exc}). "
            "Choose another with --data-dir, or fix its permissions."
        ) from exc
    return data_dir


@dataclass(slots=True)
class Preferences:
    """Non-secret settings the operator changes in the Settings dialog."""

    profile: str = "local"  # "local" (embedded emulator) | "azure"
    default_locale: str = "en-US"
    warn_confidence: float = 0.75
    critical_confidence: float = 0.5
    theme: str = "system"  # "system" | "light" | "dark"
    recent_targets: list[str] = field(default_factory=list)
    # Azure profile (all public values; the connection string is in the keyring)
    cognitive_services_endpoint: str = ""
    caller_id: str = ""
    public_callback_base: str = ""  # e.g. https://abc-8080.devtunnels.ms
    public_websocket_base: str = ""  # e.g. wss://abc-8081.devtunnels.ms
    acs_resource_id: str = ""  # immutable resource id: the JWT audience
    # A Custom Speech model's endpoint id, sent with every transcription request ("" = none).
    speech_model_endpoint_id: str = ""
    listen_host: str = "127.0.0.1"
    callback_port: int = 0
    ws_port: int = 0
    # Stream call audio to the console for the live level meters: free and local with the
    # emulator; with Azure it is billed per minute and needs the tunnel's bandwidth.
    stream_audio_local: bool = True
    stream_audio_azure: bool = False

    def stream_audio_for(self, profile_kind: str) -> bool:
        return self.stream_audio_azure if profile_kind == "azure" else self.stream_audio_local

    @classmethod
    def load(cls, data_dir: Path) -> Preferences:
        path = data_dir / "settings.json"
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("settings file %s unreadable (%s); using defaults", path, exc)
            return cls()
        known = {f.name for f in fields(cls)}
        prefs = cls()
        for key, value in raw.items() if isinstance(raw, dict) else ():
            if key in known and isinstance(value, type(getattr(prefs, key))):
                setattr(prefs, key, value)
        return prefs

    def save(self, data_dir: Path) -> None:
        write_json_atomic(data_dir / "settings.json", asdict(self))

    def remember_target(self, target: str, limit: int = 10) -> None:
        self.recent_targets = [target, *(t for t in self.recent_targets if t != target)][:limit]


def write_json_atomic(path: Path, doc: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class SecretStoreError(Exception):
    """The keyring cannot be used; ``text`` tells the operator what to do."""


class SecretStore:
    """The Azure connection string in the system keyring, or (if chosen) for this session only."""

    def __init__(self) -> None:
        self._session_only: str | None = None

    @staticmethod
    def available() -> tuple[bool, str]:
        try:
            backend = keyring.get_keyring()
        except Exception as exc:  # a broken backend raises anything
            return False, f"The system keyring failed to load ({exc.__class__.__name__})."
        if getattr(backend, "priority", 1) <= 0 or "fail" in type(backend).__module__:
            return False, (
                "No system keyring is available on this machine, so the connection string "
                "cannot be stored. You can keep it for this session only."
            )
        return True, ""

    def get(self) -> str | None:
        if self._session_only is not None:
            return self._session_only
        try:
            return keyring.get_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING)
        except keyring.errors.NoKeyringError:
            return None
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"The keyring could not be read ({exc.__class__.__name__}); it may be locked. "
                "Unlock it and try again, or enter the connection string for this session only."
            ) from exc

    def set(self, value: str, *, session_only: bool = False) -> None:
        if session_only:
            self._session_only = value
            return
        try:
            keyring.set_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING, value)
        except keyring.errors.NoKeyringError as exc:
            raise SecretStoreError(
                "No system keyring is available, so the connection string was not stored. "
                "Choose 'this session only' to use it without storing it."
            ) from exc
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"The keyring refused to store the connection string ({exc.__class__.__name__})."
            ) from exc
        self._session_only = None

    def delete(self) -> None:
        self._session_only = None
        try:
            keyring.delete_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING)
        except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError):
            pass  # nothing stored, or nowhere to store it: already gone
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(
                f"The keyring refused to delete the connection string ({exc.__class__.__name__});"
                " it may be locked. Unlock it and try again."
            ) from exc


@dataclass(slots=True)
class Profile:
    """Everything the runtime needs to reach one ACS resource (or the emulator)."""

    kind: str  # "local" | "azure"
    connection_string: str = field(repr=False)
    connection_verify: str | bool = True
    issuer: str = ACS_ISSUER
    jwks_url: str = ACS_JWKS_URL
    audience: str = ""
    jwks_ca_file: str | None = None
    cognitive_services_endpoint: str | None = None
    caller_id: str | None = None
    public_callback_base: str | None = None
    public_websocket_base: str | None = None
    listen_host: str = "127.0.0.1"
    callback_port: int = 0
    ws_port: int = 0
    allow_non_loopback: bool = False
    call_time_factor: float = 1.0  # the emulator's --speed: call seconds per wall second
    stream_audio: bool = False  # ask for audio streaming at call setup (level meters)
    # The embedded emulator's base URL (local profile only): its admin endpoints take
    # participants' audio, signed with the connection string's key, trusting connection_verify.
    emulator_endpoint: str | None = None

    @property
    def label(self) -> str:
        return "Local emulator" if self.kind == "local" else "Azure"

    @classmethod
    def local(
        cls,
        emulator_info: dict[str, Any],
        *,
        speed: float = 1.0,
        stream_audio: bool = True,
        **kw: Any,
    ) -> Profile:
        """The profile for an embedded emulator, from its ``emulator.json`` values. Audio
        streaming is on by default: it costs nothing locally."""
        return cls(
            kind="local",
            connection_string=emulator_info["connection_string"],
            connection_verify=emulator_info["cert_path"],
            issuer=emulator_info["issuer"],
            jwks_url=emulator_info["jwks_url"],
            audience=emulator_info["audience"],
            jwks_ca_file=emulator_info["cert_path"],
            # The emulator needs an endpoint to accept transcription, as the service does.
            cognitive_services_endpoint="https://emulated-speech.cognitiveservices.azure.com/",
            caller_id="+15550199",
            call_time_factor=speed,
            emulator_endpoint=emulator_info["endpoint"],
            stream_audio=stream_audio,
            **kw,
        )

    @classmethod
    def azure(cls, prefs: Preferences, secrets: SecretStore) -> Profile:
        connection_string = secrets.get()
        missing = [
            label
            for label, value in (
                ("connection string", connection_string),
                ("public callback URL", prefs.public_callback_base),
                ("public WebSocket URL", prefs.public_websocket_base),
                ("ACS immutable resource id", prefs.acs_resource_id),
                ("Cognitive Services endpoint", prefs.cognitive_services_endpoint),
            )
            if not value
        ]
        if missing:
            text = f"The Azure profile is incomplete: set the {', '.join(missing)} in Settings."
            if not connection_string:
                usable, why = secrets.available()
                text += (
                    f" {why}"
                    if not usable
                    else " The connection string is not in the system keyring (it may have "
                    "been deleted there); enter it again in Settings."
                )
            raise ConfigError(text)
        assert connection_string is not None
        return cls(
            kind="azure",
            connection_string=connection_string,
            audience=prefs.acs_resource_id,
            cognitive_services_endpoint=prefs.cognitive_services_endpoint,
            caller_id=prefs.caller_id or None,
            public_callback_base=prefs.public_callback_base.rstrip("/"),
            public_websocket_base=prefs.public_websocket_base.rstrip("/"),
            listen_host=prefs.listen_host,
            callback_port=prefs.callback_port,
            ws_port=prefs.ws_port,
            stream_audio=prefs.stream_audio_azure,
        )
