"""Test helpers: RSA signing keys, token minting (good and forged), and a JWKS over HTTPS.

The JWKS server is a real aiohttp HTTPS server on 127.0.0.1 with a freshly generated
self-signed certificate, so the verifier's TLS path (custom CA file) is exercised for real.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import ipaddress
import json
import ssl
import time
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from jwt.algorithms import RSAAlgorithm

from console.acs.auth import AuthSettings

ISSUER = "https://acs.test.invalid"
AUDIENCE = "5e3f0a4c-1d2b-4c6e-8f90-123456789abc"


class SigningKey:
    """An RSA key pair with a kid, able to mint RS256 tokens and describe itself as a JWK."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def mint(
        self,
        *,
        issuer: str = ISSUER,
        audience: str = AUDIENCE,
        lifetime: float = 300,
        kid: str | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {"iss": issuer, "aud": audience, "iat": now, "exp": int(now + lifetime)}
        payload.update(claims)
        return jwt.encode(
            payload, self.private, algorithm="RS256", headers={"kid": kid or self.kid}
        )


@functools.cache
def signing_key(kid: str) -> SigningKey:
    """A key per kid, generated once per test run (RSA generation is the slow part)."""
    return SigningKey(kid)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unsigned_token(kid: str, **claims: Any) -> str:
    """``alg: none`` with an empty signature."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    payload = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300, **claims}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def hmac_token(kid: str, secret: bytes, **claims: Any) -> str:
    """HS256 signed with ``secret`` (e.g. the RSA public key PEM: the key-confusion attack)."""
    header = {"alg": "HS256", "typ": "JWT", "kid": kid}
    payload = {"iss": ISSUER, "aud": AUDIENCE, "exp": int(time.time()) + 300, **claims}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    sig = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(sig)}"


def write_self_signed(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost; returns (cert, key) paths."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "jwks-cert.pem", directory / "jwks-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class JwksServer:
    """Serves ``{"keys": [...]}`` at ``/calling/keys`` over HTTPS on 127.0.0.1; counts fetches.

    ``keys`` is a plain list: append or replace entries to rotate keys between fetches.
    """

    def __init__(self, directory: Path, keys: list[SigningKey]) -> None:
        self.keys = keys
        self.fetches = 0
        self.cert_path, self._key_path = write_self_signed(directory)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/calling/keys"

    def settings(self, **overrides: Any) -> AuthSettings:
        values: dict[str, Any] = {
            "audience": AUDIENCE,
            "issuer": ISSUER,
            "jwks_url": self.url,
            "ca_file": self.cert_path,
        }
        values.update(overrides)
        return AuthSettings(**values)

    async def _keys(self, request: web.Request) -> web.Response:
        self.fetches += 1
        return web.json_response({"keys": [k.jwk() for k in self.keys]})

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/calling/keys", self._keys)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert_path, self._key_path)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ctx)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> JwksServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
