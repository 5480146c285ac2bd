"""The main window without a call: keyboard reach, accessible names, copy, theme changes."""

from __future__ import annotations

import time
from itertools import pairwise
from pathlib import Path

from PySide6.QtGui import QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QLineEdit,
)

from console.acs.streaming import TICKS_PER_SECOND, ResultStatus, TranscriptionData
from console.config import Preferences
from console.transcript.model import Transcript
from console.ui.main_window import MainWindow
from console.ui.theme import apply_theme


def _window(qtbot, tmp_path: Path) -> MainWindow:
    window = MainWindow(None, prefs=Preferences(), data_dir=tmp_path)
    qtbot.addWidget(window)
    window.show()
    return window


def test_every_action_has_a_distinct_shortcut_shown_in_its_menu(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    w = _window(qtbot, tmp_path)
    required = [
        w.acts.call, w.acts.hang_up, w.acts.answer, w.acts.decline, w.acts.transcribe,
        w.acts.locale,
        w.acts.save, w.acts.open, w.acts.copy, w.acts.settings, w.acts.find, w.acts.live,
        w.acts.combined, w.acts.by_speaker, w.acts.target, w.acts.dialpad, w.acts.log,
    ]  # fmt: skip
    keys = [a.shortcut().toString() for a in required]
    assert all(keys), [a.text() for a in required if a.shortcut().isEmpty()]
    assert len(set(keys)) == len(keys)
    in_menus = {a for menu in w.menuBar().actions() for a in menu.menu().actions()}
    assert set(required) <= in_menus
    assert w.acts.save.shortcut() == QKeySequence(QKeySequence.StandardKey.Save)
    assert w.acts.find.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)


def test_controls_have_accessible_names_and_a_sensible_focus_order(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    w = _window(qtbot, tmp_path)
    unnamed = [
        (type(c).__name__, getattr(c, "text", lambda: "")())
        for kind in (QAbstractButton, QLineEdit, QComboBox)
        for c in w.findChildren(kind)
        if c.isVisibleTo(w)
        and not c.accessibleName()
        and not (isinstance(c, QAbstractButton) and c.text())
        and not (isinstance(c, QLineEdit) and isinstance(c.parent(), QComboBox))
    ]
    assert unnamed == []
    cc, tc = w.call_controls, w.transcription
    chain = [cc.target, cc.dial_button, cc.call_button, cc.hang_up_button, tc.toggle, tc.locale]
    for before, after in pairwise(chain):
        seen = before
        for _ in range(6):  # a combo's own line edit may sit in between
            seen = seen.nextInFocusChain()
            if seen is after:
                break
        assert seen is after, (before.accessibleName(), after.accessibleName())


def test_disabled_transcription_toggle_says_why(app: QApplication, qtbot, tmp_path: Path) -> None:
    w = _window(qtbot, tmp_path)
    assert not w.transcription.toggle.isEnabled()
    assert w.transcription.toggle.toolTip() == "Place or answer a call first."
    assert not w.acts.transcribe.isEnabled()


def test_copy_transcript_puts_the_whole_text_on_the_clipboard(
    app: QApplication, qtbot, tmp_path: Path
) -> None:
    w = _window(qtbot, tmp_path)
    t = Transcript(call_started_at=time.time())
    w.transcript_view.set_transcript(t)
    for i, text in enumerate(("Good morning.", "Morning, how can I help?")):
        t.apply_packet(
            TranscriptionData(
                text,
                f"4:+1425555010{i}",
                ResultStatus.FINAL,
                (1 + 3 * i) * TICKS_PER_SECOND,
                TICKS_PER_SECOND,
                0.9,
            ),
            received_at=time.time(),
        )
    w.acts.copy.trigger()
    copied = QGuiApplication.clipboard().text()
    assert "Good morning." in copied
    assert "Morning, how can I help?" in copied
    assert "+14255550101" in copied


def test_switching_to_dark_retints_icons(app: QApplication, qtbot, tmp_path: Path) -> None:
    w = _window(qtbot, tmp_path)

    def darkest_ink() -> int:
        image = w.call_controls.dial_button.icon().pixmap(24, 24).toImage()
        inks = [
            image.pixelColor(x, y).lightness()
            for x in range(image.width())
            for y in range(image.height())
            if image.pixelColor(x, y).alpha() > 200
        ]
        return min(inks)

    light_ink = darkest_ink()
    try:
        w.settings.apply(Preferences(theme="dark"))
        assert darkest_ink() > light_ink + 100  # light ink on a dark window
    finally:
        apply_theme(app, "light")
        w.settings.retheme()


def test_an_unanswered_call_becomes_a_missed_call(app: QApplication, qtbot, tmp_path: Path) -> None:
    from console.acs.events import IncomingCall

    w = _window(qtbot, tmp_path)
    w.banner.RING_TIMEOUT_MS = 50
    w.ring(IncomingCall(from_raw_id="4:+15550100142", caller_display_name="Dana Whitfield"))
    assert w.banner.isVisible()
    assert w.banner.label.text() == "Incoming call from Dana Whitfield (+15550100142)"
    qtbot.waitUntil(lambda: not w.banner.isVisible(), timeout=2000)
    assert w.event_log.rows()[-1][:2] == ("warning", "Missed call")
