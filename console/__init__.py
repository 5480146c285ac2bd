"""ACS Transcription Console: operator console for ACS real-time call transcription."""

__version__ = "0.1.0"
APP_ID = "io.github.acs_transcription_console.Console"
