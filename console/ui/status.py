"""Status bar: profile, listener addresses, transcript-stream health, packet counters."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from console.ui.presenter import StreamHealth
from console.ui.theme import current_scheme


def _host_port(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0]


log = logging.getLogger(__name__)


class ConsoleStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(True)
        self._stats_failed = False
        self.profile = QLabel("", self)
        self.profile.setAccessibleName("Profile")
        self.listeners = QLabel("", self)
        self.listeners.setAccessibleName("Listener addresses")
        self.health = QLabel("", self)
        self.health.setAccessibleName("Transcript connection")
        self.packets = QLabel("", self)
        self.packets.setAccessibleName("Packets received and rejected")
        self.addWidget(self.profile)
        self.addWidget(self.listeners)
        self.addPermanentWidget(self.health)
        self.addPermanentWidget(self.packets)
        self.set_health(StreamHealth.IDLE)

    def set_profile(self, label: str) -> None:
        self.profile.setText(f"Profile: {label}")

    def set_addresses(self, addresses: dict[str, str] | None) -> None:
        if not addresses:
            self.listeners.setText("Listeners: not running")
            self.listeners.setToolTip("")
            return
        cb = addresses.get("callbacks", "")
        ws = addresses.get("transcripts", "")
        self.listeners.setText(f"Callbacks {_host_port(cb)} · WebSocket {_host_port(ws)}")
        self.listeners.setToolTip(f"Callback listener: {cb}\nTranscript WebSocket: {ws}")

    def set_health(self, health: StreamHealth) -> None:
        s = current_scheme()
        text, colour, tip = {
            StreamHealth.IDLE: ("○ No transcript stream", s.muted, "No transcription is running."),
            StreamHealth.WAITING: (
                "◌ Waiting for the transcript stream",
                s.warn_line,
                "Transcription was requested; the service has not connected yet.",
            ),
            StreamHealth.CONNECTED: (
                "● Transcript stream connected",
                s.ok,
                "Packets are arriving live.",
            ),
            StreamHealth.LOST: (
                "▲ Transcript stream lost",
                s.bad,
                "The transcript connection dropped while transcription is on.",
            ),
        }[health]
        self.health.setText(text)
        self.health.setStyleSheet(f"color: {colour};")
        self.health.setToolTip(tip)
        self.health.setProperty("health", health.value)

    def poll(self, runtime: Any) -> None:
        """Show the runtime's counters now; counters must never break the clock."""
        try:
            stats = runtime.stats()
        except Exception:
            if not self._stats_failed:
                log.warning("listener statistics unavailable", exc_info=True)
            self._stats_failed = True
            self.set_stats(None)
            return
        self._stats_failed = False
        self.set_stats(stats)

    def set_stats(self, stats: Any | None) -> None:
        if stats is None:
            self.packets.setText("Packet counts unavailable")
            self.packets.setToolTip("The listeners did not report their counters.")
            return
        rejected = stats.packets_rejected
        auth = getattr(stats, "auth_rejected", 0)
        misrouted = getattr(stats, "misrouted", 0)
        unrouted = getattr(stats, "unrouted", 0)
        text = f"Packets {stats.packets_received:,} · rejected {rejected + auth:,}"
        if misrouted or unrouted:  # rare, and worth a look: said only when it happened
            text += f" · not for these calls {misrouted + unrouted:,}"
        self.packets.setText(text)
        self.packets.setToolTip(
            f"Transcript packets received: {stats.packets_received:,}\n"
            f"Unusable packets: {rejected:,}\n"
            f"Connections or callbacks refused (bad token or secret): {auth:,}\n"
            f"Packets or events naming another call than their address (dropped): "
            f"{misrouted:,}\n"
            f"Packets or events for no call of this console (dropped): {unrouted:,}\n"
            f"Open transcript streams: {getattr(stats, 'streams_open', 0)}\n"
            f"Callback events received: {getattr(stats, 'events_received', 0):,}"
        )
