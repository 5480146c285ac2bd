"""One call's transcription subscription: start, update, stop, failures and reconnects.

State as the service reports it in the call properties: ``inactive`` until the WebSocket is up
and ``TranscriptionStarted`` is posted, then ``active``. Every failure posts
``TranscriptionFailed`` with the code-table row and ends the subscription.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from console.acs.errors import row
from console.emulator.cloudevents import result_information
from console.emulator.listening import CallListening, ListeningError
from console.emulator.pii_mask import mask_transcription
from console.emulator.recognition import speech_problem
from console.emulator.setup import Intelligence, TranscriptionSetup
from console.emulator.streaming import Feed, MergedFeed, StreamFailed, TranscriptionStream
from console.emulator.urls import is_valid_stream_url

if TYPE_CHECKING:
    from console.emulator.calls import Call
    from console.emulator.speech import Conversation

log = logging.getLogger(__name__)


async def settle(*tasks: asyncio.Task[Any] | None) -> None:
    """Wait for tasks to finish, whatever their outcome; our own cancellation still propagates."""
    pending = {t for t in tasks if t is not None and t is not asyncio.current_task()}
    if pending:
        await asyncio.wait(pending)


_INTERRUPTED = "Transcription stream connection was interrupted."
_RESUMED = "Transcription stream connection was re-established."


class Transcription:
    def __init__(self, call: Call, setup: TranscriptionSetup) -> None:
        self.call = call
        self.setup = setup
        self.subscription_id = str(uuid.uuid4())
        self.locale = setup.locale
        self.model_id = setup.model_id
        # Language identification, sentiment, redaction (the preview api-version's options).
        self.intelligence = setup.intelligence
        self.state = "inactive"  # inactive | starting | active
        self.stream: TranscriptionStream | None = None
        self._task: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._merged: MergedFeed | None = None  # the running feed, to which audio can be added

    # --- what the REST layer and the call ask for ------------------------------------------

    def properties(self) -> dict[str, Any]:
        """As GET call shows it: the locale in use while it runs; once stopped, the call's
        own locale again (as recorded)."""
        types = ["final", "intermediate"] if self.setup.intermediate else ["final"]
        return {
            "id": self.subscription_id,
            "state": "active" if self.state == "active" else "inactive",
            "subscribedResultTypes": types,
            "locale": self.locale,
        }

    @property
    def running(self) -> bool:
        return self.state != "inactive"

    def start(
        self,
        *,
        locale: str | None = None,
        model_id: str | None = None,
        operation_context: str | None = None,
        callback_uri: str | None = None,
        intelligence: Intelligence | None = None,
    ) -> None:
        if locale is not None:
            self.locale = locale
        if model_id is not None:
            self.model_id = model_id
        if intelligence is not None:
            self.intelligence = intelligence
        self.state = "starting"
        previous = self._closing
        self._task = self.call.spawn(
            self._run(previous, operation_context, callback_uri), name="transcription"
        )

    def update(
        self,
        *,
        locale: str | None,
        model_id: str | None,
        operation_context: str | None,
        callback_uri: str | None,
        intelligence: Intelligence | None = None,
    ) -> None:
        """A new locale and/or new preview options; the feed reads them as the next utterance
        starts (sentiment and redaction: as each packet goes). A locale while identifying
        languages locks transcription to it, as the docs say: identification stops."""
        if model_id is not None and model_id not in self.call.config.custom_speech_models:
            self.fail("custom_model_not_supported", operation_context, callback_uri)
            return
        if self.call.listening is not None and locale is not None:
            try:
                self.call.listening.check_locale(locale)
            except ListeningError as exc:
                self.fail(exc.key, operation_context, callback_uri, message=exc.message)
                return
        if intelligence is not None:
            self.intelligence = intelligence
        if locale is not None:
            self.locale = locale
            if self.intelligence.locales:
                self.intelligence = replace(self.intelligence, locales=())
        if model_id is not None:
            self.model_id = model_id
        self._emit_row("updated", operation_context, callback_uri)

    def stop(self, operation_context: str | None, callback_uri: str | None) -> None:
        self._close_then_emit("stopped", operation_context, callback_uri)

    def fail(
        self,
        key: str,
        operation_context: str | None = None,
        callback_uri: str | None = None,
        *,
        message: str | None = None,
    ) -> None:
        self._close_then_emit(key, operation_context, callback_uri, message)

    def drop(self) -> bool:
        """Break the WebSocket as a network failure would; False when there is none."""
        if self.stream is None or self.state != "active":
            return False
        self.stream.drop()
        return True

    async def close(self) -> None:
        """The call ended: close the WebSocket without posting anything."""
        await settle(self._end(), self._closing)

    # --- internals ------------------------------------------------------------------------

    def _inactive(self) -> None:
        """The subscription is off: the call's own locale and model are in force again."""
        self.state = "inactive"
        self.stream = None
        self.locale = self.setup.locale
        self.model_id = self.setup.model_id
        self.intelligence = self.setup.intelligence

    def _end(self) -> asyncio.Task[None] | None:
        task, self._task = self._task, None
        self._inactive()
        merged, self._merged = self._merged, None
        if merged is not None:
            merged.close()
        if task is not None:
            task.cancel()
        return task

    def _close_then_emit(
        self,
        key: str,
        operation_context: str | None,
        callback_uri: str | None,
        message: str | None = None,
    ) -> None:
        """End the subscription now; post the event once the WebSocket is closed."""
        before = (self._end(), self._closing)
        self._closing = self.call.spawn(
            self._after_close(before, key, operation_context, callback_uri, message),
            name=f"transcription-{key}",
        )

    async def _after_close(
        self,
        before: tuple[asyncio.Task[None] | None, ...],
        key: str,
        operation_context: str | None,
        callback_uri: str | None,
        message: str | None,
    ) -> None:
        await settle(*before)
        self._emit_row(key, operation_context, callback_uri, message)

    def _emit_row(
        self,
        key: str,
        operation_context: str | None,
        callback_uri: str | None,
        message: str | None = None,
    ) -> None:
        r = row(key)
        self.call.emit(
            r.event,
            result_information(r.code, r.sub_code, message or r.message),
            operation_context=operation_context,
            callback_uri=callback_uri,
            transcriptionUpdate={
                "transcriptionStatus": r.transcription_status,
                "transcriptionStatusDetails": r.status_details,
            },
        )

    def _emit_update(self, status: str, details: str, message: str) -> None:
        self.call.emit(
            "TranscriptionUpdated",
            result_information(200, 0, message),
            transcriptionUpdate={
                "transcriptionStatus": status,
                "transcriptionStatusDetails": details,
            },
        )

    async def _run(
        self,
        previous: asyncio.Task[None] | None,
        operation_context: str | None,
        callback_uri: str | None,
    ) -> None:
        await settle(previous)  # let an earlier stop post its event first
        me = asyncio.current_task()
        url = self.setup.transport_url
        if not is_valid_stream_url(url):
            self._finish_failed(me, "invalid_stream_url", operation_context, callback_uri)
            return
        if self.model_id is not None and self.model_id not in self.call.config.custom_speech_models:
            self._finish_failed(me, "custom_model_not_supported", operation_context, callback_uri)
            return
        assert url is not None
        conversation = self.call.conversation
        assert conversation is not None, "transcription starts only on a connected call"
        try:
            feed = self._feed(conversation)
        except ListeningError as exc:
            self._finish_failed(me, exc.key, operation_context, callback_uri, exc.message)
            return
        started = False

        def connected() -> None:
            nonlocal started
            started = True
            self.state = "active"
            self._emit_row("started", operation_context, callback_uri)

        stream = TranscriptionStream(
            url=url,
            headers=self._headers,
            metadata=self._metadata,
            feed=feed,
            allow=self._audible,
            transform=self._decorate,
            on_connected=connected,
            on_interrupted=lambda: self._emit_update(
                "transcriptionUpdated", "streamConnectionInterrupted", _INTERRUPTED
            ),
            on_resumed=lambda: self._emit_update(
                "transcriptionResumed", "streamConnectionReestablished", _RESUMED
            ),
        )
        self.stream = stream
        try:
            await stream.run()
        except StreamFailed as exc:
            log.info("Transcription failed on call %s: %s", self.call.ids.call_connection_id, exc)
            if started:
                operation_context = callback_uri = None
            self._finish_failed(me, exc.key, operation_context, callback_uri, exc.message)

    def _feed(self, conversation: Conversation) -> Feed:
        """The script's lines, plus what the recogniser hears when the call has audio."""
        listening = self.call.listening
        if listening is None:
            if any(p.audio for p in self.call.scenario.participants):
                # Someone talks only from a recording, and nothing here can hear it.
                raise ListeningError("local_speech_missing", speech_problem() or "")
            self._merged = MergedFeed(
                conversation.transcription(
                    locale=lambda: self.locale,
                    intermediate_results=self.setup.intermediate,
                    intelligence=lambda: self.intelligence,
                )
            )  # an audio participant may join later: see hear()
            return self._merged
        listening.check_locale(self.locale)
        scripted = conversation.transcription(
            locale=lambda: self.locale,
            intermediate_results=self.setup.intermediate,
            skip_recorded=True,
            intelligence=lambda: self.intelligence,
        )
        self._merged = MergedFeed(scripted, self._heard(conversation, listening))
        return self._merged

    def _heard(self, conversation: Conversation, listening: CallListening) -> Feed:
        feed: Feed = listening.feed(
            conversation, locale=lambda: self.locale, intermediate_results=self.setup.intermediate
        )
        return feed

    def hear(self, listening: CallListening) -> None:
        """The call's audio began mid-transcription (someone joined speaking): listen too."""
        conversation = self.call.conversation
        if self._merged is not None and self.running and conversation is not None:
            self._merged.add(self._heard(conversation, listening))

    def _finish_failed(
        self,
        me: asyncio.Task[Any] | None,
        key: str,
        operation_context: str | None,
        callback_uri: str | None,
        message: str | None = None,
    ) -> None:
        if self._task is me:  # not superseded by a stop or a new start meanwhile
            self._task = None
            self._inactive()
        self._emit_row(key, operation_context, callback_uri, message)

    def _audible(self, packet: dict[str, Any]) -> bool:
        """Nothing a participant on hold says is transcribed (our choice: no recording shows
        what the service sends meanwhile)."""
        data = packet.get("transcriptionData")
        if not isinstance(data, dict):
            return True
        return data.get("participantRawID") not in self.call.server.held

    def _decorate(self, packet: dict[str, Any]) -> dict[str, Any]:
        """A packet as the preview options make it: personal data masked, and for what the
        recogniser heard (the script's lines carry their own) the language in force and a
        neutral sentiment. A new dict when changed: the feed may send its packet again."""
        intelligence = self.intelligence
        data = packet.get("transcriptionData")
        if not intelligence.any or not isinstance(data, dict):
            return packet
        body = mask_transcription(data) if intelligence.redaction else dict(data)
        if intelligence.locales:
            body.setdefault("languageIdentified", self.locale)
        if intelligence.sentiment and body.get("resultStatus") == "Final":
            body.setdefault("sentimentAnalysisResult", {"sentiment": "neutral"})
        return {**packet, "transcriptionData": body}

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.call.tokens.websocket_token()}",
            "x-ms-call-connection-id": self.call.ids.call_connection_id,
            "x-ms-call-correlation-id": self.call.ids.correlation_id,
        }

    def _metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "subscriptionId": self.subscription_id,
            "locale": self.locale,
            "callConnectionId": self.call.ids.call_connection_id,
            "correlationId": self.call.ids.correlation_id,
        }
        if self.model_id is not None:
            meta["speechRecognitionModelEndpointId"] = self.model_id
        if self.intelligence.any:
            meta.update(self.intelligence.metadata())
        return {"kind": "TranscriptionMetadata", "transcriptionMetadata": meta}
