"""Errors the emulator answers synchronously, as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from console.acs.errors import row


class ServiceError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    @classmethod
    def from_row(cls, key: str) -> ServiceError:
        """The synchronous form of a transcription code-table row: HTTP status = code."""
        r = row(key)
        return cls(r.code, str(r.sub_code), r.message)

    def body(self) -> dict[str, dict[str, str]]:
        return {"error": {"code": self.code, "message": self.message}}


def bad_request(message: str) -> ServiceError:
    return ServiceError(400, "BadRequest", message)


def not_found(message: str = "Call connection not found.") -> ServiceError:
    return ServiceError(404, "NotFound", message)
