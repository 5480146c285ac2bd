"""How ACS proves itself to our listeners: RS256 JWTs checked against a JWKS, plus URL secrets.

ACS signs every callback POST and every WebSocket upgrade with ``Authorization: Bearer <JWT>``
(RS256, ``kid`` in the header, public keys published as a JWKS). Production values are the
defaults; the local emulator publishes its own issuer, audience and JWKS over HTTPS with a
self-signed certificate, which the verifier trusts through ``ca_file`` (never by switching TLS
verification off). On top of the JWT each session puts a random secret in the listener URLs.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt

log = logging.getLogger(__name__)

ACS_ISSUER = "https://acscallautomation.communication.azure.com"
ACS_JWKS_URL = "https://acscallautomation.communication.azure.com/calling/keys"
ALGORITHM = "RS256"
# A JWKS is a handful of keys; anything bigger is not one.
_MAX_JWKS_BYTES = 256 * 1024
# Longest Authorization value worth decoding (ACS tokens are ~1-2 KB).
_MAX_TOKEN_CHARS = 16 * 1024

Claims = dict[str, Any]


class AuthError(Exception):
    """A request failed authentication.

    ``reason`` is one of a small fixed set (safe to count and show); ``detail`` may carry
    request-specific text for a debug log. Neither ever contains the token.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason if not detail else f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class AuthSettings:
    """Where the verifier gets its keys and what it accepts.

    ``audience`` is the ACS resource's immutable resource id (a GUID from the portal); for the
    emulator, its advertised audience. ``ca_file`` adds a trusted CA for the JWKS fetch (the
    emulator's self-signed certificate); ``None`` uses the system trust store.
    """

    audience: str
    issuer: str = ACS_ISSUER
    jwks_url: str = ACS_JWKS_URL
    ca_file: str | Path | None = None
    leeway: float = 30.0  # seconds of clock skew tolerated on exp/nbf
    # An unknown kid may trigger a JWKS refresh at most this often, so forged kids cannot
    # turn our listener into a JWKS flooder.
    refresh_cooldown: float = 30.0
    # Keys are re-fetched after this age even when every kid is known (revocation).
    max_key_age: float = 24 * 3600.0
    fetch_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not self.audience:
            raise ValueError("AuthSettings needs an audience (the ACS immutable resource id)")
        if not self.jwks_url.lower().startswith("https://"):
            raise ValueError("the JWKS must be fetched over HTTPS")


def new_url_secret() -> str:
    """A fresh per-session secret for the listener URL path (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


def secret_matches(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a URL secret (timing must not leak the prefix)."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def bearer_token(authorization: str | None) -> str:
    """The token from an ``Authorization: Bearer …`` header, or AuthError."""
    if not authorization:
        raise AuthError("missing bearer token")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthError("missing bearer token")
    if len(token) > _MAX_TOKEN_CHARS:
        raise AuthError("malformed token", "too long")
    return token


class JwtVerifier:
    """Verifies ACS bearer tokens. Create and use it on the asyncio loop; close it when done.

    Keys are fetched lazily, cached by ``kid`` and refreshed when a token names an unknown
    ``kid`` (rate-limited by ``settings.refresh_cooldown``; concurrent refreshes share one
    fetch). Signature checks are a few tens of microseconds, fine on the loop.
    """

    def __init__(self, settings: AuthSettings) -> None:
        self.settings = settings
        self._keys: dict[str, Any] = {}
        self._loaded_at: float | None = None  # monotonic time of the last successful fetch
        self._attempted_at: float | None = None  # monotonic time of the last fetch attempt
        self._inflight: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self.fetch_count = 0  # successful and failed JWKS fetches, for diagnostics

    async def __aenter__(self) -> JwtVerifier:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        task, self._inflight = self._inflight, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    async def verify_header(self, authorization: str | None) -> Claims:
        """Verify an ``Authorization`` header value; return the claims or raise AuthError."""
        return await self.verify(bearer_token(authorization))

    async def verify(self, token: str) -> Claims:
        """Verify a compact JWT; return its claims or raise AuthError."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError("malformed token", exc.__class__.__name__) from None
        alg = header.get("alg")
        # Decided from our policy, never from the token: no "none", no HMAC key confusion.
        if alg != ALGORITHM:
            raise AuthError("algorithm not allowed", str(alg)[:20])
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("missing key id")
        key = await self._key_for(kid)
        s = self.settings
        try:
            return jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=s.audience,
                issuer=s.issuer,
                leeway=s.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("token not yet valid") from None
        except jwt.InvalidAudienceError:
            raise AuthError("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise AuthError("wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError("missing claim", exc.claim) from None
        except jwt.InvalidSignatureError:
            raise AuthError("bad signature") from None
        except jwt.PyJWTError as exc:
            raise AuthError("invalid token", exc.__class__.__name__) from None

    async def refresh(self) -> bool:
        """Fetch the JWKS now if the cooldown allows; True when a fetch ran (or was running)."""
        return await self._refresh()

    # -- keys -------------------------------------------------------------------------------

    async def _key_for(self, kid: str) -> Any:
        now = time.monotonic()
        if self._loaded_at is None or now - self._loaded_at > self.settings.max_key_age:
            await self._refresh()
        key = self._keys.get(kid)
        if key is None and await self._refresh():
            key = self._keys.get(kid)
        if key is None:
            if self._loaded_at is None:
                raise AuthError("signing keys unavailable")
            raise AuthError("unknown signing key")
        return key

    async def _refresh(self) -> bool:
        task = self._inflight
        if task is None:
            now = time.monotonic()
            last = self._attempted_at
            if last is not None and now - last < self.settings.refresh_cooldown:
                return False
            self._attempted_at = now
            task = self._inflight = asyncio.get_running_loop().create_task(self._fetch())
            task.add_done_callback(self._fetch_done)
        # shield: a cancelled request must not cancel the fetch others are waiting for.
        await asyncio.shield(task)
        return True

    def _fetch_done(self, task: asyncio.Task[None]) -> None:
        if self._inflight is task:
            self._inflight = None

    async def _fetch(self) -> None:
        self.fetch_count += 1
        s = self.settings
        try:
            session = self._ensure_session()
            timeout = aiohttp.ClientTimeout(total=s.fetch_timeout)
            async with session.get(s.jwks_url, timeout=timeout, allow_redirects=False) as resp:
                if resp.status != 200:
                    raise ValueError(f"HTTP {resp.status}")
                body = await resp.content.read(_MAX_JWKS_BYTES + 1)
                if len(body) > _MAX_JWKS_BYTES:
                    raise ValueError("JWKS too large")
            keys = _parse_jwks(body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Keep whatever keys we had: a JWKS outage must not reject tokens we can verify.
            log.warning("JWKS fetch from %s failed: %s", s.jwks_url, exc)
            return
        self._keys = keys
        self._loaded_at = time.monotonic()
        log.info("JWKS loaded from %s: %d signing key(s)", s.jwks_url, len(keys))

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            ca = self.settings.ca_file
            ctx = ssl.create_default_context(cafile=str(ca) if ca is not None else None)
            self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=ctx))
        return self._session


def _parse_jwks(body: bytes) -> dict[str, Any]:
    """RSA signing keys by kid; keys for other uses or algorithms are skipped."""
    try:
        jwks = jwt.PyJWKSet.from_json(body.decode("utf-8"))
    except (jwt.PyJWTError, ValueError, AttributeError, TypeError) as exc:
        raise ValueError(f"not a usable JWKS ({exc.__class__.__name__})") from None
    keys: dict[str, Any] = {}
    for jwk in jwks.keys:
        if jwk.key_type != "RSA" or not jwk.key_id:
            continue
        if jwk.public_key_use not in (None, "sig"):
            continue
        if jwk.algorithm_name not in (ALGORITHM, None):
            continue
        keys[jwk.key_id] = jwk.key
    if not keys:
        raise ValueError("JWKS has no RSA signing key")
    return keys
