"""The embedded ACS emulator: a local stand-in for the Call Automation service.

The real ``azure-communication-callautomation`` SDK reaches it over HTTPS on loopback exactly as
it reaches Azure::

    async with Emulator(EmulatorConfig(data_dir=path, speed=20)) as emu:
        client = CallAutomationClient.from_connection_string(
            emu.connection_string, connection_verify=str(emu.cert_path))

It answers the Call Automation REST calls (HMAC-verified), posts CloudEvent callbacks with RS256
JWTs, streams transcription over a WebSocket it opens to the application, and rings the
application through an Event Grid webhook for incoming calls.

Admin endpoints (HMAC-signed with the same access key, like every other request):

``POST /emulator/incomingCalls`` ``{"from": "+15550100" | raw id, "to"?, "callerDisplayName"?,
"eventGridUrl"?, "schema"?: "eventgrid" | "cloudevents", "batch"?: true}``
    Ring: the subscription-validation handshake (once per webhook URL and schema), then an
    ``IncomingCall`` Event Grid event (see :mod:`console.emulator.eventgrid`). 201 with the
    event's data (``incomingCallContext``, ``serverCallId``, ...); 502 when the webhook fails.
``GET /emulator/calls``
    ``{"value": [{callConnectionId, state, origin, transcription, ...}]}``.
``POST /emulator/calls`` ``{"scenario"?: NAME, "serverCallId"?: ID}``
    A call already in progress, not connected to the application (Connect joins it); 201
    ``{"serverCallId"}``.
``POST /emulator/calls/{callConnectionId}/faults`` ``{"kind": ..., "params": {...}}``
    Make something go wrong now (kinds: ``calls.FAULT_KINDS``); 202, or 400 when it cannot apply.
``GET /emulator/info``
    The emulator.json fields without the connection string.
``POST /emulator/network`` ``{"responseDelay": seconds, "lateAnswers"?: bool}``
    A slow network: hold every Call Automation request that long (0 turns it off).
"""

from __future__ import annotations

import json
import logging
import types
from pathlib import Path
from typing import Any

from aiohttp import web

from console.emulator.calls import Call, CallRegistry, new_server_call_id
from console.emulator.config import DEFAULT_PORT, DataDirError, EmulatorConfig, default_data_dir
from console.emulator.delivery import CallbackDelivery
from console.emulator.eventgrid import IncomingCalls
from console.emulator.identity import (
    Identity,
    data_dir_lock,
    load_identity,
    write_private_text,
)
from console.emulator.recognition import speech_problem
from console.emulator.rest import KEYS_PATH, OPENID_PATH, build_app
from console.emulator.scenario import Scenario, ScenarioError, load_scenario, with_recordings
from console.emulator.tls import ensure_certificate, server_context
from console.emulator.tokens import TokenIssuer

__all__ = ["DEFAULT_PORT", "DataDirError", "Emulator", "EmulatorConfig", "default_data_dir"]

log = logging.getLogger(__name__)

INFO_FILE = "emulator.json"


def application_identity(audience: str) -> str:
    """The ACS identity a call the application places comes from when it names no ``source``
    (our choice: the service's own value for this case is not recorded)."""
    return f"8:acs:{audience}_00000000-0000-0000-0000-000000000000"


def _endpoint_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    return f"[{host}]" if ":" in host else host


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._identity: Identity | None = None
        self._tokens: TokenIssuer | None = None
        self._calls: CallRegistry | None = None
        self._delivery: CallbackDelivery | None = None
        self.scenario: Scenario | None = None
        self.cert_path: Path = config.data_dir / "emulator-cert.pem"

    # --- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        cfg = self.config
        self.scenario = load_scenario(cfg.scenario)  # a bad scenario fails before binding
        if cfg.audio:
            problem = speech_problem()
            if problem is not None:
                raise ScenarioError(f"--audio needs local speech recognition. {problem}")
            self.scenario = with_recordings(self.scenario, cfg.audio)
        if self.scenario.has_audio and speech_problem() is None:
            # numpy, the recogniser and the recordings load now (a bad file fails the start),
            # not on the loop when the first call connects.
            import console.emulator.media_frames  # noqa: F401
            from console.emulator.listening import preload

            preload(self.scenario)
        try:
            with data_dir_lock(cfg.data_dir):
                self._identity = load_identity(cfg.data_dir, cfg.access_key, cfg.audience)
                self.cert_path, key_path = ensure_certificate(cfg.data_dir, cfg.host)
                # The issuer is the endpoint, known once bound; tokens are minted after that.
                self._tokens = TokenIssuer(
                    cfg.data_dir, issuer="", audience=self._identity.audience
                )
        except OSError as exc:
            raise DataDirError(cfg.data_dir, exc) from exc
        self._delivery = CallbackDelivery(self._tokens.callback_token)
        await self._delivery.start()
        self._calls = CallRegistry(
            cfg,
            delivery=self._delivery,
            tokens=self._tokens,
            scenario=self.scenario,
            incoming=IncomingCalls(cfg.eventgrid_webhook_url, schema=cfg.eventgrid_schema),
            application_id=application_identity(self._identity.audience),
        )
        runner = web.AppRunner(build_app(self), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(
            runner, cfg.host, cfg.port, ssl_context=server_context(self.cert_path, key_path)
        )
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            await self._delivery.close()
            raise
        self._runner = runner
        self._port = runner.addresses[0][1]
        self._tokens.issuer = self.issuer
        for server_call_id in cfg.existing_calls:
            self._calls.start_existing(server_call_id=server_call_id)
        log.info("ACS emulator listening on %s", self.endpoint)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._calls is not None:
            await self._calls.close()
        if self._delivery is not None:
            await self._delivery.close()
        server = runner.server
        transports = [h.transport for h in server.connections if h.transport] if server else []
        await runner.cleanup()
        # A TLS close waits up to 30 s for the peer's close_notify; a client that vanished
        # without one would keep the socket open past the loop. Nothing is left to say.
        for transport in transports:
            transport.abort()

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        await self.stop()

    # --- what clients need ----------------------------------------------------------------

    def _running(self) -> None:
        if self._port is None:
            raise RuntimeError("the emulator is not started")

    @property
    def port(self) -> int:
        self._running()
        assert self._port is not None
        return self._port

    @property
    def endpoint(self) -> str:
        """``https://127.0.0.1:PORT`` (no trailing slash: the SDK would sign it into the host)."""
        return f"https://{_endpoint_host(self.config.host)}:{self.port}"

    @property
    def identity(self) -> Identity:
        assert self._identity is not None, "the emulator is not started"
        return self._identity

    @property
    def access_key(self) -> str:
        return self.identity.access_key

    @property
    def connection_string(self) -> str:
        return f"endpoint={self.endpoint}/;accesskey={self.access_key}"

    @property
    def issuer(self) -> str:
        return self.endpoint

    @property
    def audience(self) -> str:
        return self.identity.audience

    @property
    def jwks_url(self) -> str:
        return self.endpoint + KEYS_PATH

    @property
    def openid_url(self) -> str:
        return self.endpoint + OPENID_PATH

    @property
    def tokens(self) -> TokenIssuer:
        assert self._tokens is not None, "the emulator is not started"
        return self._tokens

    @property
    def calls(self) -> CallRegistry:
        assert self._calls is not None, "the emulator is not started"
        return self._calls

    @property
    def delivery(self) -> CallbackDelivery:
        assert self._delivery is not None, "the emulator is not started"
        return self._delivery

    def info(self) -> dict[str, Any]:
        """What a client needs to use this emulator (emulator.json); holds the access key."""
        return {
            "connection_string": self.connection_string,
            "endpoint": self.endpoint,
            "cert_path": str(self.cert_path),
            "jwks_url": self.jwks_url,
            "openid_configuration_url": self.openid_url,
            "issuer": self.issuer,
            "audience": self.audience,
            "scenario": self.scenario.name if self.scenario else None,
            "speed": self.config.speed,
        }

    def write_info(self, path: Path | None = None) -> Path:
        path = path or self.config.data_dir / INFO_FILE
        write_private_text(path, json.dumps(self.info(), indent=2) + "\n")
        return path

    # --- incoming calls and faults ----------------------------------------------------------

    async def ring(
        self,
        from_: str,
        *,
        to: str | None = None,
        caller_display_name: str | None = None,
        webhook_url: str | None = None,
        schema: str | None = None,
        batch: bool = False,
    ) -> dict[str, Any]:
        """Ring the application (Event Grid IncomingCall); returns the event as delivered.

        ``from_`` is a raw id or a +E.164 number; ``schema`` ("eventgrid" | "cloudevents")
        overrides the configured delivery schema. Raises RingError when the webhook fails.
        """
        caller = from_.strip()
        if caller.startswith("+"):
            caller = "4:" + caller
        return await self.calls.incoming.ring(
            caller,
            callee=to,
            caller_display_name=caller_display_name,
            webhook_url=webhook_url,
            server_call_id=new_server_call_id(),
            schema=schema,
            batch=batch,
        )

    def inject_fault(self, call_connection_id: str, kind: str, **params: Any) -> None:
        """Apply a fault to a connected call now (raises ServiceError when it cannot apply)."""
        self.calls.get(call_connection_id).apply_fault(kind, params)

    @staticmethod
    def call_summary(call: Call) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "callConnectionId": call.ids.call_connection_id,
            "serverCallId": call.ids.server_call_id,
            "correlationId": call.ids.correlation_id,
            "origin": call.setup.origin,
            "state": call.state,
            "participants": [p.raw_id for p in call.participants],
            "callTime": call.conversation.call_time if call.conversation else 0.0,
        }
        if call.transcription is not None:
            summary["transcription"] = {
                **call.transcription.properties(),
                "connections": call.transcription.stream.connections
                if call.transcription.stream
                else 0,
            }
        return summary
