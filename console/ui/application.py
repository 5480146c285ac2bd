"""The Qt application and the window's lifetime: one QApplication, configured once, and the
main window on its runtime from the moment the runtime is up until the window is closed."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from console import APP_ID
from console.call.state import Notice
from console.config import ConfigError, Preferences, SecretStore
from console.crash import PreviousCrash
from console.launch import EmulatorStartError, open_runtime
from console.resources import data_dir_override, default_save_dir
from console.ui.icons import app_icon
from console.ui.main_thread_gc import MainThreadCollector
from console.ui.main_window import MainWindow
from console.ui.theme import apply_theme

log = logging.getLogger(__name__)

APP_NAME = "ACS Transcription Console"
ORG_NAME = "ACS Transcription Console"
# How long quitting waits for a last hang-up to reach the service.
_QUIT_GRACE_S = 5.0


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, configured once (name, organisation, desktop id, icon)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv or sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setDesktopFileName(APP_ID)
    app.setWindowIcon(app_icon())
    # The loop, not Qt, decides when we are done: quitting on the last window would stop the
    # loop under running coroutines and leak their sockets.
    app.setQuitOnLastWindowClosed(False)
    # Worker threads (recogniser, audio sources, executor) must never collect a QObject cycle.
    MainThreadCollector.install(app)
    return app


async def run_gui(
    args: argparse.Namespace,
    *,
    close_event: asyncio.Event,
    runtime_factory: Callable[..., Any] = open_runtime,
    on_window: Callable[[MainWindow], None] | None = None,
    crashes: Sequence[PreviousCrash] = (),
) -> int:
    """Run the window until it is closed; the runtime lives exactly as long. A crash of the
    previous run is reported in the event log."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    data_dir = Path(args.data_dir)
    prefs = Preferences.load(data_dir)
    secrets = SecretStore(data_dir)
    apply_theme(app, prefs.theme)
    async with contextlib.AsyncExitStack() as stack:
        try:
            runtime = await stack.enter_async_context(runtime_factory(args, prefs, secrets))
        except ConfigError as exc:
            # An incomplete Azure profile: open for review and Settings, say what is missing.
            message = str(exc)
            window = MainWindow(None, prefs=prefs, data_dir=data_dir, secrets=secrets)
            _give_folders(window, args)
            QTimer.singleShot(0, lambda: QMessageBox.warning(window, "Cannot connect", message))
            return await _show(window, close_event, on_window, crashes)
        except EmulatorStartError as exc:
            # A bad --scenario or --audio file (or --audio without the speech extra).
            message = f"The emulator could not start: {exc}"
            await _from_the_loop(lambda: QMessageBox.critical(None, APP_NAME, message))
            return 2
        except OSError as exc:
            message = (
                f"The console could not start its listeners: {exc.strerror or exc}. "
                "Another program may be using the ports; choose others in Settings."
            )
            await _from_the_loop(lambda: QMessageBox.critical(None, APP_NAME, message))
            return 1
        window = MainWindow(runtime, prefs=prefs, data_dir=data_dir, secrets=secrets)
        _give_folders(window, args)
        return await _show(window, close_event, on_window, crashes)
    return 1  # pragma: no cover (the stack does not swallow exceptions)


def _give_folders(window: MainWindow, args: argparse.Namespace) -> None:
    window.files.save_dir = default_save_dir(data_dir_override(args))
    window.log_path = getattr(args, "log_path", None)


async def _show(
    window: MainWindow,
    close_event: asyncio.Event,
    on_window: Callable[[MainWindow], None] | None,
    crashes: Sequence[PreviousCrash],
) -> int:
    window.show()
    for crash in crashes:
        window.add_notice(Notice(time.time(), "error", "The console crashed", crash.text))
    QTimer.singleShot(0, lambda: window.files.offer_recovery(startup=True))
    if on_window is not None:
        on_window(window)
    await close_event.wait()
    # A hang-up started by closing the window gets a moment to reach the service.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(window.tasks.wait(), _QUIT_GRACE_S)
    window.shutdown()
    return 0


async def _from_the_loop(show: Callable[[], object]) -> None:
    """Show a modal box from a plain loop callback and wait for it to close. Its own Qt loop,
    run inside this task, would resume other tasks while this one is still executing, which
    asyncio refuses (those tasks would then never wake again)."""
    loop = asyncio.get_running_loop()
    closed: asyncio.Future[None] = loop.create_future()

    def run() -> None:
        try:
            show()
        finally:
            if not closed.done():
                closed.set_result(None)

    loop.call_soon(run)
    await closed
