"""Journal keys of console processes a test starts: their keyring is a file
(tests.file_keyring), so the test reads the key a run stored for its data dir."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from console.config import KEYRING_JOURNAL_KEY, KEYRING_SERVICE, keyring_username
from tests.file_keyring import FILE_ENV


def file_keyring_env(keyring_file: Path) -> dict[str, str]:
    """Environment entries that give a console process ``keyring_file`` as its keyring."""
    return {"PYTHON_KEYRING_BACKEND": "tests.file_keyring.FileKeyring", FILE_ENV: str(keyring_file)}


def journal_key(keyring_file: Path, data_dir: Path) -> bytes:
    """The key a console process stored for ``data_dir``'s journals."""
    doc = json.loads(keyring_file.read_text(encoding="utf-8"))
    stored = doc[KEYRING_SERVICE][keyring_username(KEYRING_JOURNAL_KEY, data_dir)]
    return base64.b64decode(stored)
