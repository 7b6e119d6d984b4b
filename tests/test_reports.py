"""Report figures against the ledger, summed independently here, on real orders made through the
device API: prepay with top-up, prepay refund, escape, recovery at another segment, a second park."""
from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.core.types import utcnow
from app.orders.models import Arrear, LedgerEntry, ParkingOrder
from app.reports import BY_NAME
from app.reports import queries as q
from app.tenancy.scope import Scope
from tests.pos_api.conftest import ago, ref, street  # noqa: F401  (the street fixture)

TZ = ZoneInfo("Asia/Shanghai")


def _settle(street, token, order_id, method):
    quote = street.call("GET", f"/orders/{order_id}/quote", token).get_json()["quote"]
    response = street.call("POST", f"/orders/{order_id}/settle", token, json={
        "client_ref": ref(), "left_at": quote["left_at"], "method": method, "amount_fen": quote["due_fen"]})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _escape(street, token, order_id):
    response = street.call("POST", f"/orders/{order_id}/escape", token,
                           json={"client_ref": ref(), "left_at": ago(minutes=2)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["arrear"]


@pytest.fixture
def activity(street, tree, db):
    """A morning on two parks. p1: prepay + electronic top-up, prepay refunded, an escape recovered by card
    at another segment, a card payment, an escape left open, a car still parked. p2: one cash payment."""
    a = street.signed_in("collectorp1", segment=0)
    o1 = street.car_in(a, "A001", "R10001", entered_at=ago(hours=2, minutes=30),
                       prepay={"amount_fen": 200, "method": "cash"}).get_json()["order"]
    _settle(street, a, o1["id"], "electronic")                       # 600 fee: 200 cash prepay + 400 electronic
    o2 = street.car_in(a, "A002", "R10002", entered_at=ago(minutes=20),
                       prepay={"amount_fen": 500, "method": "electronic"}).get_json()["order"]
    _settle(street, a, o2["id"], "cash")                             # 200 fee: 300 electronic refunded
    o3 = street.car_in(a, "A003", "R10003", entered_at=ago(hours=3, minutes=10),
                       prepay={"amount_fen": 200, "method": "cash"}).get_json()["order"]
    arrear = _escape(street, a, o3["id"])                            # 800 fee: 600 unpaid
    b = street.signed_in("collector2p1", segment=1)
    paid = street.call("POST", "/arrears/recover", b, json={"client_ref": ref(), "arrear_ids": [arrear["id"]],
                                                            "method": "card", "amount_fen": arrear["amount_fen"]})
    assert paid.status_code == 200
    o4 = street.car_in(b, "B001", "R10004", entered_at=ago(hours=1, minutes=5)).get_json()["order"]
    _settle(street, b, o4["id"], "card")                             # 400 card
    o5 = street.car_in(b, "B002", "R10005", entered_at=ago(minutes=50)).get_json()["order"]
    _escape(street, b, o5["id"])                                     # 200 unpaid, still open
    street.car_in(b, "B003", "R10006", entered_at=ago(minutes=30))   # still parked
    c = _p2_token(street)
    o7 = street.car_in(c, "C001", "R20001", entered_at=ago(hours=1, minutes=30)).get_json()["order"]
    _settle(street, c, o7["id"], "cash")                             # 400 cash at p2
    db.session.expire_all()
    return tree


def _p2_token(street):
    """collectorp2 on park p2's first segment (the street fixture keeps only p1's segment ids)."""
    from app.berths.models import BerthSegment
    from app.extensions import db

    token = street.login("collectorp2", "POS-P2-A")
    seg = db.session.scalar(select(BerthSegment.id).where(BerthSegment.name == "Alpha Street Two North"))
    response = street.call("POST", "/shifts", token, json={"client_ref": ref(), "segment_id": seg})
    assert response.status_code == 201, response.get_json()
    return token


def _range():
    today = utcnow().astimezone(TZ).date()
    return today - timedelta(days=1), today


def _bounds(d_from, d_to):
    return (datetime.combine(d_from, time.min, tzinfo=TZ).astimezone(timezone.utc),
            datetime.combine(d_to + timedelta(days=1), time.min, tzinfo=TZ).astimezone(timezone.utc))


def _ledger(db, park_ids, d_from, d_to):
    start, end = _bounds(d_from, d_to)
    return [e for e in db.session.scalars(select(LedgerEntry)) if e.park_id in park_ids and start <= e.occurred_at < end]


def _expected(entries, arrears):
    exp = {}
    for m in q.METHODS:
        exp[f"{m}_normal"] = sum(e.amount_fen for e in entries if e.method == m and e.kind in ("fee", "prepay", "prepay_refund"))
        exp[f"{m}_recovered"] = sum(e.amount_fen for e in entries if e.method == m and e.kind == "recovery")
        exp[f"{m}_total"] = exp[f"{m}_normal"] + exp[f"{m}_recovered"]
    exp["collected"] = sum(e.amount_fen for e in entries if e.kind != "pass_sale")
    exp["unpaid"] = sum(a.amount_fen for a in arrears)
    exp["receivable"] = exp["collected"] + exp["unpaid"]
    return exp


def _waive_open_debts(db, tree):
    from app.orders.services import manager_waive

    open_ids = [a.id for a in _open_arrears(db, {tree.p1.id})]
    manager_waive(tree.staff["parkp1"], open_ids, "disabled driver", utcnow())
    db.session.commit()


def _open_arrears(db, park_ids):
    return [a for a in db.session.scalars(select(Arrear)) if a.park_id in park_ids and a.state == "open"]


@pytest.mark.parametrize("viewer,parks", [("parkp1", ["p1"]), ("groupa1", ["p1", "p2"]), ("citya", ["p1", "p2"])])
def test_income_summary_equals_the_ledger(activity, db, viewer, parks):
    tree = activity
    scope = Scope.of(tree.staff[viewer])
    ids = {tree.nodes[p].id for p in parks}
    d_from, d_to = _range()
    f = q.Filters(d_from, d_to, "Asia/Shanghai")
    entries = _ledger(db, ids, d_from, d_to)
    expected = _expected(entries, _open_arrears(db, ids))
    assert expected["collected"] == 600 + 200 + 200 + 600 + 400 + (400 if "p2" in parks else 0)
    for by in q.GROUPINGS:
        rows = q.income_summary(scope, f, by)
        got = q.totals(rows, q.MONEY_KEYS)
        for key, value in expected.items():
            assert got[key] == value, (by, key)
    per_park = {r["key"]: r for r in q.income_summary(scope, f, "park")}
    p1 = per_park[tree.p1.id]
    p1_expected = _expected(_ledger(db, {tree.p1.id}, d_from, d_to), _open_arrears(db, {tree.p1.id}))
    assert {k: p1[k] for k in p1_expected} == p1_expected
    assert p1["cash_normal"] == 200 + 200 and p1["electronic_normal"] == 400 + 500 - 300
    assert p1["card_recovered"] == 600 and p1["card_normal"] == 400 and p1["unpaid"] == 200
    by_collector = {r["label"]: r for r in q.income_summary(scope, f, "collector")}
    collector2 = next(r for label, r in by_collector.items() if "collector2p1" in label)
    assert collector2["card_total"] == 1000 and collector2["unpaid"] == 200


def test_daily_report_totals_equal_income_summary(activity, db):
    tree = activity
    scope = Scope.of(tree.staff["groupa1"])
    d_from, d_to = _range()
    f = q.Filters(d_from, d_to, "Asia/Shanghai")
    daily = q.totals(q.order_report(scope, f, "day"), q.ORDER_REPORT_KEYS)
    income = q.totals(q.income_summary(scope, f, "day"), q.MONEY_KEYS)
    assert daily["cash"] == income["cash_total"] and daily["electronic"] == income["electronic_total"]
    assert daily["card"] == income["card_total"] and daily["total"] == income["collected"]
    start, end = _bounds(d_from, d_to)
    closed = [o for o in db.session.scalars(select(ParkingOrder))
              if o.state != "open" and o.left_at and start <= o.left_at < end]
    assert daily["orders"] == len(closed) == 6
    assert daily["receivable"] == sum(o.fee_fen for o in closed)
    assert daily["reductions"] == sum(o.reduction_fen for o in closed)
    monthly = q.totals(q.order_report(scope, f, "month"), q.ORDER_REPORT_KEYS)
    collectors = q.totals(q.order_report(scope, f, "collector"), q.ORDER_REPORT_KEYS)
    assert monthly == daily == collectors
    assert [r["key"] for r in q.order_report(scope, f, "day")] == [d_from, d_to]


def test_arrears_methods_berths_and_passes(activity, db):
    tree = activity
    scope = Scope.of(tree.staff["parkp1"])
    d_from, d_to = _range()
    f = q.Filters(d_from, d_to, "Asia/Shanghai")
    [row] = q.arrears_recovery(scope, f)
    assert (row["count"], row["unpaid"], row["recovered"], row["open"]) == (2, 800, 600, 200)
    assert row["rate"] == pytest.approx(0.75)
    _waive_open_debts(db, tree)
    [row] = q.arrears_recovery(scope, f)
    assert (row["recovered"], row["waived"], row["open"], row["rate"]) == (600, 200, 0, pytest.approx(0.75))
    share = {r["key"]: r for r in q.method_share(scope, f)}
    assert share["card"]["amount"] == 1000 and sum(r["share"] for r in share.values()) == pytest.approx(1.0)
    [usage] = q.berth_usage(scope, f)
    assert usage["berths"] == 6 and usage["orders"] == 6 and usage["income"] == 2000
    assert usage["income_per_berth"] == 333 and usage["turnover"] == pytest.approx(6 / 6 / 2)
    assert usage["avg_dwell"] > 0
    hours = q.occupancy_by_hour(scope, f)
    assert len(hours) == 24 and all(0 <= h["occupancy"] <= 1 for h in hours)
    traffic = q.hourly_traffic(scope, f)
    assert sum(s["in"] for s in traffic["slots"]) == 6 and sum(s["out"] for s in traffic["slots"]) == 5
    assert traffic["slots"][-1]["parked"] + traffic["slots"][-1]["in"] - traffic["slots"][-1]["out"] == 1
    assert q.pass_sales(scope, f) == []


def test_report_pages_show_table_chart_and_totals(activity, client_as):
    client = client_as("parkp1")
    d_from, d_to = _range()
    for report in BY_NAME.values():
        response = client.get(f"/reports/{report.name}?date_from={d_from}&date_to={d_to}")
        assert response.status_code == 200, report.name
        body = response.get_data(as_text=True)
        assert 'id="report-chart"' in body and 'type="application/json"' in body and 'id="show-chart"' in body
        if report.totals:
            assert 'id="totals-row"' in body
        assert "<script>" not in body  # CSP: no inline scripts
    body = client.get(f"/reports/income?by=park&date_from={d_from}&date_to={d_to}").get_data(as_text=True)
    assert "20.00" in body and "Alpha Street One" in body  # collected at p1: ¥20.00
    assert client.get("/reports/daily?date_from=garbage&park_id=x").status_code == 200


def test_a_foreign_park_filter_widens_nothing(activity, client_as, db):
    tree = activity
    d_from, d_to = _range()
    body = client_as("parkp1").get(f"/reports/income?by=park&park_id={tree.p2.id}&date_from={d_from}"
                                   f"&date_to={d_to}").get_data(as_text=True)
    assert "Alpha Street Two" not in body
    scope = Scope.of(tree.staff["parkp1"])
    f = q.filters_from_params(scope, {"park_id": str(tree.p2.id), "group_id": str(tree.a2.id)})
    assert f.park_id is None and f.group_id is None
    assert q.park_ids(scope, f) == [tree.p1.id]


def test_group_filter_and_drill_down(activity, client_as):
    tree = activity
    d_from, d_to = _range()
    client = client_as("citya")
    body = client.get(f"/reports/income?by=park&group_id={tree.a1.id}&date_from={d_from}&date_to={d_to}") \
        .get_data(as_text=True)
    assert "Alpha Street One" in body and "Alpha Street Two" in body
    assert f"park_id={tree.p1.id}" in body  # the park row opens its days
