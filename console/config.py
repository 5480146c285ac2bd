"""Profiles, preferences and secrets.

Preferences live in ``settings.json`` in the data dir (plain, non-secret values only). The Azure
connection string, the Event Grid URL secret and the key that encrypts the call journals live in
the system keyring, one entry per data dir (so ``--data-dir`` isolates them too); when no keyring
exists the operator is told so: the secrets are kept for this session only, the journals are
stored unencrypted. None is ever written to a file or a log.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from secrets import token_bytes, token_urlsafe
from typing import Any

import keyring
import keyring.errors
import platformdirs

log = logging.getLogger(__name__)

APP_DIR_NAME = "acs-console"
KEYRING_SERVICE = "acs-transcription-console"
KEYRING_CONNECTION_STRING = "azure-connection-string"
KEYRING_EVENTGRID_SECRET = "eventgrid-url-secret"
KEYRING_JOURNAL_KEY = "journal-key"

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


def _default_alert_phrases() -> list[str]:
    from console.transcript.alerts import DEFAULT_PHRASES

    return list(DEFAULT_PHRASES)


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
    # A CA certificate (PEM file) to trust for the ACS endpoint and the JWT signing keys, in
    # place of the system's: a TLS-inspecting proxy's CA. Empty: the system's trust store.
    ca_cert: str = ""
    listen_host: str = "127.0.0.1"
    callback_port: int = 0
    ws_port: int = 0
    # Stream call audio to the console for the live level meters: free and local with the
    # emulator; with Azure it is billed per minute and needs the tunnel's bandwidth.
    stream_audio_local: bool = True
    stream_audio_azure: bool = False
    # Where and in which format Save last wrote, per profile ("local" / "azure").
    save_folders: dict[str, str] = field(default_factory=dict)
    save_formats: dict[str, str] = field(default_factory=dict)
    # Privacy (README "Privacy"): redact every saved transcript; keep journals redacted; delete
    # a closed call's journal this many days after (0: at once); journal calls at all; show
    # the transcript redacted on screen.
    always_redact_saved: bool = False
    redact_on_save: bool = False  # the Save dialog's "Redact personal data", as last chosen
    redact_at_rest: bool = False
    retention_days: int = 7
    journaling: bool = True
    redacted_view: bool = False
    # Alerts: phrases or patterns ("re:…") that raise an alert when said in a Final
    # (case-insensitive, whole words), and how many negative turns in a row of one speaker
    # do (0: never). See console/transcript/alerts.py.
    alert_phrases: list[str] = field(default_factory=_default_alert_phrases)
    negative_streak: int = 3
    alert_sound: bool = False  # the system's alert sound with each alert, in the window
    # Call intelligence by the service (its preview api-version, only when one is on): the
    # languages to identify among (none: off), a sentiment per Final, personal data masked by
    # the service before it sends the text.
    detect_languages: list[str] = field(default_factory=list)
    sentiment_analysis: bool = False
    service_redaction: bool = False

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


def keyring_username(name: str, data_dir: Path | None) -> str:
    """The keyring entry of ``name`` for one data dir (``None``: the one global entry).

    A stable digest of the resolved folder keeps two data dirs' secrets apart without putting
    a path in the keyring.
    """
    if data_dir is None:
        return name
    resolved = str(Path(data_dir).expanduser().resolve())
    return f"{name}@{hashlib.sha256(resolved.encode('utf-8')).hexdigest()[:16]}"


def keyring_available() -> tuple[bool, str]:
    """Whether a usable keyring backend is installed; otherwise the reason, in plain words."""
    try:
        backend = keyring.get_keyring()
    except Exception as exc:  # a broken backend raises anything
        return False, f"The system keyring failed to load ({exc.__class__.__name__})."
    if getattr(backend, "priority", 1) <= 0 or "fail" in type(backend).__module__:
        return False, "No system keyring is available on this machine."
    return True, ""


class SecretStore:
    """The Azure connection string in the system keyring, or (if chosen) for this session only.

    With a ``data_dir`` the entry belongs to that data dir; an entry stored before entries were
    per data dir (the global one) is still read when the data dir has none of its own.
    """

    def __init__(self, data_dir: Path | None = None) -> None:
        self._session_only: str | None = None
        self.data_dir = data_dir
        self._username = keyring_username(KEYRING_CONNECTION_STRING, data_dir)

    @staticmethod
    def available() -> tuple[bool, str]:
        usable, why = keyring_available()
        if usable:
            return True, ""
        return False, (
            f"{why} The connection string cannot be stored; you can keep it for this session only."
        )

    def get(self) -> str | None:
        if self._session_only is not None:
            return self._session_only
        try:
            value = keyring.get_password(KEYRING_SERVICE, self._username)
            if value is None and self._username != KEYRING_CONNECTION_STRING:
                value = keyring.get_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING)
            return value
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
            keyring.set_password(KEYRING_SERVICE, self._username, value)
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
        """Forget the connection string: this data dir's entry and the old global one (which
        :meth:`get` would otherwise still find)."""
        self._session_only = None
        names = dict.fromkeys((self._username, KEYRING_CONNECTION_STRING))
        for username in names:
            try:
                keyring.delete_password(KEYRING_SERVICE, username)
            except (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError):
                pass  # nothing stored, or nowhere to store it: already gone
            except keyring.errors.KeyringError as exc:
                raise SecretStoreError(
                    "The keyring refused to delete the connection string "
                    f"({exc.__class__.__name__}); it may be locked. Unlock it and try again."
                ) from exc

    def eventgrid(self) -> EventGridSecretStore:
        """The Event Grid URL secret of the same data dir."""
        if self.data_dir is None:
            raise ValueError("the Event Grid secret belongs to a data dir: SecretStore(data_dir)")
        return EventGridSecretStore(self.data_dir)


def new_eventgrid_secret() -> str:
    """A URL secret for the Event Grid path (URL-safe, 192 bits, as the listeners' others)."""
    return token_urlsafe(24)


@dataclass(frozen=True, slots=True)
class EventGridSecret:
    """The secret in the Event Grid URL, and whether it outlives this session."""

    value: str = field(repr=False)
    persistent: bool
    # Empty when kept in the keyring; else why it is for this session only, for the operator.
    note: str = ""


# Event Grid secrets that could not be stored, by data dir: one per process, so the Settings
# dialog, the doctor and the runtime of one session show the same URL.
_session_eventgrid: dict[str, str] = {}


class EventGridSecretStore:
    """The Event Grid URL secret of one data dir: created once, kept in the keyring.

    Unlike the callback and WebSocket secrets (new at every start), this one must outlive a
    restart: the Event Grid subscription made in Azure carries the URL. Without a keyring it is
    kept for this session only, and :attr:`EventGridSecret.note` says so.
    """

    def __init__(self, data_dir: Path) -> None:
        self._username = keyring_username(KEYRING_EVENTGRID_SECRET, data_dir)

    def load(self) -> EventGridSecret:
        """The stored secret, created and stored on first use. Never raises."""
        try:
            value = keyring.get_password(KEYRING_SERVICE, self._username)
        except Exception as exc:  # NoKeyringError, a locked keyring, a broken backend
            return self._session(self._why(exc))
        if value:
            _session_eventgrid.pop(self._username, None)
            return EventGridSecret(value, persistent=True)
        return self._store(new_eventgrid_secret())

    def rotate(self) -> EventGridSecret:
        """A new secret in place of the old one (the Event Grid subscription must follow)."""
        _session_eventgrid.pop(self._username, None)
        return self._store(new_eventgrid_secret())

    def _store(self, value: str) -> EventGridSecret:
        try:
            keyring.set_password(KEYRING_SERVICE, self._username, value)
        except Exception as exc:
            _session_eventgrid[self._username] = value
            return self._session(self._why(exc))
        return EventGridSecret(value, persistent=True)

    def _session(self, why: str) -> EventGridSecret:
        value = _session_eventgrid.setdefault(self._username, new_eventgrid_secret())
        return EventGridSecret(
            value,
            persistent=False,
            note=(
                f"{why} The Event Grid URL is for this session only: it changes when the "
                "console starts again, and the Event Grid subscription must then be updated."
            ),
        )

    @staticmethod
    def _why(exc: Exception) -> str:
        if isinstance(exc, keyring.errors.NoKeyringError):
            return "No system keyring is available on this machine."
        usable, why = keyring_available()
        if not usable:
            return why
        return f"The keyring could not be used ({exc.__class__.__name__}); it may be locked."


@dataclass(frozen=True, slots=True)
class JournalKey:
    """The key that encrypts a data dir's journals, or why there is none."""

    value: bytes | None = field(repr=False)
    # Empty with a key; else why journals are stored unencrypted, for the operator.
    note: str = ""


class JournalKeyStore:
    """The journal key of one data dir: 32 random bytes (AES-256-GCM), base64 in the keyring,
    created on first use.

    Without a usable keyring there is no key: :meth:`load` says why in :attr:`JournalKey.note`
    (journals are then stored unencrypted, which the operator is told, never silently).
    Deleting the key makes the journals sealed with it unreadable: they can only be discarded.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._username = keyring_username(KEYRING_JOURNAL_KEY, data_dir)

    def load(self) -> JournalKey:
        """The stored key, created and stored on first use. Never raises."""
        # Two consoles starting on a new data dir must not each make (and one lose) a key.
        with _creation_lock(self.data_dir):
            try:
                stored = keyring.get_password(KEYRING_SERVICE, self._username)
            except Exception as exc:  # NoKeyringError, a locked keyring, a broken backend
                return JournalKey(None, self._note(exc))
            key = _journal_key(stored)
            if key is not None:
                return JournalKey(key)
            key = token_bytes(32)
            try:
                keyring.set_password(
                    KEYRING_SERVICE, self._username, base64.b64encode(key).decode("ascii")
                )
            except Exception as exc:
                return JournalKey(None, self._note(exc))
            return JournalKey(key)

    def read(self) -> bytes | None:
        """The stored key, never creating one (reading journals); None if there is none."""
        try:
            return _journal_key(keyring.get_password(KEYRING_SERVICE, self._username))
        except Exception:
            return None

    def delete(self) -> None:
        """Forget the key (the journals sealed with it can then only be discarded)."""
        quiet = (keyring.errors.PasswordDeleteError, keyring.errors.NoKeyringError)
        with contextlib.suppress(*quiet):  # nothing stored, or nowhere to store it
            keyring.delete_password(KEYRING_SERVICE, self._username)

    def _note(self, exc: Exception) -> str:
        why = EventGridSecretStore._why(exc)
        folder = self.data_dir / "journals"
        return (
            f"{why} Call journals (the autosave that recovers a call after a crash) are "
            f"stored unencrypted in {folder}. Turn journaling off in Settings to keep none."
        )


@contextlib.contextmanager
def _creation_lock(data_dir: Path) -> Iterator[None]:
    """An exclusive lock on the data dir while a key is read or made (POSIX; elsewhere, and
    where the lock file cannot be made, none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(data_dir / ".journal-key.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # also releases the lock


def _journal_key(stored: str | None) -> bytes | None:
    if not stored:
        return None
    try:
        key = base64.b64decode(stored, validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == 32 else None


def trust_bundle(extra_ca: str) -> str:
    """A CA bundle that trusts what the system trusts *and* ``extra_ca`` (a TLS-inspecting
    proxy's CA): the SDK and the key fetch take one file as their only trust, so the two are
    joined into one (in the cache folder; certificates are public). An unreadable file is
    returned as given, for the doctor to report."""
    import hashlib
    import ssl

    try:
        extra = Path(extra_ca).expanduser().read_bytes()
    except OSError:
        return extra_ca
    try:
        import certifi

        system = Path(certifi.where()).read_bytes()
    except (ImportError, OSError):
        cafile = ssl.get_default_verify_paths().cafile
        system = Path(cafile).read_bytes() if cafile and Path(cafile).is_file() else b""
    joined = system.rstrip(b"\n") + b"\n" + extra
    folder = Path(platformdirs.user_cache_dir(APP_DIR_NAME, appauthor=False))
    path = folder / f"ca-bundle-{hashlib.sha256(joined).hexdigest()[:16]}.pem"
    try:
        if not path.exists():
            folder.mkdir(parents=True, exist_ok=True)
            write_bytes_atomic(path, joined)
    except OSError:
        log.warning("no CA bundle could be written in %s; trusting %s alone", folder, extra_ca)
        return extra_ca
    return str(path)


def write_bytes_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
        """The Azure profile from Settings; ConfigError names whatever is missing."""
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
        return cls.azure_unchecked(prefs, connection_string)

    @classmethod
    def azure_unchecked(cls, prefs: Preferences, connection_string: str) -> Profile:
        """The Azure profile as set, incomplete or not (the doctor reports what is wrong)."""
        ca = trust_bundle(prefs.ca_cert.strip()) if prefs.ca_cert.strip() else ""
        return cls(
            kind="azure",
            connection_string=connection_string,
            connection_verify=ca or True,
            audience=prefs.acs_resource_id,
            jwks_ca_file=ca or None,
            cognitive_services_endpoint=prefs.cognitive_services_endpoint or None,
            caller_id=prefs.caller_id or None,
            public_callback_base=prefs.public_callback_base.rstrip("/") or None,
            public_websocket_base=prefs.public_websocket_base.rstrip("/") or None,
            listen_host=prefs.listen_host,
            callback_port=prefs.callback_port,
            ws_port=prefs.ws_port,
            stream_audio=prefs.stream_audio_azure,
        )
