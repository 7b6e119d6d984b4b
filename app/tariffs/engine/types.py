"""Result and error types of the fee engine (计费结果)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.core.errors import Invalid

from .clock import to_local

# A fee line as the engines produce it on the hot path; turned into FeeLine only
# when someone reads Fee.lines (most callers only need the total).
# (kind, label, start_epoch, end_epoch, minutes, units, unit_price_fen, amount_fen)
RawLine = tuple[str, str, int, int, int, int, int, int]


class RuleError(Invalid, ValueError):
    """A rule document (or pass spec) that cannot be priced.

    `fields` maps a dotted path inside the document ("day.unit",
    "rates.day.tiers[1].price_fen") to a human message. (app.core.errors has no imports: the engine
    stays free of Flask and the database.)
    """
    code = "rule_invalid"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(self.code, message, dict(fields or {}))

    def __str__(self) -> str:
        detail = "; ".join(f"{path}: {msg}" for path, msg in self.fields.items())
        return f"{self.message}: {detail}" if detail else str(self.message)


@dataclass(frozen=True, slots=True)
class FeeLine:
    """One explained part of a fee; amounts are integer fen (分), reductions negative."""

    kind: str
    label: str
    start: datetime
    end: datetime
    minutes: int
    units: int
    unit_price_fen: int
    amount_fen: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "minutes": self.minutes,
            "units": self.units,
            "unit_price_fen": self.unit_price_fen,
            "amount_fen": self.amount_fen,
        }


class _PendingLines:
    """Placeholder stored in a Fee until its lines are first read."""

    __slots__ = ("build",)

    def __init__(self, build: Callable[[], tuple[FeeLine, ...]]):
        self.build = build


class _LazyLinesField:
    """Data descriptor behind Fee.lines: builds FeeLine objects on first access.

    Quoting a 30-day stay yields a hundred lines; building their datetimes
    eagerly would dominate the cost of a quote whose caller only wants the total.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return ()  # dataclass reads this as the field default
        value = instance.__dict__[self.slot]
        if isinstance(value, _PendingLines):
            value = value.build()
            instance.__dict__[self.slot] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        if not isinstance(value, _PendingLines):
            value = tuple(value)
        instance.__dict__[self.slot] = value


@dataclass(frozen=True)
class Fee:
    """A quoted fee: total in fen and the lines explaining it (sum(lines) == total)."""

    total_fen: int
    lines: tuple[FeeLine, ...] = _LazyLinesField()  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return {"total_fen": self.total_fen, "lines": [line.to_dict() for line in self.lines]}


def _materialize(raw: list[RawLine], tz: ZoneInfo) -> tuple[FeeLine, ...]:
    return tuple(
        FeeLine(kind, label, to_local(start, tz), to_local(end, tz), minutes, units, unit_price, amount)
        for kind, label, start, end, minutes, units, unit_price, amount in raw
    )


def lazy_fee(total_fen: int, raw: list[RawLine], tz: ZoneInfo) -> Fee:
    return Fee(total_fen, _PendingLines(lambda: _materialize(raw, tz)))  # type: ignore[arg-type]
