"""The GUI entry point: QApplication + qasync event loop, runtime, main window.

``acs-console`` (console/cli.py) calls :func:`main` with its parsed arguments. The asyncio loop
runs inside Qt's (qasync), so the embedded listeners, the SDK and the window share one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from console import APP_ID
from console.config import ConfigError, Preferences, Profile, SecretStore
from console.runtime import ConsoleRuntime
from console.ui.icons import app_icon
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
    return app


@contextlib.asynccontextmanager
async def open_runtime(
    args: argparse.Namespace, prefs: Preferences, secrets: SecretStore
) -> AsyncIterator[ConsoleRuntime]:
    """The runtime for the chosen profile (starting the embedded emulator for "local")."""
    from console.cli import listen_options, local_profile

    kind = getattr(args, "profile", None) or prefs.profile
    listen = listen_options(args, prefs)
    async with contextlib.AsyncExitStack() as stack:
        if kind == "azure":
            profile = Profile.azure(prefs, secrets)
            for key, value in listen.items():
                setattr(profile, key, value)
        else:
            profile = await stack.enter_async_context(
                local_profile(
                    args.data_dir,
                    scenario=getattr(args, "scenario", None),
                    speed=getattr(args, "speed", 1.0) or 1.0,
                    **listen,
                )
            )
        runtime = ConsoleRuntime(
            profile, data_dir=args.data_dir, default_locale=prefs.default_locale
        )
        await stack.enter_async_context(runtime)
        yield runtime


async def run_gui(
    args: argparse.Namespace,
    *,
    close_event: asyncio.Event,
    runtime_factory: Callable[..., Any] = open_runtime,
    on_window: Callable[[MainWindow], None] | None = None,
) -> int:
    """Run the window until it is closed; the runtime lives exactly as long."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    data_dir = Path(args.data_dir)
    prefs = Preferences.load(data_dir)
    secrets = SecretStore()
    apply_theme(app, prefs.theme)
    async with contextlib.AsyncExitStack() as stack:
        try:
            runtime = await stack.enter_async_context(runtime_factory(args, prefs, secrets))
        except ConfigError as exc:
            # An incomplete Azure profile: open for review and Settings, say what is missing.
            message = str(exc)
            window = MainWindow(None, prefs=prefs, data_dir=data_dir, secrets=secrets)
            QTimer.singleShot(0, lambda: QMessageBox.warning(window, "Cannot connect", message))
            return await _show(window, close_event, on_window)
        except OSError as exc:
            QMessageBox.critical(
                None,
                APP_NAME,
                f"The console could not start its listeners: {exc.strerror or exc}. "
                "Another program may be using the ports; choose others in Settings.",
            )
            return 1
        window = MainWindow(runtime, prefs=prefs, data_dir=data_dir, secrets=secrets)
        return await _show(window, close_event, on_window)
    return 1  # pragma: no cover (the stack does not swallow exceptions)


async def _show(
    window: MainWindow,
    close_event: asyncio.Event,
    on_window: Callable[[MainWindow], None] | None,
) -> int:
    window.show()
    QTimer.singleShot(0, lambda: window.offer_recovery(startup=True))
    if on_window is not None:
        on_window(window)
    await close_event.wait()
    # A hang-up started by closing the window gets a moment to reach the service.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(window.tasks.wait(), _QUIT_GRACE_S)
    window.shutdown()
    return 0


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
    app = make_application()
    close_event: asyncio.Event | None = None

    async def run() -> int:
        nonlocal close_event
        close_event = asyncio.Event()
        app.lastWindowClosed.connect(close_event.set)
        _quit_on_signals(app, close_event)
        return await run_gui(args, close_event=close_event)

    with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
        try:
            return runner.run(run())
        except KeyboardInterrupt:
            return 130
