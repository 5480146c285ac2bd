"""Audio streaming is a per-profile preference: on for the emulator, off for Azure (billed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from console.config import Preferences, Profile, SecretStore

EMULATOR_INFO = {
    "connection_string": "endpoint=https://127.0.0.1:9/;accesskey=a2V5",
    "endpoint": "https://127.0.0.1:9",
    "cert_path": "/nonexistent/cert.pem",
    "issuer": "https://127.0.0.1:9",
    "jwks_url": "https://127.0.0.1:9/calling/keys",
    "audience": "aud",
}


def azure_prefs(**kw: object) -> Preferences:
    return Preferences(
        profile="azure",
        cognitive_services_endpoint="https://contoso-speech.cognitiveservices.azure.com/",
        public_callback_base="https://abc123-8080.euw.devtunnels.ms",
        public_websocket_base="wss://abc123-8081.euw.devtunnels.ms",
        acs_resource_id="8d0a7c59-5b4e-4a57-9a0c-2f1f0e3b6c11",
        **kw,  # type: ignore[arg-type]
    )


def secrets() -> SecretStore:
    store = SecretStore()
    store.set("endpoint=https://contoso.communication.azure.com/;accesskey=a2V5", session_only=True)
    return store


def test_defaults_stream_locally_and_not_on_azure() -> None:
    prefs = Preferences()
    assert prefs.stream_audio_for("local") is True
    assert prefs.stream_audio_for("azure") is False
    assert Profile.local(EMULATOR_INFO).stream_audio is True
    assert Profile.local(EMULATOR_INFO, stream_audio=False).stream_audio is False
    assert Profile.azure(azure_prefs(), secrets()).stream_audio is False


def test_the_azure_choice_reaches_the_azure_profile() -> None:
    profile = Profile.azure(azure_prefs(stream_audio_azure=True), secrets())
    assert profile.stream_audio is True


def test_the_choices_survive_a_restart_and_bad_values_fall_back(tmp_path: Path) -> None:
    Preferences(stream_audio_local=False, stream_audio_azure=True).save(tmp_path)
    loaded = Preferences.load(tmp_path)
    assert (loaded.stream_audio_local, loaded.stream_audio_azure) == (False, True)
    (tmp_path / "settings.json").write_text(
        json.dumps({"stream_audio_local": "no", "stream_audio_azure": 1}), encoding="utf-8"
    )
    loaded = Preferences.load(tmp_path)
    assert (loaded.stream_audio_local, loaded.stream_audio_azure) == (True, False)


def test_a_proxy_ca_is_trusted_besides_the_system_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A TLS-inspecting proxy's CA must add to the trust store, not replace it: Azure's own
    # certificates still verify.
    import certifi

    from console.config import trust_bundle

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    ca = tmp_path / "proxy-ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nproxy\n-----END CERTIFICATE-----\n")
    bundle = Path(trust_bundle(str(ca))).read_text()
    assert bundle.endswith(ca.read_text())
    assert Path(certifi.where()).read_text().strip() in bundle
    assert trust_bundle(str(tmp_path / "missing.pem")) == str(tmp_path / "missing.pem")
