"""JwtVerifier against a real JWKS served over HTTPS with a self-signed certificate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from console.acs.auth import (
    ACS_ISSUER,
    ACS_JWKS_URL,
    AuthError,
    AuthSettings,
    JwtVerifier,
    bearer_token,
    new_url_secret,
    secret_matches,
)
from tests.integration.jwt_tools import (
    AUDIENCE,
    ISSUER,
    JwksServer,
    hmac_token,
    signing_key,
    unsigned_token,
)


@pytest.fixture
async def jwks(tmp_path: Path) -> AsyncIterator[JwksServer]:
    async with JwksServer(tmp_path, [signing_key("k1")]) as server:
        yield server


@pytest.fixture
async def verifier(jwks: JwksServer) -> AsyncIterator[JwtVerifier]:
    async with JwtVerifier(jwks.settings()) as v:
        yield v


async def reason(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(AuthError) as info:
        await verifier.verify(token)
    return info.value.reason


async def test_valid_token_gives_claims(verifier: JwtVerifier) -> None:
    claims = await verifier.verify_header("Bearer " + signing_key("k1").mint(sub="acs"))
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["sub"] == "acs"
    assert verifier.key_ids == {"k1"}


async def test_forged_signature_rejected(verifier: JwtVerifier) -> None:
    # Same kid, different private key: what an attacker who read the JWKS could produce.
    forged = signing_key("attacker").mint(kid="k1")
    assert await reason(verifier, forged) == "bad signature"


async def test_expired_token_rejected_but_small_skew_tolerated(verifier: JwtVerifier) -> None:
    key = signing_key("k1")
    assert await reason(verifier, key.mint(lifetime=-120)) == "token expired"
    # 10 s past expiry is within the 30 s leeway (clock skew between ACS and this machine).
    assert (await verifier.verify(key.mint(lifetime=-10)))["iss"] == ISSUER


async def test_wrong_audience_and_issuer_rejected(verifier: JwtVerifier) -> None:
    key = signing_key("k1")
    assert await reason(verifier, key.mint(audience="other-resource")) == "wrong audience"
    assert await reason(verifier, key.mint(issuer="https://evil.example")) == "wrong issuer"


async def test_missing_expiry_rejected(verifier: JwtVerifier, jwks: JwksServer) -> None:
    import jwt

    key = signing_key("k1")
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE}, key.private, algorithm="RS256", headers={"kid": "k1"}
    )
    assert await reason(verifier, token) == "missing claim"


async def test_alg_none_and_hmac_key_confusion_rejected(
    verifier: JwtVerifier, jwks: JwksServer
) -> None:
    assert await reason(verifier, unsigned_token("k1")) == "algorithm not allowed"
    # HS256 keyed with the public RSA key (which anyone can read from the JWKS).
    confused = hmac_token("k1", signing_key("k1").public_pem())
    assert await reason(verifier, confused) == "algorithm not allowed"
    assert jwks.fetches == 0  # refused on policy before any key lookup


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("Basic dXNlcjpwYXNz", "missing bearer token"),
        ("Bearer", "missing bearer token"),
        ("Bearer not-a-jwt", "malformed token"),
        ("Bearer " + "a" * 20000, "malformed token"),
    ],
)
async def test_malformed_authorization_rejected(
    verifier: JwtVerifier, header: str | None, expected: str
) -> None:
    with pytest.raises(AuthError) as info:
        await verifier.verify_header(header)
    assert info.value.reason == expected


async def test_bearer_scheme_is_case_insensitive() -> None:
    assert bearer_token("bearer abc.def.ghi") == "abc.def.ghi"


async def test_unknown_kid_refresh_picks_up_rotated_key(jwks: JwksServer) -> None:
    async with JwtVerifier(jwks.settings(refresh_cooldown=0.05)) as verifier:
        await verifier.verify(signing_key("k1").mint())
        assert jwks.fetches == 1
        jwks.keys[:] = [signing_key("k1"), signing_key("k2")]  # ACS publishes a new key
        await asyncio.sleep(0.06)
        claims = await verifier.verify(signing_key("k2").mint())
        assert claims["aud"] == AUDIENCE
        assert jwks.fetches == 2
        # Known kids do not fetch again.
        await verifier.verify(signing_key("k1").mint())
        await verifier.verify(signing_key("k2").mint())
        assert jwks.fetches == 2


async def test_forged_kid_flood_cannot_hammer_jwks(jwks: JwksServer) -> None:
    forged = [signing_key("attacker").mint(kid=f"bogus-{i}") for i in range(200)]
    async with JwtVerifier(jwks.settings(refresh_cooldown=60)) as verifier:
        results = await asyncio.gather(
            *(verifier.verify(t) for t in forged), return_exceptions=True
        )
        assert all(isinstance(r, AuthError) for r in results)
        assert {r.reason for r in results if isinstance(r, AuthError)} == {"unknown signing key"}
        # 200 concurrent unknown kids: one shared fetch, the rest refused without fetching.
        assert jwks.fetches == 1
        for token in forged[:50]:
            with pytest.raises(AuthError):
                await verifier.verify(token)
        assert jwks.fetches == 1
        # The genuine key works throughout.
        await verifier.verify(signing_key("k1").mint())
        assert jwks.fetches == 1


async def test_untrusted_jwks_certificate_is_not_accepted(jwks: JwksServer) -> None:
    # Without the CA file the self-signed JWKS endpoint fails TLS verification: no keys.
    async with JwtVerifier(jwks.settings(ca_file=None)) as verifier:
        assert await reason(verifier, signing_key("k1").mint()) == "signing keys unavailable"
    assert jwks.fetches == 0


async def test_jwks_outage_keeps_cached_keys(tmp_path: Path) -> None:
    server = JwksServer(tmp_path, [signing_key("k1")])
    await server.start()
    try:
        async with JwtVerifier(server.settings(refresh_cooldown=0.0)) as verifier:
            await verifier.verify(signing_key("k1").mint())
            await server.stop()
            # A refresh attempt now fails (connection refused); cached keys keep working.
            assert await verifier.refresh()
            await verifier.verify(signing_key("k1").mint())
            assert await reason(verifier, signing_key("k2").mint()) == "unknown signing key"
    finally:
        await server.stop()


def test_production_defaults() -> None:
    s = AuthSettings(audience="immutable-resource-id")
    assert s.issuer == ACS_ISSUER == "https://acscallautomation.communication.azure.com"
    assert s.jwks_url == ACS_JWKS_URL
    assert ACS_JWKS_URL.endswith("/calling/keys")
    assert s.ca_file is None
    with pytest.raises(ValueError, match="audience"):
        AuthSettings(audience="")
    with pytest.raises(ValueError, match="HTTPS"):
        AuthSettings(audience="x", jwks_url="http://127.0.0.1/keys")


def test_url_secret() -> None:
    secrets = {new_url_secret() for _ in range(100)}
    assert len(secrets) == 100
    for s in secrets:
        assert len(s) >= 32
        assert s.replace("-", "").replace("_", "").isalnum()
    s = next(iter(secrets))
    assert secret_matches(s, s)
    assert not secret_matches(s[:-1], s)
    assert not secret_matches("", s)
    assert not secret_matches(None, s)
    assert not secret_matches("é" * 10, s)
