"""Async call control over ``azure.communication.callautomation.aio``.

The one place the console talks to the Call Automation SDK. The same code path serves Azure and
the embedded emulator: both are reached with ``from_connection_string`` over HTTPS (the emulator's
self-signed certificate is trusted explicitly through ``connection_verify``).

SDK and network failures come back as :class:`~console.acs.call_errors.CallServiceError`
carrying the HTTP status, the service's subCode and message, and an operator-facing explanation.

Call intelligence (language identification, sentiment, redaction by the service) exists only at
the preview api-version: a request that asks for it goes through a second SDK client built for
that version (see :mod:`console.acs.intelligence`); every other request is as it always was.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from azure.communication.callautomation import (
    AudioFormat,
    CommunicationIdentifier,
    CommunicationUserIdentifier,
    MediaStreamingAudioChannelType,
    MediaStreamingContentType,
    MediaStreamingOptions,
    MicrosoftTeamsUserIdentifier,
    PhoneNumberIdentifier,
    StreamingTransportType,
    TranscriptionOptions,
)
from azure.communication.callautomation._generated.models import (
    StartTranscriptionRequest,
    StopTranscriptionRequest,
    UpdateTranscriptionRequest,
    WebSocketTranscriptionOptions,
)
from azure.communication.callautomation.aio import CallAutomationClient, CallConnectionClient

from console.acs.call_errors import CallServiceError, translate_error
from console.acs.identifiers import InvalidTargetError, validate_target
from console.acs.intelligence import (
    PREVIEW_API_VERSION,
    IntelligenceSettings,
    PreviewStartTranscriptionRequest,
    PreviewUpdateTranscriptionRequest,
    PreviewWebSocketTranscriptionOptions,
)
from console.acs.locales import validate_locale

__all__ = [
    "CallInfo",
    "CallLocator",
    "CallService",
    "CallServiceError",
    "CallServiceOptions",
    "MediaStreamingSettings",
    "ParticipantInfo",
    "TranscriptionSettings",
    "translate_error",
]

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class TranscriptionSettings:
    """What to ask for when transcription is configured at call setup."""

    transport_url: str
    locale: str
    start: bool = False
    intermediate_results: bool = True
    speech_model_endpoint_id: str | None = None
    # Preview options (language identification, sentiment, redaction); None or all off: none.
    intelligence: IntelligenceSettings | None = None


@dataclass(frozen=True, slots=True)
class MediaStreamingSettings:
    """Audio streaming asked for at call setup (the service needs the transport URL then).

    ``unmixed`` gives one stream per dominant speaker (up to four), each frame naming its
    participant; ``mixed`` gives one flattened stream.
    """

    transport_url: str
    start: bool = True
    audio_channel: str = "unmixed"  # "unmixed" | "mixed"
    sample_rate: int = 16000  # 16000 | 24000


@dataclass(frozen=True, slots=True)
class CallLocator:
    """A call in progress to join: ``kind`` is the SDK's keyword for it."""

    kind: str  # "server_call_id" | "group_call_id" | "room_id"
    id: str

    KINDS = ("server_call_id", "group_call_id", "room_id")

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"a call is joined by one of {', '.join(self.KINDS)}")
        if not self.id.strip():
            raise ValueError("the call to join needs an id")


@dataclass(frozen=True, slots=True)
class CallInfo:
    call_connection_id: str
    server_call_id: str | None = None
    correlation_id: str | None = None
    state: str | None = None
    transcription_state: str | None = None
    transcription_locale: str | None = None
    media_streaming_state: str | None = None
    targets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParticipantInfo:
    raw_id: str
    is_muted: bool = False
    is_on_hold: bool = False


@dataclass(slots=True)
class CallServiceOptions:
    caller_id: str | None = None  # +E.164 number owned by the ACS resource; needed for PSTN
    source_display_name: str | None = "Operator Console"
    cognitive_services_endpoint: str | None = None
    connection_verify: str | bool = True  # a CA file path for the emulator's certificate
    retry_total: int | None = None  # None: azure-core's default policy
    connection_timeout: float = 10.0
    read_timeout: float = 20.0
    extra: dict[str, Any] = field(default_factory=dict)


class TranscriptionOptionsWithModel(TranscriptionOptions):
    """Sends the custom speech model id that SDK 1.6 drops.

    The public class passes ``speech_recognition_model_endpoint_id`` to a generated model whose
    attribute is ``speech_model_endpoint_id``, so msrest discards it with a warning.
    """

    def _generated_fields(self) -> dict[str, Any]:
        return {
            "transport_url": self.transport_url,
            "transport_type": self.transport_type,
            "locale": self.locale,
            "start_transcription": self.start_transcription,
            "speech_model_endpoint_id": self.speech_recognition_model_endpoint_id,
            "enable_intermediate_results": self.enable_intermediate_results,
        }

    def _to_generated(self) -> WebSocketTranscriptionOptions:
        return WebSocketTranscriptionOptions(**self._generated_fields())


class TranscriptionOptionsWithIntelligence(TranscriptionOptionsWithModel):
    """Transcription options with the preview keys (for the preview client only)."""

    def __init__(self, *, intelligence: IntelligenceSettings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.intelligence = intelligence

    def _to_generated(self) -> WebSocketTranscriptionOptions:
        return PreviewWebSocketTranscriptionOptions(
            intelligence=self.intelligence, **self._generated_fields()
        )


def _asks(intelligence: IntelligenceSettings | None) -> bool:
    return intelligence is not None and intelligence.requested


def to_identifier(target: str) -> CommunicationIdentifier:
    """An operator-typed or raw target to the SDK identifier; raises CallServiceError."""
    try:
        raw_id = validate_target(target)
    except InvalidTargetError as exc:
        raise CallServiceError("invalid", str(exc), operation="Placing the call") from exc
    if raw_id.startswith("4:"):
        return PhoneNumberIdentifier(raw_id[2:])
    if raw_id.startswith("8:orgid:"):
        return MicrosoftTeamsUserIdentifier(user_id=raw_id[len("8:orgid:") :])
    if raw_id.startswith("8:teamsvisitor:"):
        return MicrosoftTeamsUserIdentifier(
            user_id=raw_id[len("8:teamsvisitor:") :], is_anonymous=True
        )
    return CommunicationUserIdentifier(raw_id)


def _raw_id(identifier: Any) -> str:
    return getattr(identifier, "raw_id", None) or str(identifier)


def _call_info(props: Any) -> CallInfo:
    sub = getattr(props, "transcription_subscription", None)
    media = getattr(props, "media_streaming_subscription", None)
    return CallInfo(
        call_connection_id=props.call_connection_id or "",
        server_call_id=props.server_call_id,
        correlation_id=props.correlation_id,
        state=str(props.call_connection_state) if props.call_connection_state else None,
        transcription_state=str(sub.state) if sub is not None and sub.state else None,
        transcription_locale=getattr(sub, "locale", None) if sub is not None else None,
        media_streaming_state=str(media.state) if media is not None and media.state else None,
        targets=tuple(_raw_id(t) for t in (props.targets or ())),
    )


class CallService:
    """Call control for one ACS resource (or the emulator)."""

    def __init__(self, connection_string: str, options: CallServiceOptions | None = None) -> None:
        self.options = options or CallServiceOptions()
        kwargs: dict[str, Any] = {
            "connection_verify": self.options.connection_verify,
            "connection_timeout": self.options.connection_timeout,
            "read_timeout": self.options.read_timeout,
            **self.options.extra,
        }
        if self.options.retry_total is not None:
            kwargs["retry_total"] = self.options.retry_total
        self._kwargs = kwargs
        self._connection_string = connection_string
        try:
            self._client = CallAutomationClient.from_connection_string(connection_string, **kwargs)
        except ValueError as exc:
            # The SDK's message can echo the string; never let the key reach a log or a dialog.
            raise CallServiceError(
                "invalid",
                "The connection string is not valid: it needs endpoint=…;accesskey=…",
                operation="Connecting",
            ) from exc
        self._connections: dict[str, CallConnectionClient] = {}
        # The same SDK at the preview api-version, built when a request first needs it.
        self._preview: CallAutomationClient | None = None
        self._preview_connections: dict[str, CallConnectionClient] = {}

    def _preview_client(self) -> CallAutomationClient:
        if self._preview is None:
            self._preview = CallAutomationClient.from_connection_string(
                self._connection_string, api_version=PREVIEW_API_VERSION, **self._kwargs
            )
        return self._preview

    def _client_for(self, intelligence: IntelligenceSettings | None) -> CallAutomationClient:
        return self._preview_client() if _asks(intelligence) else self._client

    async def __aenter__(self) -> CallService:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        # Connection clients share the automation client's pipeline and transport.
        self._connections.clear()
        self._preview_connections.clear()
        await self._client.close()
        if self._preview is not None:
            await self._preview.close()

    def _connection(
        self, call_connection_id: str, *, preview: bool = False
    ) -> CallConnectionClient:
        connections = self._preview_connections if preview else self._connections
        conn = connections.get(call_connection_id)
        if conn is None:
            client = self._preview_client() if preview else self._client
            conn = client.get_call_connection(call_connection_id)
            connections[call_connection_id] = conn
        return conn

    async def _run(self, operation: str, make: Callable[[], Awaitable[T]]) -> T:
        try:
            return await make()
        except CallServiceError:
            raise
        except Exception as exc:
            err = translate_error(exc, operation)
            log.warning("%s", err)
            raise err from exc

    def _transcription_options(self, t: TranscriptionSettings) -> TranscriptionOptions:
        locale = self._locale(t.locale, "Setting up transcription")
        kwargs: dict[str, Any] = {
            "transport_url": t.transport_url,
            "transport_type": StreamingTransportType.WEBSOCKET,
            "locale": locale,
            "start_transcription": t.start,
            "speech_recognition_model_endpoint_id": t.speech_model_endpoint_id,
            "enable_intermediate_results": t.intermediate_results,
        }
        if _asks(t.intelligence):
            assert t.intelligence is not None
            intelligence = self._intelligence(t.intelligence, "Setting up transcription")
            return TranscriptionOptionsWithIntelligence(intelligence=intelligence, **kwargs)
        return TranscriptionOptionsWithModel(**kwargs)

    @staticmethod
    def _intelligence(settings: IntelligenceSettings, operation: str) -> IntelligenceSettings:
        try:
            return settings.checked()
        except ValueError as exc:
            raise CallServiceError("invalid", str(exc), operation=operation) from exc

    @staticmethod
    def _media_options(m: MediaStreamingSettings) -> MediaStreamingOptions:
        # The SDK sends enum values verbatim (no validation, no case folding): use its enums.
        channel = (
            MediaStreamingAudioChannelType.MIXED
            if m.audio_channel == "mixed"
            else MediaStreamingAudioChannelType.UNMIXED
        )
        audio_format = (
            AudioFormat.PCM24_K_MONO if m.sample_rate == 24000 else AudioFormat.PCM16_K_MONO
        )
        return MediaStreamingOptions(
            transport_url=m.transport_url,
            transport_type=StreamingTransportType.WEBSOCKET,
            content_type=MediaStreamingContentType.AUDIO,
            audio_channel_type=channel,
            start_media_streaming=m.start,
            audio_format=audio_format,
        )

    @staticmethod
    def _locale(locale: str, operation: str) -> str:
        try:
            return validate_locale(locale)
        except ValueError as exc:
            raise CallServiceError("invalid", str(exc), operation=operation) from exc

    def _setup(
        self,
        kwargs: dict[str, Any],
        transcription: TranscriptionSettings | None,
        media_streaming: MediaStreamingSettings | None,
    ) -> CallAutomationClient:
        """Add a call setup's transcription and audio options to ``kwargs``; the client to
        send it with (the preview one when call intelligence is asked for)."""
        kwargs["cognitive_services_endpoint"] = self.options.cognitive_services_endpoint
        if transcription is not None:
            kwargs["transcription"] = self._transcription_options(transcription)
        if media_streaming is not None:
            kwargs["media_streaming"] = self._media_options(media_streaming)
        return self._client_for(transcription.intelligence if transcription else None)

    async def create_call(
        self,
        target: str,
        callback_url: str,
        *,
        transcription: TranscriptionSettings | None = None,
        media_streaming: MediaStreamingSettings | None = None,
        operation_context: str | None = None,
    ) -> CallInfo:
        identifier = to_identifier(target)
        kwargs: dict[str, Any] = {
            "source_display_name": self.options.source_display_name,
            "operation_context": operation_context,
        }
        if isinstance(identifier, PhoneNumberIdentifier):
            if not self.options.caller_id:
                raise CallServiceError(
                    "invalid",
                    "Calling a phone number needs a caller ID (a number owned by the ACS "
                    "resource). Set it in Settings.",
                    operation="Placing the call",
                )
            kwargs["source_caller_id_number"] = PhoneNumberIdentifier(self.options.caller_id)
        client = self._setup(kwargs, transcription, media_streaming)
        props = await self._run(
            "Placing the call", lambda: client.create_call(identifier, callback_url, **kwargs)
        )
        return _call_info(props)

    async def answer_call(
        self,
        incoming_call_context: str,
        callback_url: str,
        *,
        transcription: TranscriptionSettings | None = None,
        media_streaming: MediaStreamingSettings | None = None,
        operation_context: str | None = None,
    ) -> CallInfo:
        kwargs: dict[str, Any] = {"operation_context": operation_context}
        client = self._setup(kwargs, transcription, media_streaming)
        props = await self._run(
            "Answering the call",
            lambda: client.answer_call(incoming_call_context, callback_url, **kwargs),
        )
        return _call_info(props)

    async def connect_call(
        self,
        locator: CallLocator,
        callback_url: str,
        *,
        transcription: TranscriptionSettings | None = None,
        media_streaming: MediaStreamingSettings | None = None,
        operation_context: str | None = None,
    ) -> CallInfo:
        """Join a call already in progress (``connect_call``): by server call id, group call id
        or room id."""
        kwargs: dict[str, Any] = {locator.kind: locator.id, "operation_context": operation_context}
        client = self._setup(kwargs, transcription, media_streaming)
        props = await self._run(
            "Joining the call", lambda: client.connect_call(callback_url, **kwargs)
        )
        return _call_info(props)

    async def hold(self, call_connection_id: str, raw_id: str, *, on_hold: bool) -> None:
        """Put a participant on hold, or take them off it."""
        conn = self._connection(call_connection_id)
        who = to_identifier(raw_id)
        if on_hold:
            await self._run("Putting on hold", lambda: conn.hold(who, operation_context="hold"))
        else:
            await self._run("Resuming", lambda: conn.unhold(who, operation_context="unhold"))

    async def reject_call(self, incoming_call_context: str, *, reason: str = "busy") -> None:
        """Decline a ringing call (reason: "none", "busy" or "forbidden")."""
        await self._run(
            "Declining the call",
            lambda: self._client.reject_call(incoming_call_context, call_reject_reason=reason),
        )

    async def get_call(self, call_connection_id: str) -> CallInfo:
        conn = self._connection(call_connection_id)
        props = await self._run("Reading the call", conn.get_call_properties)
        return _call_info(props)

    async def probe_call(self, call_connection_id: str, *, timeout: float = 5.0) -> CallInfo:
        """One quick look at the call: no retries, ``timeout`` seconds to connect and to answer.

        For liveness checks: a service that is gone must show as gone in seconds, not after
        the retry policy's backoff.
        """
        conn = self._connection(call_connection_id)
        props = await self._run(
            "Checking the call",
            lambda: conn.get_call_properties(
                retry_total=0, connection_timeout=timeout, read_timeout=timeout
            ),
        )
        return _call_info(props)

    async def list_participants(self, call_connection_id: str) -> list[ParticipantInfo]:
        conn = self._connection(call_connection_id)

        async def collect() -> list[ParticipantInfo]:
            return [
                ParticipantInfo(_raw_id(p.identifier), bool(p.is_muted), bool(p.is_on_hold))
                async for p in conn.list_participants()
            ]

        return await self._run("Listing participants", collect)

    # start/update/stop go through the media client with the generated request models: the
    # public methods drop the custom speech model id (and log a warning on every call).
    async def start_transcription(
        self,
        call_connection_id: str,
        *,
        locale: str | None = None,
        operation_context: str | None = None,
        speech_model_endpoint_id: str | None = None,
        intelligence: IntelligenceSettings | None = None,
    ) -> None:
        """Start transcription; ``intelligence`` (when any of it is on) goes at the preview
        api-version."""
        if locale is not None:
            locale = self._locale(locale, "Starting transcription")
        fields: dict[str, Any] = {
            "locale": locale,
            "operation_context": operation_context,
            "speech_model_endpoint_id": speech_model_endpoint_id,
        }
        preview = _asks(intelligence)
        request: StartTranscriptionRequest
        if preview:
            assert intelligence is not None
            checked = self._intelligence(intelligence, "Starting transcription")
            request = PreviewStartTranscriptionRequest(intelligence=checked, **fields)
        else:
            request = StartTranscriptionRequest(**fields)
        conn = self._connection(call_connection_id, preview=preview)
        await self._run(
            "Starting transcription",
            lambda: conn._call_media_client.start_transcription(call_connection_id, request),
        )

    async def update_transcription(
        self,
        call_connection_id: str,
        *,
        locale: str | None,
        operation_context: str | None = None,
        speech_model_endpoint_id: str | None = None,
        intelligence: IntelligenceSettings | None = None,
    ) -> None:
        """Change the locale and/or, with ``intelligence`` (not None), set sentiment, redaction
        and summary on or off at the preview api-version (every flag said explicitly). The
        languages to detect cannot change this way (the service has no such update): stop and
        start transcription instead."""
        operation = (
            "Changing the transcription language"
            if intelligence is None
            else "Changing the transcription settings"
        )
        if locale is not None:
            locale = self._locale(locale, operation)
        elif intelligence is None:
            raise CallServiceError("invalid", "There is nothing to change.", operation=operation)
        fields: dict[str, Any] = {
            "locale": locale,
            "operation_context": operation_context,
            "speech_model_endpoint_id": speech_model_endpoint_id,
        }
        request: UpdateTranscriptionRequest
        if intelligence is not None:
            checked = self._intelligence(intelligence, operation)
            request = PreviewUpdateTranscriptionRequest(intelligence=checked, **fields)
        else:
            request = UpdateTranscriptionRequest(**fields)
        conn = self._connection(call_connection_id, preview=intelligence is not None)
        await self._run(
            operation,
            lambda: conn._call_media_client.update_transcription(call_connection_id, request),
        )

    async def stop_transcription(
        self, call_connection_id: str, *, operation_context: str | None = None
    ) -> None:
        request = StopTranscriptionRequest(operation_context=operation_context)
        conn = self._connection(call_connection_id)
        await self._run(
            "Stopping transcription",
            lambda: conn._call_media_client.stop_transcription(call_connection_id, request),
        )

    async def start_media_streaming(
        self, call_connection_id: str, *, operation_context: str | None = None
    ) -> None:
        """Resume audio streaming (the call must have been set up with media streaming)."""
        conn = self._connection(call_connection_id)
        await self._run(
            "Starting audio streaming",
            lambda: conn.start_media_streaming(operation_context=operation_context),
        )

    async def stop_media_streaming(
        self, call_connection_id: str, *, operation_context: str | None = None
    ) -> None:
        conn = self._connection(call_connection_id)
        await self._run(
            "Stopping audio streaming",
            lambda: conn.stop_media_streaming(operation_context=operation_context),
        )

    async def hang_up(self, call_connection_id: str, *, for_everyone: bool = True) -> None:
        conn = self._connection(call_connection_id)
        await self._run("Hanging up", lambda: conn.hang_up(for_everyone))
        self._connections.pop(call_connection_id, None)
        self._preview_connections.pop(call_connection_id, None)
