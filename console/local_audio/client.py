"""The emulator's admin endpoints for talking participants, over HTTPS with HMAC signing.

- ``POST /emulator/calls/{id}/participants`` adds a participant whose WAV file plays from now;
- ``GET /emulator/calls/{id}/participants/{rawId}/audio`` upgraded to a WebSocket takes a live
  participant's PCM16LE 16 kHz mono samples as binary messages (:class:`LiveAudioSender`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import ssl
from collections.abc import AsyncIterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from console.acs.hmac_signing import sign
from console.local_audio.common import (
    REQUEST_TIMEOUT_S,
    LocalAudioError,
)
from console.local_audio.sources import (
    Framer,
)

log = logging.getLogger(__name__)


# --- the emulator's admin endpoints ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddedParticipant:
    raw_id: str
    display_name: str
    duration: float  # seconds of audio


@dataclass(slots=True)
class LiveStats:
    frames_sent: int = 0
    bytes_sent: int = 0
    closed_by_peer: str | None = None  # why the emulator closed, if it did


class LiveAudioSender:
    """One live participant's WebSocket: send PCM16LE 16 kHz mono; close when done."""

    def __init__(
        self,
        ws: aiohttp.ClientWebSocketResponse,
        http: aiohttp.ClientSession,
        *,
        raw_id: str,
        display_name: str,
    ) -> None:
        self.raw_id = raw_id
        self.display_name = display_name
        self.stats = LiveStats()
        self._ws = ws
        self._http = http
        self._framer = Framer()
        self._closing = False
        # Reading is what notices the emulator closing (the call ended); it sends nothing else.
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="live-audio-read")

    @property
    def closed(self) -> bool:
        return self._closing or self._ws.closed or self.stats.closed_by_peer is not None

    async def _read(self) -> None:
        async for msg in self._ws:
            if msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                break
            log.debug("live audio: ignoring a %s message from the emulator", msg.type.name)
        if not self._closing:
            code = self._ws.close_code
            self.stats.closed_by_peer = f"code {code}" if code is not None else "connection lost"
            log.info(
                "the emulator closed %s's live audio (%s)", self.raw_id, self.stats.closed_by_peer
            )

    async def send(self, pcm: bytes) -> None:
        """Queue ``pcm`` (any length); every whole 20 ms frame goes out as one message."""
        for frame in self._framer.push(pcm):
            await self._send_frame(frame)

    async def _send_frame(self, frame: bytes) -> None:
        if self.closed:
            raise LocalAudioError(
                f"The emulator stopped taking {self.display_name}'s audio "
                "(the call may have ended)."
            )
        try:
            await self._ws.send_bytes(frame)
        except (aiohttp.ClientError, ConnectionError) as exc:
            raise LocalAudioError(
                f"{self.display_name}'s audio connection to the emulator broke ({exc})."
            ) from exc
        self.stats.frames_sent += 1
        self.stats.bytes_sent += len(frame)

    async def stream(self, blocks: AsyncIterable[bytes]) -> int:
        """Send everything ``blocks`` yields, then the padded remainder; returns frames sent."""
        async for block in blocks:
            await self.send(block)
        tail = self._framer.flush()
        if tail is not None:
            await self._send_frame(tail)
        return self.stats.frames_sent

    async def close(self) -> None:
        if not self._closing:
            self._closing = True
            with contextlib.suppress(aiohttp.ClientError, ConnectionError, TimeoutError):
                await asyncio.wait_for(self._ws.close(), 5.0)
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)
        await self._http.close()

    async def __aenter__(self) -> LiveAudioSender:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _error_message(doc: Any) -> str | None:
    if isinstance(doc, dict) and isinstance(doc.get("error"), dict):
        message = doc["error"].get("message")
        if isinstance(message, str) and message:
            return message
    return None


_LIVE_REFUSALS = {
    400: "The emulator refused live audio: it takes it only in real time (--speed 1) and "
    "with the speech extra installed.",
    401: "The emulator refused the console's signature (is this machine's clock right?).",
    404: "The emulator does not know this call (it may have ended) or takes no live audio.",
    409: "The call is not connected, so nobody can speak in it.",
}


def _existing_file(path: Path | str) -> Path:
    # The emulator opens the file itself, so it gets an absolute path on this machine.
    file = Path(path).expanduser().resolve()
    if not file.is_file():
        raise LocalAudioError(f"{file} is not a file.")
    return file


class EmulatorAudioClient:
    """Signed HTTPS requests to one emulator's audio endpoints."""

    def __init__(self, endpoint: str, access_key: str, *, cafile: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._key = access_key
        self.cafile = cafile

    def __repr__(self) -> str:  # never the key
        return f"EmulatorAudioClient({self.endpoint!r})"

    @classmethod
    def from_profile(cls, profile: Any) -> EmulatorAudioClient | None:
        """The client for a local profile's emulator; None for Azure (no such endpoints)."""
        endpoint = getattr(profile, "emulator_endpoint", None)
        if getattr(profile, "kind", None) != "local" or not endpoint:
            return None
        parts = dict(
            part.split("=", 1) for part in profile.connection_string.split(";") if "=" in part
        )
        key = parts.get("accesskey")
        if not key:
            return None
        verify = profile.connection_verify
        return cls(endpoint, key, cafile=verify if isinstance(verify, str) else None)

    def _http(self) -> aiohttp.ClientSession:
        ctx = ssl.create_default_context(cafile=self.cafile)
        return aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(ssl=ctx),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        )

    def _headers(self, method: str, url: str, body: bytes) -> dict[str, str]:
        return sign(method, url, body, base64.b64decode(self._key))

    def _url(self, *segments: str, query: dict[str, str] | None = None) -> str:
        # Raw ids keep ':' and '+' (the emulator signs and routes the target as sent).
        path = "/".join(quote(s, safe=":+") for s in segments)
        url = f"{self.endpoint}/emulator/{path}"
        return f"{url}?{urlencode(query, quote_via=quote)}" if query else url

    async def _request(self, method: str, url: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode("utf-8") if body is not None else b""
        headers = self._headers(method, url, data)
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            async with (
                self._http() as http,
                http.request(method, URL(url, encoded=True), data=data, headers=headers) as resp,
            ):
                text = await resp.text()
                status = resp.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise LocalAudioError(
                f"The emulator could not be reached ({exc or type(exc).__name__})."
            ) from exc
        try:
            return status, json.loads(text) if text else {}
        except ValueError:
            return status, text

    async def calls(self) -> list[dict[str, Any]]:
        """The emulator's calls as ``GET /emulator/calls`` lists them."""
        status, doc = await self._request("GET", self._url("calls"))
        if status != 200 or not isinstance(doc, dict):
            raise LocalAudioError(f"The emulator did not list its calls ({status}).")
        return list(doc.get("value") or [])

    async def add_wav_participant(
        self, call_connection_id: str, raw_id: str, display_name: str, path: Path | str
    ) -> AddedParticipant:
        """A participant whose WAV file plays in the call from now."""
        file = _existing_file(path)
        body = {"rawId": raw_id, "displayName": display_name, "audioFile": str(file)}
        url = self._url("calls", call_connection_id, "participants")
        status, doc = await self._request("POST", url, body)
        if status == 201 and isinstance(doc, dict):
            duration = doc.get("duration")
            return AddedParticipant(
                str(doc.get("rawId") or raw_id),
                str(doc.get("displayName") or display_name),
                float(duration) if isinstance(duration, int | float) else 0.0,
            )
        reason = _error_message(doc)
        if status == 404 and reason is None:
            reason = "the emulator does not know this call (it may have ended)"
        raise LocalAudioError(
            f"{file.name} was not added to the call: {reason or f'the emulator answered {status}'}",
            status=status,
        )

    async def _refusal(self, http: aiohttp.ClientSession, url: str) -> str | None:
        # A refused upgrade's body is not kept by aiohttp; the same request without the upgrade
        # is refused for the same reason (a missing speech extra, the speed), with its words.
        with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError, ValueError):
            headers = self._headers("GET", url, b"")
            async with http.get(URL(url, encoded=True), headers=headers) as resp:
                if 400 <= resp.status < 500:
                    return _error_message(await resp.json(content_type=None))
        return None

    async def open_live_participant(
        self, call_connection_id: str, raw_id: str, display_name: str
    ) -> LiveAudioSender:
        """A WebSocket that takes this participant's live audio; close it to stop."""
        url = self._url(
            "calls",
            call_connection_id,
            "participants",
            raw_id,
            "audio",
            query={"displayName": display_name},
        )
        headers = self._headers("GET", url, b"")
        http = self._http()
        try:
            ws = await http.ws_connect(
                URL(url, encoded=True),
                headers=headers,
                timeout=aiohttp.ClientWSTimeout(ws_close=5.0),
            )
        except aiohttp.WSServerHandshakeError as exc:
            try:
                reason = await self._refusal(http, url) if 400 <= exc.status < 500 else None
            finally:
                await http.close()
            text = reason or _LIVE_REFUSALS.get(
                exc.status, f"The emulator refused live audio ({exc.status})."
            )
            raise LocalAudioError(text, status=exc.status) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await http.close()
            raise LocalAudioError(
                f"The emulator could not be reached ({exc or type(exc).__name__})."
            ) from exc
        except BaseException:
            await http.close()
            raise
        return LiveAudioSender(ws, http, raw_id=raw_id, display_name=display_name)
