"""The doctor's output: a line per check (and the fix on FAIL), or one JSON object."""

from __future__ import annotations

import json

from console.doctor.result import FAIL, DoctorReport

FIX_INDENT = "    fix: "


def render_lines(report: DoctorReport) -> list[str]:
    """``PASS|WARN|FAIL <check>: <detail>``, each FAIL followed by its fix."""
    lines: list[str] = []
    for result in report.checks:
        lines.append(f"{result.status} {result.check}: {result.detail}")
        if result.status == FAIL and result.fix:
            lines.append(FIX_INDENT + result.fix)
    return lines


def render_text(report: DoctorReport) -> str:
    return "\n".join(render_lines(report)) + "\n"


def render_json(report: DoctorReport) -> str:
    doc = {
        "checks": [
            {"check": r.check, "status": r.status, "detail": r.detail, "fix": r.fix}
            for r in report.checks
        ],
        "callback_url": report.callback_url,
        "websocket_url": report.websocket_url,
        "eventgrid_url": report.eventgrid_url,
    }
    return json.dumps(doc, indent=2) + "\n"
