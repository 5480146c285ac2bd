"""The GUI entry point: QApplication + qasync event loop, runtime, main window.

``acs-console`` (console/cli.py) calls :func:`main` with its parsed arguments. The asyncio loop
runs inside Qt's (qasync), so the embedded listeners, the SDK and the window share one thread.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import logging.handlers
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from console import APP_ID
from console.config import (
    ConfigError,
    Preferences,
    Profile,
    SecretStore,
    default_data_dir,
    prepare_data_dir,
)
from console.emulator.scenario import ScenarioError
from console.listener.common import ListenerError
from console.logs import RedactingFilter
from console.resources import default_save_dir, log_dir, resource_root
from console.runtime import ConsoleRuntime
from console.session import CallState, TranscriptionState
from console.transcript.export import TranscriptFormatError, load_json
from console.ui.icons import app_icon
from console.ui.main_thread_gc import MainThreadCollector
from console.ui.main_window import MainWindow
from console.ui.theme import apply_theme

log = logging.getLogger(__name__)

APP_NAME = "ACS Transcription Console"
ORG_NAME = "ACS Transcription Console"
# How long quitting waits for a last hang-up to reach the service.
_QUIT_GRACE_S = 5.0
LOG_FILE_NAME = "acs-console.log"
_LOG_BYTES = 2_000_000  # per file; five old files are kept


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
                    audio=getattr(args, "audio", None) or (),
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
            _give_folders(window, args)
            QTimer.singleShot(0, lambda: QMessageBox.warning(window, "Cannot connect", message))
            return await _show(window, close_event, on_window)
        except ScenarioError as exc:
            # A bad --scenario or --audio file (or --audio without the speech extra).
            QMessageBox.critical(None, APP_NAME, f"The emulator could not start: {exc}")
            return 2
        except OSError as exc:
            QMessageBox.critical(
                None,
                APP_NAME,
                f"The console could not start its listeners: {exc.strerror or exc}. "
                "Another program may be using the ports; choose others in Settings.",
            )
            return 1
        window = MainWindow(runtime, prefs=prefs, data_dir=data_dir, secrets=secrets)
        _give_folders(window, args)
        return await _show(window, close_event, on_window)
    return 1  # pragma: no cover (the stack does not swallow exceptions)


def data_dir_override(args: argparse.Namespace) -> Path | None:
    """The folder given with ``--data-dir``, or None when the platform's default is in use."""
    data_dir = getattr(args, "data_dir", None)
    if data_dir is None or Path(data_dir) == default_data_dir().expanduser():
        return None
    return Path(data_dir)


def _give_folders(window: MainWindow, args: argparse.Namespace) -> None:
    window.save_dir = default_save_dir(data_dir_override(args))
    window.log_path = getattr(args, "log_path", None)


def install_file_log(directory: Path, *, verbose: bool = False) -> Path | None:
    """Log to a rotating file in ``directory`` (secrets redacted); None if it cannot be made.

    The file gets the console's own INFO records as well as every warning; the terminal keeps
    showing only what it showed before."""
    path = directory / LOG_FILE_NAME
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=_LOG_BYTES, backupCount=5, encoding="utf-8"
        )
    except OSError as exc:
        log.warning("no log file in %s: %s", directory, exc.strerror or exc)
        return None
    root = logging.getLogger()
    threshold = root.getEffectiveLevel()
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(threshold)
    handler.setLevel(logging.DEBUG if verbose else logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    ours = logging.getLogger("console")
    if ours.getEffectiveLevel() > logging.INFO:
        ours.setLevel(logging.INFO)
    log.info("ACS Transcription Console starting; log file %s", path)
    return path


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
    args.log_path = install_file_log(
        log_dir(data_dir_override(args)), verbose=bool(getattr(args, "verbose", False))
    )
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
        except RuntimeError as exc:
            # Qt stopped its loop under us: the display went away (X server or session ended).
            # The call's journal stays unfinished, so the next start offers to recover it.
            log.error("the window system stopped the application: %s", exc)
            print(
                "acs-console: the window system closed the application (was the display lost?). "
                "Any call in progress was autosaved; start the console again to recover it.",
                file=sys.stderr,
            )
            return 1


# --- acs-console --self-test -------------------------------------------------------------------
# The shipped artefact proves itself: the real window on the real runtime and embedded emulator,
# operated through its buttons as an operator would, down to a saved transcript read back.

SELF_TEST_TARGET = "+1 425 555 0100"
SELF_TEST_SPEED = 20.0  # emulator speed unless --speed says otherwise
SELF_TEST_TIMEOUT_S = 120.0
_T = TypeVar("_T")


class SelfTestFailed(Exception):
    """A self-test step that did not happen; the message says which and why."""


class _SelfTest:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.step = "starting the window"
        self.started = time.monotonic()
        self.secret = ""  # the emulator's access key, which must not reach the log

    def say(self, text: str) -> None:
        print(f"self-test [{time.monotonic() - self.started:5.2f} s] {text}", flush=True)

    async def wait(self, what: str, awaitable: Awaitable[_T]) -> _T:
        self.step = what
        return await awaitable

    async def until(self, what: str, predicate: Callable[[], _T | None]) -> _T:
        self.step = what
        while True:
            value = predicate()
            if value:
                return value
            await asyncio.sleep(0.02)

    async def operate(self, window: MainWindow) -> str:
        """Call, transcribe until a Final shows, stop, hang up, save JSON and read it back."""
        runtime = window.runtime
        if runtime is None:
            raise SelfTestFailed("the window has no call service")
        self.say(f"window up; resources from {resource_root()}")
        self.say(f"listeners {', '.join(runtime.addresses().values())}")

        calls = window.call_controls
        calls.target.setEditText(SELF_TEST_TARGET)
        if not calls.call_button.isEnabled():
            raise SelfTestFailed(
                f"the Call button stayed disabled for {SELF_TEST_TARGET}: {calls.hint.text()}"
            )
        calls.call_button.click()
        session = window.session
        if session is None:
            raise SelfTestFailed("clicking Call started no call")
        state = await self.wait(
            "the call to connect",
            session.wait_for(
                lambda s: s.call not in (CallState.IDLE, CallState.CONNECTING), SELF_TEST_TIMEOUT_S
            ),
        )
        if state.call is not CallState.CONNECTED:
            raise SelfTestFailed(
                f"the call did not connect: {state.last_error or state.call.value}"
            )
        self.say(f"call connected ({calls.state_label.text()})")

        toggle = window.transcription.toggle
        await self.until("Start transcription to be enabled", toggle.isEnabled)
        toggle.click()
        state = await self.wait(
            "transcription to start",
            session.wait_for(
                lambda s: (
                    s.transcription in (TranscriptionState.ACTIVE, TranscriptionState.FAILED)
                    or s.call is not CallState.CONNECTED
                ),
                SELF_TEST_TIMEOUT_S,
            ),
        )
        if state.transcription is not TranscriptionState.ACTIVE:
            raise SelfTestFailed(
                f"transcription did not start: {state.last_error or state.transcription.value}"
            )
        self.say(f"transcription on ({window.transcription.status.text()})")

        def first_final_shown() -> str | None:
            if session.state.call is not CallState.CONNECTED and not session.transcript.finals:
                raise SelfTestFailed(
                    f"the call ended before any Final arrived: {session.state.last_error or ''}"
                )
            if not session.transcript.finals:
                return None
            window.transcript_view.flush()
            words = " ".join(session.transcript.finals[0].text.split()[:3])
            panes = window.transcript_view.panes.values()
            return words if any(words in p.view.toPlainText() for p in panes) else None

        shown = await self.until("a Final in the transcript pane", first_final_shown)
        self.say(f"Final received and shown: {shown!r}…")

        if session.can_stop_transcription()[0]:
            toggle.click()
            await self.wait(
                "transcription to stop",
                session.wait_for(
                    lambda s: s.transcription is TranscriptionState.STOPPED, SELF_TEST_TIMEOUT_S
                ),
            )
        if session.state.call is CallState.CONNECTED:
            calls.hang_up_button.click()
        await self.wait(
            "the call to end",
            session.wait_for(
                lambda s: s.call in (CallState.DISCONNECTED, CallState.FAILED), SELF_TEST_TIMEOUT_S
            ),
        )
        self.say(f"call ended ({calls.state_label.text()})")

        self.step = "saving the transcript"
        saved = window.save_to(self.out, "json")
        if saved is None:
            raise SelfTestFailed(f"saving {self.out} failed (see the log)")
        try:
            reopened = load_json(saved)
        except (OSError, TranscriptFormatError) as exc:
            raise SelfTestFailed(
                f"the saved transcript {saved} cannot be read back: {exc}"
            ) from exc
        finals = [p.text for p in session.transcript.finals]
        if [p.text for p in reopened.finals] != finals:
            raise SelfTestFailed(f"{saved} does not hold the {len(finals)} Finals received")
        return f"{len(finals)} Final(s) received, saved and read back from {saved}"


@contextlib.asynccontextmanager
async def _self_test_runtime(
    args: argparse.Namespace, prefs: Preferences, secrets: SecretStore
) -> AsyncIterator[ConsoleRuntime]:
    started = False
    try:
        async with open_runtime(args, prefs, secrets) as runtime:
            started = True
            yield runtime
    except (OSError, ValueError, ListenerError) as exc:  # a port taken, a bad scenario
        if started:
            raise
        raise SelfTestFailed(f"the emulator or listeners could not start: {exc}") from exc


async def _run_self_test(args: argparse.Namespace, test: _SelfTest) -> str:
    close_event = asyncio.Event()
    shown: asyncio.Future[MainWindow] = asyncio.get_running_loop().create_future()
    gui = asyncio.ensure_future(
        run_gui(
            args,
            close_event=close_event,
            runtime_factory=_self_test_runtime,
            on_window=shown.set_result,
        )
    )
    failure: BaseException | None = None
    result = ""
    try:
        await asyncio.wait({gui, shown}, return_when=asyncio.FIRST_COMPLETED)
        if not shown.done():
            gui.result()  # raises what kept the window from opening
            raise SelfTestFailed("the window closed before it was shown")
        window = shown.result()
        if window.runtime is not None:
            test.secret = _access_key(window.runtime.profile.connection_string)
        async with asyncio.timeout(SELF_TEST_TIMEOUT_S):
            result = await test.operate(window)
    except TimeoutError:
        failure = SelfTestFailed(
            f"timed out after {SELF_TEST_TIMEOUT_S:.0f} s waiting for {test.step}"
        )
    except BaseException as exc:
        failure = exc
    # Closing is part of the test: the window, runtime and emulator must all stop cleanly.
    close_event.set()
    done, _ = await asyncio.wait({gui}, timeout=30)
    closing_error = gui.exception() if done and not gui.cancelled() else None
    if failure is not None:
        raise failure
    if not done:
        gui.cancel()
        raise SelfTestFailed("the console did not shut down within 30 s")
    if closing_error is not None:
        raise SelfTestFailed(f"closing the console failed: {closing_error!r}") from closing_error
    return result


def _access_key(connection_string: str) -> str:
    for part in connection_string.split(";"):
        name, _, value = part.partition("=")
        if name.strip().lower() == "accesskey":
            return value.strip()
    return ""


def self_test(args: argparse.Namespace) -> int:
    """``acs-console --self-test``: exit 0 when an operator's whole path works, else 1 with the
    reason on stderr. Offscreen unless ``QT_QPA_PLATFORM`` asks for a display. Without
    ``--data-dir`` it works in a temporary folder, removed after a pass, kept after a failure."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    scratch: Path | None = None
    try:
        if args.data_dir is None:  # nothing lands in the operator's own folders
            scratch = Path(tempfile.mkdtemp(prefix="acs-console-self-test-"))
            args.data_dir = scratch
        else:
            args.data_dir = prepare_data_dir(args.data_dir)
    except (ConfigError, OSError) as exc:
        return _failed(str(exc), None)
    args.profile = "local"  # never a real ACS resource
    if getattr(args, "speed", 1.0) == 1.0:
        args.speed = SELF_TEST_SPEED
    args.log_path = install_file_log(log_dir(args.data_dir), verbose=bool(args.verbose))
    test = _SelfTest(args.data_dir / "self-test.json")
    app = make_application()
    try:
        with asyncio.Runner(loop_factory=lambda: qasync.QEventLoop(app)) as runner:
            result = runner.run(_run_self_test(args, test))
        result = _check_log(args.log_path, test.secret, result)
    except SelfTestFailed as exc:
        return _failed(str(exc), args.log_path)
    except Exception as exc:  # whatever broke, the exit code and stderr must say so
        log.exception("self-test failed")
        return _failed(f"{type(exc).__name__}: {exc}", args.log_path)
    if scratch is not None:
        _close_file_log(args.log_path)
        shutil.rmtree(scratch, ignore_errors=True)
        result += " (a temporary folder, now removed)"
    print(f"self-test passed in {time.monotonic() - test.started:.1f} s: {result}", flush=True)
    return 0


def _check_log(path: Path | None, secret: str, result: str) -> str:
    if path is None:
        raise SelfTestFailed("no log file could be written")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise SelfTestFailed(f"the log {path} is empty")
    if secret and secret in text:
        raise SelfTestFailed(f"the log {path} holds the access key")
    return f"{result}; log {path}"


def _close_file_log(path: Path | None) -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path:
            root.removeHandler(handler)
            handler.close()


def _failed(reason: str, log_path: Path | None) -> int:
    where = f" (log: {log_path})" if log_path else ""
    print(f"acs-console self-test FAILED: {reason}{where}", file=sys.stderr, flush=True)
    return 1
