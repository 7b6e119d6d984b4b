"""The "parkingos" rule kinds: exact compatibility with the old ParkingOS engine.

Reproduces the fee of the legacy time-based rule (按时段, a day row and an
optional night row) and of the per-visit rule (按次), quirks included, because
an operator moving a park expects the same fee for the same stay.  Amounts in
these documents are yuan strings as in the old tables; internally all is fen.
See docs/tariffs.md for the list of quirks and the worked examples.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from .clock import DAY_S, local_ordinal, wall_epoch
from .messages import gettext
from .schema import Reader
from .types import RawLine

ROW_KEYS = ("b_time", "b_minute", "e_time", "e_minute", "unit", "price", "first_times", "fprice",
            "free_time", "fpay_type", "total24", "is_fulldaytime")
TOP_KEYS = ("kind", "day", "night", "minprice_unit", "assist", "classes", "name", "description")
VISIT_KEYS = ("kind", "unit", "price", "classes", "name", "description")


def _ceil_div(value: int, unit: int) -> int:
    return -(-value // unit)


@dataclass(frozen=True, slots=True)
class BandRow:
    """One legacy price row: unit in minutes, prices in fen.

    first_times/fprice: 首优惠时段 first period and its price per unit;
    free_time: 免费时长 free minutes; fpay_type: 超免费时长计费方式
    (0 charge everything once free time is exceeded, 1 deduct the free minutes).
    """

    unit: int
    price: int
    first_times: int = 0
    fprice: int = 0
    free_time: int = 0
    fpay_type: int = 0
    label: str = "day"

    def without_discounts(self) -> BandRow:
        return replace(self, first_times=0, fprice=0, free_time=0)


@dataclass(frozen=True, slots=True)
class ParkingOSRule:
    """A parsed legacy time-based rule (day band [day_start_h, day_end_h) in park time)."""

    day_start_h: int
    day_end_h: int
    day: BandRow
    night: BandRow
    fill: bool                      # 补全日间时长 (is_fulldaytime = 0)
    cap_fen: int                    # 24小时封顶价, 0 = no cap
    min_unit_fen: int               # com_info_tb.minprice_unit in fen, 0 = exact
    assist: tuple[int, int] | None  # 辅助价格 (minutes, fen); only for single-row parks
    all_day: bool
    cleared: ParkingOSRule | None = None

    def without_discounts(self) -> ParkingOSRule:
        """The rule with first period and free time removed (the old engine did
        this by mutating the caller's maps; we keep a separate copy)."""
        return self.cleared or self


@dataclass(frozen=True, slots=True)
class PerVisitRule:
    """Legacy per-visit rule (按次): per-unit when unit > 0, else one flat price."""

    unit: int
    price: int
    min_unit_fen: int = 0


# ---------------------------------------------------------------- parsing

def _parse_row(reader: Reader, doc: Any, path: str, is_day: bool) -> dict[str, Any] | None:
    row = reader.mapping(doc, path)
    if row is None:
        return None
    reader.unknown_keys(row, ROW_KEYS, path)
    values: dict[str, Any] = {}
    if is_day:
        values["b_time"] = reader.integer(row, "b_time", path, minimum=0, maximum=23)
        values["e_time"] = reader.integer(row, "e_time", path, minimum=1, maximum=24)
    else:  # the old engine ignored the night row's hours: night is the complement
        reader.integer(row, "b_time", path, default=0, minimum=0, maximum=24)
        reader.integer(row, "e_time", path, default=0, minimum=0, maximum=24)
    reader.integer(row, "b_minute", path, default=0, minimum=0, maximum=59)
    reader.integer(row, "e_minute", path, default=0, minimum=0, maximum=59)
    values["unit"] = reader.integer(row, "unit", path, minimum=1)
    values["price"] = reader.yuan(row, "price", path)
    values["first_times"] = reader.integer(row, "first_times", path, default=0, minimum=0)
    values["fprice"] = reader.yuan(row, "fprice", path, default=0)
    values["free_time"] = reader.integer(row, "free_time", path, default=0, minimum=0)
    values["fpay_type"] = reader.choice(row, "fpay_type", path, (0, 1), default=0)
    values["total24"] = reader.yuan(row, "total24", path, default=0, allow_negative=True)
    values["is_fulldaytime"] = reader.choice(row, "is_fulldaytime", path, (0, 1), default=0)
    if row.get("unit") == 0:
        reader.errors[f"{path}.unit"] = "must be at least 1 minute (a unit of 0 cannot be billed)"
    return values


def _row(values: dict[str, Any], label: str) -> BandRow:
    return BandRow(values["unit"], values["price"], values["first_times"], values["fprice"],
                   values["free_time"], values["fpay_type"], label)


def _min_unit(reader: Reader, doc: dict[str, Any], path: str) -> int:
    fen = reader.yuan(doc, "minprice_unit", path, default=0)
    if fen is not None and not 0 <= fen <= 100:
        reader.fail(f"{path}.minprice_unit" if path else "minprice_unit",
                    gettext("must be between 0 and 1 yuan (0 exact, 0.5 or 1)"))
    return fen or 0


def parse_time_rule(reader: Reader, doc: dict[str, Any], path: str = "") -> ParkingOSRule | None:
    """Parse a "parkingos" document (or a class override already merged)."""
    reader.unknown_keys(doc, TOP_KEYS, path)
    prefix = f"{path}." if path else ""
    if "day" not in doc:
        reader.fail(f"{prefix}day", gettext("is required (the day row of the old price table)"))
        return None
    day = _parse_row(reader, doc["day"], f"{prefix}day", True)
    night = None if doc.get("night") is None else _parse_row(reader, doc["night"], f"{prefix}night", False)
    min_unit = _min_unit(reader, doc, path)
    assist = _parse_assist(reader, doc.get("assist"), f"{prefix}assist")
    if day and isinstance(day.get("b_time"), int) and isinstance(day.get("e_time"), int) \
            and day["e_time"] <= day["b_time"]:
        reader.fail(f"{prefix}day.e_time", gettext(
            "must end later than the day starts (the day row covers its start to its end hour)"))
    if reader.errors or day is None:
        return None
    return _build_rule(day, night, min_unit, assist)


def _parse_assist(reader: Reader, doc: Any, path: str) -> tuple[int, int] | None:
    if doc is None:
        return None
    assist = reader.mapping(doc, path)
    if assist is None:
        return None
    reader.unknown_keys(assist, ("assist_unit", "assist_price"), path)
    unit = reader.integer(assist, "assist_unit", path, minimum=0)
    price = reader.yuan(assist, "assist_price", path)
    return (unit, price) if unit is not None and price is not None else None


def _build_rule(day: dict[str, Any], night: dict[str, Any] | None, min_unit: int,
                assist: tuple[int, int] | None) -> ParkingOSRule:
    b, e = day["b_time"], day["e_time"]
    day_row = _row(day, f"day {b:02d}:00-{e:02d}:00")
    if night is not None:
        night_row = _row(night, "night")
    else:  # no night row: nights are free, billed in the day unit (old behaviour)
        night_row = BandRow(day_row.unit, 0, day_row.first_times, 0, 0, 0, "night (free, no night row)")
    cap = day["total24"] if day["total24"] > 0 else (night["total24"] if night and night["total24"] > 0 else 0)
    common = dict(day_start_h=b, day_end_h=e, fill=day["is_fulldaytime"] == 0, cap_fen=cap,
                  min_unit_fen=min_unit, assist=assist if night is None else None,
                  all_day=(b == 0 and e == 24))
    cleared = ParkingOSRule(day=day_row.without_discounts(), night=night_row.without_discounts(), **common)
    return ParkingOSRule(day=day_row, night=night_row, cleared=cleared, **common)


def parse_visit_rule(reader: Reader, doc: dict[str, Any], path: str = "") -> PerVisitRule | None:
    reader.unknown_keys(doc, VISIT_KEYS, path)
    unit = reader.integer(doc, "unit", path, default=0, minimum=0)
    price = reader.yuan(doc, "price", path)
    if reader.errors:
        return None
    return PerVisitRule(unit, price)


# ---------------------------------------------------------------- pricing

def price_visit(rule: PerVisitRule, start: int, end: int, out: list[RawLine]) -> int:
    """按次: ceil(floor-minutes / unit) × price, or one flat price when unit is 0."""
    if end <= start:
        return 0
    minutes = (end - start) // 60
    if rule.unit > 0:
        units = _ceil_div(minutes, rule.unit)
        amount = units * rule.price
        out.append(("band", f"per visit, per {rule.unit} min", start, end, minutes, units, rule.price, amount))
        return amount
    out.append(("flat", "per visit", start, end, minutes, 1, rule.price, rule.price))
    return rule.price


def price_time(rule: ParkingOSRule, start: int, end: int, tz: ZoneInfo, out: list[RawLine]) -> int:
    """getAccount without the final rounding: 24 h cap windows anchored at arrival."""
    if end <= start:
        return 0
    cap = rule.cap_fen
    if not cap or end - start <= DAY_S:
        return _capped(_window(rule, start, end, tz, out), cap, start, end, out)
    first = _window(rule, start, start + DAY_S, tz, out)
    start += DAY_S
    windows = (end - start) // DAY_S
    if first > cap:  # every further complete window costs the cap; discounts stay active
        _reduce(first - cap, start - DAY_S, start, out)
        total = cap * (1 + windows)
        if windows:
            out.append(("cap", f"{windows} further 24 h window(s) at the cap", start,
                        start + windows * DAY_S, windows * 1440, windows, cap, windows * cap))
    else:  # first window under the cap: later windows lose first period and free time
        total = first
        rule = rule.without_discounts()
        if windows:
            total += _repeated_windows(rule, start, windows, tz, out)
    start += windows * DAY_S
    if end > start:
        total += _capped(_window(rule, start, end, tz, out), cap, start, end, out)
    return total


def _repeated_windows(rule: ParkingOSRule, start: int, windows: int, tz: ZoneInfo,
                      out: list[RawLine]) -> int:
    """The old engine prices the second window once and multiplies it."""
    each = _capped(_window(rule, start, start + DAY_S, tz, out), rule.cap_fen, start, start + DAY_S, out)
    if windows > 1:
        out.append(("repeat", f"{windows - 1} further 24 h window(s) priced like the previous one",
                    start + DAY_S, start + windows * DAY_S, (windows - 1) * 1440, windows - 1, each,
                    each * (windows - 1)))
    return each * windows


def _capped(amount: int, cap: int, start: int, end: int, out: list[RawLine]) -> int:
    if cap and amount > cap:
        _reduce(amount - cap, start, end, out)
        return cap
    return amount


def _reduce(excess: int, start: int, end: int, out: list[RawLine]) -> None:
    out.append(("cap", "24 h cap (24小时封顶)", start, end, (end - start) // 60, 0, 0, -excess))


def round_total(rule: ParkingOSRule | PerVisitRule, total: int, start: int, end: int,
                out: list[RawLine]) -> int:
    """dealPrice: keep the integer yuan, plus the unit if the fraction reaches it."""
    unit = rule.min_unit_fen
    if not unit or total <= 0:
        return total
    yuan, frac = divmod(total, 100)
    rounded = yuan * 100 + (unit if frac >= unit else 0)
    if rounded != total:
        out.append(("rounding", f"minimum price unit {unit / 100:g} yuan", start, end, 0, 0, 0, rounded - total))
    return rounded


def _window(rule: ParkingOSRule, start: int, end: int, tz: ZoneInfo, out: list[RawLine]) -> int:
    """getAccount24: one window, no cap, no rounding."""
    extra = 0
    if rule.assist is not None:
        outcome = _assist(rule, start, end, out)
        if outcome is not None:
            return outcome
        unit, extra = rule.assist
        start += (unit + (rule.day.free_time if rule.day.fpay_type == 1 else 0)) * 60
        rule = rule.without_discounts()  # the rest of the window: no free time, no first period
    if rule.all_day:
        minutes = max(1, (end - start) // 60)
        return extra + _first_segment(rule.day, True, minutes, start, end, "", out)
    return extra + _two_bands(rule, start, end, tz, out)


def _assist(rule: ParkingOSRule, start: int, end: int, out: list[RawLine]) -> int | None:
    """辅助价格 "first X minutes for Y yuan"; None when the stay goes beyond X."""
    unit, price = rule.assist  # type: ignore[misc]
    day = rule.day
    minutes = (end - start) // 60
    covered = unit + (day.free_time if day.fpay_type == 1 else 0)
    if minutes <= day.free_time:
        out.append(("free", f"within free time ({day.free_time} min)", start, end, minutes, 0, 0, 0))
        return 0
    if minutes <= covered:
        out.append(("assist", f"first {unit} min flat", start, end, minutes, 1, price, price))
        return price
    out.append(("assist", f"first {unit} min flat", start, start + covered * 60, covered, 1, price, price))
    return None


def _first_segment(row: BandRow, is_day: bool, minutes: int, start: int, end: int, note: str,
                   out: list[RawLine]) -> int:
    """Free time, first period and price of the segment the stay started in."""
    label = row.label + note
    cursor = start
    if row.free_time > 0:
        if minutes < row.free_time:
            out.append(("free", f"{label}: within free time ({row.free_time} min)", start, end, minutes, 0, 0, 0))
            return 0
        if row.fpay_type == 1:
            cursor = min(end, start + row.free_time * 60)
            out.append(("free", f"{label}: free time deducted", start, cursor, row.free_time, 0, 0, 0))
            minutes -= row.free_time
    cost = 0
    first = row.first_times
    if minutes > 0 and first > 0:
        if minutes >= first if is_day else minutes > first:  # day >=, night > (old engine)
            units, minutes, used = first // row.unit, minutes - first, first
        else:
            units, minutes, used = _ceil_div(minutes, row.unit), 0, minutes
        cost = units * row.fprice
        stop = min(end, cursor + used * 60)
        out.append(("first_period", f"{label}: first period (首优惠时段)", cursor, stop, used, units, row.fprice, cost))
        cursor = stop
    if minutes > 0:
        units = _ceil_div(minutes, row.unit)
        out.append(("band", label, cursor, end, minutes, units, row.price, units * row.price))
        cost += units * row.price
    return cost


def _band_edges(rule: ParkingOSRule, start: int, end: int, tz: ZoneInfo) -> tuple[bool, list[int]]:
    """Whether `start` is in the day band, and the band edges in (start, end].

    Edges alternate (day begins, night begins, ...) starting with the band
    that follows the one `start` is in.
    """
    b_min, e_min = rule.day_start_h * 60, rule.day_end_h * 60
    ordinal = local_ordinal(start, tz)
    day_begin, day_end = wall_epoch(tz, ordinal, b_min), wall_epoch(tz, ordinal, e_min)
    in_day = day_begin <= start < day_end
    cuts: list[int] = []
    if start >= day_end:
        ordinal += 1
        day_begin, day_end = wall_epoch(tz, ordinal, b_min), wall_epoch(tz, ordinal, e_min)
    while True:
        if start < day_begin:
            if day_begin > end:
                break
            cuts.append(day_begin)
        if day_end > end:
            break
        cuts.append(day_end)
        ordinal += 1
        day_begin, day_end = wall_epoch(tz, ordinal, b_min), wall_epoch(tz, ordinal, e_min)
    return in_day, cuts


def _two_bands(rule: ParkingOSRule, start: int, end: int, tz: ZoneInfo, out: list[RawLine]) -> int:
    in_day, cuts = _band_edges(rule, start, end, tz)
    day, night = rule.day, rule.night
    if not cuts:  # one segment: at least 60 s
        row = day if in_day else night
        return _first_segment(row, in_day, max(60, end - start) // 60, start, end, "", out)
    first = (cuts[0] - start) // 60
    sums = [0, 0]       # full night minutes, full day minutes
    counts = [0, 0]
    spans = [[0, 0], [0, 0]]
    is_day = not in_day
    for index in range(len(cuts) - 1):
        lo, hi = cuts[index], cuts[index + 1]
        sums[is_day] += (hi - lo) // 60
        if not counts[is_day]:
            spans[is_day][0] = lo
        spans[is_day][1] = hi
        counts[is_day] += 1
        is_day = not is_day
    last_is_day = is_day
    last = (end - cuts[-1]) // 60
    note = ""
    if in_day and rule.fill and first % day.unit:
        first, last, sums[0], borrowed = _fill(first, last, sums[0], counts[0], last_is_day, day.unit)
        note = f" (+{borrowed} min borrowed from the last segment to fill the unit)" if borrowed else ""
    total = _first_segment(day if in_day else night, in_day, first, start, cuts[0], note, out)
    if counts[1]:
        units = _ceil_div(sums[1], day.unit) if in_day else sums[1] // day.unit  # floor when starting at night
        total += _block(out, day, sums[1], units, counts[1], spans[1])
    if counts[0]:
        total += _block(out, night, sums[0], _ceil_div(sums[0], night.unit), counts[0], spans[0])
    row = day if last_is_day else night
    if last or cuts[-1] < end:
        units = _ceil_div(last, row.unit)
        out.append(("band", row.label, cuts[-1], end, last, units, row.price, units * row.price))
        total += units * row.price
    return total


def _fill(first: int, last: int, night_sum: int, night_blocks: int, last_is_day: bool,
          unit: int) -> tuple[int, int, int, int]:
    """补全日间时长: complete the first day unit with minutes taken from the LAST segment."""
    need = unit - first % unit
    if not last_is_day and not night_blocks:
        taken = min(need, last)
        return first + taken, last - taken, night_sum, taken
    if not last_is_day:
        taken = min(need, last)
        return first + need, last - taken, max(0, night_sum - (need - taken)), need
    if last > need:
        return first + need, last - need, night_sum, need
    return first + need, 0, max(0, night_sum - (need - last)), need


def _block(out: list[RawLine], row: BandRow, minutes: int, units: int, count: int, span: list[int]) -> int:
    amount = units * row.price
    out.append(("band", f"{row.label}, {count} full band(s)", span[0], span[1], minutes, units, row.price, amount))
    return amount
