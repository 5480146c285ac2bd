"""The emulator's configuration (re-exported by ``console.emulator.server``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

DEFAULT_PORT = 47443
EVENTGRID_SCHEMAS = ("eventgrid", "cloudevents")  # the Event Grid subscription's schemas
MAX_RESPONSE_DELAY = 300.0


class DataDirError(OSError):
    """The data dir cannot hold the emulator's keys and certificate; worded for a person."""

    def __init__(self, data_dir: Path, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause))
        self.data_dir = data_dir

    def __str__(self) -> str:
        return (
            f"The emulator's data folder {self.data_dir} cannot be used ({self.strerror}). "
            "Choose another with --data-dir, or fix its permissions."
        )


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("acs-console", appauthor=False)) / "emulator"


@dataclass
class EmulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: any free port (the CLI uses DEFAULT_PORT)
    data_dir: Path = field(default_factory=default_data_dir)
    scenario: str | Path = "support-call"  # a shipped scenario name, a .json file or a journal
    speed: float = 1.0  # call time runs this many times faster than wall time
    access_key: str | None = None  # base64; generated and persisted in data_dir when None
    audience: str | None = None  # GUID; generated and persisted in data_dir when None
    answer_delay: float = 3.0  # seconds of call time from create_call to CallConnected
    custom_speech_models: tuple[str, ...] = ()  # speech model endpoint ids the emulator knows
    eventgrid_webhook_url: str | None = None  # where IncomingCall events are delivered
    eventgrid_schema: str = "eventgrid"  # "eventgrid" | "cloudevents": how they are delivered
    unreachable_targets: tuple[str, ...] = ()  # raw ids / +E.164 numbers that never answer
    hangup_after_script: bool = True  # the remote party hangs up when the script is over
    seed: int = 0  # speech engine seed (revisions), for reproducible transcripts
    # A slow network: every Call Automation request is held this long before it is handled;
    # a request whose client gave up meanwhile is dropped unhandled, as if lost on the way.
    response_delay: float = 0.0
    # With response_delay: handle each request at once and hold only its answer.
    late_answers: bool = False
    # Participants who speak from a WAV file from call time 0 (raw id, path): --audio RAW=FILE.
    audio: tuple[tuple[str, Path], ...] = ()
    # Server call ids of calls already in progress at start (the scenario playing), for Connect.
    existing_calls: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).expanduser()
        if not self.speed > 0:
            raise ValueError("speed must be greater than 0")
        if self.answer_delay < 0:
            raise ValueError("answer_delay must not be negative")
        if not 0 <= self.response_delay <= MAX_RESPONSE_DELAY:
            raise ValueError(f"response_delay must be between 0 and {MAX_RESPONSE_DELAY:g} s")
        if self.eventgrid_schema not in EVENTGRID_SCHEMAS:
            raise ValueError(f"eventgrid_schema must be one of {', '.join(EVENTGRID_SCHEMAS)}")
        self.custom_speech_models = tuple(self.custom_speech_models)
        self.unreachable_targets = tuple(self.unreachable_targets)
        self.existing_calls = tuple(self.existing_calls)
        if any(not c.strip() for c in self.existing_calls):
            raise ValueError("an existing call needs a server call id")
        if len(set(self.existing_calls)) != len(self.existing_calls):
            raise ValueError("each existing call needs its own server call id")
        self.audio = tuple((raw, Path(path).expanduser()) for raw, path in self.audio)
