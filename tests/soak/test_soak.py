"""A shorter soak in CI: half an hour of an 8-party call through the real window, offscreen.

The four-hour run is ``python tests/soak/soak_window.py`` (figures in the README).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("soak_window.py")


@pytest.mark.slow
def test_half_an_hour_through_the_window_saves_the_script_final_for_final() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--hours", "0.5", "--speed", "120", "--speakers", "8"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    # A non-zero code would also be the PySide6 none_dealloc abort (SIGABRT: -6).
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "MATCH: the saved transcript equals the script" in proc.stdout
    assert "Fatal Python error" not in proc.stderr
