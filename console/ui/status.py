"""Status bar: profile, listener addresses, transcript-stream health, packet counters."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from console.ui.theme import current_scheme


def _host_port(url: str) -> str:
    rest = url.split("://", 1)[-1]
    return rest.split("/", 1)[0]


class ConsoleStatusBar(QStatusBar):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(True)
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
        self.set_health("idle")

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

    def set_health(self, health: str) -> None:
        """health: "idle" | "waiting" | "connected" | "lost"."""
        s = current_scheme()
        text, colour, tip = {
            "idle": ("○ No transcript stream", s.muted, "No transcription is running."),
            "waiting": (
                "◌ Waiting for the transcript stream",
                s.warn_line,
                "Transcription was requested; the service has not connected yet.",
            ),
            "connected": ("● Transcript stream connected", s.ok, "Packets are arriving live."),
            "lost": (
                "▲ Transcript stream lost",
                s.bad,
                "The transcript connection dropped while transcription is on.",
            ),
        }[health]
        self.health.setText(text)
        self.health.setStyleSheet(f"color: {colour};")
        self.health.setToolTip(tip)
        self.health.setProperty("health", health)

    def set_stats(self, stats: Any | None) -> None:
        if stats is None:
            self.packets.setText("Packet counts unavailable")
            self.packets.setToolTip("The listeners did not report their counters.")
            return
        rejected = stats.packets_rejected
        auth = getattr(stats, "auth_rejected", 0)
        self.packets.setText(f"Packets {stats.packets_received:,} · rejected {rejected + auth:,}")
        self.packets.setToolTip(
            f"Transcript packets received: {stats.packets_received:,}\n"
            f"Unusable packets: {rejected:,}\n"
            f"Connections or callbacks refused (bad token or secret): {auth:,}\n"
            f"Open transcript streams: {getattr(stats, 'streams_open', 0)}\n"
            f"Callback events received: {getattr(stats, 'events_received', 0):,}"
        )
