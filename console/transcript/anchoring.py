"""Where a transcript stream's offsets sit on the call clock.

Packet offsets are 100 ns ticks from an origin the service chooses per stream. The first packet
of each new stream decides its anchor (ticks added to its offsets): offsets that follow the call
clock keep the anchor; offsets clearly behind the wall clock (counted from the subscription
start) or clearly ahead of it (another origin altogether, such as the docs' sample offset of
2516998782481234400 ticks) are rebased onto the call clock; and offsets that restart below what
the speaker already said continue after it. Pure.
"""

from __future__ import annotations

from console.acs.streaming import TICKS_PER_SECOND

# A stream whose offsets lag or lead the wall clock by more than this has its own origin
# (recognition latency alone never gets near it).
_ANCHOR_SLACK = 10 * TICKS_PER_SECOND
# Offsets ahead of the call clock by more than this have another origin altogether: an hour of
# call time, or a minute of wall time on a sped-up emulator call (delivery may lag that much
# on a loaded machine). Nothing a real stream sends comes near it.
_AHEAD_SLACK = 3600 * TICKS_PER_SECOND
_AHEAD_LAG_S = 60.0
# Without a known call start, only an offset no call could reach is rebased.
_NO_CALL_THAT_LONG = 7 * 24 * 3600 * TICKS_PER_SECOND


def stream_anchor(
    anchor: int,
    *,
    now: int,
    offset: int,
    duration: int,
    call_known: bool,
    clock_rate: float,
    last_start: int | None,
    max_end: int,
) -> int:
    """The anchor for a new stream whose first packet is at ``offset`` (+ ``duration``), seen
    at call-clock tick ``now``; ``anchor`` is the current one, ``last_start`` where this
    speaker last began, ``max_end`` where anyone last ended."""
    behind = now - (anchor + offset + duration)
    if call_known and behind > _ANCHOR_SLACK:
        anchor += behind
    elif -behind > max(_AHEAD_SLACK, round(_AHEAD_LAG_S * clock_rate * TICKS_PER_SECOND)) and (
        call_known or anchor + offset > _NO_CALL_THAT_LONG
    ):
        # Ahead of the call clock: another origin. The phrase ends now, never before zero.
        anchor = max(now - offset - duration, -offset)
    if last_start is not None and anchor + offset + TICKS_PER_SECOND < last_start:
        # Offsets restarted below what this speaker already said: continue after it all.
        anchor = max(anchor, max_end - offset)
    return anchor
