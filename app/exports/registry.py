"""What can be exported. Each list or report registers one ExportSpec; the exports package turns
it into an .xlsx file (streamed, in the background when large) with the same filters as the page."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db

# value kinds a column may hold; money is integer fen, written as yuan with two decimals; a CODE column
# (the code behind a label shown in the column before it) is written as text in a hidden column, for
# whoever processes the file further; MINUTES is a duration as a whole number of minutes (the header says so)
TEXT, INT, MONEY, DATETIME, DATE, PERCENT, CODE = "text", "int", "money", "datetime", "date", "percent", "code"
MINUTES = "minutes"


@dataclass(frozen=True)
class ExportSpec:
    kind: str                                   # unique key, used in URLs: /exports/new/<kind>
    title: str                                  # sheet and file title
    permission: str                             # e.g. "orders.export"
    columns: Sequence[tuple[str, str]]          # (header as shown on screen, value kind)
    rows: Callable[..., Iterable[Sequence]]     # rows(scope, params: dict) -> rows in column order
    timezone_param: str | None = None           # DATETIME values are shown in this zone (default: the node's)
    count: Callable[..., int] | None = None     # count(scope, params) -> rows to come, so progress is a percentage


EXPORTS: dict[str, ExportSpec] = {}


def register_export(spec: ExportSpec) -> ExportSpec:
    EXPORTS[spec.kind] = spec
    return spec


def count_of(stmt) -> int:
    """How many rows a list's statement yields: a spec's `count`, asked before the rows are streamed."""
    return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
