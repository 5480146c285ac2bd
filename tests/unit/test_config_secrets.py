"""Secrets per data dir: the connection string (with the old global entry still read) and the
Event Grid URL secret (created once, kept, rotated; for this session only without a keyring)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from console.config import (
    KEYRING_CONNECTION_STRING,
    KEYRING_SERVICE,
    EventGridSecretStore,
    Preferences,
    Profile,
    SecretStore,
)
from tests.memory_keyring import MemoryKeyring
from tests.reliability.keyrings import LockedKeyring

CS = "endpoint=https://contoso.communication.azure.com/;accesskey=c2VjcmV0LWtleS1mb3ItdGVzdHM="
OTHER = "endpoint=https://fabrikam.communication.azure.com/;accesskey=b3RoZXIta2V5"


@pytest.fixture
def ring() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        yield memory
    finally:
        keyring.set_keyring(before)


def test_connection_strings_are_per_data_dir_and_the_old_global_one_is_still_read(
    ring: MemoryKeyring, tmp_path: Path
) -> None:
    ring.set_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING, CS)  # stored by 0.1
    one, two = SecretStore(tmp_path / "one"), SecretStore(tmp_path / "two")
    assert one.get() == CS
    assert two.get() == CS
    two.set(OTHER)
    assert two.get() == OTHER
    assert one.get() == CS
    assert SecretStore(tmp_path / "two" / ".." / "two").get() == OTHER  # the same folder
    assert ring.get_password(KEYRING_SERVICE, KEYRING_CONNECTION_STRING) == CS
    stored = [user for (_, user) in ring._store]
    assert all(str(tmp_path) not in user for user in stored)  # no paths in the keyring
    two.delete()  # forgetting also forgets the old global entry, which would come back
    assert two.get() is None
    assert one.get() is None


def test_the_eventgrid_secret_is_created_once_per_data_dir_and_rotates(
    ring: MemoryKeyring, tmp_path: Path
) -> None:
    store = EventGridSecretStore(tmp_path / "a")
    first = store.load()
    assert first.persistent
    assert first.note == ""
    assert EventGridSecretStore(tmp_path / "a").load() == first  # the same after a restart
    other = EventGridSecretStore(tmp_path / "b").load()
    assert other.value != first.value  # --data-dir isolates it
    rotated = store.rotate()
    assert rotated.persistent
    assert rotated.value != first.value
    assert EventGridSecretStore(tmp_path / "a").load() == rotated
    assert SecretStore(tmp_path / "a").eventgrid().load() == rotated
    assert rotated.value not in repr(rotated)  # kept out of logs


@pytest.mark.parametrize("backend", [fail.Keyring, LockedKeyring])
def test_without_a_usable_keyring_the_eventgrid_secret_is_for_this_session_only(
    backend: type, tmp_path: Path
) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        store = EventGridSecretStore(tmp_path)
        first = store.load()
        assert not first.persistent
        assert "this session only" in first.note
        assert "Event Grid subscription must then be updated" in first.note
        assert store.load() == first  # one per session: the dialog and the runtime agree
        rotated = store.rotate()
        assert rotated.value != first.value
        assert not rotated.persistent
        assert store.load() == rotated
    finally:
        keyring.set_keyring(before)
    assert not list(tmp_path.iterdir())  # and never in a file


def test_the_azure_profile_trusts_the_ca_certificate_set(tmp_path: Path) -> None:
    prefs = Preferences(ca_cert=str(tmp_path / "proxy-ca.pem"))
    profile = Profile.azure_unchecked(prefs, CS)
    assert profile.connection_verify == str(tmp_path / "proxy-ca.pem")
    assert profile.jwks_ca_file == str(tmp_path / "proxy-ca.pem")
    plain = Profile.azure_unchecked(Preferences(), CS)
    assert (plain.connection_verify, plain.jwks_ca_file) == (True, None)
    prefs.save(tmp_path)
    assert Preferences.load(tmp_path).ca_cert == prefs.ca_cert
