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
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, literal, select

from app.berths.models import Berth
from app.core.types import utcnow
from app.devices.models import Handheld
from app.extensions import db
from app.members.models import MonthlyPass, MonthlyProduct, PassRenewal
from app.reports import figures as fg
from app.reports.figures import (
    METHODS,
    NORMAL_KINDS,
    PARKING_KINDS,
    PASS_SALE,
    RECOVERY,
    Filters,
    Income,
    as_date,
    local_day,
    local_hour,
    local_month,
    minutes_between,
)
from app.reports.figures import ratio as _ratio
from app.reports.figures import sum_if as _sum_if
from app.reports.rollups import one_read
from app.staff.models import Staff
from app.tenancy.models import City, Level, OperatingGroup, Park
from app.tenancy.scope import Scope

METHOD_LABELS = {"cash": _l("Cash"), "electronic": _l("Electronic"), "card": _l("Card"), "pass": _l("Pass"),
                 "free": _l("Free")}
MAX_RANGE_DAYS = 800

# value kinds, as in app/exports/registry.py
TEXT, INT, MONEY, DATETIME, DATE, PERCENT = "text", "int", "money", "datetime", "date", "percent"


@dataclass(frozen=True)
class Column:
    key: str
    header: object      # lazy text shown on screen and in the export
    kind: str = MONEY
    chart: bool = False  # plotted by default


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


__all__ = ["Filters", "as_date", "local_day", "local_hour", "local_month", "minutes_between", "NORMAL_KINDS",
           "PARKING_KINDS", "PASS_SALE"]


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
    Column("total_income", _l("Income incl. pass sales")),
]
MONEY_KEYS = [c.key for c in INCOME_COLUMNS]


def income_summary(scope: Scope, f: Filters, by: str = "park") -> list[dict]:
    """收费汇总: per key, for each method normal fees + recovered arrears = total; collected (parking
    income, all methods), unpaid (figures.unpaid), receivable = collected + unpaid; pass sales and
    income incl. pass sales beside. Ordered by label (by day: chronologically)."""
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    ids = park_ids(scope, f)
    with one_read():
        money = fg.income(ids, f, by)
        debts = fg.unpaid(ids, f, by)
    keys = set(money) | set(debts) | (set(f.days()) if by == "day" else set())
    labels = _labels(by, [k for k in keys if k is not None])
    out = []
    for key in keys:
        row = {"key": key, "label": labels.get(key) if key is not None else _none_label(by)}
        row.update(_income_row(money.get(key) or Income(), debts.get(key, 0)))
        out.append(row)
    out.sort(key=(lambda r: r["key"]) if by == "day" else (lambda r: (r["key"] is None, str(r["label"]).lower())))
    return out


def _income_row(money: Income, unpaid: int) -> dict:
    row = {}
    for m in METHODS:
        row[f"{m}_normal"] = money.part(NORMAL_KINDS, m)
        row[f"{m}_recovered"] = money.part(RECOVERY, m)
        row[f"{m}_total"] = row[f"{m}_normal"] + row[f"{m}_recovered"]
    row["collected"] = money.parking
    row["unpaid"] = unpaid
    row["receivable"] = row["collected"] + unpaid
    row["pass_sales"] = money.pass_sales
    row["total_income"] = money.total
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
    Column("total", _l("Parking income")), Column("pass_sales", _l("Pass sales")),
    Column("income", _l("Income incl. pass sales")),
]
ORDER_REPORT_KEYS = [c.key for c in ORDER_REPORT_COLUMNS]


def order_report(scope: Scope, f: Filters, by: str = "day") -> list[dict]:
    """日报 / 月报 / 收费员报表. Orders, receivable (tariff fees charged) and reductions come from the
    orders that left in the period (figures.closed_orders); cash, electronic, card and parking income
    from the ledger in the period, pass sales and income incl. pass sales beside (figures.income), so the
    totals equal the income summary's and the overview's."""
    if by not in ("day", "month", "collector"):
        raise ValueError(by)
    ids = park_ids(scope, f)
    with one_read():
        closed = fg.closed_orders(ids, f, by)
        money = fg.income(ids, f, by)
    keys = set(closed) | set(money)
    if by == "day":
        keys |= set(f.days())
    elif by == "month":
        keys |= {d.strftime("%Y-%m") for d in f.days()}
    labels = _labels("collector", [k for k in keys if k is not None]) if by == "collector" else {}
    out = []
    for key in keys:
        label = key.isoformat() if by == "day" else key if by == "month" else labels.get(key, _none_label(by))
        c, inc = closed.get(key) or fg.Closed(), money.get(key) or Income()
        out.append({"key": key, "label": label, "orders": c.orders, "receivable": c.receivable,
                    **{m: inc.part(PARKING_KINDS, m) for m in METHODS}, "reductions": c.reductions,
                    "total": inc.parking, "pass_sales": inc.pass_sales, "income": inc.total})
    out.sort(key=(lambda r: r["key"]) if by in ("day", "month") else (lambda r: (r["key"] is None, r["label"].lower())))
    return out


# ------------------------------------------------------------------------------------------ trend, method share

TREND_COLUMNS = [Column("cash_total", _l("Cash"), chart=True), Column("electronic_total", _l("Electronic"), chart=True),
                 Column("card_total", _l("Card"), chart=True),
                 Column("collected", _l("Parking income"), chart=True)]


def income_trend(scope: Scope, f: Filters) -> list[dict]:
    """收费趋势: parking income per local day (every day of the range, zeros included)."""
    keys = [c.key for c in TREND_COLUMNS]
    return [{"key": r["key"], "label": r["label"], **{k: r[k] for k in keys}}
            for r in income_summary(scope, f, by="day")]


SHARE_COLUMNS = [Column("amount", _l("Amount"), chart=True), Column("entries", _l("Ledger entries"), INT),
                 Column("share", _l("Share"), PERCENT)]


def method_share(scope: Scope, f: Filters) -> list[dict]:
    """支付方式分析: all money of the period (parking income and pass sales) by payment method."""
    money = fg.income(park_ids(scope, f), f).get(None) or Income()
    amounts, entries = money.by_method(), money.entries_by_method()
    grand = money.total
    order = list(METHODS) + sorted(m for m in amounts if m not in METHODS)
    return [{"key": m, "label": str(METHOD_LABELS.get(m, m)), "amount": amounts.get(m, 0),
             "entries": entries.get(m, 0), "share": _ratio(amounts.get(m, 0), grand)} for m in order]


# ------------------------------------------------------------------------------------------------------ arrears

ARREARS_COLUMNS = [Column("count", _l("Unpaid orders"), INT), Column("unpaid", _l("Unpaid amount"), chart=True),
                   Column("recovered", _l("Recovered"), chart=True), Column("waived", _l("Waived")),
                   Column("open", _l("Still open")),
                   Column("rate", _l("Recovery rate"), PERCENT)]


def arrears_recovery(scope: Scope, f: Filters) -> list[dict]:
    """追缴情况: per park, the debts of orders that left in the period, how much is recovered, the rate
    (figures.arrears)."""
    found = fg.arrears(park_ids(scope, f), f, "park")
    labels = _labels("park", list(found))
    out = [{"key": p, "label": labels.get(p, "—"), "count": a.count, "unpaid": a.amount, "recovered": a.recovered,
            "waived": a.waived, "open": a.open, "rate": a.rate} for p, a in found.items()]
    return sorted(out, key=lambda r: r["label"].lower())


def arrears_totals(rows):
    t = totals(rows, ("count", "unpaid", "recovered", "waived", "open"))
    t["rate"] = fg.recovery_rate(t["recovered"], t["unpaid"])
    return t


# ------------------------------------------------------------------------------------------------- berth usage

BERTH_COLUMNS = [Column("berths", _l("Spaces"), INT), Column("orders", _l("Parkings"), INT, chart=True),
                 Column("turnover", _l("Turnover per space per day"), "float", chart=True),
                 Column("avg_dwell", _l("Average dwell (minutes)"), "float"),
                 Column("income", _l("Parking income")), Column("income_per_berth", _l("Income per space"))]


def berth_usage(scope: Scope, f: Filters) -> list[dict]:
    """泊位周转 / 停车时长 / 泊位平均收入, per park: spaces (figures.spaces: berths on-street, capacity
    off-street), parkings (cars in), turnover = parkings / spaces / days, average dwell of orders that
    left, parking income per space."""
    ids = park_ids(scope, f)
    space = fg.spaces(ids)
    with one_read():
        entered = fg.cars_in(ids, f, "park")
        closed = fg.closed_orders(ids, f, "park")
        money = fg.income(ids, f, "park")
    keys = {p for p, n in space.items() if n} | set(entered) | set(closed) | set(money)
    labels = _labels("park", list(keys))
    days = len(f.days())
    out = []
    for p in keys:
        b, n, c = space.get(p, 0), entered.get(p, 0), closed.get(p) or fg.Closed()
        inc = (money.get(p) or Income()).parking
        out.append({"key": p, "label": labels.get(p, "—"), "berths": b, "orders": n,
                    "turnover": round(fg.turnover(n, b, days), 3), "avg_dwell": round(c.dwell, 1),
                    "dwell_count": c.orders, "income": inc, "income_per_berth": int(round(_ratio(inc, b)))})
    return sorted(out, key=lambda r: r["label"].lower())


def berth_totals(rows, f: Filters) -> dict:
    b, n, inc = (sum(r[k] for r in rows) for k in ("berths", "orders", "income"))
    dwell_n = sum(r["dwell_count"] for r in rows)
    dwell = _ratio(sum(r["avg_dwell"] * r["dwell_count"] for r in rows), dwell_n)
    return {"berths": b, "orders": n, "turnover": round(fg.turnover(n, b, len(f.days())), 3),
            "avg_dwell": round(dwell, 1), "income": inc, "income_per_berth": int(round(_ratio(inc, b)))}


def hourly_traffic(scope: Scope, f: Filters, spaces: dict | None = None) -> dict:
    """Cars in and out per (local day, hour) and the cars parked at the start of each hour, from the cars
    in and out by hour and one count of cars already parked when the range starts; the period's cars in and
    out (`moved`: an fg.Traffic, equal to cars_in and cars_out of the period) and the spaces beside
    (`spaces`: fg.spaces of the same parks, when the caller has them)."""
    ids = park_ids(scope, f)
    moved = fg.traffic(ids, f, ("day", "hour"))
    parked = fg.parked_at_start(ids, f, moved) if ids else 0
    now_local = utcnow().astimezone(f.zone)
    slots = []
    for d in f.days():
        for h in range(24):
            if (d, h) > (now_local.date(), now_local.hour):
                break
            hour = moved.get((d, h), fg.Traffic())
            slots.append({"day": d, "hour": h, "parked": parked, "in": hour.cars_in, "out": hour.cars_out})
            parked += hour.cars_in - hour.cars_out
    total = fg.Traffic(sum(t.cars_in for t in moved.values()), sum(t.cars_out for t in moved.values()))
    return {"slots": slots, "moved": total, "berths": sum((fg.spaces(ids) if spaces is None else spaces).values())}


# averages over the days of the range, so numbers with decimals, not counts
OCCUPANCY_COLUMNS = [Column("cars_in", _l("Cars in"), "float", chart=True),
                     Column("cars_out", _l("Cars out"), "float", chart=True),
                     Column("parked", _l("Cars parked at the hour"), "float"),
                     Column("occupancy", _l("Occupancy"), PERCENT, chart=True)]


def occupancy_by_hour(scope: Scope, f: Filters) -> list[dict]:
    """Per hour of the day, averaged over the days of the range: cars in, cars out, cars parked at the
    start of the hour, and that as a share of the spaces (figures.occupancy)."""
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
                    "parked": round(avg, 2), "occupancy": fg.occupancy(avg, traffic["berths"])})
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
    """车场总体概况 of a node for its local today; every value from one figure function."""
    tz: str
    day: date
    income: int = 0          # income incl. pass sales (figures.Income.total)
    parts: dict = field(default_factory=dict)
    by_method: dict = field(default_factory=dict)
    cars_in: int = 0
    cars_out: int = 0
    spaces: int = 0
    parked: int = 0
    pass_holders: int = 0
    unpaid: int = 0
    handhelds_online: int = 0
    ranking: list = field(default_factory=list)
    parks: list = field(default_factory=list)
    hours: list = field(default_factory=list)

    @property
    def parking_income(self) -> int:
        return self.income - self.parts.get("pass_sales", 0)

    @property
    def free_spaces(self) -> int:
        return max(self.spaces - self.parked, 0)

    @property
    def occupancy(self) -> float:
        return fg.occupancy(self.parked, self.spaces)


def dashboard_today(scope: Scope, with_parks: bool = True, ranking_by: str = "collector") -> Today:
    """车场总体概况 of the node for its local today."""
    tz = node_timezone(scope)
    day = local_today(tz)
    f = Filters(day, day, tz)
    ids = park_ids(scope)
    money = fg.income(ids, f).get(None) or Income()
    t = Today(tz=tz, day=day, income=money.total, parts=money.parts(), by_method=money.by_method())
    spaces = fg.spaces(ids)
    t.spaces = sum(spaces.values())
    t.parked = fg.parked_now(ids, None).get(None, 0)
    t.pass_holders = _count(MonthlyPass, scope.clause(MonthlyPass), MonthlyPass.state == "active",
                            MonthlyPass.starts_on <= day, MonthlyPass.ends_on >= day)
    t.unpaid = fg.unpaid(ids, f).get(None, 0)
    t.handhelds_online = _count(Handheld, scope.clause(Handheld),
                                Handheld.last_seen_at >= utcnow() - timedelta(minutes=30))
    by = "collector" if ranking_by == "collector" else "park"
    ranked = sorted(((k, v.total) for k, v in fg.income(ids, f, by).items()), key=lambda kv: -kv[1])[:10]
    labels = _labels(by, [k for k, _ in ranked if k is not None])
    t.ranking = [{"key": k, "label": labels.get(k, _none_label(ranking_by)), "amount": s} for k, s in ranked]
    traffic = hourly_traffic(scope, f, spaces)  # today's cars in and out by hour, and in all
    t.hours, t.cars_in, t.cars_out = traffic["slots"], traffic["moved"].cars_in, traffic["moved"].cars_out
    if with_parks:
        t.parks = park_table(scope, f, ids, spaces)
    return t


def _count(model, *where) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def park_table(scope: Scope, f: Filters, ids: list[int], spaces: dict | None = None, limit: int = 200) -> list[dict]:
    """Per park of the node: today's income incl. pass sales and by method, cars in, spaces, cars parked
    now (free, occupancy), each from its figure function (`spaces`: fg.spaces(ids), when the caller has it)."""
    money = fg.income(ids, f, "park")
    cars = fg.cars_in(ids, f, "park")
    space = fg.spaces(ids) if spaces is None else spaces
    parked = fg.parked_now(ids, "park")
    parks = db.session.execute(select(Park.id, Park.name, Park.kind, OperatingGroup.name).join(
        OperatingGroup, OperatingGroup.id == Park.group_id).where(Park.id.in_(ids)).order_by(Park.name)
        .limit(limit)).all()
    out = []
    for pid, name, kind, group in parks:
        m = money.get(pid) or Income()
        methods = m.by_method()
        b, o = space.get(pid, 0), parked.get(pid, 0)
        out.append({"id": pid, "name": name, "kind": kind, "group": group, "income": m.total,
                    **{k: methods.get(k, 0) for k in METHODS}, "cars_in": cars.get(pid, 0), "berths": b,
                    "parked": o, "free": max(b - o, 0), "occupancy": fg.occupancy(o, b)})
    return out
