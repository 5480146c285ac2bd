"""Render the main window's key states to PNG files: ``python -m console.ui.screenshots OUT_DIR``.

Used to review the look (idle, a call with three speakers, a low-confidence highlight, the
dark theme) without a display. The content is a fixed, made-up call fed straight into the
transcript model; no network is involved.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPoint
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QApplication, QLabel

from console.acs.intelligence import IntelligenceSettings
from console.acs.streaming import (
    TICKS_PER_SECOND,
    ResultStatus,
    TranscriptionData,
)
from console.config import Preferences
from console.session import (
    CallSession,
    CallState,
    Notice,
    SessionState,
    TranscriptionState,
)
from console.ui.main_thread_gc import MainThreadCollector
from console.ui.main_window import MainWindow
from console.ui.theme import apply_theme, current_scheme

AGENT = "8:acs:7c2f3e1a-9b4d-4e8f-a1c3-5d6e7f809a1b_00000021-4f3a-8b2c-9d0e-51c2a7"
CUSTOMER = "4:+14255550142"
SUPERVISOR = "8:orgid:3f9a1c2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"
BILLING = "8:orgid:7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d"
FOURTH: tuple[tuple[str, float, str, float], ...] = (
    (BILLING, 37.0, "Billing here. The second payment is still pending, so it can be voided.", 0.9),
    (BILLING, 42.0, "I've voided it; it won't appear on the next statement.", 0.93),
)

SCRIPT: tuple[tuple[str, float, str, float], ...] = (
    (AGENT, 1.5, "Thank you for calling Contoso Internet, this is Priya. How can I help?", 0.95),
    (CUSTOMER, 6.0, "Hi. I think I was charged twice this month for my internet plan.", 0.88),
    (AGENT, 11.0, "I'm sorry to hear that. May I have the account number, please?", 0.94),
    (CUSTOMER, 16.0, "Sure, it's four four seven two, nine one zero, eight three.", 0.58),
    (SUPERVISOR, 21.5, "Priya, I'm listening in. Check the card update log first.", 0.91),
    (AGENT, 25.0, "Thank you. And can you confirm the name on the account?", 0.92),
    (CUSTOMER, 29.0, "Dana Whitfield. That's W H I T F I E L D.", 0.46),
    (
        AGENT,
        34.0,
        "I can see two payments of fifty nine ninety nine, on the third and fifth.",
        0.93,
    ),
    (SUPERVISOR, 40.0, "That's the duplicate. You can refund the second one.", 0.9),
    (CUSTOMER, 44.5, "Right, exactly. I only expected the one on the third.", 0.71),
)


class _DemoRuntime:
    """What the status bar shows about a running console; nothing else."""

    class _Profile:
        label = "Local emulator"

    class _Stats:
        packets_received = 1284
        packets_rejected = 0
        auth_rejected = 0
        streams_open = 1
        events_received = 9

    profile = _Profile()
    intelligence = IntelligenceSettings()

    def addresses(self) -> dict[str, str]:
        return {
            "callbacks": "http://127.0.0.1:47510/api/callbacks",
            "transcripts": "ws://127.0.0.1:47511/ws",
        }

    def stats(self) -> Any:
        return self._Stats()

    def on_incoming_call(self, callback: Any) -> Any:
        return lambda: None


def _packet(
    raw_id: str,
    text: str,
    start: float,
    final: bool,
    conf: float | None,
    sentiment: str | None = None,
    language: str | None = None,
) -> Any:
    duration = int(len(text.split()) / 2.6 * TICKS_PER_SECOND)
    status = ResultStatus.FINAL if final else ResultStatus.INTERMEDIATE
    return TranscriptionData(
        text,
        raw_id,
        status,
        int(start * TICKS_PER_SECOND),
        duration,
        conf if final else None,
        sentiment=sentiment,
        language=language,
    )


# The support call with the service's sentiment per Final, a phrase identified as Spanish, a
# phrase alert and a negative streak: the call intelligence screenshot.
INTELLIGENT: tuple[tuple[str, float, str, float, str, str], ...] = (
    (
        AGENT,
        1.5,
        "Thank you for calling Contoso Internet, this is Priya. How can I help?",
        0.95,
        "positive",
        "en-US",
    ),
    (
        CUSTOMER,
        6.0,
        "I was charged twice this month and nobody has called me back.",
        0.88,
        "negative",
        "en-US",
    ),
    (
        AGENT,
        11.0,
        "I'm sorry to hear that. May I have the account number, please?",
        0.94,
        "neutral",
        "en-US",
    ),
    (
        CUSTOMER,
        16.0,
        "This is the third time. I want to speak to a supervisor.",
        0.86,
        "negative",
        "en-US",
    ),
    (
        SUPERVISOR,
        20.5,
        "Priya, I'm listening in. Check the card update log first.",
        0.91,
        "mixed",
        "en-US",
    ),
    (
        CUSTOMER,
        25.0,
        "Perdón, mi esposo pregunta si el reembolso llega esta semana.",
        0.82,
        "negative",
        "es-ES",
    ),
    (
        AGENT,
        30.0,
        "I can see two payments of fifty nine ninety nine, on the third and fifth.",
        0.93,
        "neutral",
        "en-US",
    ),
    (CUSTOMER, 36.0, "If this happens again I will cancel my account.", 0.9, "negative", "en-US"),
    (
        AGENT,
        41.0,
        "I've refunded the second one; you'll see it within three days.",
        0.95,
        "positive",
        "en-US",
    ),
    (CUSTOMER, 45.5, "Okay. Thank you, that's a relief.", 0.92, "positive", "en-US"),
)


def _intelligent_call(window: MainWindow) -> None:
    """A call with sentiment, language identification and alerts on, as the service and the
    console's own alerts and insights would show it."""
    session = _in_call(window, script=False)
    session.intelligence = IntelligenceSettings(("en-US", "es-ES"), sentiment=True)
    t = session.transcript
    started = t.call_started_at or time.time()
    for raw_id, start, text, conf, sentiment, language in INTELLIGENT:
        packet = _packet(raw_id, text, start, True, conf, sentiment, language)
        change = t.apply_packet(packet, received_at=started + start + 2)
        if change is not None:
            session._analyse(change.phrase)  # the insights and alerts, as intake does
    entry = window.calls.entry_of(session)
    window._show_call(entry)  # bound again, with the alerts and insights it has now
    window.transcript_view.flush()


def _window(app: QApplication, theme: str, data_dir: Path) -> MainWindow:
    apply_theme(app, theme)
    prefs = Preferences(theme=theme, recent_targets=["+14255550142", "+442079460958"])
    window = MainWindow(_DemoRuntime(), prefs=prefs, data_dir=data_dir)  # type: ignore[arg-type]
    window.resize(1440, 900)
    window.show()
    return window


def _in_call(window: MainWindow, *, names: bool = True, script: bool = True) -> CallSession:
    now = time.time()
    started = now - 47
    session = CallSession(None, None, default_locale="en-US")  # type: ignore[arg-type]
    window.session = session
    window.transcript_view.set_transcript(session.transcript)
    t = session.transcript
    t.call_started_at = started
    t.add_marker("call_connected", started, CUSTOMER)
    t.add_marker("transcription_started", started + 1, "en-US")
    t.set_locale_confirmed("en-US", started + 1)
    if names:
        t.learn_participants(
            [AGENT, CUSTOMER, SUPERVISOR],
            {
                AGENT: "Priya Raman (Support)",
                CUSTOMER: "Dana Whitfield",
                SUPERVISOR: "Jonas Becker",
            },
        )
    for raw_id, start, text, conf in SCRIPT if script else ():
        t.apply_packet(_packet(raw_id, text, start, True, conf), received_at=started + start + 2)
    if script:
        t.apply_packet(
            _packet(AGENT, "Okay, I'm submitting the refund now and", 47.0, False, None),
            received_at=now,
        )
    session._publish(
        replace(
            session.state,
            call=CallState.CONNECTED,
            transcription=TranscriptionState.ACTIVE,
            target=CUSTOMER,
            call_connection_id="401f3500-7e2a-4c11-9b0e-1a2b3c4d5e6f",
            connected_at=started,
            requested_locale="en-US",
            confirmed_locale="en-US",
            stream_connected=True,
        )
    )
    window.call_controls.target.setEditText("+1 425 555 0142")
    window._render_state(session.state)
    for title, text, at in (
        ("Calling", "Calling +14255550142…", started - 3),
        ("Call connected", "Connected to 4:+14255550142.", started),
        ("Transcription started", "Live transcription is on.", started + 1),
    ):
        window.add_notice(Notice(at, "info", title, text, "TranscriptionStarted · code 200/0"))
    window.transcript_view.flush()
    return session


def _four_party(window: MainWindow) -> None:
    """A billing colleague joins: four panes, laid out two by two."""
    t = window.transcript_view.transcript
    assert t is not None
    assert t.call_started_at is not None
    t.learn_participants([BILLING], {BILLING: "Marco Bianchi (Billing)"})
    for raw_id, start, text, conf in FOURTH:
        t.apply_packet(
            _packet(raw_id, text, start, True, conf), received_at=t.call_started_at + start + 2
        )
    window.transcript_view.flush()


def _side_call(window: MainWindow, target: str, **state: Any) -> CallSession:
    """Another call in the list, out of view: a row with its state, no transcript shown."""
    session = CallSession(None, None, default_locale="en-US")  # type: ignore[arg-type]
    window.calls.add(session)
    connected = time.time() - state.pop("ago", 60)
    session.transcript.call_started_at = connected
    session._publish(
        replace(
            session.state,
            call=CallState.CONNECTED,
            target=target,
            connected_at=connected,
            stream_connected=True,
            **state,
        )
    )
    return session


def _three_calls(window: MainWindow) -> None:
    """A supervisor's desk: a call on hold, the call in view, and a joined call with news."""
    live = TranscriptionState.ACTIVE
    first = _side_call(
        window,
        "4:+442079460958",
        ago=312,
        held=frozenset({"4:+442079460958"}),
        transcription=live,
        requested_locale="en-GB",
        confirmed_locale="en-GB",
    )
    window.calls.select(window.calls.entry_of(first))
    _in_call(window)
    third = _side_call(
        window,
        "8:acs:5e1d0c2b-77aa-4f3e-9d21-0b6c4a8e2f10_00000021-7b3c-12d4-85f0-3a9e61",
        ago=95,
        joined=True,
        transcription=live,
        requested_locale="fr-FR",
        confirmed_locale="fr-FR",
    )
    entry = window.calls.entry_of(third)
    assert entry is not None
    window.calls._mark(entry)  # new Finals while out of view
    window.call_dock.list.refresh()


def _stopped(window: MainWindow, session: CallSession) -> None:
    """Transcription stopped while the agent was mid-sentence: the phrase settles, unfinished."""
    t = session.transcript
    t.add_marker("transcription_stopped", time.time())
    session._publish(
        replace(session.state, transcription=TranscriptionState.STOPPED, stream_connected=False)
    )
    window._render_state(session.state)
    window.add_notice(
        Notice(time.time(), "info", "Transcription stopped", "Live transcription is off.")
    )
    window.transcript_view.flush()


def _settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.02)


def _save(window: MainWindow, out: Path, name: str, app: QApplication) -> Path:
    _settle(app)
    path = out / f"{name}.png"
    window.grab().save(str(path))
    return path


def _save_with_tip(window: MainWindow, out: Path, app: QApplication) -> Path:
    view = window.transcript_view.panes[CUSTOMER].view
    doc = view.document()
    needle = doc.find("Whitfield")
    cursor = QTextCursor(needle)
    cursor.setPosition(needle.selectionStart() + 1)
    tip = cursor.charFormat().toolTip()
    rect = view.cursorRect(cursor)
    s = current_scheme()
    label = QLabel(tip, window)
    label.setStyleSheet(
        f"background: {s.base}; color: {s.text}; border: 1px solid {s.border};"
        " border-radius: 4px; padding: 6px 8px;"
    )
    label.adjustSize()
    pos = view.viewport().mapTo(window, rect.bottomLeft() + QPoint(40, 10))
    label.move(pos)
    label.show()
    label.raise_()
    path = _save(window, out, "03-low-confidence", app)
    label.hide()
    label.deleteLater()
    return path


def _dispose(window: MainWindow) -> None:
    window.shutdown()
    window.hide()
    window.deleteLater()


def render_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    MainThreadCollector.install(app)
    data_dir = out / ".data"
    data_dir.mkdir(exist_ok=True)
    written = []

    window = _window(app, "light", data_dir)
    window._render_state(SessionState(requested_locale="en-US"))
    written.append(_save(window, out, "01-idle", app))
    _dispose(window)

    window = _window(app, "light", data_dir)
    _in_call(window)
    written.append(_save(window, out, "02-in-call-three-speakers", app))

    # Low confidence: the tooltip of the red phrase, drawn in the window (a real tooltip is a
    # separate window that a grab does not include).
    written.append(_save_with_tip(window, out, app))
    window.transcript_view.show_combined(True)
    written.append(_save(window, out, "04-combined-view", app))
    _dispose(window)

    window = _window(app, "dark", data_dir)
    _in_call(window)
    written.append(_save(window, out, "05-dark-theme", app))
    _dispose(window)

    apply_theme(app, "light")
    window = _window(app, "light", data_dir)
    _in_call(window)
    _four_party(window)
    written.append(_save(window, out, "06-four-party-grid", app))
    _dispose(window)

    window = _window(app, "light", data_dir)
    _stopped(window, _in_call(window))
    written.append(_save(window, out, "07-stopped-not-finalised", app))
    _dispose(window)

    window = _window(app, "light", data_dir)
    _three_calls(window)
    written.append(_save(window, out, "08-call-list-three-calls", app))
    _dispose(window)

    window = _window(app, "light", data_dir)
    _intelligent_call(window)
    written.append(_save(window, out, "09-call-intelligence", app))
    _dispose(window)
    apply_theme(app, "light")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    args = parser.parse_args(argv)
    for path in render_all(args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
