"""Settings ▸ Test connection: the checks of ``acs-console doctor`` on the values of the
Connection page (saved or not), run through the running console's own listeners, shown as
``PASS|WARN|FAIL`` lines with the fix for each failure."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from console.config import Preferences
from console.doctor.live import EventGridView
from console.doctor.result import FAIL, PASS, DoctorReport
from console.ui.theme import current_scheme

log = logging.getLogger(__name__)

CHECK_NOTE = (
    "The checks of <code>acs-console doctor</code>, on the values of the Connection page (saved "
    "or not): the connection string, the endpoint and its access key, the AI resource, and "
    "whether the public URLs reach this console's listeners (the probe goes out through the "
    "tunnel and must come back here)."
)


class ConnectionTester(Protocol):
    """What the dialog needs from the running console (``console.doctor.live.LiveDoctor``)."""

    def eventgrid(self, public_callback_base: str) -> EventGridView: ...

    def rotate_eventgrid(self, public_callback_base: str) -> EventGridView: ...

    async def run(
        self, prefs: Preferences, connection_string: str | None = None
    ) -> DoctorReport: ...


# The form's preferences and the connection string typed (maybe empty), when the check starts.
FormValues = Callable[[], tuple[Preferences, str]]


class ConnectionCheckPage(QGroupBox):
    def __init__(
        self, parent: QWidget | None, tester: ConnectionTester | None, form: FormValues
    ) -> None:
        super().__init__("Connection check", parent)
        self._tester = tester
        self._form = form
        self._task: asyncio.Task[None] | None = None
        self.last_report: DoctorReport | None = None
        s = current_scheme()
        cl = QVBoxLayout(self)
        about = QLabel(CHECK_NOTE, self)
        about.setWordWrap(True)
        about.setTextFormat(Qt.TextFormat.RichText)
        about.setStyleSheet(f"color: {s.muted};")
        cl.addWidget(about)
        check_row = QHBoxLayout()
        self.test_button = QPushButton("&Test connection", self)
        self.test_button.setAccessibleName("Test connection")
        self.test_button.setToolTip(
            "Run the checks of 'acs-console doctor' on the values of the Connection page, "
            "through this console's own listeners."
        )
        self.test_button.clicked.connect(self.test_connection)
        self.test_status = QLabel("", self)
        self.test_status.setWordWrap(True)
        self.test_status.setStyleSheet(f"color: {s.muted};")
        check_row.addWidget(self.test_button)
        check_row.addWidget(self.test_status, 1)
        cl.addLayout(check_row)
        self.test_results = QTextBrowser(self)
        self.test_results.setAccessibleName("Connection check results")
        self.test_results.setOpenLinks(False)
        self.test_results.setMinimumHeight(220)
        self.test_results.setPlaceholderText("The results appear here, one line per check.")
        cl.addWidget(self.test_results, 1)
        if tester is None:
            self.test_button.setEnabled(False)
            self.test_status.setText("Available while the console is running.")

    def test_connection(self) -> asyncio.Task[None] | None:
        """Run the checks on the form's values (the task, for callers that wait for it)."""
        if self._tester is None or self._task is not None:
            return None
        prefs, typed = self._form()
        self.test_button.setEnabled(False)
        self.test_status.setText("Checking… (up to a few seconds per unreachable address)")
        run = self._run(prefs, typed.strip() or None)
        self._task = asyncio.get_event_loop().create_task(run)
        return self._task

    async def _run(self, prefs: Preferences, typed: str | None) -> None:
        assert self._tester is not None
        try:
            report = await self._tester.run(prefs, typed)
        except asyncio.CancelledError:
            raise  # the dialog closed: there is nothing left to show it in
        except Exception as exc:  # a bug in a check must not take the dialog down
            log.exception("the connection check failed")
            self._finished()
            self.test_status.setText(f"The check itself failed ({exc.__class__.__name__}).")
            return
        self._finished()
        self.show_report(report)

    def _finished(self) -> None:
        self._task = None
        self.test_button.setEnabled(True)

    def cancel(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()

    def show_report(self, report: DoctorReport) -> None:
        self.last_report = report
        s = current_scheme()
        colours = {PASS: s.ok, FAIL: s.bad}
        rows = []
        for r in report.checks:
            colour = colours.get(r.status, s.warn_line)
            row = (
                f'<b style="color:{colour}">{r.status}</b> {html.escape(r.check)}: '
                f"{html.escape(r.detail)}"
            )
            if r.status == FAIL and r.fix:
                row += f'<br><span style="color:{s.muted}">&nbsp;&nbsp;&nbsp;&nbsp;fix: '
                row += f"{html.escape(r.fix)}</span>"
            rows.append(f'<p style="margin:0 0 4px 0">{row}</p>')
        self.test_results.setHtml("".join(rows))
        failures = sum(r.status == FAIL for r in report.checks)
        self.test_status.setText(
            f"{failures} check(s) failed: see the fixes below."
            if failures
            else "Every check passed (warnings are listed)."
        )
