"""Where the console's files are: the shipped resources and the operator's own folders.

Shipped resources (icons, themes, scenarios) are the top-level ``resources/`` folder of a source
checkout. An installed wheel carries the same folder as ``console/resources_data`` and a
PyInstaller bundle as ``resources/`` in its data folder (``sys._MEIPASS``); :func:`resource_path`
finds whichever this copy of the console runs from. ``$ACS_CONSOLE_RESOURCES`` points elsewhere.

The operator's folders follow the platform (platformdirs) unless ``--data-dir`` is given, in which
case everything the console writes goes under that folder.
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

import platformdirs

from console.config import default_data_dir

RESOURCES_ENV = "ACS_CONSOLE_RESOURCES"
SAVE_DIR_NAME = "ACS Transcripts"
# Present in every complete copy of the resources; a folder without it is someone else's.
_MARKER = Path("icons") / "app.svg"


def _candidates() -> list[Path]:
    package = Path(__file__).resolve().parent
    found = []
    bundle = getattr(sys, "_MEIPASS", None)  # set by the PyInstaller bootloader
    if bundle:
        found.append(Path(bundle) / "resources")
    found.append(package / "resources_data")  # an installed wheel
    found.append(package.parent / "resources")  # a source checkout (also editable installs)
    return found


@cache
def resource_root() -> Path:
    """The folder holding ``icons/``, ``themes/`` and ``scenarios/``.

    When none is found, the source checkout's path is returned, so that callers report a
    missing file by a path that makes sense rather than failing here.
    """
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override).expanduser()
    candidates = _candidates()
    for root in candidates:
        if (root / _MARKER).is_file():
            return root
    return candidates[-1]


def resource_path(*parts: str) -> Path:
    """A shipped file or folder, e.g. ``resource_path("icons", "app.svg")``."""
    return resource_root().joinpath(*parts)


# --- the operator's folders ---------------------------------------------------------------------


def log_dir(data_dir_override: Path | None) -> Path:
    """Where the rotating log file goes: ``<data dir>/logs`` under ``--data-dir``, else the
    platform's log folder (``~/.local/state/acs-console/log``, ``~/Library/Logs/acs-console``,
    ``%LOCALAPPDATA%\\acs-console\\Logs``)."""
    from console.config import APP_DIR_NAME  # one name for all the console's folders

    if data_dir_override is not None:
        return Path(data_dir_override) / "logs"
    return Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False))


def default_save_dir(data_dir_override: Path | None) -> Path:
    """The folder the Save dialog opens in: ``<data dir>/transcripts`` under ``--data-dir``,
    else ``ACS Transcripts`` in the operator's documents folder."""
    if data_dir_override is not None:
        return Path(data_dir_override) / "transcripts"
    return Path(platformdirs.user_documents_dir()) / SAVE_DIR_NAME


def data_dir_override(args: object) -> Path | None:
    """The folder given with ``--data-dir``, or None when the platform's default is in use."""
    data_dir = getattr(args, "data_dir", None)
    if data_dir is None or Path(data_dir) == default_data_dir().expanduser():
        return None
    return Path(data_dir)
