"""The "banded" rule kind: time-of-day bands × progressive tiers, clean semantics.

A stay is cut into pieces of constant (rate, tier, pass cover): rate from the
park-local day schedule (weekday or named day, e.g. holidays), tier from the
time elapsed since arrival.  Pieces are priced in units; caps are applied per
period window and per stay.  Integer fen throughout.  See docs/tariffs.md.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from .clock import DAY_S, day_span, local_ordinal, wall_epoch
from .messages import gettext
from .passes import Cover
from .schema import MISSING, Reader
from .types import RawLine

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROUNDINGS = ("up", "down", "nearest")
BOUNDARIES = ("split", "start")
TOP_KEYS = ("kind", "name", "description", "boundary", "grace_minutes", "entry_fee_fen", "rates",
            "schedule", "caps", "classes")
CLASS_KEYS = ("boundary", "grace_minutes", "entry_fee_fen", "rates", "schedule", "caps")
TIER_KEYS = ("from_minute", "unit_minutes", "price_fen", "rounding", "flat_fen")
_ROUND_UP, _ROUND_DOWN, _ROUND_NEAREST = 0, 1, 2

Calendar = Mapping[str, Any]  # name -> collection of datetime.date


@dataclass(frozen=True, slots=True)
class Tier:
    """A progressive step (阶梯) of a rate, from `from_s` seconds after arrival."""

    from_s: int
    unit_s: int
    price_fen: int
    rounding: int
    flat_fen: int | None


@dataclass(frozen=True, slots=True)
class Rate:
    name: str
    tiers: tuple[Tier, ...]
    starts: tuple[int, ...]
    labels: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.labels:
            names = (self.name,) if len(self.tiers) == 1 else tuple(
                f"{self.name}, tier {index + 1}" for index in range(len(self.tiers)))
            object.__setattr__(self, "labels", names)


@dataclass(frozen=True, slots=True)
class DayPlan:
    """Bands of one kind of day: weekdays, a named day set, or every day."""

    weekdays: frozenset[int] | None
    calendar: str | None
    bands: tuple[tuple[int, int, Rate], ...]  # (start minute, end minute, rate)
    offsets: tuple[tuple[int, int, Rate], ...] = ()  # the same in seconds after midnight

    true_edge: int | None = None  # seconds after midnight where the rate surely changes

    def __post_init__(self) -> None:
        object.__setattr__(self, "offsets", tuple((low * 60, high * 60, rate) for low, high, rate in self.bands))
        for index, (low, _, rate) in enumerate(self.offsets):
            if rate is not self.offsets[index - 1][2]:  # index -1: yesterday's last band, same plan
                object.__setattr__(self, "true_edge", low)
                break


@dataclass(frozen=True, slots=True)
class BandedRule:
    boundary: str
    grace_s: int
    entry_fee_fen: int
    plans: tuple[DayPlan, ...]
    stay_cap_fen: int | None
    period: str | None        # "day" (calendar day with reset) | "rolling_24h"
    period_cap_fen: int
    reset_min: int
    steady_after_s: int = 0   # after this much time every rate is in its last tier
    foldable: bool = True     # no flat tiers: identical days cost the same

    def __post_init__(self) -> None:
        rates = {id(rate): rate for plan in self.plans for _, _, rate in plan.bands}.values()
        object.__setattr__(self, "steady_after_s", max((rate.starts[-1] for rate in rates), default=0))
        object.__setattr__(self, "foldable", all(tier.flat_fen is None for rate in rates for tier in rate.tiers))


# ---------------------------------------------------------------- parsing

def merge_class(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A class override on top of the base document: rates merge by name, caps
    by key, anything else is replaced."""
    merged = dict(base)
    for key, value in override.items():
        if key == "rates" and isinstance(value, dict) and isinstance(base.get("rates"), dict):
            merged["rates"] = {**base["rates"], **value}
        elif key == "caps" and isinstance(value, dict) and isinstance(base.get("caps"), dict):
            merged["caps"] = {**base["caps"], **value}
        else:
            merged[key] = value
    return merged


def parse_banded(reader: Reader, doc: dict[str, Any], path: str = "") -> BandedRule | None:
    reader.unknown_keys(doc, TOP_KEYS, path)
    p = f"{path}." if path else ""
    boundary = reader.choice(doc, "boundary", path, BOUNDARIES, default="split")
    grace = reader.integer(doc, "grace_minutes", path, default=0, minimum=0)
    entry = reader.integer(doc, "entry_fee_fen", path, default=0, minimum=0)
    rates = _parse_rates(reader, doc.get("rates", MISSING), f"{p}rates")
    plans = _parse_schedule(reader, doc.get("schedule", MISSING), f"{p}schedule", rates)
    caps = _parse_caps(reader, doc.get("caps"), f"{p}caps")
    if reader.errors:
        return None
    return BandedRule(boundary, grace * 60, entry, plans, *caps)


def _parse_rates(reader: Reader, doc: Any, path: str) -> dict[str, Rate]:
    if doc is MISSING:
        reader.fail(path, gettext("is required (at least one named rate)"))
        return {}
    rates = reader.mapping(doc, path)
    if rates is None:
        return {}
    if not rates:
        reader.fail(path, gettext("must define at least one rate"))
    parsed = {}
    for name, body in rates.items():
        rate = _parse_rate(reader, body, f"{path}.{name}", str(name))
        if rate is not None:
            parsed[name] = rate
    return parsed


def _parse_rate(reader: Reader, doc: Any, path: str, name: str) -> Rate | None:
    body = reader.mapping(doc, path)
    if body is None:
        return None
    rounding = reader.choice(body, "rounding", path, ROUNDINGS, default="up")
    if "tiers" in body:
        reader.unknown_keys(body, ("tiers", "rounding"), path)
        raw_tiers = body["tiers"]
        if not isinstance(raw_tiers, list) or not raw_tiers:
            reader.fail(f"{path}.tiers", gettext("must be a non-empty list of tiers"))
            return None
    else:  # shorthand: one tier given inline
        reader.unknown_keys(body, TIER_KEYS, path)
        raw_tiers = [{**body, "from_minute": body.get("from_minute", 0)}]
    tiers = []
    for index, item in enumerate(raw_tiers):
        where = f"{path}.tiers[{index}]" if "tiers" in body else path
        tier = _parse_tier(reader, item, where, rounding)
        if tier is not None:
            tiers.append(tier)
    if len(tiers) != len(raw_tiers):
        return None
    if tiers[0].from_s != 0:
        reader.fail(f"{path}.tiers[0].from_minute", gettext("the first tier must start at minute 0"))
    for index in range(1, len(tiers)):
        if tiers[index].from_s <= tiers[index - 1].from_s:
            reader.fail(f"{path}.tiers[{index}].from_minute",
                        gettext("must be later than the previous tier's from_minute"))
    return Rate(name, tuple(tiers), tuple(tier.from_s for tier in tiers))


def _parse_tier(reader: Reader, doc: Any, path: str, rounding: str) -> Tier | None:
    tier = reader.mapping(doc, path)
    if tier is None:
        return None
    reader.unknown_keys(tier, TIER_KEYS, path)
    start = reader.integer(tier, "from_minute", path, default=0, minimum=0)
    if tier.get("flat_fen") is not None:
        flat = reader.integer(tier, "flat_fen", path, minimum=0)
        for key in ("unit_minutes", "price_fen"):
            if key in tier:
                reader.fail(f"{path}.{key}", gettext("not allowed in a flat tier (flat_fen is charged once)"))
        return Tier(start * 60, 0, 0, 0, flat) if flat is not None and start is not None else None
    unit = reader.integer(tier, "unit_minutes", path, minimum=1)
    price = reader.integer(tier, "price_fen", path, minimum=0)
    mode = reader.choice(tier, "rounding", path, ROUNDINGS, default=rounding)
    if None in (start, unit, price):
        return None
    return Tier(start * 60, unit * 60, price, ROUNDINGS.index(mode), None)


def _parse_schedule(reader: Reader, doc: Any, path: str, rates: dict[str, Rate]) -> tuple[DayPlan, ...]:
    if doc is MISSING or not isinstance(doc, list) or not doc:
        reader.fail(path, gettext("must be a non-empty list of day schedules"))
        return ()
    plans = []
    for index, item in enumerate(doc):
        plan = _parse_plan(reader, item, f"{path}[{index}]", rates)
        if plan is not None:
            plans.append(plan)
    covered = set()
    for plan in plans:
        if plan.calendar is None:
            covered |= plan.weekdays if plan.weekdays is not None else set(range(7))
    missing = [WEEKDAYS[day] for day in range(7) if day not in covered]
    if missing and len(plans) == len(doc):
        reader.fail(path, gettext("no bands for %(days)s: every weekday needs a schedule entry without 'calendar'",
                            days=", ".join(missing)))
    return tuple(plans)


def _parse_plan(reader: Reader, doc: Any, path: str, rates: dict[str, Rate]) -> DayPlan | None:
    plan = reader.mapping(doc, path)
    if plan is None:
        return None
    reader.unknown_keys(plan, ("days", "calendar", "bands"), path)
    weekdays = None
    if "days" in plan:
        days = plan["days"]
        if not isinstance(days, list) or not days or any(day not in WEEKDAYS for day in days):
            reader.fail(f"{path}.days", gettext("must be a non-empty list of %(days)s", days=", ".join(WEEKDAYS)))
        else:
            weekdays = frozenset(WEEKDAYS.index(day) for day in days)
    calendar = plan.get("calendar")
    if calendar is not None and (not isinstance(calendar, str) or not calendar):
        reader.fail(f"{path}.calendar", gettext("must be the name of a day set, e.g. \"holiday\""))
    bands = _parse_bands(reader, plan.get("bands", MISSING), f"{path}.bands", rates)
    if bands is None:
        return None
    return DayPlan(weekdays, calendar, bands)


def _parse_bands(reader: Reader, doc: Any, path: str, rates: dict[str, Rate]):
    if not isinstance(doc, list) or not doc:
        reader.fail(path, gettext("must be a non-empty list of bands covering 00:00-24:00"))
        return None
    bands = []
    for index, item in enumerate(doc):
        where = f"{path}[{index}]"
        band = reader.mapping(item, where)
        if band is None:
            return None
        reader.unknown_keys(band, ("start", "end", "rate"), where)
        start = reader.clock_time(band, "start", where, allow_24=False)
        end = reader.clock_time(band, "end", where)
        name = band.get("rate")
        if name not in rates:
            reader.fail(f"{where}.rate", gettext("unknown rate %(name)s", name=repr(name)) if name is not None
                        else gettext("is required"))
            return None
        if start is None or end is None:
            return None
        if end <= start:
            reader.fail(f"{where}.end", gettext("must be later than start (split a band that crosses midnight in two)"))
            return None
        bands.append((start, end, rates[name]))
    bands.sort(key=lambda band: band[0])
    cursor = 0
    for start, end, _ in bands:
        if start < cursor:
            reader.fail(path, gettext("bands overlap at %(time)s", time=_hhmm(start)))
            return None
        if start > cursor:
            reader.fail(path, gettext("no band covers %(start)s-%(end)s", start=_hhmm(cursor), end=_hhmm(start)))
            return None
        cursor = end
    if cursor != 1440:
        reader.fail(path, gettext("no band covers %(start)s-%(end)s", start=_hhmm(cursor), end="24:00"))
        return None
    return tuple(bands)


def _parse_caps(reader: Reader, doc: Any, path: str) -> tuple[int | None, str | None, int, int]:
    if doc is None:
        return None, None, 0, 0
    caps = reader.mapping(doc, path)
    if caps is None:
        return None, None, 0, 0
    reader.unknown_keys(caps, ("stay_fen", "period"), path)
    stay = reader.integer(caps, "stay_fen", path, default=None, minimum=0)
    period = caps.get("period")
    if period is None:
        return stay, None, 0, 0
    where = f"{path}.period"
    body = reader.mapping(period, where)
    if body is None:
        return stay, None, 0, 0
    reader.unknown_keys(body, ("type", "fen", "reset"), where)
    kind = reader.choice(body, "type", where, ("day", "rolling_24h"))
    fen = reader.integer(body, "fen", where, minimum=0)
    reset = reader.clock_time(body, "reset", where, default=0, allow_24=False)
    if kind == "rolling_24h" and "reset" in body:
        reader.fail(f"{where}.reset", gettext("only a calendar-day cap has a reset time"))
    return stay, kind, fen or 0, reset or 0


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


# ---------------------------------------------------------------- pieces

Piece = tuple[int, int, Rate, int, int]  # (start, end, rate, tier index, percent covered)


def _plan_for(rule: BandedRule, ordinal: int, calendar: Calendar | None) -> DayPlan:
    weekday = (ordinal + 6) % 7  # date.weekday() without building the date
    for plan in rule.plans:
        if plan.calendar is not None:
            if calendar is not None and date.fromordinal(ordinal) in calendar.get(plan.calendar, ()):
                return plan
        elif plan.weekdays is None or weekday in plan.weekdays:
            return plan
    raise AssertionError("schedule validated to cover every weekday")


def _pieces(rule: BandedRule, arrival: int, start: int, end: int, tz: ZoneInfo, calendar: Calendar | None,
            covers: list[Cover]) -> list[Piece]:
    """[start, end) cut at band edges (equal rates merge, also across midnight),
    tier thresholds (measured from arrival) and pass cover edges."""
    pieces: list[Piece] = []
    if start >= end:
        return pieces
    ordinal = local_ordinal(start, tz)
    span_low, span_high, span_rate = start, start, None
    while span_high < end:
        plan = _plan_for(rule, ordinal, calendar)
        midnight, length = day_span(tz, ordinal)
        for band_start, band_end, rate in plan.offsets:
            if length == DAY_S:  # the common case: no DST change today
                low, high = midnight + band_start, midnight + band_end
            else:
                low = wall_epoch(tz, ordinal, band_start // 60)
                high = wall_epoch(tz, ordinal, band_end // 60)
            if high <= start or high <= low:
                continue
            if high > end:
                high = end
            if rate is not span_rate:
                if span_rate is not None:
                    _add_tiers(pieces, arrival, span_low, span_high, span_rate)
                span_low, span_rate = max(low, start), rate
            span_high = high
            if high >= end:
                break
        ordinal += 1
    _add_tiers(pieces, arrival, span_low, span_high, span_rate)  # type: ignore[arg-type]
    return _apply_covers(pieces, covers) if covers else pieces


def _add_tiers(pieces: list[Piece], arrival: int, low: int, high: int, rate: Rate) -> None:
    """Cut one rate span at the rate's tier thresholds (measured from arrival)."""
    starts = rate.starts
    if len(starts) == 1:
        pieces.append((low, high, rate, 0, 0))
        return
    tier = bisect_right(starts, low - arrival) - 1
    while tier + 1 < len(starts) and arrival + starts[tier + 1] < high:
        cut = arrival + starts[tier + 1]
        pieces.append((low, cut, rate, tier, 0))
        low, tier = cut, tier + 1
    pieces.append((low, high, rate, tier, 0))


def _apply_covers(pieces: list[Piece], covers: list[Cover]) -> list[Piece]:
    """Cut pieces at pass cover edges and mark the covered percent."""
    result: list[Piece] = []
    index = 0
    for low, high, rate, tier, _ in pieces:
        while low < high:
            while index < len(covers) and covers[index][1] <= low:
                index += 1
            if index == len(covers) or covers[index][0] >= high:
                result.append((low, high, rate, tier, 0))
                break
            c_low, c_high, percent = covers[index]
            if c_low > low:
                result.append((low, c_low, rate, tier, 0))
                low = c_low
            stop = min(high, c_high)
            result.append((low, stop, rate, tier, percent))
            low = stop
    return result


# ---------------------------------------------------------------- pricing

class _Windows:
    """Per-period cap windows (每日封顶) and what the units starting in each cost."""

    __slots__ = ("edges", "sums", "index")

    def __init__(self, edges: list[int]):
        self.edges = edges
        self.sums = [0] * (len(edges) - 1)
        self.index = 0

    def add(self, run_start: int, unit: int, units: int, price: int) -> None:
        """Units start at run_start + i*unit; each counts where it starts."""
        if not units or not price:
            return
        edges, index = self.edges, self.index
        while edges[index + 1] <= run_start:
            index += 1
        self.index = index
        done = 0
        while True:
            upto = -(-(edges[index + 1] - run_start) // unit)
            if upto >= units:
                self.sums[index] += (units - done) * price
                return
            self.sums[index] += (upto - done) * price
            done, index = upto, index + 1


def price_banded(rule: BandedRule, start: int, end: int, tz: ZoneInfo, calendar: Calendar | None,
                 covers: list[Cover], out: list[RawLine]) -> int:
    if end <= start:
        return 0
    if end - start < rule.grace_s:
        out.append(("grace", f"stay under the {rule.grace_s // 60} min grace period", start, end,
                    (end - start) // 60, 0, 0, 0))
        return 0
    windows = _Windows(_period_windows(rule, start, end, tz)) if rule.period is not None else None
    total = 0
    if rule.entry_fee_fen:
        fee = rule.entry_fee_fen
        out.append(("flat", "entry fee", start, start, 0, 1, fee, fee))
        if windows:
            windows.add(start, 1, 1, fee)
        total = fee
    fold = _fold(rule, start, end, tz, calendar) if FOLD_DAYS and not covers else None
    if fold is not None:
        total += _price_folded(rule, start, end, tz, calendar, fold, windows, out)
    elif rule.boundary == "split":
        total += _price_split(_pieces(rule, start, start, end, tz, calendar, covers), windows, out)
    else:
        total += _price_start(_pieces(rule, start, start, end, tz, calendar, covers), end, windows, out)
    if windows:
        total -= _period_caps(rule, start, end, windows, out)
    if rule.stay_cap_fen is not None and total > rule.stay_cap_fen:
        out.append(("cap", "per-stay cap (单次封顶)", start, end, (end - start) // 60, 0, 0,
                    rule.stay_cap_fen - total))
        total = rule.stay_cap_fen
    return total


FOLD_DAYS = True  # tests switch this off to check folding changes no fee


def _fold(rule: BandedRule, start: int, end: int, tz: ZoneInfo,
          calendar: Calendar | None) -> tuple[int, int] | None:
    """(first period start, number of periods) of a run of identical local days.

    Once every rate is in its last tier, a day with the same plan and no DST
    change as its neighbours costs what the previous one cost, so a month-long
    stay is priced from one sample day (split boundary only: under "start" the
    unit chain's phase can drift from day to day).
    """
    if rule.boundary != "split" or not rule.foldable or end - start < 4 * DAY_S:
        return None
    first = local_ordinal(start + rule.steady_after_s, tz) + 1
    plan = _plan_for(rule, first, calendar)
    if plan.true_edge is None:  # one rate all day: spans merge, nothing to fold
        return None
    last_ordinal = local_ordinal(end, tz)
    ordinal = first - 1
    while ordinal <= last_ordinal and _plan_for(rule, ordinal, calendar) is plan \
            and day_span(tz, ordinal)[1] == DAY_S:
        ordinal += 1
    begin = day_span(tz, first)[0] + plan.true_edge
    periods = min(ordinal - 1 - first, (end - begin) // DAY_S)
    return (begin, periods) if periods >= 2 else None


def _price_folded(rule: BandedRule, start: int, end: int, tz: ZoneInfo, calendar: Calendar | None,
                  fold: tuple[int, int], windows: _Windows | None, out: list[RawLine]) -> int:
    """Head pieces, one sample day repeated `periods` times, tail pieces."""
    begin, periods = fold
    resume = begin + periods * DAY_S
    total = _price_split(_pieces(rule, start, start, begin, tz, calendar, []), windows, out)
    before = list(windows.sums) if windows else []
    sample: list[RawLine] = []
    each = _price_split(_pieces(rule, start, begin, begin + DAY_S, tz, calendar, []), windows, sample)
    if windows:  # the later days add to the following windows what the sample added to its own
        sums = windows.sums
        deltas = [(index, amount - before[index]) for index, amount in enumerate(sums) if amount != before[index]]
        for day in range(1, periods):
            for index, amount in deltas:
                sums[index + day] += amount
    shift = (periods - 1) * DAY_S
    for kind, label, low, high, minutes, units, price, amount in sample:
        out.append((kind, f"{label} (x{periods} days)", low, high + shift, minutes * periods, units * periods,
                    price, amount * periods))
    return total + each * periods + _price_split(_pieces(rule, start, resume, end, tz, calendar, []), windows, out)


def _units(seconds: int, unit: int, rounding: int) -> int:
    full, rest = divmod(seconds, unit)
    if rest and (rounding == _ROUND_UP or (rounding == _ROUND_NEAREST and rest * 2 >= unit)):
        full += 1
    return full


def _charge(out: list[RawLine], windows: _Windows | None, low: int, high: int, rate: Rate, tier_index: int,
            percent: int, units: int, price: int, kind: str) -> int:
    """Append the line(s) of one priced piece and its run; returns the net amount."""
    gross = units * price
    out.append((kind, rate.labels[tier_index], low, high, (high - low) // 60, units, price, gross))
    if not percent:
        if windows:
            windows.add(low, rate.tiers[tier_index].unit_s or 1, units, price)
        return gross
    off = price * percent // 100
    out.append(("pass", f"pass covers {percent}%", low, high, (high - low) // 60, units, -off, -units * off))
    if windows:
        windows.add(low, rate.tiers[tier_index].unit_s or 1, units, price - off)
    return gross - units * off


def _price_split(pieces: list[Piece], windows: _Windows | None, out: list[RawLine]) -> int:
    """boundary "split": every piece is rounded on its own."""
    total = 0
    flats_done: set[tuple[int, int]] = set()
    add_line = out.append
    edges, sums, index = (windows.edges, windows.sums, 0) if windows else ((), [], 0)
    for low, high, rate, tier_index, percent in pieces:
        tier = rate.tiers[tier_index]
        if tier.flat_fen is not None:
            key = (id(rate), tier_index)
            units = 0 if key in flats_done else 1
            flats_done.add(key)
            total += _charge(out, windows, low, high, rate, tier_index, percent, units, tier.flat_fen, "flat")
            continue
        unit = tier.unit_s
        units, rest = divmod(high - low, unit)
        if rest and (tier.rounding == _ROUND_UP or (tier.rounding == _ROUND_NEAREST and rest * 2 >= unit)):
            units += 1
        if percent:
            total += _charge(out, windows, low, high, rate, tier_index, percent, units, tier.price_fen, "band")
            continue
        price = tier.price_fen  # inlined _charge: this loop runs once per band per day
        add_line(("band", rate.labels[tier_index], low, high, (high - low) // 60, units, price, units * price))
        total += units * price
        if not windows or not units:
            continue
        while edges[index + 1] <= low:
            index += 1
        if low + units * unit <= edges[index + 1]:  # inlined _Windows.add for the usual case
            sums[index] += units * price
        else:
            windows.add(low, unit, units, price)
    return total


def _price_start(pieces: list[Piece], end: int, windows: _Windows | None, out: list[RawLine]) -> int:
    """boundary "start": units are laid end to end from arrival; each unit is
    priced by the piece it starts in and may run past that piece's end."""
    total = 0
    cursor = pieces[0][0]
    flats_done: set[tuple[int, int]] = set()
    for _low, high, rate, tier_index, percent in pieces:
        if cursor >= high:
            continue
        tier = rate.tiers[tier_index]
        if tier.flat_fen is not None:
            key = (id(rate), tier_index)
            units = 0 if key in flats_done else 1
            flats_done.add(key)
            total += _charge(out, windows, cursor, high, rate, tier_index, percent, units, tier.flat_fen, "flat")
            cursor = high
            continue
        unit = tier.unit_s
        units = -(-(high - cursor) // unit)
        stop = cursor + units * unit
        if stop > end:  # the stay's final unit is partial: round it per the tier
            units = (units - 1) + _units(end - (stop - unit), unit, tier.rounding)
        total += _charge(out, windows, cursor, min(stop, end), rate, tier_index, percent, units,
                         tier.price_fen, "band")
        cursor = stop
    return total


def _period_windows(rule: BandedRule, start: int, end: int, tz: ZoneInfo) -> list[int]:
    """Boundaries w0 < w1 < ... with w0 <= start and w[-1] >= end."""
    if rule.period == "rolling_24h":
        count = -(-(end - start) // DAY_S)
        return [start + DAY_S * index for index in range(count + 1)]
    ordinal = local_ordinal(start, tz) - 1
    reset, reset_s = rule.reset_min, rule.reset_min * 60
    edges: list[int] = []
    while not edges or edges[-1] < end:
        midnight, length = day_span(tz, ordinal)
        edges.append(midnight + reset_s if length == DAY_S else wall_epoch(tz, ordinal, reset))
        ordinal += 1
    if len(edges) > 2 and edges[1] <= start:
        del edges[0]
    return edges


def _period_caps(rule: BandedRule, start: int, end: int, windows: _Windows, out: list[RawLine]) -> int:
    """Reduce every period window to the cap; returns the total reduction."""
    cap, label = rule.period_cap_fen, ("daily cap (每日封顶)" if rule.period == "day" else "24 h cap (24小时封顶)")
    edges, reduced = windows.edges, 0
    for window, amount in enumerate(windows.sums):
        if amount > cap:
            low, high = max(edges[window], start), min(edges[window + 1], end)
            out.append(("cap", label, low, high, (high - low) // 60, 0, 0, cap - amount))
            reduced += amount - cap
    return reduced
