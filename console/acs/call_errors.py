"""A failed call-control request, in the operator's words: :class:`CallServiceError` and the
one mapping from azure-core's exceptions to it (:func:`translate_error`)."""

from __future__ import annotations

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from console.acs.errors import explain


class CallServiceError(Exception):
    """A call-control request failed; ``operator_text`` is what to show a person."""

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        status: int | None = None,
        sub_code: int | None = None,
        operation: str = "",
    ) -> None:
        super().__init__(message)
        self.kind = kind  # "auth" | "network" | "timeout" | "not_found" | "service" | "invalid"
        self.message = message
        self.status = status
        self.sub_code = sub_code
        self.operation = operation

    @property
    def operator_text(self) -> str:
        what = f"{self.operation} failed" if self.operation else "The request failed"
        if self.kind == "auth":
            return (
                f"{what}: the service rejected the access key. Check the connection string "
                "in Settings (Azure profile) and that the key has not been rotated."
            )
        if self.kind == "network":
            return (
                f"{what}: the Call Automation service could not be reached ({self.message}). "
                "Check the network or that the emulator is running, then try again."
            )
        if self.kind == "timeout":
            return f"{what}: the service did not answer in time. Try again."
        if self.kind == "not_found":
            return f"{what}: the call no longer exists on the service (it may have ended)."
        if self.kind == "invalid":
            return f"{what}: {self.message}"
        if self.sub_code is not None:
            exp = explain(self.status, self.sub_code, self.message)
            if exp.known:
                return f"{what}: {exp.explanation} {exp.remedy}"
        return f"{what}: the service answered {self.status or 'an error'}: {self.message}"

    def __str__(self) -> str:
        parts = [self.kind]
        if self.status is not None:
            parts.append(str(self.status))
        if self.sub_code is not None:
            parts.append(f"subCode {self.sub_code}")
        return f"{self.operation or 'request'} failed ({', '.join(parts)}): {self.message}"


def _error_sub_code(exc: HttpResponseError) -> int | None:
    code = getattr(getattr(exc, "error", None), "code", None)
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def _error_message(exc: HttpResponseError) -> str:
    err = getattr(exc, "error", None)
    message = getattr(err, "message", None)
    return str(message) if message else (exc.reason or exc.message or "error").strip()


def translate_error(exc: Exception, operation: str) -> CallServiceError:
    """Map an azure-core exception to a CallServiceError (the one place that knows them)."""
    if isinstance(exc, CallServiceError):
        return exc
    if isinstance(exc, ClientAuthenticationError):
        return CallServiceError(
            "auth", _error_message(exc), status=exc.status_code, operation=operation
        )
    if isinstance(exc, ResourceNotFoundError):
        return CallServiceError(
            "not_found", _error_message(exc), status=exc.status_code, operation=operation
        )
    if isinstance(exc, HttpResponseError) and exc.status_code is not None:
        return CallServiceError(
            "service",
            _error_message(exc),
            status=exc.status_code,
            sub_code=_error_sub_code(exc),
            operation=operation,
        )
    if isinstance(exc, (ServiceResponseError, TimeoutError)):
        return CallServiceError("timeout", str(exc) or "timed out", operation=operation)
    if isinstance(exc, ServiceRequestError | AzureError | OSError):
        return CallServiceError("network", _short(exc), operation=operation)
    return CallServiceError("service", _short(exc), operation=operation)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
    return text[:300]
