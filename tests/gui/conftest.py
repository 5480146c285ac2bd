"""GUI test setup: async tests run on a qasync loop inside the Qt event loop.

``pytest_asyncio_loop_factories`` gives pytest-asyncio a loop factory for tests in this folder,
so ``async def`` tests can drive the real window while the embedded listeners, the SDK and the
emulator run on the same loop, as they do in the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.call.state import CallState, TranscriptionState
from console.config import Preferences, Profile
from console.emulator.server import Emulator, EmulatorConfig
from console.runtime import ConsoleRuntime
from console.session import CallSession
from console.ui.main_thread_gc import MainThreadCollector
from console.ui.main_window import MainWindow
from console.ui.theme import apply_theme

# The offscreen platform has no window manager; it says so for hints it cannot pass on.
_OFFSCREEN_NOISE = r"This plugin does not support"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.qt_log_ignore(_OFFSCREEN_NOISE))


def _application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(["acs-console-tests"])
    return app


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, Any]:
    return {"qasync": lambda: qasync.QEventLoop(_application())}


@pytest.fixture(scope="package", autouse=True)
def main_thread_gc(qapp: QApplication) -> Iterator[MainThreadCollector]:
    """Cycles are collected on the GUI thread while these tests run, as in the application
    (a worker thread collecting a window's leftovers crashes Qt later); afterwards Python
    collects as usual again for the tests that have no Qt loop."""
    collector = MainThreadCollector.install(qapp)
    yield collector
    collector.stop()


@pytest.fixture
def app(qapp: QApplication) -> QApplication:
    apply_theme(qapp, "light")
    return qapp


async def wait_until(
    predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition"
) -> Any:
    """Let the loop run until ``predicate()`` is truthy (GUI and network keep running)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@dataclass
class Console:
    emulator: Emulator
    runtime: ConsoleRuntime
    window: MainWindow
    data_dir: Path


async def place_and_transcribe(console: Console, qtbot: Any, target: str) -> CallSession:
    """Type the target, click Call, wait for Connected, click Start transcription."""
    w = console.window
    cc = w.call_controls
    qtbot.keyClicks(cc.target.lineEdit(), target)
    qtbot.mouseClick(cc.call_button, Qt.MouseButton.LeftButton)
    session = w.session
    assert session is not None
    await wait_until(lambda: session.state.call is CallState.CONNECTED, what="connected")
    await wait_until(w.transcription.toggle.isEnabled, what="Start enabled")
    qtbot.mouseClick(w.transcription.toggle, Qt.MouseButton.LeftButton)
    await wait_until(
        lambda: session.state.transcription is TranscriptionState.ACTIVE, what="transcribing"
    )
    return session


@contextlib.asynccontextmanager
async def running_console(
    data_dir: Path, *, scenario: str = "support-call", speed: float = 8.0
) -> AsyncIterator[Console]:
    """The real window on a real runtime, talking to a real emulator through the SDK.

    Used as ``async with`` inside the test body: everything is shut down while the test's
    loop still runs (pytest-qt processes Qt events after the test, when the qasync loop no
    longer runs, so nothing may be left in flight by then).
    """
    cfg = EmulatorConfig(
        data_dir=data_dir / "emulator", scenario=scenario, speed=speed, answer_delay=0.5
    )
    async with Emulator(cfg) as emu:
        profile = Profile.local(emu.info(), speed=speed)
        async with ConsoleRuntime(profile, data_dir=data_dir) as runtime:
            window = MainWindow(runtime, prefs=Preferences(), data_dir=data_dir)
            window.show()
            try:
                yield Console(emu, runtime, window, data_dir)
            finally:
                await window.tasks.wait()
                for entry in window.calls.live():
                    with contextlib.suppress(Exception):
                        await entry.session.hang_up()
                    with contextlib.suppress(TimeoutError):
                        await entry.session.wait_for(lambda s: s.call.value != "disconnecting", 5)
                window.shutdown()
                window.hide()
                window.deleteLater()
