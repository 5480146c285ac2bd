"""One check's outcome, and the whole doctor report."""

from __future__ import annotations

from dataclasses import dataclass

PASS = "PASS"
WARN = "WARN"
FAIL = "FAIL"

# Every check, in the order they are reported (a profile may leave some out).
CHECK_NAMES = (
    "connection_string",
    "endpoint_tls",
    "access_key",
    "cognitive_endpoint",
    "caller_id",
    "resource_id",
    "callback_base",
    "websocket_base",
    "callback_reachable",
    "websocket_reachable",
    "eventgrid_url",
)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """``fix`` says what to do about a FAIL (or a WARN); it is empty on PASS."""

    check: str
    status: str  # PASS | WARN | FAIL
    detail: str
    fix: str = ""

    def __post_init__(self) -> None:
        if self.check not in CHECK_NAMES:
            raise ValueError(f"unknown check {self.check!r}")
        if self.status not in (PASS, WARN, FAIL):
            raise ValueError(f"unknown status {self.status!r}")
        if self.status == PASS and self.fix:
            raise ValueError("a passing check has no fix")


def passed(check: str, detail: str) -> CheckResult:
    return CheckResult(check, PASS, detail)


def warned(check: str, detail: str, fix: str = "") -> CheckResult:
    return CheckResult(check, WARN, detail, fix)


def failed(check: str, detail: str, fix: str) -> CheckResult:
    return CheckResult(check, FAIL, detail, fix)


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """The checks, and the public URLs ACS is to use (their secrets included)."""

    checks: tuple[CheckResult, ...]
    callback_url: str
    websocket_url: str
    eventgrid_url: str

    @property
    def failed(self) -> bool:
        return any(c.status == FAIL for c in self.checks)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0

    def get(self, check: str) -> CheckResult | None:
        return next((c for c in self.checks if c.check == check), None)
