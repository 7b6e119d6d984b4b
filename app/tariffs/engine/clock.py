"""Park-local wall clock helpers working on integer epoch seconds.

The engines compute in epoch seconds so that arithmetic is exact and cheap; the
park's IANA zone is consulted only to place band edges (wall-clock times such
as 07:00) on the time line.  Results per local day are cached because a park
quotes thousands of stays over the same few days.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .messages import gettext

UTC_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)
DAY_S = 86_400
MINUTES_PER_DAY = 1_440


def to_epoch(moment: datetime, what: str = "datetime") -> int:
    """Whole epoch seconds of an aware datetime (sub-second part floored)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got naive {moment.isoformat()}")
    return (moment - UTC_EPOCH) // _SECOND


@lru_cache(maxsize=256)
def get_zone(name: str) -> ZoneInfo:
    """The ZoneInfo for an IANA name; ValueError for an unknown zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(gettext("unknown time zone %(name)s", name=repr(name))) from exc


def to_local(epoch: int, tz: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, tz)


def local_ordinal(epoch: int, tz: ZoneInfo) -> int:
    """Proleptic ordinal of the park-local calendar date containing `epoch`."""
    return datetime.fromtimestamp(epoch, tz).toordinal()


def _wall_naive(day: date, minute: int) -> datetime:
    hour, minute = divmod(minute, 60)
    return datetime(day.year, day.month, day.day, hour, minute)


def _wall_epoch_slow(tz: ZoneInfo, ordinal: int, minute: int) -> int:
    """Epoch of a wall time; ambiguous times take the first occurrence and
    nonexistent times (spring-forward gap) the instant the clock jumps."""
    day = date.fromordinal(ordinal)
    if minute >= MINUTES_PER_DAY:
        day, minute = day + timedelta(days=1), minute - MINUTES_PER_DAY
    naive = _wall_naive(day, minute)
    first = to_epoch(naive.replace(tzinfo=tz))
    if datetime.fromtimestamp(first, tz).replace(tzinfo=None) == naive:
        return first
    low, high = to_epoch(naive.replace(tzinfo=tz, fold=1)), first
    if low > high:
        low, high = high, low
    while high - low > 1:  # smallest instant whose wall clock reads >= naive
        mid = (low + high) // 2
        if datetime.fromtimestamp(mid, tz).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid
    return high


@lru_cache(maxsize=131_072)
def day_span(tz: ZoneInfo, ordinal: int) -> tuple[int, int]:
    """(epoch of local 00:00, length of the local day in seconds)."""
    start = _wall_epoch_slow(tz, ordinal, 0)
    return start, _wall_epoch_slow(tz, ordinal + 1, 0) - start


def wall_epoch(tz: ZoneInfo, ordinal: int, minute: int) -> int:
    """Epoch of `minute` minutes after local midnight (0..1440) on a local date."""
    start, length = day_span(tz, ordinal)
    if length == DAY_S:
        return start + minute * 60
    if minute >= MINUTES_PER_DAY:
        return start + length
    return _wall_epoch_slow(tz, ordinal, minute)


def day_start(tz: ZoneInfo, ordinal: int) -> int:
    return day_span(tz, ordinal)[0]


def parse_hhmm(text: object, allow_24: bool = True) -> int:
    """Minutes after midnight of an "HH:MM" string; ValueError with a human reason."""
    if not isinstance(text, str) or len(text) != 5 or text[2] != ":":
        raise ValueError(gettext('must be a time written "HH:MM"'))
    hours, minutes = text[:2], text[3:]
    if not (hours.isdigit() and minutes.isdigit()):
        raise ValueError(gettext('must be a time written "HH:MM"'))
    value = int(hours) * 60 + int(minutes)
    limit = MINUTES_PER_DAY if allow_24 else MINUTES_PER_DAY - 1
    if int(minutes) > 59 or value > limit:
        raise ValueError(gettext("%(value)s is not a time of day (00:00..%(last)s)", value=repr(text),
                           last="24:00" if allow_24 else "23:59"))
    return value
