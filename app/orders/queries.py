"""List queries shared by the order pages, their Excel exports and the bench.

Each list is a plain function (scope, filters) -> Select: the scope clause first, then the
filters the manager chose (already validated against the scope's choices by the forms), then
the sort key. Pages cut it with `keyset_page` on (time desc, id desc); exports stream it whole."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import DateTime, Select, case, func, or_, select, type_coerce
from sqlalchemy.orm import joinedload, lazyload, load_only, selectinload

from app.core.types import UTCDateTime, utcnow
from app.extensions import db, on_postgresql
from app.orders.models import Arrear, OrderState, ParkingOrder
from app.orders.services import CLOSED_ARREAR_STATES, WAIVED
from app.staff.models import Staff
from app.tenancy.models import City, Park

COUNT_LIMIT = 1000  # unfiltered lists say "more than 1000" instead of counting millions of rows
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


# --- filters ------------------------------------------------------------------------------------

@dataclass
class OrderFilters:
    park_id: int | None = None
    segment_id: int | None = None
    collector_id: int | None = None       # entry or exit collector
    time_field: str = "entered"           # entered | left: which time the date range applies to
    date_from: date | None = None         # local dates of the park (or of the city), inclusive
    date_to: date | None = None
    plate: str | None = None              # part of a plate, any case
    state: str | None = None
    method: str | None = None
    amount_min_fen: int | None = None     # on the money kept (实收)
    amount_max_fen: int | None = None
    entry_method: str | None = None
    min_days: int | None = None           # open orders parked at least / at most this many days
    max_days: int | None = None

    @classmethod
    def from_dict(cls, values: dict) -> OrderFilters:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names and v not in (None, "")})

    @property
    def has_park_and_range(self) -> bool:
        return self.park_id is not None and self.date_from is not None and self.date_to is not None


@dataclass
class ArrearFilters:
    park_id: int | None = None
    plate: str | None = None
    date_from: date | None = None          # local date the debt arose (the car left unpaid)
    date_to: date | None = None
    state: str = "open"                    # open | recovered

    @classmethod
    def from_dict(cls, values: dict) -> ArrearFilters:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names and v not in (None, "")})


def filter_zone(scope, park_id: int | None) -> ZoneInfo:
    """Day boundaries of a date filter: the chosen park's zone, else the city's, else the default."""
    zone = None
    if park_id is not None:
        zone = db.session.scalar(select(Park.timezone).where(Park.id == park_id))
    if zone is None and scope.city_id is not None:
        zone = db.session.scalar(select(City.timezone).where(City.id == scope.city_id))
    return ZoneInfo(zone or current_app.config["DEFAULT_TIMEZONE"])


def local_range(zone: ZoneInfo, date_from: date | None, date_to: date | None):
    """[start of date_from, start of the day after date_to) in UTC; either end may be open."""
    start = datetime(date_from.year, date_from.month, date_from.day, tzinfo=zone) if date_from else None
    end = None
    if date_to:
        nxt = date_to + timedelta(days=1)
        end = datetime(nxt.year, nxt.month, nxt.day, tzinfo=zone)
    return (start.astimezone(timezone.utc) if start else None), (end.astimezone(timezone.utc) if end else None)


def _plate_like(column, text: str):
    escaped = text.strip().upper().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return func.upper(column).like(f"%{escaped}%", escape="\\")


# --- orders -------------------------------------------------------------------------------------

def order_display_options():
    """Names shown in the list: one primary-key IN query per relation for the whole page (no N+1).
    Not joins: on PostgreSQL planning a five-way join costs several times more than running it."""
    return (selectinload(ParkingOrder.park), selectinload(ParkingOrder.berth), selectinload(ParkingOrder.segment),
            selectinload(ParkingOrder.entry_collector).options(load_only(Staff.id, Staff.display_name),
                                                               lazyload(Staff.role)),
            selectinload(ParkingOrder.exit_collector).options(load_only(Staff.id, Staff.display_name),
                                                              lazyload(Staff.role)))


def order_filter_clauses(scope, f: OrderFilters, now: datetime | None = None) -> list:
    o = ParkingOrder
    clauses = [scope.clause(o)]
    if f.park_id is not None:
        clauses.append(o.park_id == f.park_id)
    if f.segment_id is not None:
        clauses.append(o.segment_id == f.segment_id)
    if f.collector_id is not None:
        clauses.append(or_(o.entry_collector_id == f.collector_id, o.exit_collector_id == f.collector_id))
    if f.date_from or f.date_to:
        column = o.left_at if f.time_field == "left" else o.entered_at
        start, end = local_range(filter_zone(scope, f.park_id), f.date_from, f.date_to)
        if start is not None:
            clauses.append(column >= start)
        if end is not None:
            clauses.append(column < end)
    if f.plate:
        clauses.append(_plate_like(o.plate, f.plate))
    if f.state:
        clauses.append(o.state == f.state)
    if f.method:
        clauses.append(o.payment_method == f.method)
    if f.amount_min_fen is not None:
        clauses.append(o.paid_fen >= f.amount_min_fen)
    if f.amount_max_fen is not None:
        clauses.append(o.paid_fen <= f.amount_max_fen)
    if f.entry_method:
        clauses.append(o.entry_method == f.entry_method)
    if f.min_days is not None or f.max_days is not None:
        now = now or utcnow()
        if f.min_days is not None:
            clauses.append(o.entered_at <= now - timedelta(days=f.min_days))
        if f.max_days is not None:
            clauses.append(o.entered_at >= now - timedelta(days=f.max_days))
    return clauses


_ORDER = ParkingOrder.__table__.c
# what 订单记录 and its export show, nothing more (no fee lines, no receipt, no shift ids)
RECORD_COLUMNS = (_ORDER.id, _ORDER.plate, _ORDER.park_id, _ORDER.berth_id, _ORDER.entered_at, _ORDER.left_at,
                  _ORDER.fee_fen, _ORDER.paid_fen, _ORDER.payment_method, _ORDER.free_reason, _ORDER.prepaid_fen,
                  _ORDER.reduction_fen, _ORDER.entry_collector_id, _ORDER.exit_collector_id, _ORDER.state)


def _read_columns(columns):
    """PostgreSQL hands times back aware already: read them as they come instead of re-attaching
    UTC row by row (SQLite stores them naive, so UTCDateTime's conversion stays there)."""
    if not on_postgresql():
        return columns
    return [type_coerce(c, DateTime(timezone=True)).label(c.key) if isinstance(c.type, UTCDateTime) else c
            for c in columns]


def order_records(scope, f: OrderFilters, now: datetime | None = None) -> Select:
    """订单记录: plain rows of RECORD_COLUMNS, newest entry first. Rows, not ParkingOrder objects:
    the page only reads them, and building entities costs more than running the query.
    Fetch with `keyset_page(..., plain=True)` or `fetch_rows`; names come from `NameBook`."""
    return select(*_read_columns(RECORD_COLUMNS)).where(*order_filter_clauses(scope, f, now)) \
        .order_by(_ORDER.entered_at.desc(), _ORDER.id.desc())


def fetch_rows(stmt: Select) -> list:
    """Plain rows straight from the connection (no ORM loading step for a column-only select)."""
    return db.session.connection().execute(stmt).all()


class NameBook:
    """Names a page of order rows shows (park, berth, collectors), looked up once per page
    with one primary-key IN query per kind, and remembered across pages of an export."""

    def __init__(self):
        self.parks: dict[int, tuple[str, str]] = {}
        self.berths: dict[int, str] = {}
        self.staff: dict[int, str] = {}

    def add(self, rows) -> NameBook:
        from app.berths.models import Berth

        def fill(known: dict, ids, *columns):
            missing = {i for i in ids if i is not None and i not in known}
            if missing:
                for row in db.session.execute(select(*columns).where(columns[0].in_(missing))):
                    known[row[0]] = tuple(row[1:]) if len(row) > 2 else row[1]

        fill(self.parks, {r.park_id for r in rows}, Park.id, Park.name, Park.timezone)
        fill(self.berths, {r.berth_id for r in rows}, Berth.id, Berth.number)
        fill(self.staff, {r.entry_collector_id for r in rows} | {r.exit_collector_id for r in rows},
             Staff.id, Staff.display_name)
        return self

    def park(self, park_id) -> str:
        return self.parks.get(park_id, ("—", None))[0]

    def zone(self, park_id) -> str | None:
        return self.parks.get(park_id, ("—", None))[1]

    def berth(self, berth_id) -> str:
        return self.berths.get(berth_id, "—")

    def person(self, staff_id) -> str:
        return self.staff.get(staff_id, "—")


def order_list(scope, f: OrderFilters, now: datetime | None = None, *, display: bool = True) -> Select:
    """订单记录 and its relatives (在场车辆, 大额订单): orders of the scope, newest entry first."""
    stmt = select(ParkingOrder).where(*order_filter_clauses(scope, f, now)) \
        .order_by(ParkingOrder.entered_at.desc(), ParkingOrder.id.desc())
    return stmt.options(*order_display_options()) if display else stmt


def parked_filters(values: dict) -> OrderFilters:
    """在场车辆 / 大额订单: the open orders, whatever state the browser sent."""
    f = OrderFilters.from_dict(values)
    f.state = OrderState.OPEN.value
    f.time_field = "entered"
    return f


# --- arrears ------------------------------------------------------------------------------------

def arrear_filter_clauses(scope, f: ArrearFilters) -> list:
    # the recovery history shows the debts waived at zero too
    state = Arrear.state.in_(CLOSED_ARREAR_STATES) if f.state == "recovered" else Arrear.state == f.state
    clauses = [scope.clause(Arrear), state]
    if f.park_id is not None:
        clauses.append(Arrear.park_id == f.park_id)
    if f.plate:
        clauses.append(_plate_like(Arrear.plate, f.plate))
    if f.date_from or f.date_to:
        column = Arrear.recovered_at if f.state == "recovered" else Arrear.created_at
        start, end = local_range(filter_zone(scope, f.park_id), f.date_from, f.date_to)
        if start is not None:
            clauses.append(column >= start)
        if end is not None:
            clauses.append(column < end)
    return clauses


def arrear_list(scope, f: ArrearFilters) -> Select:
    """未缴明细 (open) and the recovery history (recovered), newest first."""
    time_col = Arrear.recovered_at if f.state == "recovered" else Arrear.created_at
    return select(Arrear).where(*arrear_filter_clauses(scope, f)) \
        .order_by(time_col.desc(), Arrear.id.desc()) \
        .options(joinedload(Arrear.park), joinedload(Arrear.order).options(
            joinedload(ParkingOrder.berth), joinedload(ParkingOrder.segment)))


def arrear_total(scope, f: ArrearFilters) -> tuple[int, int]:
    """How many debts and how much money they owe (open) or brought in (history: a waived debt
    brought nothing), summed by the database."""
    money = case((Arrear.state == WAIVED, 0), else_=Arrear.amount_fen)
    count, total = db.session.execute(select(func.count(), func.coalesce(func.sum(money), 0))
                                      .where(*arrear_filter_clauses(scope, f))).one()
    return int(count), int(total)


# --- keyset pagination --------------------------------------------------------------------------

def encode_cursor(at: datetime, row_id: int) -> str:
    return f"{(at - _EPOCH) // timedelta(microseconds=1)}.{row_id}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """A cursor from the URL; anything malformed is the first page, never an error."""
    if not raw:
        return None
    micros, _, row_id = raw.partition(".")
    try:
        micros_i, row_id_i = int(micros), int(row_id)
        if not (0 <= row_id_i < 2 ** 63):
            return None
        return _EPOCH + timedelta(microseconds=micros_i), row_id_i
    except (ValueError, OverflowError):
        return None


@dataclass
class KeysetPage:
    items: list
    size: int
    has_next: bool = False
    has_prev: bool = False
    next_cursor: str | None = None
    prev_cursor: str | None = None
    count: int | None = None          # exact, when the list was narrow enough to count
    more_than: int | None = None      # else: "more than N" when the bounded count hit the limit
    extra: dict = field(default_factory=dict)


def keyset_page(stmt: Select, time_col, id_col, *, after: str | None = None, before: str | None = None,
                last: bool = False, size: int = 50, time_of=None, plain: bool = False) -> KeysetPage:
    """One page of `stmt` sorted by (time desc, id desc): after a cursor (next), before one
    (previous), the first page, or the last page. Each page is one indexed range scan of
    size + 1 rows, however deep it is. `plain`: `stmt` selects columns; the items are plain rows."""
    time_of = time_of or (lambda row: getattr(row, time_col.key))
    fetch = fetch_rows if plain else (lambda s: list(db.session.scalars(s)))
    base = stmt.order_by(None)
    after_c, before_c = decode_cursor(after), decode_cursor(before)
    if before_c is not None or last:
        if before_c is not None:
            t, i = before_c
            base = base.where(time_col >= t, or_(time_col > t, id_col > i))
        rows = fetch(base.order_by(time_col.asc(), id_col.asc()).limit(size + 1))
        more = len(rows) > size
        rows = list(reversed(rows[:size]))
        page = KeysetPage(rows, size, has_next=before_c is not None, has_prev=more)
    else:
        if after_c is not None:
            t, i = after_c
            base = base.where(time_col <= t, or_(time_col < t, id_col < i))
        rows = fetch(base.order_by(time_col.desc(), id_col.desc()).limit(size + 1))
        more = len(rows) > size
        rows = rows[:size]
        page = KeysetPage(rows, size, has_next=more, has_prev=after_c is not None)
    if rows:
        page.next_cursor = encode_cursor(time_of(rows[-1]), rows[-1].id)
        page.prev_cursor = encode_cursor(time_of(rows[0]), rows[0].id)
    return page


def count_for_page(stmt: Select, exact: bool) -> tuple[int | None, int | None]:
    """(exact count, None) when the caller narrowed the list enough; else a bounded count that
    stops at COUNT_LIMIT + 1 rows: (n, None) below the limit, (None, COUNT_LIMIT) above it."""
    plain = stmt.order_by(None)
    if exact:
        return db.session.scalar(select(func.count()).select_from(plain.subquery())), None
    n = db.session.scalar(select(func.count()).select_from(plain.limit(COUNT_LIMIT + 1).subquery()))
    return (n, None) if n <= COUNT_LIMIT else (None, COUNT_LIMIT)


def page_size() -> int:
    try:
        return max(1, min(int(current_app.config.get("PAGE_SIZE", 50)), 200))
    except (TypeError, ValueError):
        return 50
