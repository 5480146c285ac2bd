"""No keyring, a locked keyring, a deleted secret: a clear message and a way on."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyrings import LockedKeyring
from reliability_kit import console_env

from console.config import (
    KEYRING_CONNECTION_STRING,
    KEYRING_SERVICE,
    ConfigError,
    Preferences,
    Profile,
    SecretStore,
    SecretStoreError,
)
from tests.memory_keyring import MemoryKeyring

CS = "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0LWtleS1mb3ItdGVzdHM="


def azure_prefs(**overrides: str) -> Preferences:
    prefs = Preferences(
        profile="azure",
        cognitive_services_endpoint="https://contoso-speech.cognitiveservices.azure.com/",
        caller_id="+15550199",
        public_callback_base="https://abc-8080.devtunnels.ms",
        public_websocket_base="wss://abc-8081.devtunnels.ms",
        acs_resource_id="5e3f0a4c-1d2b-4c6e-8f90-123456789abc",
    )
    for key, value in overrides.items():
        setattr(prefs, key, value)
    return prefs


Installer = Callable[[KeyringBackend], None]


@pytest.fixture
def use_keyring() -> Iterator[Installer]:
    before = keyring.get_keyring()

    def install(backend: KeyringBackend) -> None:
        keyring.set_keyring(backend)

    try:
        yield install
    finally:
        keyring.set_keyring(before)


def test_no_keyring_backend_says_so_and_session_only_works(use_keyring: Installer) -> None:
    use_keyring(fail.Keyring())
    store = SecretStore()
    usable, why = store.available()
    assert not usable
    assert "No system keyring is available" in why
    assert "this session only" in why
    with pytest.raises(SecretStoreError, match="this session only"):
        store.set(CS)
    with pytest.raises(ConfigError, match="No system keyring is available") as caught:
        Profile.azure(azure_prefs(), store)
    assert "connection string" in str(caught.value)

    store.set(CS, session_only=True)  # the way on
    assert Profile.azure(azure_prefs(), store).connection_string == CS


def test_a_locked_keyring_says_so_and_session_only_works(use_keyring: Installer) -> None:
    use_keyring(LockedKeyring())
    store = SecretStore()
    with pytest.raises(SecretStoreError, match=r"may be locked\. Unlock it and try again"):
        store.get()
    with pytest.raises(SecretStoreError, match="refused to store"):
        store.set(CS)
    with pytest.raises(SecretStoreError, match="may be locked"):
        store.delete()

    store.set(CS, session_only=True)
    assert store.get() == CS
    assert Profile.azure(azure_prefs(), store).connection_string == CS


def test_a_secret_deleted_from_the_keyring_is_reported_as_missing(use_keyring: Installer) -> None:
    use_keyring(MemoryKeyring())
    store = SecretStore()
    store.set(CS)
    assert Profile.azure(azure_prefs(), store).connection_string == CS
    # Someone removes it with the desktop's keyring manager while the console is closed.
    keyring.delete_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING)
    with pytest.raises(ConfigError) as caught:
        Profile.azure(azure_prefs(), SecretStore())
    text = str(caught.value)
    assert "set the connection string in Settings" in text
    assert "it may have been deleted" in text
    store.delete()  # deleting what is already gone is not an error


def _run_azure(tmp_path: Path, backend: str, **env: str) -> subprocess.CompletedProcess[str]:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    azure_prefs(public_websocket_base="").save(data)
    return subprocess.run(
        [
            sys.executable, "-m", "console", "run", "--profile", "azure",
            "--target", "+15550100", "--out", str(tmp_path / "x.json"), "--data-dir", str(data),
        ],
        capture_output=True, text=True, timeout=60, check=False,
        env=console_env(PYTHON_KEYRING_BACKEND=backend, **env),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("tests.reliability.keyrings.LockedKeyring", "it may be locked"),
        ("keyring.backends.fail.Keyring", "No system keyring is available"),
    ],
)
def test_a_headless_run_explains_the_keyring_and_offers_the_environment(
    tmp_path: Path, backend: str, expected: str
) -> None:
    proc = _run_azure(tmp_path, backend)
    assert proc.returncode == 1
    assert expected in proc.stderr
    assert "set ACS_CONNECTION_STRING instead" in proc.stderr
    assert "Traceback" not in proc.stderr

    # The way on: the connection string from the environment, for this run only.
    proc = _run_azure(tmp_path, backend, ACS_CONNECTION_STRING=CS)
    assert proc.returncode == 1
    assert "set the public WebSocket URL in Settings" in proc.stderr
    assert "connection string" not in proc.stderr
    assert CS.split("accesskey=")[1] not in proc.stderr + proc.stdout
    assert "Traceback" not in proc.stderr
