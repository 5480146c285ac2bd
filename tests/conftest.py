"""Shared test setup: Qt offscreen, no real keyring, quiet and strict."""

from __future__ import annotations

import os

# Before anything imports Qt: tests never need a display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Headless machines have no keyring backend; tests that need one install tests.memory_keyring.
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "tests.memory_keyring.MemoryKeyring")
