"""Small validation toolkit shared by the rule parsers.

Parsers read a JSON-like document through a `Reader`, which records one human
message per bad field path and lets the parser carry on, so an operator sees
every problem of a rule at once instead of fixing them one by one.
"""
from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from .clock import parse_hhmm
from .messages import gettext
from .types import RuleError

MISSING: Any = object()


def yuan_to_fen(value: object) -> int:
    """Yuan amount ("1.50", "2", 3) to integer fen (分); floats are refused."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(gettext('must be a yuan amount written as a string such as "1.50"'))
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(gettext("%(value)s is not a yuan amount", value=repr(value))) from None
    if not amount.is_finite():
        raise ValueError(gettext("%(value)s is not a yuan amount", value=repr(value)))
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(gettext("%(value)s has more than 2 decimals (1 fen is the smallest amount)",
                                 value=repr(value)))
    return int(amount * 100)


class Reader:
    """Collects field errors while reading a document."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def check(self, message: str) -> None:
        if self.errors:
            raise RuleError(message, self.errors)

    def mapping(self, doc: Any, path: str) -> dict[str, Any] | None:
        if isinstance(doc, dict):
            return doc
        self.fail(path or "(document)", gettext("must be an object"))
        return None

    def unknown_keys(self, doc: dict[str, Any], allowed: Iterable[str], path: str) -> None:
        extra = sorted(set(doc) - set(allowed))
        for key in extra:
            self.fail(_join(path, key), gettext("unknown field"))

    def integer(self, doc: dict[str, Any], key: str, path: str, default: Any = MISSING,
                minimum: int | None = None, maximum: int | None = None) -> Any:
        where = _join(path, key)
        value = doc.get(key, MISSING)
        if value is MISSING or value is None:
            if default is MISSING:
                self.fail(where, gettext("is required"))
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(where, gettext("must be a whole number, got %(value)s", value=repr(value)))
            return default if default is not MISSING else None
        if minimum is not None and value < minimum:
            self.fail(where, gettext("must be at least %(minimum)s, got %(value)s", minimum=minimum, value=value))
        if maximum is not None and value > maximum:
            self.fail(where, gettext("must be at most %(maximum)s, got %(value)s", maximum=maximum, value=value))
        return value

    def yuan(self, doc: dict[str, Any], key: str, path: str, default: Any = MISSING,
             allow_negative: bool = False) -> Any:
        """A yuan decimal string read as fen."""
        where = _join(path, key)
        value = doc.get(key, MISSING)
        if value is MISSING or value is None:
            if default is MISSING:
                self.fail(where, gettext("is required"))
            return default
        try:
            fen = yuan_to_fen(value)
        except ValueError as exc:
            self.fail(where, str(exc))
            return default if default is not MISSING else None
        if fen < 0 and not allow_negative:
            self.fail(where, gettext("must not be negative, got %(value)s", value=repr(value)))
        return fen

    def choice(self, doc: dict[str, Any], key: str, path: str, options: tuple[Any, ...],
               default: Any = MISSING) -> Any:
        where = _join(path, key)
        value = doc.get(key, MISSING)
        if value is MISSING or value is None:
            if default is MISSING:
                self.fail(where, gettext("is required"))
            return default
        if value not in options or isinstance(value, bool):
            shown = ", ".join(repr(option) for option in options)
            self.fail(where, gettext("must be one of %(options)s, got %(value)s", options=shown, value=repr(value)))
            return default if default is not MISSING else options[0]
        return value

    def clock_time(self, doc: dict[str, Any], key: str, path: str, default: Any = MISSING,
                   allow_24: bool = True) -> Any:
        where = _join(path, key)
        value = doc.get(key, MISSING)
        if value is MISSING or value is None:
            if default is MISSING:
                self.fail(where, gettext("is required"))
            return default
        try:
            return parse_hhmm(value, allow_24)
        except ValueError as exc:
            self.fail(where, str(exc))
            return default if default is not MISSING else 0


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
