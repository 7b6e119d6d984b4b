"""Monthly pass coverage (月卡): which parts of a stay a pass pays for.

A pass turns into a list of covered intervals `(start, end, percent)` on the
epoch time line; percent 100 means the interval is free, less than 100 is a
discount.  The engines then price the stay around those intervals.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from .clock import MINUTES_PER_DAY, day_start, local_ordinal, parse_hhmm, wall_epoch
from .messages import gettext
from .types import RuleError

PASS_KINDS = ("all_day", "day_window", "night_window", "discount", "free_hours")
WINDOW_KINDS = ("day_window", "night_window", "discount")

Cover = tuple[int, int, int]  # (start_epoch, end_epoch, percent off)


@dataclass(frozen=True)
class PassCoverage:
    """What a monthly pass covers.

    kind: all_day | day_window | night_window | discount | free_hours
    start/end: "HH:MM" park-local window (a night window may cross midnight);
      discount defaults to the whole day.
    percent: percent off inside the window (discount only, 1..100).
    hours: first N hours of each stay are free (free_hours only).
    valid_from/valid_until: inclusive park-local dates of validity (None = open).
    """

    kind: str
    start: str | None = None
    end: str | None = None
    percent: int = 100
    hours: int = 0
    valid_from: date | None = None
    valid_until: date | None = None

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> PassCoverage:
        if not isinstance(doc, Mapping):
            raise RuleError(gettext("invalid pass"), {"pass": gettext("must be an object")})
        allowed = {"kind", "start", "end", "percent", "hours", "valid_from", "valid_until"}
        errors = {f"pass.{key}": gettext("unknown field") for key in doc if key not in allowed}
        values = {key: doc[key] for key in allowed if key in doc}
        for key in ("valid_from", "valid_until"):
            if isinstance(values.get(key), str):
                try:
                    values[key] = date.fromisoformat(values[key])
                except ValueError:
                    errors[f"pass.{key}"] = gettext("must be a date written YYYY-MM-DD")
        if "percent" in values and values["percent"] is None:
            del values["percent"]
        if errors:
            raise RuleError(gettext("invalid pass"), errors)
        if "kind" not in values:
            raise RuleError(gettext("invalid pass"), {"pass.kind": gettext("is required")})
        return cls(**values)


@dataclass(frozen=True, slots=True)
class ParsedPass:
    kind: str
    start_min: int
    end_min: int
    percent: int
    seconds: int
    valid_from: int | None   # local date ordinals
    valid_until: int | None


def parse_pass(spec: PassCoverage | Mapping[str, Any]) -> ParsedPass:
    """Validate a pass spec; RuleError with "pass.<field>" paths."""
    cover = spec if isinstance(spec, PassCoverage) else PassCoverage.from_dict(spec)
    errors: dict[str, str] = {}
    if cover.kind not in PASS_KINDS:
        errors["pass.kind"] = gettext("must be one of %(options)s, got %(value)s", options=", ".join(PASS_KINDS),
                                value=repr(cover.kind))
    start = end = 0
    if cover.kind in WINDOW_KINDS:
        start, end = _window(cover, errors)
    percent = cover.percent if cover.kind == "discount" else 100
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 100:
        errors["pass.percent"] = gettext("must be a whole percentage between 1 and 100")
    if cover.kind == "free_hours" and (isinstance(cover.hours, bool) or not isinstance(cover.hours, int)
                                       or cover.hours < 1):
        errors["pass.hours"] = gettext("must be a whole number of hours, at least 1")
    for key in ("valid_from", "valid_until"):
        if getattr(cover, key) is not None and not isinstance(getattr(cover, key), date):
            errors[f"pass.{key}"] = gettext("must be a date")
    if not errors and cover.valid_from and cover.valid_until and cover.valid_until < cover.valid_from:
        errors["pass.valid_until"] = gettext("must not be before the first valid day")
    if errors:
        raise RuleError(gettext("invalid pass"), errors)
    return ParsedPass(cover.kind, start, end, percent, (cover.hours or 0) * 3600,
                      cover.valid_from.toordinal() if cover.valid_from else None,
                      cover.valid_until.toordinal() if cover.valid_until else None)


def _window(cover: PassCoverage, errors: dict[str, str]) -> tuple[int, int]:
    default = (None, None) if cover.kind != "discount" else ("00:00", "24:00")
    values = []
    for key, fallback in zip(("start", "end"), default):
        text = getattr(cover, key) or fallback
        try:
            values.append(parse_hhmm(text))
        except ValueError as exc:
            errors[f"pass.{key}"] = gettext("is required") if text is None else str(exc)
            values.append(0)
    start, end = values
    if errors:
        return start, end
    if start == end or (start == 0 and end == 0):
        errors["pass.end"] = gettext("must differ from start")
    elif cover.kind == "day_window" and end < start:
        errors["pass.end"] = gettext("must be after start (use a night window for a window across midnight)")
    elif start >= MINUTES_PER_DAY:
        errors["pass.start"] = gettext("must be before 24:00")
    return start, end


def coverage(spec: ParsedPass, start: int, end: int, tz: ZoneInfo) -> list[Cover]:
    """Covered intervals of [start, end), sorted, merged, inside validity."""
    low, high = _validity(spec, tz)
    low, high = max(low, start), min(high, end)
    if low >= high:
        return []
    if spec.kind == "all_day":
        return [(low, high, 100)]
    if spec.kind == "free_hours":
        stop = min(high, start + spec.seconds)
        return [(low, stop, 100)] if low < stop else []
    return _windows(spec, low, high, tz)


def _validity(spec: ParsedPass, tz: ZoneInfo) -> tuple[int, int]:
    low = day_start(tz, spec.valid_from) if spec.valid_from is not None else -(1 << 62)
    high = day_start(tz, spec.valid_until + 1) if spec.valid_until is not None else 1 << 62
    return low, high


def _windows(spec: ParsedPass, low: int, high: int, tz: ZoneInfo) -> list[Cover]:
    crosses = spec.end_min <= spec.start_min
    result: list[Cover] = []
    for ordinal in range(local_ordinal(low, tz) - 1, local_ordinal(high, tz) + 1):
        begin = wall_epoch(tz, ordinal, spec.start_min)
        finish = wall_epoch(tz, ordinal + 1 if crosses else ordinal, spec.end_min)
        begin, finish = max(begin, low), min(finish, high)
        if begin >= finish:
            continue
        if result and result[-1][1] >= begin:
            result[-1] = (result[-1][0], max(finish, result[-1][1]), spec.percent)
        else:
            result.append((begin, finish, spec.percent))
    return result


def gaps(covers: list[Cover], start: int, end: int) -> list[tuple[int, int]]:
    """The parts of [start, end) no cover touches."""
    result, cursor = [], start
    for low, high, _ in covers:
        if low > cursor:
            result.append((cursor, low))
        cursor = max(cursor, high)
    if cursor < end:
        result.append((cursor, end))
    return result
