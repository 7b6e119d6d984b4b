"""The figures (统计口径): one query function per figure, called by the overview, every report, its chart,
its export and any API answer. docs/figures.md gives each definition in words.

Every function takes the ids of the parks it covers (`park_ids` resolves them from a scope), a period
(`Filters`: local days in one zone) where the figure has one, and a grouping `by`: None (one value, key
None), a name (park, group, collector, berth, day, month, hour) or a tuple of names (a tuple key). It
answers a dict key -> value, computed by one GROUP BY in the database.

Spaces (车位) are the active berths of an on-street park and the capacity of an off-street one, so every
ratio to spaces (occupancy, turnover, income per space) means the same thing for both kinds of park."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, cast, extract, func, select

from app.berths.models import Berth
from app.extensions import db
from app.ledger.models import LedgerEntry
from app.orders.models import Arrear, ParkingOrder
from app.sensors.services import online_rates
from app.tenancy.models import Park, ParkKind

METHODS = ("cash", "electronic", "card")
FEE, PREPAY, REFUND, RECOVERY, PASS_SALE = "fee", "prepay", "prepay_refund", "recovery", "pass_sale"
NORMAL_KINDS = (FEE, PREPAY, REFUND)
PARKING_KINDS = NORMAL_KINDS + (RECOVERY,)
ALL_KINDS = PARKING_KINDS + (PASS_SALE,)

__all__ = ["Filters", "Income", "income", "cars_in", "cars_out", "traffic", "closed_orders", "parked_now", "parked_at",
           "parked_at_start", "spaces", "occupancy", "turnover", "unpaid", "arrears", "recovery_rate", "online_rates"]


@dataclass(frozen=True)
class Filters:
    date_from: date
    date_to: date          # inclusive
    tz: str = "Asia/Shanghai"
    park_id: int | None = None
    group_id: int | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.date_from, time.min, tzinfo=self.zone).astimezone(timezone.utc)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.date_to + timedelta(days=1), time.min, tzinfo=self.zone).astimezone(timezone.utc)

    def days(self) -> list[date]:
        n = (self.date_to - self.date_from).days + 1
        return [self.date_from + timedelta(days=i) for i in range(max(n, 0))]

    def params(self) -> dict:
        out = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat()}
        if self.park_id:
            out["park_id"] = str(self.park_id)
        if self.group_id:
            out["group_id"] = str(self.group_id)
        return out


# ------------------------------------------------------------------------------------------- dialect helpers

def _read(stmt):
    """Run a figure's query planned for its own parameters each time (app/core/prepared.py): the same text
    sums today's rows and a year's."""
    return db.session.execute(stmt.execution_options(server_prepare=False))


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _sqlite_shift(tz: str) -> str:
    # SQLite knows no zones: shift by the zone's current offset (exact for zones without DST,
    # such as the default Asia/Shanghai); PostgreSQL converts exactly with AT TIME ZONE.
    minutes = int(datetime.now(ZoneInfo(tz)).utcoffset().total_seconds() // 60)
    return f"{minutes:+d} minutes"


def local_day(col, tz: str):
    if _dialect() == "postgresql":
        return cast(func.timezone(tz, col), Date)
    return func.date(col, _sqlite_shift(tz))


def local_month(col, tz: str):
    if _dialect() == "postgresql":
        return func.to_char(func.timezone(tz, col), "YYYY-MM")
    return func.strftime("%Y-%m", col, _sqlite_shift(tz))


def local_hour(col, tz: str):
    if _dialect() == "postgresql":
        return cast(extract("hour", func.timezone(tz, col)), Integer)
    return cast(func.strftime("%H", col, _sqlite_shift(tz)), Integer)


def minutes_between(start, end):
    if _dialect() == "postgresql":
        return extract("epoch", end - start) / 60.0
    return (func.julianday(end) - func.julianday(start)) * 1440.0


def seconds_between(start, end):
    """Exact on PostgreSQL (numeric seconds, summed exactly by the raw query and the rollups alike)."""
    if _dialect() == "postgresql":
        return extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def as_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def ratio(num, den) -> float:
    return (num / den) if den else 0.0


def sum_if(cond, col=LedgerEntry.amount_fen):
    return func.coalesce(func.sum(case((cond, col), else_=0)), 0)


# ------------------------------------------------------------------------------------------------ groupings

_NORMALIZE = {"day": as_date, "hour": int}


def _names(by) -> tuple:
    return () if by is None else (by,) if isinstance(by, str) else tuple(by)


def _key_column(name: str, f: Filters | None, *, park, at, collector=None, berth=None):
    """The column of grouping `name` on one table: its park column, the time that places a row in a day,
    its collector and berth columns. The operating group needs `Park` joined (see `_grouped`)."""
    columns = {"park": lambda: park, "group": lambda: Park.group_id, "collector": lambda: collector,
               "berth": lambda: berth, "day": lambda: local_day(at, f.tz), "month": lambda: local_month(at, f.tz),
               "hour": lambda: local_hour(at, f.tz)}
    column = columns[name]()
    if column is None:
        raise ValueError(f"grouping {name!r} does not apply here")
    return column


def _grouped(by, f, values: list, where, *, park, at, collector=None, berth=None, select_from=None) -> dict:
    """Run `values` grouped by `by`: key (None, a value or a tuple) -> the row of values."""
    names = _names(by)
    keys = [_key_column(n, f, park=park, at=at, collector=collector, berth=berth).label(f"k{i}")
            for i, n in enumerate(names)]
    stmt = select(*keys, *values)
    if select_from is not None:
        stmt = stmt.select_from(select_from)
    if "group" in names:
        stmt = stmt.join(Park, Park.id == park)
    stmt = stmt.where(where)
    if keys:
        stmt = stmt.group_by(*keys)
    out = {}
    for row in _read(stmt):
        key = tuple(_NORMALIZE.get(n, _same)(v) for n, v in zip(names, row[:len(keys)]))
        out[key[0] if len(key) == 1 else (key or None)] = tuple(row[len(keys):])
    return out


def _same(value):
    return value


def _in_period(col, f: Filters):
    return and_(col >= f.start, col < f.end)


# ----------------------------------------------------------------------------------- rollups and raw rows

def _from_both(raw, rolled, ids: list[int], f: Filters, by, *, by_hour: bool = False) -> dict:
    """A figure of a period: its closed, built and clean days from the daily rollups (`rolled`), the rest
    (today, days not built, days dirtied by a late write) from the raw rows (`raw`), added key by key.
    The rollups are exact sums of the same rows, so the answer equals `raw(ids, f, by)`
    (app/reports/rollups.py)."""
    from app.reports import rollups

    plan = rollups.plan(ids, f.date_from, f.date_to, f.tz, by, by_hour=by_hour)
    if plan is None:
        return raw(ids, f, by)
    out = rolled(ids, by, plan.days)
    for date_from, date_to in plan.raw:
        rollups.merge(out, raw(ids, replace(f, date_from=date_from, date_to=date_to), by))
    return out


def _rollup_rows(table, ids, by, days, values: list, *where, extra_keys: tuple = ()):
    """Rows of a rollup table grouped like `_grouped`: (key, *values) per group (and `extra_keys`)."""
    from app.reports.rollups import in_days, month_of

    names = _names(by)
    columns = {"park": lambda: table.park_id, "group": lambda: Park.group_id, "collector": lambda: table.collector_id,
               "day": lambda: table.day, "month": lambda: month_of(table.day), "hour": lambda: table.hour}
    keys = [columns[n]().label(f"k{i}") for i, n in enumerate(names)]
    # without a grouping, one row of zeros when nothing matches, as the raw query answers
    values = [func.coalesce(v, 0) for v in values]
    stmt = select(*keys, *extra_keys, *values).select_from(table)
    if "group" in names:
        stmt = stmt.join(Park, Park.id == table.park_id)
    stmt = stmt.where(table.park_id.in_(ids), in_days(table, days), *where)
    if keys or extra_keys:
        stmt = stmt.group_by(*keys, *extra_keys)
    for row in _read(stmt):
        key = tuple(_NORMALIZE.get(n, _same)(v) for n, v in zip(names, row[:len(keys)]))
        yield (key[0] if len(key) == 1 else (key or None)), tuple(row[len(keys):])


# ----------------------------------------------------------------------------------------------------- income

@dataclass
class Income:
    """收入: the ledger's money of a period by kind and method. Parking income (停车收入) = fees +
    prepayments + prepayment refunds (negative) + recovered arrears; income incl. pass sales adds
    the monthly passes sold (月卡收入)."""
    cells: dict = field(default_factory=dict)   # (kind, method) -> fen
    entries: dict = field(default_factory=dict)  # (kind, method) -> ledger rows

    def part(self, kinds: Iterable[str] = PARKING_KINDS, method: str | None = None) -> int:
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        return sum(v for (k, m), v in self.cells.items() if k in kinds and (method is None or m == method))

    fees = property(lambda self: self.part(FEE))
    prepay = property(lambda self: self.part(PREPAY))
    refunds = property(lambda self: self.part(REFUND))
    recoveries = property(lambda self: self.part(RECOVERY))
    pass_sales = property(lambda self: self.part(PASS_SALE))
    parking = property(lambda self: self.part(PARKING_KINDS))
    total = property(lambda self: self.part(ALL_KINDS))   # income incl. pass sales

    def by_method(self, kinds: Iterable[str] = ALL_KINDS) -> dict:
        kinds = tuple(kinds)
        out: dict = {}
        for (k, m), v in self.cells.items():
            if k in kinds:
                out[m] = out.get(m, 0) + v
        return out

    def entries_by_method(self) -> dict:
        out: dict = {}
        for (_k, m), n in self.entries.items():
            out[m] = out.get(m, 0) + n
        return out

    def parts(self) -> dict:
        return {"fees": self.fees, "prepay": self.prepay, "refunds": self.refunds, "recoveries": self.recoveries,
                "pass_sales": self.pass_sales}


def income(ids: list[int], f: Filters, by=None) -> dict:
    """Key -> Income of the ledger rows that occurred in the period (collector: who took the money;
    berth: the berth of the order, none for passes and recoveries)."""
    return _from_both(_income_raw, _income_rolled, ids, f, by)


def _income_rolled(ids, by, days) -> dict:
    from app.reports.models import RollupIncome, RollupIncomePark

    R = RollupIncome if "collector" in _names(by) else RollupIncomePark

    out: dict = {}
    for key, (kind, method, amount, n) in _rollup_rows(R, ids, by, days, [func.sum(R.amount_fen), func.sum(R.entries)],
                                                       extra_keys=(R.kind, R.method)):
        found = out.setdefault(key, Income())
        found.cells[(kind, method)] = int(amount)
        found.entries[(kind, method)] = int(n)
    return out


def _income_raw(ids: list[int], f: Filters, by=None) -> dict:
    L = LedgerEntry
    names = _names(by)
    keys = [_key_column(n, f, park=L.park_id, at=L.occurred_at, collector=L.collector_id, berth=L.berth_id)
            .label(f"k{i}") for i, n in enumerate(names)]
    stmt = select(*keys, L.kind, L.method, func.coalesce(func.sum(L.amount_fen), 0), func.count()).select_from(L)
    if "group" in names:
        stmt = stmt.join(Park, Park.id == L.park_id)
    stmt = stmt.where(L.park_id.in_(ids), _in_period(L.occurred_at, f)).group_by(*keys, L.kind, L.method)
    out: dict = {}
    for row in _read(stmt):
        key = tuple(_NORMALIZE.get(n, _same)(v) for n, v in zip(names, row[:len(keys)]))
        kind, method, amount, n = row[len(keys):]
        found = out.setdefault(key[0] if len(key) == 1 else (key or None), Income())
        found.cells[(kind, method)] = int(amount)
        found.entries[(kind, method)] = int(n)
    return out


# ------------------------------------------------------------------------------------------------------- cars

def cars_in(ids: list[int], f: Filters, by=None) -> dict:
    """进场车次: orders that entered in the period (on-street at a berth, off-street at a lane)."""
    return _from_both(_cars_in_raw, _cars_in_rolled, ids, f, by, by_hour=True)


def _cars_in_rolled(ids, by, days) -> dict:
    from app.reports.models import RollupCarsIn, RollupHourly
    from app.reports.rollups import hourly

    cars = RollupHourly.cars_in if hourly(by) else RollupCarsIn.cars
    return {k: int(v[0]) for k, v in _rollup_rows(cars.class_, ids, by, days, [func.sum(cars)], cars > 0)}


def _cars_in_raw(ids: list[int], f: Filters, by=None) -> dict:
    PO = ParkingOrder
    return {k: int(v[0]) for k, v in _grouped(by, f, [func.count()], and_(PO.park_id.in_(ids),
            _in_period(PO.entered_at, f)), park=PO.park_id, at=PO.entered_at, collector=PO.entry_collector_id,
            berth=PO.berth_id, select_from=PO).items()}


def _closed(ids, f):
    PO = ParkingOrder
    return and_(PO.park_id.in_(ids), _in_period(PO.left_at, f), PO.state != "open")


def cars_out(ids: list[int], f: Filters, by=None) -> dict:
    """出场车次: orders closed (settled, free, escaped) with the car leaving in the period."""
    return _from_both(_cars_out_raw, _cars_out_rolled, ids, f, by, by_hour=True)


def _cars_out_rolled(ids, by, days) -> dict:
    from app.reports.models import RollupCarsOut, RollupHourly
    from app.reports.rollups import hourly

    cars = RollupHourly.cars_out if hourly(by) else RollupCarsOut.orders
    return {k: int(v[0]) for k, v in _rollup_rows(cars.class_, ids, by, days, [func.sum(cars)], cars > 0)}


def _cars_out_raw(ids: list[int], f: Filters, by=None) -> dict:
    PO = ParkingOrder
    return {k: int(v[0]) for k, v in _grouped(by, f, [func.count()], _closed(ids, f), park=PO.park_id,
            at=PO.left_at, collector=PO.exit_collector_id, berth=PO.berth_id, select_from=PO).items()}


@dataclass(frozen=True)
class Traffic:
    """Cars in and cars out of the same key, as `cars_in` and `cars_out` answer them."""
    cars_in: int = 0
    cars_out: int = 0


def traffic(ids: list[int], f: Filters, by=None) -> dict:
    """Key -> Traffic: `cars_in` and `cars_out` together, for a caller that needs both. Grouped by hour,
    the closed days read the hourly rollup once for both (one scan of a city's park-hours, not two)."""
    return _from_both(_traffic_raw, _traffic_rolled, ids, f, by, by_hour=True)


def _traffic_raw(ids: list[int], f: Filters, by=None) -> dict:
    return _paired(_cars_in_raw(ids, f, by), _cars_out_raw(ids, f, by))


def _traffic_rolled(ids, by, days) -> dict:
    from app.reports.models import RollupHourly as R
    from app.reports.rollups import hourly

    if not hourly(by):
        return _paired(_cars_in_rolled(ids, by, days), _cars_out_rolled(ids, by, days))
    sums = [func.sum(R.cars_in), func.sum(R.cars_out)]
    rows = _rollup_rows(R, ids, by, days, sums, (R.cars_in > 0) | (R.cars_out > 0))
    return {k: Traffic(int(i), int(o)) for k, (i, o) in rows}


def _paired(ins: dict, outs: dict) -> dict:
    return {k: Traffic(ins.get(k, 0), outs.get(k, 0)) for k in ins.keys() | outs.keys()}


@dataclass(frozen=True)
class Closed:
    """The orders that left in the period: how many, their receivable (tariff fees), reductions and
    average dwell (停车时长, minutes from entry to exit; the seconds are kept summed, so parts add)."""
    orders: int = 0
    receivable: int = 0
    reductions: int = 0
    dwell_seconds: float = 0

    @property
    def dwell(self) -> float:
        return float(self.dwell_seconds) / self.orders / 60.0 if self.orders else 0.0


def closed_orders(ids: list[int], f: Filters, by=None) -> dict:
    return _from_both(_closed_raw, _closed_rolled, ids, f, by)


def _closed_rolled(ids, by, days) -> dict:
    from app.reports.models import RollupCarsOut as R

    values = [func.sum(R.orders), func.sum(R.receivable_fen), func.sum(R.reduction_fen), func.sum(R.dwell_seconds)]
    return {k: Closed(int(n), int(r), int(red), d or 0) for k, (n, r, red, d) in _rollup_rows(R, ids, by, days, values)}


def _closed_raw(ids: list[int], f: Filters, by=None) -> dict:
    PO = ParkingOrder
    values = [func.count(), func.coalesce(func.sum(PO.fee_fen), 0), func.coalesce(func.sum(PO.reduction_fen), 0),
              func.sum(seconds_between(PO.entered_at, PO.left_at))]
    return {k: Closed(int(n), int(r), int(red), d or 0) for k, (n, r, red, d) in _grouped(
        by, f, values, _closed(ids, f), park=PO.park_id, at=PO.left_at, collector=PO.exit_collector_id,
        berth=PO.berth_id, select_from=PO).items()}


def parked_now(ids: list[int], by="park") -> dict:
    """在场车辆: open orders now (on-street: cars on a berth; off-street: cars inside)."""
    PO = ParkingOrder
    return {k: int(v[0]) for k, v in _grouped(by, None, [func.count()], and_(PO.park_id.in_(ids), PO.state == "open"),
            park=PO.park_id, at=PO.entered_at, berth=PO.berth_id, select_from=PO).items()}


def parked_at(ids: list[int], at: datetime, tz: str = "Asia/Shanghai") -> int:
    """Cars parked at an instant: entered before it and not left before it. Counted back from now — the
    cars parked now, less the cars in since `at`, plus the cars out since — so the whole days between read
    the rollups (`tz`: their zone) and the cost does not grow with the orders entered before `at` (a closed
    order leaves after it entered, so the two counts are the same)."""
    if not ids:
        return 0
    zone = ZoneInfo(tz)
    first = at.astimezone(zone).date()
    if datetime.combine(first, time.min, tzinfo=zone) < at:
        first += timedelta(days=1)  # the part of the first day after `at` is counted raw
    today = datetime.now(zone).date()
    whole = Filters(first, today, tz) if first <= today else None
    edge = whole.start if whole else datetime.combine(first, time.min, tzinfo=zone).astimezone(timezone.utc)
    tail = whole.end if whole else edge
    ins, outs = _moved_between(ids, at, edge)  # raw: the rest of `at`'s day, and after today (clocks ahead)
    later_in, later_out = _moved_between(ids, max(tail, at), None)
    ins, outs = ins + later_in, outs + later_out
    if whole is not None:
        moved = traffic(ids, whole).get(None, Traffic())
        ins, outs = ins + moved.cars_in, outs + moved.cars_out
    return sum(parked_now(ids, None).values()) - ins + outs


def parked_at_start(ids: list[int], f: Filters, moved: dict) -> int:
    """parked_at(ids, f.start, f.tz) for a caller holding the period's cars in and out (`moved`: traffic(ids,
    f, by), any grouping). A period reaching today counts back from now over them, and over the few rows
    dated after it (clocks ahead), rather than counting its orders a second time."""
    if f.date_to < datetime.now(f.zone).date():
        return parked_at(ids, f.start, f.tz)
    later_in, later_out = _moved_between(ids, f.end, None)
    cars_in = later_in + sum(t.cars_in for t in moved.values())
    cars_out = later_out + sum(t.cars_out for t in moved.values())
    return sum(parked_now(ids, None).values()) - cars_in + cars_out


def _parked_at_raw(ids: list[int], at: datetime) -> int:
    """The same count from every order entered before `at` (the reference the tests compare with)."""
    PO = ParkingOrder
    return int(_read(select(func.count()).select_from(PO).where(
        PO.park_id.in_(ids), PO.entered_at < at, (PO.left_at.is_(None)) | (PO.left_at >= at))).scalar() or 0)


def _moved_between(ids: list[int], start: datetime, end: datetime | None) -> tuple[int, int]:
    """(cars in, cars out) with their time in [start, end) (end None: no end), from the orders."""
    PO = ParkingOrder
    if end is not None and end <= start:
        return 0, 0

    def between(col):
        return and_(col >= start, col < end) if end is not None else col >= start

    came = _read(select(func.count()).where(PO.park_id.in_(ids), between(PO.entered_at))).scalar()
    went = _read(select(func.count()).where(PO.park_id.in_(ids), between(PO.left_at), PO.state != "open")).scalar()
    return int(came or 0), int(went or 0)


def spaces(ids: list[int]) -> dict:
    """车位 per park: the active berths of an on-street park, the capacity of an off-street one."""
    berths = dict(db.session.execute(select(Berth.park_id, func.count()).where(
        Berth.park_id.in_(ids), Berth.active.is_(True)).group_by(Berth.park_id)).all())
    return {pid: int(capacity or 0) if kind == ParkKind.OFF_STREET.value else int(berths.get(pid, 0))
            for pid, kind, capacity in db.session.execute(select(Park.id, Park.kind, Park.capacity)
                                                         .where(Park.id.in_(ids)))}


def occupancy(parked: float, space_count: int) -> float:
    """占用率: cars parked ÷ spaces, at most 100%."""
    return min(ratio(parked, space_count), 1.0)


def turnover(entered: int, space_count: int, days: int) -> float:
    """周转率: cars in ÷ spaces ÷ days of the period."""
    return ratio(entered, space_count * max(days, 1))


# ---------------------------------------------------------------------------------------------------- arrears

def _arrear_keys(by, f, values, where):
    """Arrears joined to their orders. An arrear is booked at its order's park, so the orders are narrowed
    by the same parks: their (park, left_at) index then finds the period's orders."""
    PO = ParkingOrder
    return _grouped(by, f, values, where, park=Arrear.park_id, at=PO.left_at, collector=PO.exit_collector_id,
                    berth=PO.berth_id, select_from=Arrear.__table__.join(PO.__table__, PO.id == Arrear.order_id))


def unpaid(ids: list[int], f: Filters, by=None) -> dict:
    """未缴: open arrears (debts not yet recovered or waived) of the orders that left in the period."""
    return _from_both(_unpaid_raw, _unpaid_rolled, ids, f, by)


def _unpaid_rolled(ids, by, days) -> dict:
    from app.reports.models import RollupArrears as R

    return {k: int(v[0]) for k, v in _rollup_rows(R, ids, by, days, [func.sum(R.open_fen)], R.open_arrears > 0)}


def _unpaid_raw(ids: list[int], f: Filters, by=None) -> dict:
    return {k: int(v[0]) for k, v in _arrear_keys(by, f, [func.coalesce(func.sum(Arrear.amount_fen), 0)], and_(
        Arrear.park_id.in_(ids), ParkingOrder.park_id.in_(ids), Arrear.state == "open",
        # an open debt's order is `unpaid` (escaped, not recovered or waived): said here so the few unpaid
        # orders of the period lead the join, not every open debt of the history
        ParkingOrder.state == "unpaid", _in_period(ParkingOrder.left_at, f))).items()}


@dataclass(frozen=True)
class Arrears:
    """The debts of the orders that left in the period: how many, their amount, what is recovered,
    waived and still open; recovery rate (追缴率) = recovered ÷ amount."""
    count: int = 0
    amount: int = 0
    recovered: int = 0
    waived: int = 0

    @property
    def open(self) -> int:
        return self.amount - self.recovered - self.waived

    @property
    def rate(self) -> float:
        return recovery_rate(self.recovered, self.amount)


def arrears(ids: list[int], f: Filters, by="park") -> dict:
    return _from_both(_arrears_raw, _arrears_rolled, ids, f, by)


def _arrears_rolled(ids, by, days) -> dict:
    from app.reports.models import RollupArrears as R

    values = [func.sum(R.arrears), func.sum(R.amount_fen), func.sum(R.recovered_fen), func.sum(R.waived_fen)]
    return {k: Arrears(int(n), int(a), int(r), int(w)) for k, (n, a, r, w) in _rollup_rows(R, ids, by, days, values)}


def _arrears_raw(ids: list[int], f: Filters, by="park") -> dict:
    amount = Arrear.amount_fen
    values = [func.count(), func.coalesce(func.sum(amount), 0),
              sum_if(Arrear.state == "recovered", amount), sum_if(Arrear.state == "waived", amount)]
    return {k: Arrears(int(n), int(a), int(r), int(w)) for k, (n, a, r, w) in _arrear_keys(
        by, f, values, and_(Arrear.park_id.in_(ids), ParkingOrder.park_id.in_(ids),
                            ParkingOrder.state.in_(("unpaid", "recovered")),  # the orders that have a debt
                            _in_period(ParkingOrder.left_at, f))).items()}


def recovery_rate(recovered: int, amount: int) -> float:
    return ratio(recovered, amount)
