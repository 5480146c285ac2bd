"""Shared helpers for the packaging tests: the repository's files and ``acs-console`` runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The offscreen platform has no window manager and says so for hints it cannot pass on.
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.qt_log_ignore("This plugin does not support"))


def acs_console(
    *args: str, env: dict[str, str] | None = None, timeout: float = 150
) -> subprocess.CompletedProcess[str]:
    """``acs-console ARGS`` from the source tree, as a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env=env if env is not None else dict(os.environ),
    )
