"""``acs-console doctor`` and the Settings dialog's **Test connection**: the same checks of a
profile's setup (the connection string, the endpoint and its key, the AI resource, the public
bases and whether they reach this console's listeners, the Event Grid URL). No Qt."""

from __future__ import annotations

from console.doctor.result import CHECK_NAMES, FAIL, PASS, WARN, CheckResult, DoctorReport

__all__ = ["CHECK_NAMES", "FAIL", "PASS", "WARN", "CheckResult", "DoctorReport"]
