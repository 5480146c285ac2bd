"""Crash capture: a native crash, an exception in a Qt slot or in a worker thread leaves a trace
in the log folder, and the next start says so once in the event log."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from console.crash import FAULT_PREFIX, REPORTED_PREFIX, CrashCapture
from console.ui.application import run_gui
from console.ui.main_window import MainWindow
from tests.gui.conftest import wait_until
from tests.gui.test_app_recovery import _args

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, logs: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LOGS": str(logs)}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_native_crash_of_the_window_leaves_a_report_that_the_next_start_finds_once(
    tmp_path: Path,
) -> None:
    # The real entry point, with the window replaced by a segmentation fault.
    crashed = _python(
        """
        import faulthandler, os, sys
        from pathlib import Path
        import console.app as app

        async def crash(*args, **kwargs):
            faulthandler._sigsegv()

        app.run_gui = crash
        sys.exit(app.main(__import__("argparse").Namespace(
            data_dir=Path(os.environ["LOGS"]).parent, verbose=False)))
        """,
        tmp_path / "logs",
    )
    assert crashed.returncode != 0
    (fault,) = (tmp_path / "logs").glob(f"{FAULT_PREFIX}*.log")
    report = fault.read_text()
    assert "Segmentation fault" in report
    assert "Current thread" in report or "Thread" in report  # the Python stack of each thread

    first = CrashCapture(tmp_path / "logs")
    (crash,) = first._collect_previous()
    assert crash.path.name.startswith(REPORTED_PREFIX)
    assert crash.path.read_text() == report  # kept, under its reported name
    assert str(crash.path) in crash.text
    assert not fault.exists()
    assert CrashCapture(tmp_path / "logs")._collect_previous() == []  # reported once


def test_a_clean_exit_leaves_no_crash_file(tmp_path: Path) -> None:
    done = _python(
        """
        import os
        from pathlib import Path
        from console.crash import CrashCapture
        capture = CrashCapture.install(Path(os.environ["LOGS"]))
        capture.close()
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert list(tmp_path.glob(f"{FAULT_PREFIX}*")) == []
    assert CrashCapture(tmp_path)._collect_previous() == []


def test_exceptions_in_a_qt_slot_and_a_worker_thread_are_logged_with_their_traceback(
    tmp_path: Path,
) -> None:
    done = _python(
        """
        import logging, os, threading
        from pathlib import Path
        from PySide6.QtCore import QTimer
        from console.crash import CrashCapture
        from console.logs import install_file_log
        from console.ui import qtlog
        from console.ui.application import make_application

        logs = Path(os.environ["LOGS"])
        install_file_log(logs)
        capture = CrashCapture.install(logs)
        qtlog.install()
        app = make_application()

        def slot_fails():
            raise ValueError("broken slot 1234")

        def worker_fails():
            raise KeyError("broken worker 5678")

        thread = threading.Thread(target=worker_fails, name="decoder")
        thread.start()
        thread.join()
        QTimer.singleShot(0, slot_fails)
        from PySide6.QtWidgets import QVBoxLayout, QWidget
        widget = QWidget()
        QVBoxLayout(widget).addWidget(widget)  # Qt warns about this
        QTimer.singleShot(200, app.quit)
        app.exec()
        capture.close()
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "acs-console.log").read_text()
    assert "uncaught exception" in text
    assert "ValueError: broken slot 1234" in text
    assert "in slot_fails" in text  # the traceback, not just the message
    assert "uncaught exception in decoder" in text
    assert "KeyError: 'broken worker 5678'" in text
    assert "WARNING qt: QLayout: Cannot add parent widget" in text  # Qt's own message


async def test_the_next_start_reports_the_crash_in_the_event_log(
    app: QApplication, tmp_path: Path
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / f"{FAULT_PREFIX}999999999.log").write_text("Fatal Python error: Segmentation fault\n")
    crashes = CrashCapture(logs)._collect_previous()
    close = asyncio.Event()
    windows: list[MainWindow] = []
    run = asyncio.ensure_future(
        run_gui(_args(tmp_path), close_event=close, on_window=windows.append, crashes=crashes)
    )
    try:
        await wait_until(lambda: windows, what="the window")
        log = windows[0].event_log
        rows = [log.topLevelItem(i) for i in range(log.topLevelItemCount())]
        (row,) = [r for r in rows if r.text(1).endswith("The console crashed")]
        assert row.data(0, Qt.ItemDataRole.UserRole) == "error"
        assert str(crashes[0].path) in row.text(2)
    finally:
        close.set()
        assert await asyncio.wait_for(run, 15) == 0
    for window in windows:
        window.hide()
        window.deleteLater()
