"""Qt's own messages (warnings from widgets, the platform plugin, threads) into :mod:`logging`,
under the ``qt`` logger, so they reach the log file with everything else instead of a stderr
nobody reads. A handler installed before (a test harness's) still gets every message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler

log = logging.getLogger("qt")

_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

_previous: Callable[..., Any] | None = None
_installed = False


def _handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    where = f" ({context.category})" if context.category and context.category != "default" else ""
    log.log(_LEVELS.get(kind, logging.WARNING), "%s%s", message, where)
    if _previous is not None:
        _previous(kind, context, message)


def install() -> None:
    """Route Qt's messages into logging (once per process)."""
    global _previous, _installed
    if _installed:
        return
    _previous = qInstallMessageHandler(_handler)
    _installed = True
