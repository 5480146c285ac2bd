"""``acs-console --self-test``: the shipped artefact proves itself.

The real window on the real runtime and embedded emulator, operated through its buttons as an
operator would, down to a saved transcript read back.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import qasync

from console.config import ConfigError, Preferences, SecretStore, prepare_data_dir
from console.launch import open_runtime
from console.listener.common import ListenerError
from console.logs import install_file_log
from console.resources import log_dir, resource_root
from console.runtime import ConsoleRuntime
from console.session import CallState, TranscriptionState
from console.transcript.export import TranscriptFormatError, load_json
from console.ui.application import make_application, run_gui
from console.ui.main_window import MainWindow

log = logging.getLogger(__name__)


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
        saved = window.files.save_to(self.out, "json")
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
