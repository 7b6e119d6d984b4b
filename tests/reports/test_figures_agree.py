"""Figures agree (issue 17): for nodes at every level and several days of a seeded history, every page,
chart, export and figure function equals one SQL over the ledger, orders and arrears written here.

The history is made through the device APIs and services only: on-street orders at p1 and p2 (prepay
with a top-up, a prepay refund, escapes recovered, left open and waived), off-street stays at the
garage p3 uploaded by its on-site link (capacity 4, two cars still inside), and monthly passes sold at
p1 and p3."""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import bindparam, text

from app.core.templating import money
from app.core.types import UTCDateTime, utcnow
from app.exports.registry import EXPORTS
from app.members import services as members
from app.orders.services import manager_waive
from app.reports import BY_NAME, compute
from app.reports import figures as fg
from app.reports import queries as q
from app.tenancy.scope import Scope
from tests.pos_api.conftest import ref, street  # noqa: F401  (the street fixture)
from tests.sync.conftest import site  # noqa: F401  (the on-site link of p3)

TZ = ZoneInfo("Asia/Shanghai")
VIEWERS = ["root", "citya", "groupa1", "groupa2", "parkp1", "parkp3"]
CAPACITY = 4


def _at(hours: float) -> datetime:
    return utcnow() - timedelta(hours=hours)


def _iso(hours: float) -> str:
    return _at(hours).isoformat()


# ------------------------------------------------------------------------------------------------- history

def _street_stay(road, token, berth, plate, entered, left=None, method="cash", prepay=None, escape=False):
    body = {"entered_at": _iso(entered), **({"prepay": prepay} if prepay else {})}
    response = road.car_in(token, berth, plate, **body)
    assert response.status_code == 201, response.get_json()
    order_id = response.get_json()["order"]["id"]
    if left is None:
        return None
    if escape:
        response = road.call("POST", f"/orders/{order_id}/escape", token,
                               json={"client_ref": ref(), "left_at": _iso(left)})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["arrear"]
    quote = road.call("GET", f"/orders/{order_id}/quote?left_at={_iso(left).replace('+', '%2B')}", token)
    quote = quote.get_json()["quote"]
    response = road.call("POST", f"/orders/{order_id}/settle", token, json={
        "client_ref": ref(), "left_at": quote["left_at"], "method": method, "amount_fen": quote["due_fen"]})
    assert response.status_code == 200, response.get_json()
    return None


def _p2_token(road):
    from tests.test_reports import _p2_token as token

    return token(road)


def _garage(link, db):
    """p3's link uploads five stays: three paid and gone (one with a reduction), two cars still inside."""
    link.park.capacity = CAPACITY
    db.session.commit()
    items = []
    for n, (entered, paid_at, payments, reduction) in enumerate([
            (44, 40, [("cash", 1000), ("electronic", 300)], 200), (28, 25, [("electronic", 800)], 0),
            (6, 2, [("cash", 600)], 0), (1.5, None, [], 0), (0.5, None, [], 0)]):
        order = f"g{n}"
        items.append({"kind": "entry", "site_id": order, "plate": f"粤B9000{n}", "lane_id": link.entry,
                      "at": _iso(entered), "vehicle_class": "small"})
        if paid_at is not None:
            fee = sum(a for _m, a in payments) + reduction
            items.append({"kind": "settlement", "site_id": f"{order}-pay", "order_site_id": order, "at": _iso(paid_at),
                          "fee_fen": fee, "payments": [{"method": m, "amount_fen": a} for m, a in payments],
                          "reduction_fen": reduction, "free_reason": "coupon" if reduction else None})
            items.append({"kind": "exit", "site_id": f"{order}-out", "order_site_id": order, "lane_id": link.exit,
                          "at": _iso(paid_at - 0.1)})
    status, answer = link.client.upload(items)
    assert status == 200 and all(r["status"] == "ok" for r in answer["results"]), answer


def _passes(db, tree):
    street_product = members.save_product(None, None, members.ProductValues(
        anchor=tree.p1, name="Street month", kind="all_day", price_fen=30000))
    garage_product = members.save_product(None, None, members.ProductValues(
        anchor=tree.a2, name="Garage month", kind="all_day", price_fen=20000))
    db.session.commit()
    today = utcnow().astimezone(TZ).date()
    for product, park, plate, method, hours in ((street_product, tree.p1, "沪A70001", "cash", 22),
                                                (garage_product, tree.p3, "沪A70002", "electronic", 1)):
        members.sell_pass(tree.staff["groupa1" if park is tree.p1 else "groupa2"], product=product, selling_park=park,
                          holder_name="Holder", phone=None, plates=plate, starts_on=today, months=1, method=method,
                          now=_at(hours))
        db.session.commit()


@pytest.fixture
def history(street, site, tree, db):  # noqa: F811
    a = street.signed_in("collectorp1", segment=0)
    _street_stay(street, a, "A001", "R10001", 40, 38, "electronic", prepay={"amount_fen": 200, "method": "cash"})
    _street_stay(street, a, "A002", "R10002", 30, 29.5, "cash", prepay={"amount_fen": 1000, "method": "electronic"})
    recovered = _street_stay(street, a, "A003", "R10003", 26, 20, escape=True,
                             prepay={"amount_fen": 200, "method": "cash"})
    _street_stay(street, a, "A001", "R10004", 12, 10, "card")
    _street_stay(street, a, "A002", "R10005", 3, 1, escape=True)                     # left unpaid
    _street_stay(street, a, "A003", "R10006", 50 / 60)                              # still parked
    b = street.signed_in("collector2p1", segment=1)
    paid = street.call("POST", "/arrears/recover", b, json={"client_ref": ref(), "arrear_ids": [recovered["id"]],
                                                            "method": "card", "amount_fen": recovered["amount_fen"]})
    assert paid.status_code == 200, paid.get_json()
    _street_stay(street, b, "B001", "R10007", 20, 18, "cash")
    waived = _street_stay(street, b, "B002", "R10008", 5, 4, escape=True)
    manager_waive(tree.staff["parkp1"], [waived["id"]], "hearse", utcnow())
    db.session.commit()
    _street_stay(street, b, "B003", "R10009", 2)                                    # still parked
    _street_stay(street, _p2_token(street), "C001", "R20001", 35, 33, "cash")
    _garage(site, db)
    _passes(db, tree)
    db.session.expire_all()
    return tree


# ------------------------------------------------------------------------------------- the independent SQL

class Ledger:
    """Every figure of a node and a period, each from one SQL statement over the tables."""

    def __init__(self, db, ids, start, end):
        self.db, self.ids, self.start, self.end = db, ids, start, end

    def _all(self, sql):
        times = [bindparam(n, type_=UTCDateTime()) for n in ("start", "end") if f":{n}" in sql]
        stmt = text(sql).bindparams(bindparam("ids", expanding=True), *times)
        return self.db.session.execute(stmt, {"ids": self.ids, "start": self.start, "end": self.end}).all()

    def money(self, kinds=("fee", "prepay", "prepay_refund", "recovery", "pass_sale"), method=None):
        return sum(a for k, m, a, _n in self.ledger() if k in kinds and method in (None, m))

    def entries(self, method):
        return sum(n for _k, m, _a, n in self.ledger() if m == method)

    def ledger(self):
        return [(k, m, int(a), int(n)) for k, m, a, n in self._all(
            "SELECT kind, method, SUM(amount_fen), COUNT(*) FROM ledger_entries WHERE park_id IN :ids"
            " AND occurred_at >= :start AND occurred_at < :end GROUP BY kind, method")]

    def cars_in(self):
        return self._all("SELECT COUNT(*) FROM parking_orders WHERE park_id IN :ids AND entered_at >= :start"
                         " AND entered_at < :end")[0][0]

    def closed(self):
        n, fee, red = self._all("SELECT COUNT(*), COALESCE(SUM(fee_fen), 0), COALESCE(SUM(reduction_fen), 0)"
                                " FROM parking_orders WHERE park_id IN :ids AND state <> 'open'"
                                " AND left_at >= :start AND left_at < :end")[0]
        return int(n), int(fee), int(red)

    def dwell(self):
        rows = self.db.session.execute(text(
            "SELECT entered_at, left_at FROM parking_orders WHERE park_id IN :ids AND state <> 'open'"
            " AND left_at >= :start AND left_at < :end").columns(entered_at=UTCDateTime(), left_at=UTCDateTime())
            .bindparams(bindparam("ids", expanding=True), bindparam("start", type_=UTCDateTime()),
                        bindparam("end", type_=UTCDateTime())),
            {"ids": self.ids, "start": self.start, "end": self.end}).all()
        return [(b - a).total_seconds() / 60 for a, b in rows]

    def arrears(self):
        n, amount, recovered, waived, still_open = self._all(
            "SELECT COUNT(*), COALESCE(SUM(a.amount_fen), 0),"
            " COALESCE(SUM(CASE WHEN a.state = 'recovered' THEN a.amount_fen ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN a.state = 'waived' THEN a.amount_fen ELSE 0 END), 0),"
            " COALESCE(SUM(CASE WHEN a.state = 'open' THEN a.amount_fen ELSE 0 END), 0)"
            " FROM arrears a JOIN parking_orders o ON o.id = a.order_id"
            " WHERE a.park_id IN :ids AND o.left_at >= :start AND o.left_at < :end")[0]
        return int(n), int(amount), int(recovered), int(waived), int(still_open)

    def spaces(self):
        return int(self._all(
            "SELECT COALESCE(SUM(CASE WHEN p.kind = 'off_street' THEN p.capacity ELSE"
            " (SELECT COUNT(*) FROM berths b WHERE b.park_id = p.id AND b.active) END), 0)"
            " FROM parks p WHERE p.id IN :ids")[0][0])

    def parked_now(self):
        return self._all("SELECT COUNT(*) FROM parking_orders WHERE park_id IN :ids AND state = 'open'")[0][0]

    def parked_at_start(self):
        return self._all("SELECT COUNT(*) FROM parking_orders WHERE park_id IN :ids AND entered_at < :start"
                         " AND (left_at IS NULL OR left_at >= :start)")[0][0]


PARKING = ("fee", "prepay", "prepay_refund", "recovery")


def _park_ids(db, tree, viewer):
    node = Scope.of(tree.staff[viewer]).node
    column = {None: None, "city": "city_id", "group": "group_id", "park": "id"}[
        node.level.value if node is not None else None]
    sql = "SELECT id FROM parks" + (f" WHERE {column} = :node" if column else "")
    return [r[0] for r in db.session.execute(text(sql), {"node": node.id if node is not None else None})]


def _periods():
    today = utcnow().astimezone(TZ).date()
    days = [today - timedelta(days=n) for n in (2, 1, 0)]
    return [(d, d) for d in days] + [(days[0], today)]


def _ledger_for(db, ids, d_from: date, d_to: date) -> Ledger:
    start = datetime.combine(d_from, time.min, tzinfo=TZ).astimezone(timezone.utc)
    end = datetime.combine(d_to + timedelta(days=1), time.min, tzinfo=TZ).astimezone(timezone.utc)
    return Ledger(db, ids, start, end)


def _totals(report, scope, params):
    return compute(report, scope, params)[3]


# ------------------------------------------------------------------------------------------------------ tests

def test_the_history_mixes_every_kind_of_money_and_park(history, db):
    every = _ledger_for(db, _park_ids(db, history, "root"), *_periods()[-1])
    kinds = {k for k, _m, _a, _n in every.ledger()}
    assert kinds == {"fee", "prepay", "prepay_refund", "recovery", "pass_sale"}
    assert every.money(("pass_sale",)) == 50000 and every.money(("prepay_refund",)) < 0
    garage = _ledger_for(db, [history.p3.id], *_periods()[-1])
    assert garage.cars_in() == 5 and garage.parked_now() == 2 and garage.spaces() == CAPACITY


@pytest.mark.parametrize("viewer", VIEWERS)
def test_every_report_and_figure_equals_the_ledger(history, db, viewer):
    scope = Scope.of(history.staff[viewer])
    ids = _park_ids(db, history, viewer)
    assert sorted(q.park_ids(scope)) == sorted(ids)
    for d_from, d_to in _periods():
        params = {"date_from": d_from.isoformat(), "date_to": d_to.isoformat()}
        sql = _ledger_for(db, ids, d_from, d_to)
        f = q.filters_from_params(scope, params)
        _check_figure_functions(sql, ids, f)
        _check_money_reports(sql, scope, params)
        _check_usage_reports(sql, scope, params, len(f.days()))


def _check_figure_functions(sql, ids, f):
    money = fg.income(ids, f).get(None) or fg.Income()
    assert money.parts() == {"fees": sql.money(("fee",)), "prepay": sql.money(("prepay",)),
                             "refunds": sql.money(("prepay_refund",)), "recoveries": sql.money(("recovery",)),
                             "pass_sales": sql.money(("pass_sale",))}
    assert (money.parking, money.total) == (sql.money(PARKING), sql.money())
    assert fg.cars_in(ids, f).get(None, 0) == sql.cars_in()
    closed = fg.closed_orders(ids, f).get(None) or fg.Closed()
    assert (closed.orders, closed.receivable, closed.reductions) == sql.closed()
    assert fg.cars_out(ids, f).get(None, 0) == sql.closed()[0]
    dwell = sql.dwell()
    assert closed.dwell == pytest.approx(sum(dwell) / len(dwell) if dwell else 0.0, abs=0.01)
    n, amount, recovered, waived, still_open = sql.arrears()
    assert fg.unpaid(ids, f).get(None, 0) == still_open
    debts = fg.arrears(ids, f, None).get(None) or fg.Arrears()
    assert (debts.count, debts.amount, debts.recovered, debts.waived, debts.open) == (n, amount, recovered, waived,
                                                                                       still_open)
    assert sum(fg.spaces(ids).values()) == sql.spaces()
    assert fg.parked_now(ids, None).get(None, 0) == sql.parked_now()


def _check_money_reports(sql, scope, params):
    parking, everything, unpaid = sql.money(PARKING), sql.money(), sql.arrears()[4]
    by_method = {m: sql.money(PARKING, m) for m in q.METHODS}
    for name in ("daily", "monthly", "collectors"):
        t = _totals(BY_NAME[name], scope, params)
        assert (t["orders"], t["receivable"], t["reductions"]) == sql.closed(), name
        assert {m: t[m] for m in q.METHODS} == by_method, name
        assert (t["total"], t["pass_sales"], t["income"]) == (parking, everything - parking, everything), name
    for by in q.GROUPINGS:
        t = _totals(BY_NAME["income"], scope, {**params, "by": by})
        for m in q.METHODS:
            assert t[f"{m}_normal"] == sql.money(("fee", "prepay", "prepay_refund"), m), (by, m)
            assert t[f"{m}_recovered"] == sql.money(("recovery",), m), (by, m)
        assert (t["collected"], t["unpaid"], t["receivable"]) == (parking, unpaid, parking + unpaid), by
        assert (t["pass_sales"], t["total_income"]) == (everything - parking, everything), by
    t = _totals(BY_NAME["trend"], scope, params)
    assert t == {**{f"{m}_total": v for m, v in by_method.items()}, "collected": parking}
    rows = {r["key"]: r for r in compute(BY_NAME["methods"], scope, params)[2]}
    for m in {m for _k, m, _a, _n in sql.ledger()} | set(q.METHODS):
        assert (rows[m]["amount"], rows[m]["entries"]) == (sql.money(method=m), sql.entries(m)), m
        assert rows[m]["share"] == pytest.approx(sql.money(method=m) / everything if everything else 0.0)
    t = _totals(BY_NAME["arrears"], scope, params)
    n, amount, recovered, waived, still_open = sql.arrears()
    assert (t["count"], t["unpaid"], t["recovered"], t["waived"], t["open"]) == (n, amount, recovered, waived,
                                                                                 still_open)
    assert t["rate"] == pytest.approx(recovered / amount if amount else 0.0)


def _check_usage_reports(sql, scope, params, days):
    spaces, cars_in, parking = sql.spaces(), sql.cars_in(), sql.money(PARKING)
    t = _totals(BY_NAME["berths"], scope, params)
    assert (t["berths"], t["orders"], t["income"]) == (spaces, cars_in, parking)
    assert t["turnover"] == pytest.approx(cars_in / spaces / days, abs=0.001)
    assert t["income_per_berth"] == round(parking / spaces)
    dwell = sql.dwell()
    assert t["avg_dwell"] == pytest.approx(sum(dwell) / len(dwell) if dwell else 0.0, abs=0.1)
    f = q.filters_from_params(scope, params)
    traffic = q.hourly_traffic(scope, f)
    assert traffic["berths"] == spaces
    assert sum(s["in"] for s in traffic["slots"]) == cars_in
    assert sum(s["out"] for s in traffic["slots"]) == sql.closed()[0]
    assert (traffic["moved"].cars_in, traffic["moved"].cars_out) == (cars_in, sql.closed()[0])
    assert traffic["slots"][0]["parked"] == sql.parked_at_start()
    rows = compute(BY_NAME["occupancy"], scope, params)[2]
    for row in rows:
        assert row["occupancy"] == pytest.approx(min(row["parked"] / spaces, 1.0), abs=0.01)


@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_overview_equals_the_daily_report_and_the_ledger(history, db, client_as, viewer):
    scope = Scope.of(history.staff[viewer])
    ids = _park_ids(db, history, viewer)
    today = q.dashboard_today(scope)
    sql = _ledger_for(db, ids, today.day, today.day)
    assert today.income == sql.money() and today.parking_income == sql.money(PARKING)
    assert today.parts["pass_sales"] == sql.money(("pass_sale",))
    assert sum(today.by_method.values()) == sql.money()
    assert (today.cars_in, today.cars_out, today.unpaid) == (sql.cars_in(), sql.closed()[0], sql.arrears()[4])
    assert (today.spaces, today.parked) == (sql.spaces(), sql.parked_now())
    assert today.occupancy == pytest.approx(min(sql.parked_now() / sql.spaces(), 1.0))
    daily = _totals(BY_NAME["daily"], scope, {"date_from": today.day.isoformat(), "date_to": today.day.isoformat()})
    assert daily["income"] == today.income
    body = client_as(viewer).get("/").get_data(as_text=True)
    assert re.search(r'id="kpi-income">(<a [^>]*>)?' + re.escape(money(sql.money())), body)
    assert "id=\"income-parts\"" in body and money(sql.money(("pass_sale",))) in body
    for p in today.parks:
        park_sql = _ledger_for(db, [p["id"]], today.day, today.day)
        assert (p["income"], p["cars_in"]) == (park_sql.money(), park_sql.cars_in())
        assert (p["berths"], p["parked"]) == (park_sql.spaces(), park_sql.parked_now())
        assert p["occupancy"] == pytest.approx(min(park_sql.parked_now() / park_sql.spaces(), 1.0)
                                               if park_sql.spaces() else 0.0)


def test_off_street_parks_count_their_capacity(history, db, client_as):
    """The two known disagreements: the garage showed 0 berths and 0.0% on the overview, and its stays were
    divided by the street berths only in Berth usage."""
    body = client_as("citya").get("/").get_data(as_text=True)
    table = body[body.index('id="park-table"'):]
    row = re.search(r"Alpha Garage Three</a>.*?</tr>", table, re.S).group(0)
    assert re.search(rf'data-key="spaces">{CAPACITY}<', row) and 'data-key="occupancy">50.0%' in row
    d_from, d_to = _periods()[-1]
    params = {"date_from": d_from.isoformat(), "date_to": d_to.isoformat()}
    rows = {r["key"]: r for r in compute(BY_NAME["berths"], Scope.of(history.staff["citya"]), params)[2]}
    garage = rows[history.p3.id]
    assert garage["berths"] == CAPACITY and garage["turnover"] == pytest.approx(5 / CAPACITY / 3, abs=0.001)
    totals = _totals(BY_NAME["berths"], Scope.of(history.staff["citya"]), params)
    assert min(r["turnover"] for r in rows.values()) <= totals["turnover"] <= max(r["turnover"] for r in rows.values())
    page = client_as("citya").get("/reports/berths", query_string=params).get_data(as_text=True)
    foot = re.search(r'id="totals-row">.*?</tr>', page, re.S).group(0)
    assert f'data-key="berths">{6 + 6 + CAPACITY}<' in foot


@pytest.mark.parametrize("viewer", ["citya", "parkp3"])
def test_pages_and_exports_show_the_same_totals(history, db, client_as, viewer):
    scope = Scope.of(history.staff[viewer])
    sql = _ledger_for(db, _park_ids(db, history, viewer), *_periods()[-1])
    d_from, d_to = _periods()[-1]
    params = {"date_from": d_from.isoformat(), "date_to": d_to.isoformat()}
    client = client_as(viewer)
    for name, key, expected in (("daily", "income", sql.money()), ("daily", "pass_sales", sql.money(("pass_sale",))),
                                ("monthly", "income", sql.money()), ("income", "total_income", sql.money()),
                                ("income", "collected", sql.money(PARKING)), ("trend", "collected", sql.money(PARKING)),
                                ("berths", "income", sql.money(PARKING))):
        page = client.get(f"/reports/{name}", query_string=params).get_data(as_text=True)
        foot = re.search(r'id="totals-row">.*?</tr>', page, re.S).group(0)
        assert f'data-key="{key}">{money(expected)}<' in foot, (name, key)
        report = BY_NAME[name]
        spec = EXPORTS[f"report_{name}" + ("_park" if report.groupings else "")]
        exported = list(spec.rows(scope, params))[-1]
        assert exported[1 + [c.key for c in report.columns].index(key)] == expected, (name, key)
