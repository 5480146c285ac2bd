"""What the checks look at: a profile, where its connection string came from, and this
console's running listeners (the ones the public URLs must reach)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from console.config import EventGridSecret, Profile
from console.listener.callbacks import EVENTGRID_PATH
from console.listener.common import url_host
from console.runtime import ConsoleRuntime

CHECK_TIMEOUT_S = 10.0  # per network request of a check


@dataclass(slots=True)
class DoctorTarget:
    """The setup to check.

    ``profile`` holds the values under test (for the Settings dialog, what the form holds now);
    ``runtime`` is the console whose listeners the reachability probes must reach (``None`` when
    it could not be built). ``callback_error``/``websocket_error`` say why a listener is not
    running (a busy port). ``connection_source`` names where the connection string came from;
    ``connection_problem`` why there is none (the keyring could not be read, ...).
    """

    profile: Profile
    runtime: ConsoleRuntime | None
    eventgrid: EventGridSecret
    connection_source: str = ""
    connection_problem: str = ""
    callback_error: str = ""
    websocket_error: str = ""
    timeout: float = CHECK_TIMEOUT_S
    cache: dict[str, Any] = field(default_factory=dict)  # results checks share

    @property
    def is_azure(self) -> bool:
        return self.profile.kind == "azure"

    @property
    def ca_file(self) -> str | None:
        verify = self.profile.connection_verify
        return verify if isinstance(verify, str) and verify else None

    # -- the URLs ACS is to use ----------------------------------------------------------------

    def _callback_root(self) -> str:
        base = self.profile.public_callback_base
        if base:
            return base.rstrip("/")
        rt = self.runtime
        assert rt is not None
        port = rt.callbacks.port if not self.callback_error else self.profile.callback_port
        return f"http://{url_host(rt.callbacks.host)}:{port}"

    def _websocket_root(self) -> str:
        base = self.profile.public_websocket_base
        if base:
            return base.rstrip("/")
        rt = self.runtime
        assert rt is not None
        port = rt.transcripts.port if not self.websocket_error else self.profile.ws_port
        return f"ws://{url_host(rt.transcripts.host)}:{port}"

    @property
    def callback_url(self) -> str:
        if self.runtime is None:
            return ""
        return self._callback_root() + self.runtime.callbacks.callback_path

    @property
    def websocket_url(self) -> str:
        if self.runtime is None:
            return ""
        return self._websocket_root() + self.runtime.transcripts.path("transcription")

    @property
    def eventgrid_url(self) -> str:
        if self.runtime is None and not self.profile.public_callback_base:
            return ""
        return f"{self._callback_root()}{EVENTGRID_PATH}/{self.eventgrid.value}"

    def callback_probe_url(self, token: str) -> str:
        assert self.runtime is not None
        return self._callback_root() + self.runtime.callbacks.probe_path(token)

    def websocket_probe_url(self, token: str) -> str:
        assert self.runtime is not None
        return self._websocket_root() + self.runtime.transcripts.probe_path(token)

    def listener_address(self, which: str) -> str:
        """Where this console's callback ("callback") or WebSocket listener is bound."""
        rt = self.runtime
        if rt is None:
            return "(not running)"
        server = rt.callbacks if which == "callback" else rt.transcripts
        error = self.callback_error if which == "callback" else self.websocket_error
        port = self.profile.callback_port if which == "callback" else self.profile.ws_port
        return f"{url_host(server.host)}:{port if error else server.port}"


def without_secrets(url: str) -> str:
    """``url`` with its path cut after the route (for details that need not carry a secret)."""
    parts = urlsplit(url)
    route = "/".join(parts.path.split("/")[:3])
    return f"{parts.scheme}://{parts.netloc}{route}/..."
