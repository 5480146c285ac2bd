"""Embedded servers ACS talks to: callback events over HTTP, transcript packets over WebSocket."""

from __future__ import annotations

from console.listener.callbacks import CallbackServer
from console.listener.common import ListenerError
from console.listener.stats import CallbackStats, ListenerStats
from console.listener.websocket import PacketSink, StreamConnection, TranscriptServer

__all__ = [
    "CallbackServer",
    "CallbackStats",
    "ListenerError",
    "ListenerStats",
    "PacketSink",
    "StreamConnection",
    "TranscriptServer",
]
