"""Report queries: plain functions `(scope, filters) -> rows`, computed by the database.

Every figure is an SQL aggregate (GROUP BY) over the ledger (money), the orders (cars, fees charged,
reductions, dwell), the arrears (debts) and the pass renewals; nothing loads all orders into Python.
The pages, the Excel exports and `bench/report_bench.py` call these same functions.

Money is integer fen. "Parking income" (collected) is the sum of ledger rows of kinds fee, prepay,
prepay_refund (negative) and recovery; pass sales (kind pass_sale) are shown beside it.
Day boundaries are local days in the report's time zone: the chosen park's, otherwise the node's
(park → its zone, city/group/area → the city's zone, platform → DEFAULT_TIMEZONE)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, and_, case, cast, extract, func, literal, select

from app.berths.models import Berth
from app.core.types import utcnow
from app.devices.models import Handheld
from app.extensions import db
from app.ledger.models import LedgerEntry
from app.members.models import MonthlyPass, MonthlyProduct, PassRenewal
from app.orders.models import Arrear, ParkingOrder
from app.staff.models import Staff
from app.tenancy.models import City, Level, OperatingGroup, Park
from app.tenancy.scope import Scope

METHODS = ("cash", "electronic", "card")
METHOD_LABELS = {"cash": _l("Cash"), "electronic": _l("Electronic"), "card": _l("Card"), "pass": _l("Pass"),
                 "free": _l("Free")}
NORMAL_KINDS = ("fee", "prepay", "prepay_refund")
PARKING_KINDS = NORMAL_KINDS + ("recovery",)
PASS_SALE = "pass_sale"
MAX_RANGE_DAYS = 800

# value kinds, as in app/exports/registry.py
TEXT, INT, MONEY, DATETIME, DATE, PERCENT = "text", "int", "money", "datetime", "date", "percent"


@dataclass(frozen=True)
class Column:
    key: str
    header: object      # lazy text shown on screen and in the export
    kind: str = MONEY
    chart: bool = False  # plotted by default


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


# --------------------------------------------------------------------------------------------------- scope helpers

def node_timezone(scope: Scope, park_id: int | None = None) -> str:
    """The zone of the report: the park's (chosen or the node itself), else the city's."""
    if park_id is not None:
        tz = db.session.scalar(select(Park.timezone).where(Park.id == park_id, scope.clause(Park)))
        if tz:
            return tz
    if scope.level == Level.PARK:
        return db.session.scalar(select(Park.timezone).where(Park.id == scope.park_id)) or _default_tz()
    if scope.city_id is not None:
        return db.session.scalar(select(City.timezone).where(City.id == scope.city_id)) or _default_tz()
    return _default_tz()


def _default_tz() -> str:
    return current_app.config.get("DEFAULT_TIMEZONE", "Asia/Shanghai")


def local_today(tz: str) -> date:
    return utcnow().astimezone(ZoneInfo(tz)).date()


def filters_from_params(scope: Scope, params: dict, default_days: int = 7, default_from: date | None = None) -> Filters:
    """Filters from query parameters (page or export job). Ids outside the scope are dropped, and
    every query also applies the scope itself, so a forged id can never widen what is seen."""
    park_id = _int(params.get("park_id"))
    group_id = _int(params.get("group_id"))
    if park_id is not None and scope.get(Park, park_id) is None:
        park_id = None
    if group_id is not None and (scope.level.depth > Level.GROUP.depth or scope.get(OperatingGroup, group_id) is None):
        group_id = None
    tz = node_timezone(scope, park_id)
    today = local_today(tz)
    date_to = _date(params.get("date_to")) or today
    date_from = _date(params.get("date_from")) or default_from or (date_to - timedelta(days=default_days - 1))
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    if (date_to - date_from).days > MAX_RANGE_DAYS:
        date_from = date_to - timedelta(days=MAX_RANGE_DAYS)
    return Filters(date_from, date_to, tz, park_id, group_id)


def _int(value):
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value < 2**31 else None


def _date(value):
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def park_ids(scope: Scope, f: Filters | None = None) -> list[int]:
    """Ids of the parks the report covers, resolved once (an IN list plans best on PostgreSQL)."""
    stmt = select(Park.id).where(scope.clause(Park))
    if f is not None and f.park_id:
        stmt = stmt.where(Park.id == f.park_id)
    if f is not None and f.group_id:
        stmt = stmt.where(Park.group_id == f.group_id)
    return list(db.session.scalars(stmt.order_by(Park.id)))


# ------------------------------------------------------------------------------------------- dialect helpers

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


def as_date(value):
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _sum_if(cond, col=LedgerEntry.amount_fen):
    return func.coalesce(func.sum(case((cond, col), else_=0)), 0)


def _ledger_where(ids, f: Filters):
    return and_(LedgerEntry.park_id.in_(ids), LedgerEntry.occurred_at >= f.start, LedgerEntry.occurred_at < f.end)


def _closed_orders_where(ids, f: Filters):
    return and_(ParkingOrder.park_id.in_(ids), ParkingOrder.left_at >= f.start, ParkingOrder.left_at < f.end,
                ParkingOrder.state != "open")


def _ratio(num, den):
    return (num / den) if den else 0.0


# ------------------------------------------------------------------------------------------------ income summary

GROUPINGS = {
    "park": _l("Park"), "collector": _l("Collector"), "group": _l("Operating group"), "berth": _l("Berth"),
    "day": _l("Day"),
}

INCOME_COLUMNS = [
    Column("cash_normal", _l("Cash: normal fees")), Column("cash_recovered", _l("Cash: recovered arrears")),
    Column("cash_total", _l("Cash: total")),
    Column("electronic_normal", _l("Electronic: normal fees")),
    Column("electronic_recovered", _l("Electronic: recovered arrears")),
    Column("electronic_total", _l("Electronic: total")),
    Column("card_normal", _l("Card: normal fees")), Column("card_recovered", _l("Card: recovered arrears")),
    Column("card_total", _l("Card: total")),
    Column("collected", _l("Collected"), chart=True), Column("unpaid", _l("Unpaid"), chart=True),
    Column("receivable", _l("Receivable")), Column("pass_sales", _l("Pass sales")),
    Column("total_income", _l("Total income")),
]
MONEY_KEYS = [c.key for c in INCOME_COLUMNS]


def _ledger_money_cols():
    kind, method = LedgerEntry.kind, LedgerEntry.method
    cols = []
    for m in METHODS:
        cols.append(_sum_if(and_(kind.in_(NORMAL_KINDS), method == m)).label(f"{m}_normal"))
        cols.append(_sum_if(and_(kind == "recovery", method == m)).label(f"{m}_recovered"))
    cols.append(_sum_if(kind.in_(PARKING_KINDS)).label("collected"))
    cols.append(_sum_if(kind == PASS_SALE).label("pass_sales"))
    return cols


def _income_keys(by: str, tz: str):
    """(ledger key expression, arrears key expression, needs a join on parks)"""
    if by == "park":
        return LedgerEntry.park_id, Arrear.park_id, False
    if by == "group":
        return Park.group_id, Park.group_id, True
    if by == "collector":
        return LedgerEntry.collector_id, ParkingOrder.exit_collector_id, False
    if by == "berth":
        return LedgerEntry.berth_id, ParkingOrder.berth_id, False
    if by == "day":
        return local_day(LedgerEntry.occurred_at, tz), local_day(ParkingOrder.left_at, tz), False
    raise ValueError(f"unknown grouping {by!r}")


def income_summary(scope: Scope, f: Filters, by: str = "park") -> list[dict]:
    """收费汇总: per key, for each method normal fees + recovered arrears = total; collected (all methods),
    unpaid (open arrears of orders that left in the range), receivable = collected + unpaid;
    pass sales and total income beside. Ordered by label (by day: chronologically)."""
    ids = park_ids(scope, f)
    lkey, akey, join_park = _income_keys(by, f.tz)
    money = select(lkey.label("k"), *_ledger_money_cols()).select_from(LedgerEntry).where(_ledger_where(ids, f))
    if join_park:
        money = money.join(Park, Park.id == LedgerEntry.park_id)
    money = money.group_by(lkey)
    unpaid = (select(akey.label("k"), func.coalesce(func.sum(Arrear.amount_fen), 0).label("unpaid"))
              .select_from(Arrear).join(ParkingOrder, ParkingOrder.id == Arrear.order_id)
              .where(Arrear.park_id.in_(ids), Arrear.state == "open",
                     ParkingOrder.left_at >= f.start, ParkingOrder.left_at < f.end))
    if join_park:
        unpaid = unpaid.join(Park, Park.id == Arrear.park_id)
    unpaid = unpaid.group_by(akey)
    rows: dict = {}
    norm = as_date if by == "day" else (lambda v: v)
    for r in db.session.execute(money).mappings():
        rows[norm(r["k"])] = {k: int(v) for k, v in r.items() if k != "k"}
    for r in db.session.execute(unpaid).mappings():
        rows.setdefault(norm(r["k"]), {})["unpaid"] = int(r["unpaid"])
    if by == "day":
        for d in f.days():
            rows.setdefault(d, {})
    out = []
    labels = _labels(by, [k for k in rows if k is not None])
    for key, vals in rows.items():
        row = {"key": key, "label": labels.get(key) if key is not None else _none_label(by)}
        row.update(_complete_income(vals))
        out.append(row)
    out.sort(key=(lambda r: r["key"]) if by == "day" else (lambda r: (r["key"] is None, str(r["label"]).lower())))
    return out


def _complete_income(vals: dict) -> dict:
    row = {}
    for m in METHODS:
        row[f"{m}_normal"] = vals.get(f"{m}_normal", 0)
        row[f"{m}_recovered"] = vals.get(f"{m}_recovered", 0)
        row[f"{m}_total"] = row[f"{m}_normal"] + row[f"{m}_recovered"]
    row["collected"] = vals.get("collected", 0)
    row["unpaid"] = vals.get("unpaid", 0)
    row["receivable"] = row["collected"] + row["unpaid"]
    row["pass_sales"] = vals.get("pass_sales", 0)
    row["total_income"] = row["collected"] + row["pass_sales"]
    return row


def _none_label(by: str) -> str:
    return {"berth": str(_l("No berth (recoveries, passes)")), "collector": str(_l("No collector"))}.get(by, "—")


def _labels(by: str, keys: list) -> dict:
    if not keys:
        return {}
    if by == "day":
        return {k: k.isoformat() for k in keys}
    if by == "park":
        return dict(db.session.execute(select(Park.id, Park.name).where(Park.id.in_(keys))).all())
    if by == "group":
        return dict(db.session.execute(select(OperatingGroup.id, OperatingGroup.name)
                                       .where(OperatingGroup.id.in_(keys))).all())
    if by == "collector":
        return {i: f"{name} ({username})" for i, name, username in db.session.execute(
            select(Staff.id, Staff.display_name, Staff.username).where(Staff.id.in_(keys)))}
    if by == "berth":
        return {i: f"{park} · {number}" for i, number, park in db.session.execute(
            select(Berth.id, Berth.number, Park.name).join(Park, Park.id == Berth.park_id).where(Berth.id.in_(keys)))}
    return {}


def totals(rows: list[dict], keys) -> dict:
    return {k: sum(r.get(k) or 0 for r in rows) for k in keys}


# --------------------------------------------------------------------------------- daily / monthly / collector

ORDER_REPORT_COLUMNS = [
    Column("orders", _l("Orders"), INT), Column("receivable", _l("Receivable")),
    Column("cash", _l("Cash"), chart=True), Column("electronic", _l("Electronic"), chart=True),
    Column("card", _l("Card"), chart=True), Column("reductions", _l("Reductions")),
    Column("total", _l("Total")),
]
ORDER_REPORT_KEYS = [c.key for c in ORDER_REPORT_COLUMNS]


def order_report(scope: Scope, f: Filters, by: str = "day") -> list[dict]:
    """日报 / 月报 / 收费员报表. Orders, receivable (tariff fees charged) and reductions come from the
    orders that left in the period; cash, electronic, card and total are the parking income of the
    ledger in the period (so the totals equal the income summary's)."""
    ids = park_ids(scope, f)
    if by == "day":
        okey, lkey = local_day(ParkingOrder.left_at, f.tz), local_day(LedgerEntry.occurred_at, f.tz)
    elif by == "month":
        okey, lkey = local_month(ParkingOrder.left_at, f.tz), local_month(LedgerEntry.occurred_at, f.tz)
    elif by == "collector":
        okey, lkey = ParkingOrder.exit_collector_id, LedgerEntry.collector_id
    else:
        raise ValueError(by)
    orders = (select(okey.label("k"), func.count().label("orders"),
                     func.coalesce(func.sum(ParkingOrder.fee_fen), 0).label("receivable"),
                     func.coalesce(func.sum(ParkingOrder.reduction_fen), 0).label("reductions"))
              .where(_closed_orders_where(ids, f)).group_by(okey))
    kind, method = LedgerEntry.kind, LedgerEntry.method
    money = (select(lkey.label("k"), *[_sum_if(and_(kind.in_(PARKING_KINDS), method == m)).label(m) for m in METHODS],
                    _sum_if(kind.in_(PARKING_KINDS)).label("total"))
             .where(_ledger_where(ids, f), kind.in_(PARKING_KINDS)).group_by(lkey))
    norm = as_date if by == "day" else (lambda v: v)
    rows: dict = {}
    for r in db.session.execute(orders).mappings():
        rows.setdefault(norm(r["k"]), {}).update({k: int(v) for k, v in r.items() if k != "k"})
    for r in db.session.execute(money).mappings():
        rows.setdefault(norm(r["k"]), {}).update({k: int(v) for k, v in r.items() if k != "k"})
    if by == "day":
        for d in f.days():
            rows.setdefault(d, {})
    elif by == "month":
        for d in f.days():
            rows.setdefault(d.strftime("%Y-%m"), {})
    labels = _labels("collector", [k for k in rows if k is not None]) if by == "collector" else {}
    out = []
    for key, vals in rows.items():
        label = key.isoformat() if by == "day" else key if by == "month" else labels.get(key, _none_label(by))
        out.append({"key": key, "label": label, **{k: vals.get(k, 0) for k in ORDER_REPORT_KEYS}})
    out.sort(key=(lambda r: r["key"]) if by in ("day", "month") else (lambda r: (r["key"] is None, r["label"].lower())))
    return out


# ------------------------------------------------------------------------------------------ trend, method share

TREND_COLUMNS = [Column("cash_total", _l("Cash"), chart=True), Column("electronic_total", _l("Electronic"), chart=True),
                 Column("card_total", _l("Card"), chart=True), Column("collected", _l("Total"), chart=True)]


def income_trend(scope: Scope, f: Filters) -> list[dict]:
    """收费趋势: parking income per local day (every day of the range, zeros included)."""
    keys = [c.key for c in TREND_COLUMNS]
    return [{"key": r["key"], "label": r["label"], **{k: r[k] for k in keys}}
            for r in income_summary(scope, f, by="day")]


SHARE_COLUMNS = [Column("amount", _l("Amount"), chart=True), Column("entries", _l("Ledger entries"), INT),
                 Column("share", _l("Share"), PERCENT)]


def method_share(scope: Scope, f: Filters) -> list[dict]:
    """支付方式分析: all money of the period (parking income and pass sales) by payment method."""
    ids = park_ids(scope, f)
    stmt = (select(LedgerEntry.method, func.coalesce(func.sum(LedgerEntry.amount_fen), 0), func.count())
            .where(_ledger_where(ids, f)).group_by(LedgerEntry.method))
    found = {m: (int(a), int(n)) for m, a, n in db.session.execute(stmt)}
    grand = sum(a for a, _ in found.values())
    order = list(METHODS) + sorted(m for m in found if m not in METHODS)
    return [{"key": m, "label": str(METHOD_LABELS.get(m, m)), "amount": found.get(m, (0, 0))[0],
             "entries": found.get(m, (0, 0))[1], "share": _ratio(found.get(m, (0, 0))[0], grand)} for m in order]


# ------------------------------------------------------------------------------------------------------ arrears

ARREARS_COLUMNS = [Column("count", _l("Unpaid orders"), INT), Column("unpaid", _l("Unpaid amount"), chart=True),
                   Column("recovered", _l("Recovered"), chart=True), Column("waived", _l("Waived")),
                   Column("open", _l("Still open")),
                   Column("rate", _l("Recovery rate"), PERCENT)]


def arrears_recovery(scope: Scope, f: Filters) -> list[dict]:
    """追缴情况: per park, the debts of orders that left in the period, how much is recovered, the rate."""
    ids = park_ids(scope, f)
    stmt = (select(Arrear.park_id, func.count(), func.coalesce(func.sum(Arrear.amount_fen), 0),
                   _sum_if(Arrear.state == "recovered", Arrear.amount_fen),
                   _sum_if(Arrear.state == "waived", Arrear.amount_fen))
            .join(ParkingOrder, ParkingOrder.id == Arrear.order_id)
            .where(Arrear.park_id.in_(ids), ParkingOrder.left_at >= f.start, ParkingOrder.left_at < f.end)
            .group_by(Arrear.park_id))
    found = {p: (int(n), int(a), int(r), int(w)) for p, n, a, r, w in db.session.execute(stmt)}
    labels = _labels("park", list(found))
    out = [{"key": p, "label": labels.get(p, "—"), "count": n, "unpaid": a, "recovered": r, "waived": w,
            "open": a - r - w, "rate": _ratio(r, a)} for p, (n, a, r, w) in found.items()]
    return sorted(out, key=lambda r: r["label"].lower())


def arrears_totals(rows):
    t = totals(rows, ("count", "unpaid", "recovered", "waived", "open"))
    t["rate"] = _ratio(t["recovered"], t["unpaid"])
    return t


# ------------------------------------------------------------------------------------------------- berth usage

BERTH_COLUMNS = [Column("berths", _l("Berths"), INT), Column("orders", _l("Parkings"), INT, chart=True),
                 Column("turnover", _l("Turnover per berth per day"), "float", chart=True),
                 Column("avg_dwell", _l("Average dwell (minutes)"), "float"),
                 Column("income", _l("Parking income")), Column("income_per_berth", _l("Income per berth"))]


def berth_usage(scope: Scope, f: Filters) -> list[dict]:
    """泊位周转 / 停车时长 / 泊位平均收入, per park: parkings (orders that entered in the period),
    turnover = parkings / berths / days, average dwell of orders that left, parking income per berth."""
    ids = park_ids(scope, f)
    berths = dict(db.session.execute(select(Berth.park_id, func.count()).where(
        Berth.park_id.in_(ids), Berth.active.is_(True)).group_by(Berth.park_id)).all())
    entered = dict(db.session.execute(select(ParkingOrder.park_id, func.count()).where(
        ParkingOrder.park_id.in_(ids), ParkingOrder.entered_at >= f.start, ParkingOrder.entered_at < f.end)
        .group_by(ParkingOrder.park_id)).all())
    dwell = {p: (float(m or 0), int(n)) for p, m, n in db.session.execute(
        select(ParkingOrder.park_id, func.avg(minutes_between(ParkingOrder.entered_at, ParkingOrder.left_at)),
               func.count()).where(_closed_orders_where(ids, f)).group_by(ParkingOrder.park_id))}
    income = dict(db.session.execute(select(LedgerEntry.park_id, func.sum(LedgerEntry.amount_fen)).where(
        _ledger_where(ids, f), LedgerEntry.kind.in_(PARKING_KINDS)).group_by(LedgerEntry.park_id)).all())
    keys = set(berths) | set(entered) | set(dwell) | set(income)
    labels = _labels("park", list(keys))
    days = max(len(f.days()), 1)
    out = []
    for p in keys:
        b, n, inc = int(berths.get(p, 0)), int(entered.get(p, 0)), int(income.get(p, 0) or 0)
        out.append({"key": p, "label": labels.get(p, "—"), "berths": b, "orders": n,
                    "turnover": round(_ratio(n, b * days), 3), "avg_dwell": round(dwell.get(p, (0, 0))[0], 1),
                    "dwell_count": dwell.get(p, (0, 0))[1], "income": inc,
                    "income_per_berth": int(round(_ratio(inc, b)))})
    return sorted(out, key=lambda r: r["label"].lower())


def berth_totals(rows, f: Filters) -> dict:
    b, n, inc = (sum(r[k] for r in rows) for k in ("berths", "orders", "income"))
    dwell_n = sum(r["dwell_count"] for r in rows)
    dwell = _ratio(sum(r["avg_dwell"] * r["dwell_count"] for r in rows), dwell_n)
    return {"berths": b, "orders": n, "turnover": round(_ratio(n, b * max(len(f.days()), 1)), 3),
            "avg_dwell": round(dwell, 1), "income": inc, "income_per_berth": int(round(_ratio(inc, b)))}


def hourly_traffic(scope: Scope, f: Filters) -> dict:
    """Cars in and out per (local day, hour) and the cars parked at the start of each hour,
    from two GROUP BY queries and one count of cars already parked when the range starts."""
    ids = park_ids(scope, f)
    day_in, hour_in = local_day(ParkingOrder.entered_at, f.tz), local_hour(ParkingOrder.entered_at, f.tz)
    day_out, hour_out = local_day(ParkingOrder.left_at, f.tz), local_hour(ParkingOrder.left_at, f.tz)
    ins = {(as_date(d), int(h)): int(n) for d, h, n in db.session.execute(
        select(day_in, hour_in, func.count()).where(
            ParkingOrder.park_id.in_(ids), ParkingOrder.entered_at >= f.start, ParkingOrder.entered_at < f.end)
        .group_by(day_in, hour_in))}
    outs = {(as_date(d), int(h)): int(n) for d, h, n in db.session.execute(
        select(day_out, hour_out, func.count()).where(
            ParkingOrder.park_id.in_(ids), ParkingOrder.left_at >= f.start, ParkingOrder.left_at < f.end)
        .group_by(day_out, hour_out))}
    parked = db.session.scalar(select(func.count()).select_from(ParkingOrder).where(
        ParkingOrder.park_id.in_(ids), ParkingOrder.entered_at < f.start,
        (ParkingOrder.left_at.is_(None)) | (ParkingOrder.left_at >= f.start))) or 0
    berths = db.session.scalar(select(func.count()).select_from(Berth).where(
        Berth.park_id.in_(ids), Berth.active.is_(True))) or 0
    now_local = utcnow().astimezone(f.zone)
    slots = []
    for d in f.days():
        for h in range(24):
            if (d, h) > (now_local.date(), now_local.hour):
                break
            slots.append({"day": d, "hour": h, "parked": parked, "in": ins.get((d, h), 0), "out": outs.get((d, h), 0)})
            parked += ins.get((d, h), 0) - outs.get((d, h), 0)
    return {"slots": slots, "berths": berths}


# averages over the days of the range, so numbers with decimals, not counts
OCCUPANCY_COLUMNS = [Column("cars_in", _l("Cars in"), "float", chart=True),
                     Column("cars_out", _l("Cars out"), "float", chart=True),
                     Column("parked", _l("Cars parked at the hour"), "float"),
                     Column("occupancy", _l("Occupancy"), PERCENT, chart=True)]


def occupancy_by_hour(scope: Scope, f: Filters) -> list[dict]:
    """Per hour of the day, averaged over the days of the range: cars in, cars out, cars parked at the
    start of the hour, and that as a share of the active berths."""
    traffic = hourly_traffic(scope, f)
    acc = {h: [0, 0, 0, 0] for h in range(24)}
    for s in traffic["slots"]:
        a = acc[s["hour"]]
        a[0] += s["in"]
        a[1] += s["out"]
        a[2] += s["parked"]
        a[3] += 1
    out = []
    for h, (i, o, p, n) in acc.items():
        avg = _ratio(p, n)
        out.append({"key": h, "label": f"{h:02d}:00", "cars_in": round(_ratio(i, n), 2),
                    "cars_out": round(_ratio(o, n), 2),
                    "parked": round(avg, 2), "occupancy": min(_ratio(avg, traffic["berths"]), 1.0)})
    return out


# ------------------------------------------------------------------------------------------------- pass sales

PASS_COLUMNS = [Column("sales", _l("New passes"), INT, chart=True), Column("renewals", _l("Renewals"), INT, chart=True),
                Column("months", _l("Months sold"), INT), Column("receivable", _l("Receivable")),
                Column("paid", _l("Paid"))]


def pass_sales(scope: Scope, f: Filters) -> list[dict]:
    """月卡销售: sales and renewals of the period per park and product (the money is also one ledger
    row of kind pass_sale each)."""
    ids = park_ids(scope, f)
    stmt = (select(PassRenewal.park_id, MonthlyProduct.name,
                   _sum_if(PassRenewal.kind == "sale", literal(1)), _sum_if(PassRenewal.kind != "sale", literal(1)),
                   func.coalesce(func.sum(PassRenewal.months), 0),
                   func.coalesce(func.sum(PassRenewal.receivable_fen), 0),
                   func.coalesce(func.sum(PassRenewal.paid_fen), 0))
            .join(MonthlyPass, MonthlyPass.id == PassRenewal.pass_id)
            .join(MonthlyProduct, MonthlyProduct.id == MonthlyPass.product_id)
            .where(PassRenewal.park_id.in_(ids), PassRenewal.at >= f.start, PassRenewal.at < f.end)
            .group_by(PassRenewal.park_id, MonthlyProduct.name))
    rows = db.session.execute(stmt).all()
    labels = _labels("park", list({r[0] for r in rows}))
    out = [{"key": f"{p}:{name}", "label": f"{labels.get(p, '—')} · {name}", "sales": int(s), "renewals": int(r),
            "months": int(m), "receivable": int(rec), "paid": int(paid)} for p, name, s, r, m, rec, paid in rows]
    return sorted(out, key=lambda r: r["label"].lower())


# ---------------------------------------------------------------------------------------------------- dashboard

@dataclass
class Today:
    tz: str
    day: date
    income: int = 0
    by_method: dict = field(default_factory=dict)
    cars_in: int = 0
    cars_out: int = 0
    berths: int = 0
    open_orders: int = 0
    pass_holders: int = 0
    unpaid: int = 0
    handhelds_online: int = 0
    ranking: list = field(default_factory=list)
    parks: list = field(default_factory=list)
    hours: list = field(default_factory=list)

    @property
    def free_berths(self) -> int:
        return max(self.berths - self.open_orders, 0)

    @property
    def occupancy(self) -> float:
        return min(_ratio(self.open_orders, self.berths), 1.0)


def dashboard_today(scope: Scope, with_parks: bool = True, ranking_by: str = "collector") -> Today:
    """车场总体概况 of the node for its local today."""
    tz = node_timezone(scope)
    day = local_today(tz)
    f = Filters(day, day, tz)
    ids = park_ids(scope)
    t = Today(tz=tz, day=day)
    for method, amount in db.session.execute(select(LedgerEntry.method, func.sum(LedgerEntry.amount_fen))
                                             .where(_ledger_where(ids, f)).group_by(LedgerEntry.method)):
        t.by_method[method] = int(amount or 0)
    t.income = sum(t.by_method.values())
    t.cars_in = _count(ParkingOrder, ParkingOrder.park_id.in_(ids), ParkingOrder.entered_at >= f.start,
                       ParkingOrder.entered_at < f.end)
    t.cars_out = _count(ParkingOrder, _closed_orders_where(ids, f))
    t.berths = _count(Berth, Berth.park_id.in_(ids), Berth.active.is_(True))
    t.open_orders = _count(ParkingOrder, ParkingOrder.park_id.in_(ids), ParkingOrder.state == "open",
                           ParkingOrder.berth_id.is_not(None))
    t.pass_holders = _count(MonthlyPass, scope.clause(MonthlyPass), MonthlyPass.state == "active",
                            MonthlyPass.starts_on <= day, MonthlyPass.ends_on >= day)
    t.unpaid = int(db.session.scalar(select(func.coalesce(func.sum(Arrear.amount_fen), 0))
                                     .join(ParkingOrder, ParkingOrder.id == Arrear.order_id)
                                     .where(Arrear.park_id.in_(ids), Arrear.state == "open",
                                            ParkingOrder.left_at >= f.start, ParkingOrder.left_at < f.end)) or 0)
    t.handhelds_online = _count(Handheld, scope.clause(Handheld),
                                Handheld.last_seen_at >= utcnow() - timedelta(minutes=30))
    key = LedgerEntry.collector_id if ranking_by == "collector" else LedgerEntry.park_id
    ranked = db.session.execute(select(key, func.sum(LedgerEntry.amount_fen).label("s")).where(
        _ledger_where(ids, f)).group_by(key).order_by(func.sum(LedgerEntry.amount_fen).desc()).limit(10)).all()
    labels = _labels(ranking_by if ranking_by == "collector" else "park", [k for k, _ in ranked if k is not None])
    t.ranking = [{"key": k, "label": labels.get(k, _none_label(ranking_by)), "amount": int(s or 0)} for k, s in ranked]
    t.hours = hourly_traffic(scope, f)["slots"]
    if with_parks:
        t.parks = park_table(scope, f, ids)
    return t


def _count(model, *where) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def park_table(scope: Scope, f: Filters, ids: list[int], limit: int = 200) -> list[dict]:
    """Per park of the node: today's income by method, cars in, berths, open orders (free, occupancy)."""
    method = LedgerEntry.method
    money = {r[0]: r[1:] for r in db.session.execute(
        select(LedgerEntry.park_id, func.sum(LedgerEntry.amount_fen),
               *[_sum_if(method == m) for m in METHODS])
        .where(_ledger_where(ids, f)).group_by(LedgerEntry.park_id))}
    cars = dict(db.session.execute(select(ParkingOrder.park_id, func.count()).where(
        ParkingOrder.park_id.in_(ids), ParkingOrder.entered_at >= f.start, ParkingOrder.entered_at < f.end)
        .group_by(ParkingOrder.park_id)).all())
    berths = dict(db.session.execute(select(Berth.park_id, func.count()).where(
        Berth.park_id.in_(ids), Berth.active.is_(True)).group_by(Berth.park_id)).all())
    open_ = dict(db.session.execute(select(ParkingOrder.park_id, func.count()).where(
        ParkingOrder.park_id.in_(ids), ParkingOrder.state == "open", ParkingOrder.berth_id.is_not(None))
        .group_by(ParkingOrder.park_id)).all())
    parks = db.session.execute(select(Park.id, Park.name, OperatingGroup.name).join(
        OperatingGroup, OperatingGroup.id == Park.group_id).where(Park.id.in_(ids)).order_by(Park.name)
        .limit(limit)).all()
    out = []
    for pid, name, group in parks:
        m = money.get(pid, (0, 0, 0, 0))
        b, o = int(berths.get(pid, 0)), int(open_.get(pid, 0))
        out.append({"id": pid, "name": name, "group": group, "income": int(m[0] or 0), "cash": int(m[1]),
                    "electronic": int(m[2]), "card": int(m[3]), "cars_in": int(cars.get(pid, 0)), "berths": b,
                    "free": max(b - o, 0), "occupancy": min(_ratio(o, b), 1.0)})
    return out
