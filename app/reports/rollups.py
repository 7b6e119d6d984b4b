"""Daily rollups (日汇总): what keeps a city's 30-day figures flat at any history length.

The figure functions (app/reports/figures.py) answer a period from two sources: closed days (before today
in the period's zone) whose rollups are built and clean are read from the rollup tables
(app/reports/models.py), every other day of the period (today, a day not built yet, a dirty day) from the
raw rows, with the same function; the parts are added. Rollup rows are exact sums (integer fen, counts,
numeric dwell seconds), so the answer equals the raw query's.

How the rollups stay exact:
- A day is built once it has been closed for `SETTLE` (30 min), by the worker every minute
  (`refresh`), or for any range by `flask reports rebuild --from --to` (`rebuild`).
- Anything that writes a row for the past — a late lane upload, a refund, a recovery or waiver of an old
  debt, an import, a correction, a delete — is caught in one place whatever its writer: triggers on
  `ledger_entries`, `parking_orders` and `arrears` queue (park, time) in `rollup_dirty` when the row's
  time is older than `LATE` (10 min). The car cycle writes times of now, so it never fires them.
  A queued day reads raw until the worker rebuilds it, within a minute; the queue row is removed in the
  rebuild's transaction, and only the rows read before the rebuild's aggregates, so a write committed
  meanwhile stays queued and is rebuilt again.
- A day is built only `SETTLE` after its end, longer than `LATE` plus the longest write transaction: a
  write for a day too recent to be queued is committed before that day is built.

Chosen by measurement (docs/operations.md): rebuilding one closed city day is one index range scan of a
day's rows (tens of milliseconds at a 50,000-berth city); keeping the rollups in the writers' transaction
would add an upsert on a hot, contended row to every car cycle."""
from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, case, delete, func, insert, literal, or_, select, tuple_
from sqlalchemy.types import Date

from app.core.types import utcnow
from app.extensions import db
from app.ledger.models import LedgerEntry
from app.orders.models import Arrear, ParkingOrder
from app.reports.figures import _names, local_hour, seconds_between
from app.reports.models import (
    RollupArrears,
    RollupCarsIn,
    RollupCarsOut,
    RollupDay,
    RollupDirty,
    RollupHourly,
    RollupIncome,
    RollupIncomePark,
)
from app.tenancy.models import Park

LATE = timedelta(minutes=10)     # a row older than this when written queues its day (the triggers)
SETTLE = timedelta(minutes=30)   # a closed day is built this long after its end
LOOKBACK_DAYS = 3                # the worker builds missing closed days this far back (older: `rebuild`)
NO_ROLLUP = frozenset({"hour", "berth"})  # groupings finer than a daily rollup row: raw, unless hourly below
HOURLY = frozenset({"park", "group", "day", "month", "hour"})  # what the hourly rollup (cars in/out) holds

TABLES = (RollupIncome, RollupIncomePark, RollupCarsIn, RollupCarsOut, RollupArrears, RollupHourly)


# ------------------------------------------------------------------------------------------------ days

def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(timezone.utc)
    return start, end


def local_date(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def enabled() -> bool:
    return bool(current_app.config.get("ROLLUPS_READ", True))


# ------------------------------------------------------------------------------------------------ reading

@dataclass(frozen=True)
class Plan:
    """How to answer a period: these closed days from rollups, these date ranges raw (inclusive)."""
    days: tuple[date, ...]
    raw: tuple[tuple[date, date], ...]


def hourly(by) -> bool:
    """Whether a grouping by hour is one the hourly rollup answers (cars in and out)."""
    names = _names(by)
    return "hour" in names and HOURLY.issuperset(names)


def plan(ids: list[int], date_from: date, date_to: date, tz: str, by, *, by_hour: bool = False) -> Plan | None:
    """The split of a period between rollups and raw rows, or None: all raw (a grouping finer than a rollup,
    no closed day in the period, a park of another zone than the period's, nothing built). `by_hour`: the
    figure has an hourly rollup (a grouping by hour then reads it)."""
    finer = NO_ROLLUP.intersection(_names(by)) and not (by_hour and hourly(by))
    if not ids or finer or not enabled():
        return None
    last = min(date_to, datetime.now(ZoneInfo(tz)).date() - timedelta(days=1))
    if last < date_from:
        return None
    parks = set(ids)
    cache = _PLANS.get()
    key = (frozenset(parks), date_from, date_to, tz)
    if cache is not None and key in cache:
        return cache[key]
    found = _plan(parks, date_from, date_to, last, tz)
    if cache is not None:
        cache[key] = found
    return found


_PLANS: ContextVar[dict | None] = ContextVar("rollup_plans", default=None)


@contextmanager
def one_read():
    """Figures read inside this block share their plans: a page asking several figures of the same parks and
    period looks up the built and dirty days once (the block is one read, with no write between)."""
    token = _PLANS.set({})
    try:
        yield
    finally:
        _PLANS.reset(token)


def _plan(parks: set[int], date_from: date, date_to: date, last: date, tz: str) -> Plan | None:
    # a day is built when every park has it; a park of another zone than the period's counts as not built
    # (its rollups are days of its own zone)
    built = db.session.execute(select(RollupDay.day, func.count()).join(Park, Park.id == RollupDay.park_id).where(
        RollupDay.park_id.in_(parks), RollupDay.day >= date_from, RollupDay.day <= last, Park.timezone == tz)
        .group_by(RollupDay.day)).all()
    clean = {_as_date(d) for d, n in built if n == len(parks)}
    if not clean:
        return None
    start, _ = day_bounds(date_from, tz)
    _, end = day_bounds(last, tz)
    for (at,) in db.session.execute(select(RollupDirty.at).where(
            RollupDirty.park_id.in_(parks), RollupDirty.at >= start, RollupDirty.at < end)):
        clean.discard(local_date(at, tz))
    if not clean:
        return None
    raw: list[tuple[date, date]] = []
    day = date_from
    while day <= date_to:
        if day not in clean:
            if raw and raw[-1][1] == day - timedelta(days=1):
                raw[-1] = (raw[-1][0], day)
            else:
                raw.append((day, day))
        day += timedelta(days=1)
    return Plan(tuple(sorted(clean)), tuple(raw))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _day_ranges(days: tuple[date, ...]) -> list[tuple[date, date]]:
    out: list[tuple[date, date]] = []
    for day in days:
        if out and out[-1][1] == day - timedelta(days=1):
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def in_days(table, days: tuple[date, ...]):
    """`table.day` in these days, as ranges (a period's clean days are mostly one range)."""
    return or_(*(and_(table.day >= a, table.day <= b) for a, b in _day_ranges(days)))


def month_of(col):
    if db.session.get_bind().dialect.name == "postgresql":
        return func.to_char(col, "YYYY-MM")
    return func.strftime("%Y-%m", col)


def add(a, b):
    """Two answers of a figure for the same key, added (counts, fen, Income cells, dataclass fields)."""
    if a is None:
        return b
    if b is None:
        return a
    if hasattr(a, "cells"):  # Income
        out = type(a)()
        for part in ("cells", "entries"):
            merged = dict(getattr(a, part))
            for k, v in getattr(b, part).items():
                merged[k] = merged.get(k, 0) + v
            setattr(out, part, merged)
        return out
    if is_dataclass(a):
        return replace(a, **{f.name: getattr(a, f.name) + getattr(b, f.name) for f in fields(a)})
    return a + b


def merge(into: dict, more: dict) -> dict:
    for key, value in more.items():
        into[key] = add(into.get(key), value)
    return into


# ------------------------------------------------------------------------------------------------ building

def _income_select(parks, start, end, day):
    L = LedgerEntry
    return select(L.park_id, literal(day, Date), L.segment_id, L.collector_id, L.kind, L.method,
                  func.sum(L.amount_fen), func.count()).where(
        L.park_id.in_(parks), L.occurred_at >= start, L.occurred_at < end).group_by(
        L.park_id, L.segment_id, L.collector_id, L.kind, L.method)


def _cars_in_select(parks, start, end, day):
    PO = ParkingOrder
    return select(PO.park_id, literal(day, Date), PO.segment_id, PO.entry_collector_id, func.count()).where(
        PO.park_id.in_(parks), PO.entered_at >= start, PO.entered_at < end).group_by(
        PO.park_id, PO.segment_id, PO.entry_collector_id)


def _cars_out_select(parks, start, end, day):
    PO = ParkingOrder
    return select(PO.park_id, literal(day, Date), PO.segment_id, PO.exit_collector_id, func.count(),
                  func.sum(PO.fee_fen), func.sum(PO.reduction_fen),
                  func.sum(seconds_between(PO.entered_at, PO.left_at))).where(
        PO.park_id.in_(parks), PO.left_at >= start, PO.left_at < end, PO.state != "open").group_by(
        PO.park_id, PO.segment_id, PO.exit_collector_id)


def _sum_if(cond, col):
    return func.coalesce(func.sum(case((cond, col), else_=0)), 0)


def _arrears_select(parks, start, end, day):
    PO, A = ParkingOrder, Arrear
    # an arrear is booked at its order's park: the order's park narrows the orders by its index too
    return select(A.park_id, literal(day, Date), PO.segment_id, PO.exit_collector_id, func.count(),
                  func.sum(A.amount_fen), _sum_if(A.state == "recovered", A.amount_fen),
                  _sum_if(A.state == "waived", A.amount_fen), _sum_if(A.state == "open", A.amount_fen),
                  _sum_if(A.state == "open", 1)).select_from(
        A.__table__.join(PO.__table__, PO.id == A.order_id)).where(
        A.park_id.in_(parks), PO.park_id.in_(parks), PO.left_at >= start, PO.left_at < end).group_by(
        A.park_id, PO.segment_id, PO.exit_collector_id)


def _hourly_select(parks, start, end, day, tz):
    """One row per park and local hour with its cars in and cars out (a full join of the two counts)."""
    PO = ParkingOrder

    def counted(at, *where):
        hour = local_hour(at, tz).label("hour")
        return select(PO.park_id, hour, func.count().label("n")).where(
            PO.park_id.in_(parks), at >= start, at < end, *where).group_by(PO.park_id, hour).subquery()

    came, went = counted(PO.entered_at), counted(PO.left_at, PO.state != "open")
    return select(func.coalesce(came.c.park_id, went.c.park_id), literal(day, Date),
                  func.coalesce(came.c.hour, went.c.hour), func.coalesce(came.c.n, 0), func.coalesce(went.c.n, 0)
                  ).select_from(came.join(went, and_(came.c.park_id == went.c.park_id, came.c.hour == went.c.hour),
                                          full=True))


_BUILDERS = (
    (RollupIncome, ("park_id", "day", "segment_id", "collector_id", "kind", "method", "amount_fen", "entries"),
     _income_select),
    (RollupCarsIn, ("park_id", "day", "segment_id", "collector_id", "cars"), _cars_in_select),
    (RollupCarsOut, ("park_id", "day", "segment_id", "collector_id", "orders", "receivable_fen", "reduction_fen",
                     "dwell_seconds"), _cars_out_select),
    (RollupArrears, ("park_id", "day", "segment_id", "collector_id", "arrears", "amount_fen", "recovered_fen",
                     "waived_fen", "open_fen", "open_arrears"), _arrears_select),
)


def build_day(day: date, tz: str, parks: list[int]) -> None:
    """(Re)build the rollups of these parks (all of zone `tz`) for one local day, in the caller's
    transaction."""
    if not parks:
        return
    start, end = day_bounds(day, tz)
    for table in TABLES:
        db.session.execute(delete(table).where(table.park_id.in_(parks), table.day == day))
    db.session.execute(delete(RollupDay).where(RollupDay.park_id.in_(parks), RollupDay.day == day))
    for table, cols, make_select in _BUILDERS:
        db.session.execute(insert(table).from_select(list(cols), make_select(parks, start, end, day)))
    db.session.execute(insert(RollupHourly).from_select(["park_id", "day", "hour", "cars_in", "cars_out"],
                                                        _hourly_select(parks, start, end, day, tz)))
    R = RollupIncome
    db.session.execute(insert(RollupIncomePark).from_select(
        ["park_id", "day", "kind", "method", "amount_fen", "entries"],
        select(R.park_id, R.day, R.kind, R.method, func.sum(R.amount_fen), func.sum(R.entries)).where(
            R.park_id.in_(parks), R.day == day).group_by(R.park_id, R.day, R.kind, R.method)))
    now = utcnow()
    db.session.execute(insert(RollupDay), [{"park_id": p, "day": day, "built_at": now} for p in parks])


def _zones(park_ids=None) -> dict[str, list[int]]:
    stmt = select(Park.id, Park.timezone)
    if park_ids is not None:
        stmt = stmt.where(Park.id.in_(park_ids))
    out: dict[str, list[int]] = defaultdict(list)
    for pid, tz in db.session.execute(stmt.order_by(Park.id)):
        out[tz or "Asia/Shanghai"].append(pid)
    return out


def _closed(day: date, tz: str, now: datetime) -> bool:
    return day_bounds(day, tz)[1] + SETTLE <= now


def rebuild(date_from: date, date_to: date, park_ids: list[int] | None = None, now: datetime | None = None,
            commit: bool = True) -> int:
    """Build every closed day of the range for these parks (default: all); days not closed for `SETTLE`
    yet are skipped. Each day commits on its own (`commit`), so a long range does not hold one
    transaction. The queued marks of the rebuilt days are cleared. Answers the (park, day) built."""
    now = now or utcnow()
    count = 0
    for tz, parks in _zones(park_ids).items():
        day = date_from
        while day <= date_to:
            if _closed(day, tz, now):
                start, end = day_bounds(day, tz)
                marks = list(db.session.scalars(select(RollupDirty.id).where(
                    RollupDirty.park_id.in_(parks), RollupDirty.at >= start, RollupDirty.at < end)))
                build_day(day, tz, parks)
                if marks:
                    db.session.execute(delete(RollupDirty).where(RollupDirty.id.in_(marks)))
                count += len(parks)
                if commit:
                    db.session.commit()
            day += timedelta(days=1)
    return count


def refresh(now: datetime | None = None, limit: int = 10000) -> dict:
    """The worker's minute: rebuild the built days that queued rows marked dirty, build the closed days of
    the last `LOOKBACK_DAYS` not built yet, and remove the queue rows read (rows queued meanwhile stay).
    Runs in the caller's transaction (the task commits)."""
    now = now or utcnow()
    marks = db.session.execute(select(RollupDirty.id, RollupDirty.park_id, RollupDirty.at)
                               .order_by(RollupDirty.id).limit(limit)).all()
    zone_of = {pid: tz for tz, parks in _zones().items() for pid in parks}
    todo: dict[tuple[date, str], set[int]] = defaultdict(set)
    dirty = {(pid, local_date(at, zone_of[pid])) for _id, pid, at in marks if pid in zone_of}
    if dirty:
        built = set(db.session.execute(select(RollupDay.park_id, RollupDay.day).where(
            tuple_(RollupDay.park_id, RollupDay.day).in_(list(dirty)))).all())
        for pid, day in dirty:
            if (pid, day) in built or (pid, _as_date(day)) in built:
                todo[(day, zone_of[pid])].add(pid)
    for tz, parks in _zones().items():
        today = now.astimezone(ZoneInfo(tz)).date()
        first = today - timedelta(days=LOOKBACK_DAYS)
        have = set(db.session.execute(select(RollupDay.park_id, RollupDay.day).where(
            RollupDay.park_id.in_(parks), RollupDay.day >= first, RollupDay.day < today)).all())
        have = {(p, _as_date(d)) for p, d in have}
        for n in range(LOOKBACK_DAYS, 0, -1):
            day = today - timedelta(days=n)
            if _closed(day, tz, now):
                missing = [p for p in parks if (p, day) not in have]
                todo[(day, tz)].update(missing)
    for (day, tz), parks in sorted(todo.items()):
        if parks:
            build_day(day, tz, sorted(parks))
    if marks:
        db.session.execute(delete(RollupDirty).where(RollupDirty.id.in_([m[0] for m in marks])))
    return {"marks": len(marks), "days": sum(len(p) for p in todo.values())}


# ------------------------------------------------------------------------------------------------ triggers

_MINUTES = int(LATE.total_seconds() // 60)
# the columns whose change moves a closed order's figures: the day it left (cars out, receivable,
# reductions, dwell, its debts) and the day it entered (cars in)
_LEFT = ("left_at", "state", "fee_fen", "reduction_fen", "park_id", "segment_id", "exit_collector_id", "entered_at")
_ENTERED = ("entered_at", "park_id", "segment_id", "entry_collector_id")
_ARREAR = ("state", "amount_fen", "park_id", "order_id")


def _pg_ddl() -> list[str]:
    cut = f"now() - interval '{_MINUTES} minutes'"

    def old(*cols, rows=("NEW",)):
        return " OR ".join(f"{r}.{c} < {cut}" for r in rows for c in cols)

    def changed(cols):
        return f"({', '.join('OLD.' + c for c in cols)}) IS DISTINCT FROM ({', '.join('NEW.' + c for c in cols)})"

    return [
        f"""CREATE OR REPLACE FUNCTION rollup_dirty_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r jsonb; col text; t timestamptz; cutoff timestamptz := {cut};
BEGIN
  FOREACH r IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
                           CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END] LOOP
    CONTINUE WHEN r IS NULL;
    FOREACH col IN ARRAY TG_ARGV LOOP
      t := (r->>col)::timestamptz;
      IF t < cutoff THEN
        INSERT INTO rollup_dirty (park_id, at) VALUES ((r->>'park_id')::int, t);
      END IF;
    END LOOP;
  END LOOP;
  RETURN NULL;
END $$""",
        f"""CREATE OR REPLACE FUNCTION rollup_dirty_arrear() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE r jsonb; cutoff timestamptz := {cut};
BEGIN
  FOREACH r IN ARRAY ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
                           CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END] LOOP
    CONTINUE WHEN r IS NULL;
    INSERT INTO rollup_dirty (park_id, at)
      SELECT (r->>'park_id')::int, o.left_at FROM parking_orders o
      WHERE o.id = (r->>'order_id')::int AND o.left_at < cutoff;
  END LOOP;
  RETURN NULL;
END $$""",
        f"CREATE TRIGGER rollup_ledger_ins AFTER INSERT ON ledger_entries FOR EACH ROW "
        f"WHEN ({old('occurred_at')}) EXECUTE FUNCTION rollup_dirty_row('occurred_at')",
        f"CREATE TRIGGER rollup_ledger_upd AFTER UPDATE ON ledger_entries FOR EACH ROW "
        f"WHEN ({old('occurred_at', rows=('OLD', 'NEW'))}) EXECUTE FUNCTION rollup_dirty_row('occurred_at')",
        f"CREATE TRIGGER rollup_ledger_del AFTER DELETE ON ledger_entries FOR EACH ROW "
        f"WHEN ({old('occurred_at', rows=('OLD',))}) EXECUTE FUNCTION rollup_dirty_row('occurred_at')",
        f"CREATE TRIGGER rollup_orders_ins AFTER INSERT ON parking_orders FOR EACH ROW "
        f"WHEN ({old('entered_at', 'left_at')}) EXECUTE FUNCTION rollup_dirty_row('entered_at', 'left_at')",
        f"CREATE TRIGGER rollup_orders_upd AFTER UPDATE ON parking_orders FOR EACH ROW "
        f"WHEN ((({old('left_at', rows=('OLD', 'NEW'))}) AND {changed(_LEFT)}) OR "
        f"(({old('entered_at', rows=('OLD', 'NEW'))}) AND {changed(_ENTERED)})) "
        f"EXECUTE FUNCTION rollup_dirty_row('entered_at', 'left_at')",
        f"CREATE TRIGGER rollup_orders_del AFTER DELETE ON parking_orders FOR EACH ROW "
        f"WHEN ({old('entered_at', 'left_at', rows=('OLD',))}) "
        "EXECUTE FUNCTION rollup_dirty_row('entered_at', 'left_at')",
        "CREATE TRIGGER rollup_arrears_ins AFTER INSERT ON arrears FOR EACH ROW "
        "EXECUTE FUNCTION rollup_dirty_arrear()",
        f"CREATE TRIGGER rollup_arrears_upd AFTER UPDATE ON arrears FOR EACH ROW WHEN ({changed(_ARREAR)}) "
        "EXECUTE FUNCTION rollup_dirty_arrear()",
        "CREATE TRIGGER rollup_arrears_del AFTER DELETE ON arrears FOR EACH ROW "
        "EXECUTE FUNCTION rollup_dirty_arrear()",
    ]


def _sqlite_ddl() -> list[str]:
    cut = f"datetime('now', '-{_MINUTES} minutes')"

    def old(*cols, rows=("NEW",)):
        return " OR ".join(f"{r}.{c} < {cut}" for r in rows for c in cols)

    def changed(cols):
        return " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in cols)

    def queue(rows, cols):
        parts = " UNION ALL ".join(f"SELECT {r}.park_id AS p, {r}.{c} AS t" for r in rows for c in cols)
        return f"BEGIN INSERT INTO rollup_dirty (park_id, at) SELECT p, t FROM ({parts}) WHERE t < {cut}; END"

    def arrear(rows):
        return "BEGIN " + " ".join(
            f"INSERT INTO rollup_dirty (park_id, at) SELECT {r}.park_id, o.left_at FROM parking_orders o "
            f"WHERE o.id = {r}.order_id AND o.left_at < {cut};" for r in rows) + " END"

    both = ("OLD", "NEW")
    return [
        f"CREATE TRIGGER rollup_ledger_ins AFTER INSERT ON ledger_entries WHEN {old('occurred_at')} "
        f"{queue(('NEW',), ('occurred_at',))}",
        f"CREATE TRIGGER rollup_ledger_upd AFTER UPDATE ON ledger_entries WHEN {old('occurred_at', rows=both)} "
        f"{queue(both, ('occurred_at',))}",
        f"CREATE TRIGGER rollup_ledger_del AFTER DELETE ON ledger_entries WHEN {old('occurred_at', rows=('OLD',))} "
        f"{queue(('OLD',), ('occurred_at',))}",
        f"CREATE TRIGGER rollup_orders_ins AFTER INSERT ON parking_orders WHEN {old('entered_at', 'left_at')} "
        f"{queue(('NEW',), ('entered_at', 'left_at'))}",
        f"CREATE TRIGGER rollup_orders_upd AFTER UPDATE ON parking_orders WHEN "
        f"((({old('left_at', rows=both)}) AND ({changed(_LEFT)})) OR "
        f"(({old('entered_at', rows=both)}) AND ({changed(_ENTERED)}))) {queue(both, ('entered_at', 'left_at'))}",
        f"CREATE TRIGGER rollup_orders_del AFTER DELETE ON parking_orders WHEN "
        f"{old('entered_at', 'left_at', rows=('OLD',))} {queue(('OLD',), ('entered_at', 'left_at'))}",
        f"CREATE TRIGGER rollup_arrears_ins AFTER INSERT ON arrears {arrear(('NEW',))}",
        f"CREATE TRIGGER rollup_arrears_upd AFTER UPDATE ON arrears WHEN {changed(_ARREAR)} {arrear(both)}",
        f"CREATE TRIGGER rollup_arrears_del AFTER DELETE ON arrears {arrear(('OLD',))}",
    ]


TRIGGERS = ("rollup_ledger_ins", "rollup_ledger_upd", "rollup_ledger_del", "rollup_orders_ins",
            "rollup_orders_upd", "rollup_orders_del", "rollup_arrears_ins", "rollup_arrears_upd",
            "rollup_arrears_del")
_TRIGGER_TABLES = {"ledger": "ledger_entries", "orders": "parking_orders", "arrears": "arrears"}


def trigger_ddl(dialect: str) -> list[str]:
    """The statements creating the dirty-marking triggers (used by the migration and by create_all)."""
    return _pg_ddl() if dialect == "postgresql" else _sqlite_ddl()


def drop_trigger_ddl(dialect: str) -> list[str]:
    out = [f"DROP TRIGGER IF EXISTS {name}" + (f" ON {_TRIGGER_TABLES[name.split('_')[1]]}"
                                               if dialect == "postgresql" else "") for name in TRIGGERS]
    if dialect == "postgresql":
        out += ["DROP FUNCTION IF EXISTS rollup_dirty_row()", "DROP FUNCTION IF EXISTS rollup_dirty_arrear()"]
    return out


__all__ = ["Plan", "plan", "merge", "add", "build_day", "rebuild", "refresh", "trigger_ddl"]
