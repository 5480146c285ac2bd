"""The recogniser's models: the right one per locale, checked by sha256 before anything loads."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from console.emulator.recognition import models
from console.emulator.recognition.models import (
    BASE,
    TINY_EN,
    ModelError,
    ModelIntegrityError,
    ModelSpec,
)


def test_the_shipped_english_model_passes_its_check() -> None:
    folder = TINY_EN.locate()
    assert folder is not None
    # Raises if an installed file is not the pinned one: weights, tokenizer, vocabulary, config.
    models.verify(folder, TINY_EN.sha256, TINY_EN.side_sha256)


def test_a_tampered_model_file_is_refused_before_it_is_loaded(tmp_path: Path) -> None:
    source = TINY_EN.locate()
    assert source is not None
    copy = tmp_path / "tiny.en"
    shutil.copytree(source, copy)
    with open(copy / "model.bin", "r+b") as f:  # one flipped byte deep in the weights
        f.seek(40_000_000)
        byte = f.read(1)
        f.seek(40_000_000)
        f.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(ModelIntegrityError, match="failed its integrity check"):
        models.verify(copy, TINY_EN.sha256)
    with pytest.raises(ModelIntegrityError, match="reinstall the speech extra"):
        models.load_from(copy, TINY_EN.sha256)
    tampered = ModelSpec("tampered", True, TINY_EN.sha256, "speech", lambda: copy)
    with pytest.raises(ModelIntegrityError):
        models.load(tampered)
    assert "tampered" not in models._loaded


def test_a_tampered_tokenizer_is_refused_too(tmp_path: Path) -> None:
    source = TINY_EN.locate()
    assert source is not None
    copy = tmp_path / "tiny.en"
    copy.mkdir()
    for item in source.iterdir():
        if item.is_file():
            (copy / item.name).symlink_to(item)  # the weights stay the real, pinned file
    tokenizer = copy / "tokenizer.json"
    text = tokenizer.read_text(encoding="utf-8")
    tokenizer.unlink()
    tokenizer.write_text(text.replace('"hello"', '"goodbye"', 1), encoding="utf-8")
    spec = ModelSpec(
        "retokenised", True, TINY_EN.sha256, "speech", lambda: copy, TINY_EN.side_sha256
    )
    with pytest.raises(ModelIntegrityError, match=r"tokenizer\.json failed its integrity check"):
        models.load(spec)


def test_a_truncated_or_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "model.bin").write_bytes(b"\0" * 1000)
    with pytest.raises(ModelIntegrityError):
        models.verify(tmp_path, TINY_EN.sha256)
    with pytest.raises(ModelError, match="Cannot read the speech model"):
        models.verify(tmp_path / "nowhere", TINY_EN.sha256)


def test_english_uses_tiny_en_and_other_languages_the_multilingual_model() -> None:
    assert models.spec_for("en-US") is TINY_EN
    assert models.spec_for("en-GB") is TINY_EN
    assert models.spec_for("es-ES") is BASE  # the test extra installs it
    with pytest.raises(ModelError, match="no model for that language"):
        models.spec_for("xx-YY")


def test_without_the_multilingual_model_the_error_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(models.ALLOW_ENV, "whisper-tiny.en")
    assert models.spec_for("en-AU") is TINY_EN
    with pytest.raises(ModelError) as caught:
        models.spec_for("fr-FR")
    assert "pip install 'acs-transcription-console[speech-multilingual]'" in str(caught.value)
    monkeypatch.setenv(models.ALLOW_ENV, "whisper-base")
    assert models.spec_for("en-US") is BASE  # English falls back to the multilingual model


def test_the_multilingual_halves_are_joined_once_and_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(models.CACHE_ENV, str(tmp_path))
    folder = BASE.locate()
    assert folder == tmp_path / "whisper-base"
    assert folder is not None
    models.verify(folder, BASE.sha256, BASE.side_sha256)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        assert (folder / name).is_file()
    assert not [p for p in folder.iterdir() if p.name.startswith(".model-")]  # no leftovers
    stamp = os.stat(folder / "model.bin").st_mtime_ns
    assert BASE.locate() == folder
    assert os.stat(folder / "model.bin").st_mtime_ns == stamp  # not joined a second time
