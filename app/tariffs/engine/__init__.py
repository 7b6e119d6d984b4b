"""ParkingOS fee engine (计费引擎): a pure function from rule + stay to a fee.

No Flask, no database: callers pass a rule document (or a rule parsed once with
`parse_rule`), two aware datetimes and optionally a vehicle class, the park's
IANA time zone, a monthly pass and named day sets; they get a `Fee` in integer
fen whose lines explain every fen.  Rule kinds:

* "parkingos" / "parkingos_per_visit": the old ParkingOS engine, quirks included;
* "banded": time-of-day bands × progressive tiers with caps, grace and classes.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .banded import BandedRule, Calendar, merge_class, parse_banded, price_banded
from .clock import get_zone, to_epoch
from .messages import gettext
from .parkingos import (
    ParkingOSRule,
    PerVisitRule,
    parse_time_rule,
    parse_visit_rule,
    price_time,
    price_visit,
    round_total,
)
from .passes import Cover, PassCoverage, coverage, gaps, parse_pass
from .schema import Reader, yuan_to_fen
from .types import Fee, FeeLine, RawLine, RuleError, lazy_fee

__all__ = ["BandedRule", "Fee", "FeeLine", "ParkingOSRule", "PassCoverage", "PerVisitRule", "RuleError", "Tariff",
           "RULE_KINDS", "VEHICLE_CLASSES", "parse_rule", "quote", "yuan_to_fen"]

VEHICLE_CLASSES = ("small", "large", "new_energy")  # built-in names; parks may add their own codes

_CLASS_KEYS = {
    "parkingos": ("day", "night", "assist", "minprice_unit"),
    "parkingos_per_visit": ("unit", "price"),
    "banded": ("boundary", "grace_minutes", "entry_fee_fen", "rates", "schedule", "caps"),
}
_PARSERS: dict[str, Callable[[Reader, dict[str, Any], str], Any]] = {
    "parkingos": parse_time_rule,
    "parkingos_per_visit": parse_visit_rule,
    "banded": parse_banded,
}
RULE_KINDS = tuple(_PARSERS)


@dataclass(frozen=True)
class Tariff:
    """A validated rule document: the default rule and per-vehicle-class rules."""

    kind: str
    default: Any
    classes: Mapping[str, Any] = field(default_factory=dict)

    def for_class(self, vehicle_class: str) -> Any:
        return self.classes.get(vehicle_class, self.default)


def parse_rule(doc: Mapping[str, Any] | Tariff) -> Tariff:
    """Validate a rule document; RuleError lists every bad field by path."""
    if isinstance(doc, Tariff):
        return doc
    if not isinstance(doc, Mapping):
        raise RuleError(gettext("invalid tariff rule"), {"(document)": gettext("must be a JSON object")})
    kind = doc.get("kind")
    if kind not in _PARSERS:
        raise RuleError(gettext("invalid tariff rule"), {"kind": gettext("must be one of %(options)s, got %(value)s",
                                                            options=", ".join(RULE_KINDS), value=repr(kind))})
    reader = Reader()
    base = {key: value for key, value in doc.items() if key != "classes"}
    default = _PARSERS[kind](reader, base, "")
    classes = _parse_classes(reader, kind, base, doc.get("classes"))
    reader.check("invalid tariff rule")
    return Tariff(kind, default, classes)


def _parse_classes(reader: Reader, kind: str, base: dict[str, Any], doc: Any) -> dict[str, Any]:
    """Per-vehicle-class overrides (车型): each is merged onto the base rule."""
    if doc is None:
        return {}
    if not isinstance(doc, Mapping):
        reader.fail("classes", gettext("must be an object mapping a vehicle class to its overrides"))
        return {}
    parsed = {}
    for name, override in doc.items():
        path = f"classes.{name}"
        if not isinstance(name, str) or not name:
            reader.fail("classes", gettext("vehicle class names must be non-empty strings"))
            continue
        if not isinstance(override, Mapping):
            reader.fail(path, gettext("must be an object of fields to override"))
            continue
        reader.unknown_keys(dict(override), _CLASS_KEYS[kind], path)
        if reader.errors:
            continue
        merged = merge_class(base, override) if kind == "banded" else {**base, **override}
        sub = Reader()
        rule = _PARSERS[kind](sub, merged, "")
        for field_path, message in sub.errors.items():
            reader.fail(f"{path}.{field_path}", message)
        parsed[name] = rule
    return parsed


def quote(rules: Mapping[str, Any] | Tariff, entered_at: datetime, left_at: datetime,
          vehicle_class: str = "small", park_timezone: str = "Asia/Shanghai",
          pass_: PassCoverage | Mapping[str, Any] | None = None,
          calendar: Calendar | None = None) -> Fee:
    """Fee of one stay.  Times must be timezone-aware; left_at <= entered_at costs 0."""
    tariff = rules if isinstance(rules, Tariff) else parse_rule(rules)
    tz = get_zone(park_timezone)
    start, end = to_epoch(entered_at, "entered_at"), to_epoch(left_at, "left_at")
    if end <= start:
        return Fee(0, ())
    rule = tariff.for_class(vehicle_class)
    out: list[RawLine] = []
    covers = coverage(parse_pass(pass_), start, end, tz) if pass_ is not None else []
    total = _price(tariff.kind, rule, start, end, tz, calendar, covers, out)
    if covers:
        plain: list[RawLine] = []
        without = _price(tariff.kind, rule, start, end, tz, calendar, [], plain)
        if without < total:  # a pass never makes a stay dearer
            plain.append(("pass", "pass gives no saving on this stay: normal fee applies", start, end,
                          (end - start) // 60, 0, 0, 0))
            out, total = plain, without
    return lazy_fee(total, out, tz)


def _price(kind: str, rule: Any, start: int, end: int, tz: ZoneInfo, calendar: Calendar | None,
           covers: list[Cover], out: list[RawLine]) -> int:
    if kind == "banded":
        return price_banded(rule, start, end, tz, calendar, covers, out)
    if kind == "parkingos":
        def one(low: int, high: int) -> int:
            return price_time(rule, low, high, tz, out)
    else:
        def one(low: int, high: int) -> int:
            return price_visit(rule, low, high, out)
    total = _price_pieces(one, start, end, covers, out) if covers else one(start, end)
    return round_total(rule, total, start, end, out)


def _price_pieces(one: Callable[[int, int], int], start: int, end: int, covers: list[Cover],
                  out: list[RawLine]) -> int:
    """Legacy kinds with a pass: every uncovered (or discounted) interval is
    priced as a stay of its own; free intervals cost nothing."""
    parts = [(low, high, 0) for low, high in gaps(covers, start, end)] + list(covers)
    total = 0
    for low, high, percent in sorted(parts):
        minutes = (high - low) // 60
        if percent == 100:
            out.append(("pass", "covered by pass", low, high, minutes, 0, 0, 0))
            continue
        amount = one(low, high)
        total += amount
        if percent:
            off = amount * percent // 100
            out.append(("pass", f"pass discount {percent}%", low, high, minutes, 0, 0, -off))
            total -= off
    return total

