"""The GUI entry point: ``acs-console`` (console/cli.py) calls :func:`main` with its parsed
arguments. It sets up the log and crash capture, builds the application and runs the qasync
loop until the window closes. The asyncio loop runs inside Qt's (qasync), so the embedded
listeners, the SDK and the window share one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from console.crash import CrashCapture
from console.logs import install_file_log
from console.resources import data_dir_override, log_dir
from console.ui import qtlog
from console.ui.application import make_application, run_gui

log = logging.getLogger(__name__)


def _quit_on_signals(app: QApplication, close_event: asyncio.Event) -> None:
    """Ctrl+C / SIGTERM in a terminal close the window like the Quit action would."""
    loop = asyncio.get_running_loop()

    def close(*_args: object) -> None:
        loop.call_soon_threadsafe(app.closeAllWindows)
        loop.call_soon_threadsafe(close_event.set)

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, OSError):  # not the main thread / no such signal
            signal.signal(sig, close)
    # Python runs signal handlers only between bytecodes; Qt's loop must hand it control.
    heartbeat = QTimer(app)
    heartbeat.timeout.connect(lambda: None)
    heartbeat.start(250)


def main(args: argparse.Namespace) -> int:
    """Entry point used by ``acs-console``: build the app and loop, run until closed."""
    logs = log_dir(data_dir_override(args))
    args.log_path = install_file_log(logs, verbose=bool(getattr(args, "verbose", False)))
    crashes = CrashCapture.install(logs)
    qtlog.install()
    app = make_application()
    close_event: asyncio.Event | None = None

    async def run() -> int:
        nonlocal close_event
        close_event = asyncio.Event()
        app.lastWindowClosed.connect(close_event.set)
        _quit_on_signals(app, close_event)
        return await run_gui(args, close_event=close_event, crashes=crashes.previous)

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        try:
            code = runner.run(run())
        except KeyboardInterrupt:
            code = 130
        except RuntimeError as exc:
            # Qt stopped its loop under us: the display went away (X server or session ended).
            # The call's journal stays unfinished, so the next start offers to recover it.
            log.error("the window system stopped the application: %s", exc)
            print(
                "acs-console: the window system closed the application (was the display lost?). "
                "Any call in progress was autosaved; start the console again to recover it.",
                file=sys.stderr,
            )
            code = 1
        except Exception as exc:
            crashes.record_fatal(exc)  # reported at the next start, like a native crash
            raise
    crashes.close()
    return code
