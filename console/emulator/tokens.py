"""RS256 tokens the emulator presents to the application, and the keys to check them.

Like ACS: one fresh JWT per callback POST (5 minutes) and per WebSocket connection (24 hours),
``kid`` in the header, ``iss``/``aud``/``exp`` claims, public keys published as a JWKS at
``/calling/keys`` and an OpenID configuration at ``/calling/.well-known/acsopenidconfiguration``.
The signing key is kept in the data dir so JWKS caches stay valid across restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from console.emulator.identity import write_private_text

log = logging.getLogger(__name__)

SIGNING_KEY_FILE = "jwt-signing-key.pem"
CALLBACK_TOKEN_LIFETIME = 5 * 60
WEBSOCKET_TOKEN_LIFETIME = 24 * 60 * 60


def _load_or_create_key(path: Path) -> rsa.RSAPrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
            return key
        log.warning("Replacing an unusable token signing key in %s", path)
    except FileNotFoundError:
        pass
    except ValueError:
        log.warning("Replacing an unreadable token signing key in %s", path)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private_text(path, pem.decode("ascii"))
    return key


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a stable key id derived from the public key."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class TokenIssuer:
    def __init__(self, data_dir: Path, *, issuer: str, audience: str) -> None:
        self._key = _load_or_create_key(data_dir / SIGNING_KEY_FILE)
        jwk = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        self.kid = _thumbprint(jwk)
        self._jwk = {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}
        self.issuer = issuer
        self.audience = audience

    def mint(self, lifetime: int, **claims: Any) -> str:
        now = int(time.time())
        payload = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "nbf": now - 5,
            "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            **claims,
        }
        return jwt.encode(payload, self._key, algorithm="RS256", headers={"kid": self.kid})

    def callback_token(self) -> str:
        return self.mint(CALLBACK_TOKEN_LIFETIME)

    def websocket_token(self) -> str:
        return self.mint(WEBSOCKET_TOKEN_LIFETIME)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [dict(self._jwk)]}

    def openid_configuration(self, jwks_uri: str) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": jwks_uri,
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
        }
