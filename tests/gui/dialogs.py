"""Operating the real modal dialogs from a test, as an operator would: type into them, pick, press.

A modal dialog runs its own event loop, so the steps are queued first and done from a timer
while it is open: ``with operate(type_name("call.vtt"), press_yes()): window.acts.save.trigger()``.
Inside an async test, use :func:`from_the_loop` instead.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from console.ui.save_all_dialog import SaveAllDialog
from console.ui.save_dialog import SaveDialog
from tests.gui.conftest import wait_until

Step = Callable[[QWidget], bool]  # gets the modal widget on top; True when it was its kind


def type_name(
    name: str,
    *,
    file_type: str | None = None,
    redact: bool | None = None,
    seen_redact: list[tuple[bool, bool]] | None = None,
) -> Step:
    """In the save dialog: choose a "Files of type" filter (optional), tick or clear "Redact
    personal data" (optional; ``seen_redact`` notes its (checked, enabled) as found), type a
    file name, press Save."""

    tries: list[str] = []  # what the dialog held each time it did not take the name

    def step(modal: QWidget) -> bool:
        if not isinstance(modal, SaveDialog):
            return False
        box = modal.findChild(QCheckBox, "redactCheck")
        assert box is not None
        if seen_redact is not None and not tries:
            seen_redact.append((box.isChecked(), box.isEnabled()))
        if redact is not None and box.isChecked() != redact:
            box.click()
        if file_type is not None:
            combo = modal.findChild(QComboBox, "fileTypeCombo")
            assert combo is not None
            index = combo.findText(file_type)
            assert index >= 0, file_type
            combo.setCurrentIndex(index)
            combo.activated.emit(index)
        edit = modal.findChild(QLineEdit, "fileNameEdit")
        assert edit is not None
        # As an operator does: go to the folder, then type the file's name (a whole path typed
        # into Qt's dialog races its folder listing and completion under load).
        folder, typed = os.path.split(name)
        if folder and Path(modal.directory().path()) != Path(folder):
            modal.setDirectory(folder)
        edit.setFocus()
        edit.selectAll()
        QTest.keyClicks(edit, typed)  # as typed: the filter follows the suffix on the way
        completer = edit.completer()
        if completer is not None and completer.popup().isVisible():
            completer.popup().hide()  # the folder's completion list, done with
        # Press Save: a completion list coming up as the folder loads would take a Return.
        buttons = modal.findChild(QDialogButtonBox, "buttonBox")
        save = buttons.button(QDialogButtonBox.StandardButton.Save) if buttons else None
        assert save is not None
        if save.isEnabled():
            save.click()
            if not modal.isVisible():
                return True
        # Save disabled, or the name not taken: the dialog is still loading its folder (its
        # state follows the folder's listing). Type it again on a later tick, as a user would.
        state = "not taken" if save.isEnabled() else "Save disabled"
        tries.append(f"{state}: {edit.text()!r} in {modal.directory().path()!r}")
        assert len(tries) < 100, f"the save dialog did not take {name!r}: {tries[-3:]}"
        return False

    return step


def save_all_into(folder: str, fmt: str, seen: list[str] | None = None) -> Step:
    """In the Save all dialog: type the folder, pick the format by its code, note the file
    names it shows, press Save."""

    def step(modal: QWidget) -> bool:
        if not isinstance(modal, SaveAllDialog):
            return False
        edit = modal.findChild(QLineEdit, "folderEdit")
        combo = modal.findChild(QComboBox, "formatCombo")
        assert edit is not None
        assert combo is not None
        edit.selectAll()
        QTest.keyClicks(edit, folder)
        index = combo.findData(fmt)
        assert index >= 0, fmt
        combo.setCurrentIndex(index)
        if seen is not None:
            seen.extend(modal.file_names())
        buttons = modal.findChild(QDialogButtonBox)
        assert buttons is not None
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        assert save is not None
        save.click()
        return True

    return step


def cancel_dialog() -> Step:
    def step(modal: QWidget) -> bool:
        if not isinstance(modal, SaveDialog):
            return False
        modal.reject()
        return True

    return step


def answer(button: QMessageBox.StandardButton, seen: list[str] | None = None) -> Step:
    """In a question box: press ``button`` (and note the question asked)."""

    def step(modal: QWidget) -> bool:
        if not isinstance(modal, QMessageBox):
            return False
        if seen is not None:
            seen.append(modal.text())
        pressed = modal.button(button)
        assert pressed is not None, f"no {button} in {modal.text()!r}"
        pressed.click()
        return True

    return step


def click(text: str, *, title: str | None = None, says: str = "") -> Step:
    """In a message box (titled ``title``, saying ``says``): press the button labelled
    ``text``."""

    def step(modal: QWidget) -> bool:
        if not isinstance(modal, QMessageBox) or title not in (None, modal.windowTitle()):
            return False
        assert says in modal.text(), modal.text()
        (button,) = [b for b in modal.buttons() if b.text().replace("&", "") == text]
        button.click()
        return True

    return step


STUCK_S = 30.0  # a dialog open this long with no step taking it is closed, and the test fails


def describe(modal: QWidget) -> str:
    """What an operator would see in a dialog: its kind, title, text and name field."""
    parts = [type(modal).__name__, repr(modal.windowTitle())]
    if isinstance(modal, QMessageBox):
        parts.append(repr(modal.text()))
    edit = modal.findChild(QLineEdit, "fileNameEdit")
    if edit is not None:
        parts.append(f"name field {edit.text()!r}")
    return " ".join(parts)


@contextlib.contextmanager
def operate(*steps: Step) -> Iterator[list[Step]]:
    """Do ``steps`` in order, each on the next modal widget that opens; fails the test if any
    step is left when the block ends, if a step fails, or if a dialog stays open with no step
    for it (the dialog is then closed, so the test fails instead of hanging)."""
    pending = list(steps)
    problems: list[str] = []
    seen: dict[int, float] = {}  # id of each open modal -> when first seen
    timer = QTimer()
    timer.setInterval(20)

    def give_up(modal: QWidget, why: str) -> None:
        problems.append(f"{why}: {describe(modal)}")
        modal.close()
        if isinstance(modal, QDialog):
            modal.reject()

    def tick() -> None:
        modal = QApplication.activeModalWidget()
        if modal is None or not modal.isVisible():
            return
        since = seen.setdefault(id(modal), time.monotonic())
        if not pending:
            if time.monotonic() - since > STUCK_S:
                give_up(modal, "a dialog no step expected stayed open")
            return
        try:
            taken = pending[0](modal)
        except Exception as exc:
            pending.pop(0)
            give_up(modal, f"a step failed ({exc!r})")
            return
        if taken:
            pending.pop(0)
            seen.pop(id(modal), None)
        elif time.monotonic() - since > STUCK_S:
            give_up(modal, "no step took this dialog")

    timer.timeout.connect(tick)
    timer.start()
    try:
        yield pending
    finally:
        timer.stop()
    assert not problems, "; ".join(problems)
    assert not pending, f"{len(pending)} dialog step(s) never happened"


async def from_the_loop(
    action: Callable[[], object], *steps: Step, what: str = "the dialog"
) -> None:
    """Run ``action`` from the Qt loop, as a click would, doing ``steps`` in the dialogs it opens.

    A modal dialog's own loop must not run inside the test's task: the loop would go on
    resuming other tasks while this one is still executing, which asyncio refuses (and those
    tasks then never wake again)."""
    finished: list[bool] = []

    def run() -> None:
        try:
            action()
        finally:
            finished.append(True)

    with operate(*steps) as pending:
        QTimer.singleShot(0, run)
        try:
            await wait_until(lambda: finished, what=what)
        except AssertionError:
            modal = QApplication.activeModalWidget()
            still = f"{type(modal).__name__} {modal.windowTitle()!r}" if modal else "nothing"
            raise AssertionError(
                f"{what} did not finish: {still} open, {len(pending)} step(s) not done"
            ) from None
    assert not pending, f"{len(pending)} dialog step(s) never happened in {what}"
