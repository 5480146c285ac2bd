"""The journal key in the keyring, the Settings that decide journaling, recovery with the key,
and "Delete this call's data"."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from console.config import (
    KEYRING_JOURNAL_KEY,
    KEYRING_SERVICE,
    JournalKeyStore,
    Preferences,
    keyring_username,
)
from console.privacy import (
    close_recovered,
    delete_call_data,
    journal_options,
    recover,
    unfinished_journals,
)
from console.transcript import journal_lines
from console.transcript.journal import Journal, JournalError, JournalKeyError, find_unfinished
from tests.memory_keyring import MemoryKeyring
from tests.reliability.keyrings import LockedKeyring

FINAL = json.dumps(
    {
        "kind": "TranscriptionData",
        "transcriptionData": {
            "text": "My card is 4111 1111 1111 1111.",
            "offset": 0,
            "duration": 10,
            "participantRawID": "4:+15550100",
            "resultStatus": "Final",
        },
    }
)


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.setattr(journal_lines, "_known", {})
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        yield memory
    finally:
        keyring.set_keyring(before)


def test_the_journal_key_is_created_once_per_data_dir(ring: MemoryKeyring, tmp_path: Path) -> None:
    one, two = JournalKeyStore(tmp_path / "one"), JournalKeyStore(tmp_path / "two")
    assert one.read() is None  # reading never creates one
    first = one.load()
    assert first.value is not None
    assert len(first.value) == 32
    assert first.note == ""
    assert one.load().value == first.value
    assert two.load().value != first.value
    stored = ring.get_password(
        KEYRING_SERVICE, keyring_username(KEYRING_JOURNAL_KEY, tmp_path / "one")
    )
    assert stored is not None
    assert base64.b64decode(stored) == first.value
    assert first.value.hex() not in repr(first)
    one.delete()
    assert one.read() is None
    one.delete()  # already gone: fine


@pytest.mark.parametrize("backend", [fail.Keyring, LockedKeyring])
def test_without_a_keyring_journals_are_plain_and_the_operator_is_told(
    tmp_path: Path, backend: type[keyring.backend.KeyringBackend]
) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(backend())
    try:
        options = journal_options(Preferences(), tmp_path)
    finally:
        keyring.set_keyring(before)
    assert options.enabled
    assert options.key is None
    assert "stored unencrypted" in options.unencrypted_note
    assert "Turn journaling off in Settings" in options.unencrypted_note
    assert str(tmp_path / "journals") in options.unencrypted_note


def test_the_settings_decide_how_calls_are_journalled(ring: MemoryKeyring, tmp_path: Path) -> None:
    prefs = Preferences()
    assert (prefs.always_redact_saved, prefs.redact_at_rest, prefs.redacted_view) == (
        False,
        False,
        False,
    )
    assert (prefs.journaling, prefs.retention_days) == (True, 7)
    options = journal_options(prefs, tmp_path)
    assert options.enabled
    assert not options.redact
    assert options.retention_days == 7
    assert options.key == JournalKeyStore(tmp_path).read()
    prefs.redact_at_rest, prefs.retention_days = True, 0
    prefs.save(tmp_path)
    again = journal_options(Preferences.load(tmp_path), tmp_path)
    assert again.redact
    assert again.retention_days == 0
    assert again.key == options.key
    prefs.journaling = False
    assert not journal_options(prefs, tmp_path).enabled
    prefs.retention_days = -3
    assert journal_options(prefs, tmp_path).retention_days == 0


def test_recovery_reads_encrypted_journals_with_the_keyring_key(
    ring: MemoryKeyring, tmp_path: Path
) -> None:
    options = journal_options(Preferences(), tmp_path)
    j = Journal.create(tmp_path, {"target": "4:+15550100"}, key=options.key)
    j.append_packet(FINAL, received_at=1.0, final=True)
    j.close(clean=False)
    journal_lines._known.clear()  # a new start: only the keyring knows the key
    prefs = Preferences(retention_days=2)
    [info] = unfinished_journals(tmp_path, prefs)
    assert info.encrypted
    assert info.error == ""
    assert info.call == {"target": "4:+15550100"}
    assert info.kept_after_closing.endswith("deleted after 2 days.")
    assert [p.text for p in recover(info.path, tmp_path).finals] == [
        "My card is 4111 1111 1111 1111."
    ]
    JournalKeyStore(tmp_path).delete()  # the key is gone
    journal_lines._known.clear()
    [info] = unfinished_journals(tmp_path, prefs)
    assert "cannot be read" in info.error
    with pytest.raises(JournalKeyError):
        recover(info.path, tmp_path)
    close_recovered(info.path, prefs)  # discarding needs no key
    assert unfinished_journals(tmp_path, prefs) == []
    assert info.path.exists()  # kept for its retention period


def test_a_recovered_journal_with_never_keep_is_deleted_at_once(tmp_path: Path) -> None:
    j = Journal.create(tmp_path)
    j.close(clean=False)
    close_recovered(j.path, Preferences(retention_days=0))
    assert not j.path.exists()


def test_deleting_a_calls_data(ring: MemoryKeyring, tmp_path: Path) -> None:
    data = tmp_path / "data"
    logs = data / "logs"
    logs.mkdir(parents=True)
    prefs = Preferences(recent_targets=["+15550100", "+15550199", "8:acs:someone"])
    prefs.save(data)
    j = Journal.create(data, {"target": "4:+15550100"}, key=JournalKeyStore(data).load().value)
    j.append_packet(FINAL, received_at=1.0, final=True)
    j.close()
    other = Journal.create(data, {"target": "4:+15550199"})
    other.close()
    log = logs / "acs-console.log"
    log.write_text(
        "INFO console.session: Calling: Calling +15550100…\n"
        "INFO console.session: Call connected: Connected to +15550199.\n",
        encoding="utf-8",
    )
    (logs / "acs-console.log.1").write_text("raw id 4:+15550100 seen\n", encoding="utf-8")

    done = delete_call_data(data, prefs, journal=j.path, target="4:+15550100", log_dir=logs)
    assert (done.journal, done.recent_target, done.log_files) == (True, True, 2)
    assert not j.path.exists()
    assert other.path.exists()  # another call's journal stays
    assert Preferences.load(data).recent_targets == ["+15550199", "8:acs:someone"]
    text = log.read_text(encoding="utf-8") + (logs / "acs-console.log.1").read_text("utf-8")
    assert "15550100" not in text
    assert "Calling <deleted>…" in text
    assert "+15550199" in text

    again = delete_call_data(data, prefs, journal=j.path, target="+15550100", log_dir=logs)
    assert (again.journal, again.recent_target, again.log_files) == (False, False, 0)


def test_deleting_refuses_a_live_journal_and_files_elsewhere(tmp_path: Path) -> None:
    prefs = Preferences()
    live = Journal.create(tmp_path)
    try:
        with pytest.raises(JournalError):
            delete_call_data(tmp_path, prefs, journal=live.path)
    finally:
        live.close()
    saved = tmp_path / "transcript.json"
    saved.write_text("{}", encoding="utf-8")
    with pytest.raises(ValueError, match="not one of this console's journals"):
        delete_call_data(tmp_path, prefs, journal=saved)
    assert saved.exists()
    assert live.path.exists()
    assert find_unfinished(tmp_path) == []
