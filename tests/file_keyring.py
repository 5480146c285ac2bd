"""A file-backed keyring for tests whose console runs are separate processes (select it with
PYTHON_KEYRING_BACKEND=tests.file_keyring.FileKeyring and name the file in
ACS_TEST_KEYRING_FILE). A stand-in for the desktop keyring: what one run stores, the next reads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "ACS_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[FILE_ENV])

    def _load(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self._path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, doc: dict[str, dict[str, str]]) -> None:
        self._path().write_text(json.dumps(doc), encoding="utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        doc = self._load()
        doc.setdefault(service, {})[username] = password
        self._save(doc)

    def delete_password(self, service: str, username: str) -> None:
        doc = self._load()
        if username not in doc.get(service, {}):
            raise PasswordDeleteError(username)
        del doc[service][username]
        self._save(doc)
