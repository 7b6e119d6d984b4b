"""The times a device may report (设备时间): an ISO 8601 time with its offset, at most MAX_AHEAD ahead of
the server's clock (a handheld's clock drifts) and at most MAX_AGE old (a device that was offline sends
its backlog). The window is defined here once; each API words the refusal for its own devices."""
from __future__ import annotations

from datetime import datetime, timedelta

MAX_AHEAD = timedelta(minutes=2)
MAX_AGE = timedelta(hours=48)
SITE_MAX_AGE = timedelta(days=7)  # an on-site lane system uploads a longer backlog

# what read_device_time finds wrong
NOT_A_TIME, NO_OFFSET, AHEAD, TOO_OLD = "not_a_time", "no_offset", "ahead", "too_old"


def read_device_time(value, now: datetime, max_age: timedelta = MAX_AGE) -> datetime | str:
    """The time as sent (with its offset), or what is wrong with it: NOT_A_TIME, NO_OFFSET, AHEAD or TOO_OLD."""
    if not isinstance(value, str):
        return NOT_A_TIME
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return NOT_A_TIME
    if parsed.tzinfo is None:
        return NO_OFFSET
    return window_problem(parsed, now, max_age) or parsed


def window_problem(at: datetime, now: datetime, max_age: timedelta = MAX_AGE) -> str | None:
    """AHEAD or TOO_OLD when an aware time is outside the window, else None."""
    if at > now + MAX_AHEAD:
        return AHEAD
    if at < now - max_age:
        return TOO_OLD
    return None
