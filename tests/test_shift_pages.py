"""Shift pages: the list per level with filters, figures that equal independent sums of the
ledger, the detail page with its orders, and the export rows."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.berths.models import BerthSegment
from app.exports.registry import EXPORTS
from app.orders.models import LedgerEntry, ParkingOrder
from app.shifts.models import Shift
from app.staff.models import Staff
from app.tenancy.scope import Scope
from tests.factories import MARKER
from tests.pos_api.conftest import ago, ref, street  # noqa: F401  (the street fixture)
from tests.test_order_pages import _car, _escape, _settle


def _ledger_sum(db, shift_id, *where):
    return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                             .where(LedgerEntry.shift_id == shift_id, *where))


@pytest.fixture
def shifts(street, db, tree):
    """collectorp1 works a shift (prepay, cash, electronic, an escape) and signs out; collector2p1
    recovers the debt in a second shift that is still open. A Harbor shift exists too."""
    token = street.signed_in()
    a = _car(street, token, "A001", "沪A10001", entered_at=ago(hours=2, minutes=10),
             prepay={"amount_fen": 500, "method": "cash"})
    _settle(street, token, a, "cash")
    b = _car(street, token, "A002", "沪A10002", entered_at=ago(hours=1, minutes=5),
             prepay={"amount_fen": 1000, "method": "electronic"})
    _settle(street, token, b, "electronic")  # prepaid more than the fee: an electronic refund
    c = _car(street, token, "A003", "沪A10003", entered_at=ago(hours=3, minutes=20))
    arrear = _escape(street, token, c)
    response = street.call("POST", "/shifts/current/close", token, json={"client_ref": ref()})
    assert response.status_code == 200, response.get_json()
    first = response.get_json()["shift"]["id"]
    other = street.signed_in("collector2p1", segment=1)
    from app.orders.models import Arrear
    owed = db.session.get(Arrear, arrear).amount_fen
    response = street.call("POST", "/arrears/recover", other, json={
        "client_ref": ref(), "arrear_ids": [arrear], "method": "card", "amount_fen": owed})
    assert response.status_code == 200, response.get_json()
    second = db.session.scalar(select(Shift.id).where(Shift.id != first))
    hseg = BerthSegment(park_id=tree.hp.id, name=f"{MARKER} shift segment")
    db.session.add(hseg)
    db.session.flush()
    db.session.add(Shift(park_id=tree.hp.id, segment_id=hseg.id, collector_id=tree.staff["harborcollector"].id,
                         started_at=datetime.now(timezone.utc)))
    db.session.commit()
    return {"first": first, "second": second, "orders": (a, b, c), "arrear": arrear}


def _row(body, name_part):
    rows = re.findall(r"<tr>\s*<td><a href=\"/shifts/\d+\">.*?</tr>", body, re.S)
    return [r for r in rows if name_part in r]


def _money(fen):
    return f"¥{fen // 100}.{fen % 100:02d}" if fen >= 0 else f"-¥{-fen // 100}.{-fen % 100:02d}"


@pytest.mark.parametrize("viewer", ["parkp1", "groupa1", "citya"])
def test_shift_list_figures_equal_ledger_sums(shifts, client_as, db, viewer):
    body = client_as(viewer).get("/shifts").get_data(as_text=True)
    assert MARKER not in body
    first = db.session.get(Shift, shifts["first"])
    row = _row(body, first.collector.display_name)
    assert len(row) == 1
    row = row[0]
    cash = _ledger_sum(db, first.id, LedgerEntry.method == "cash")
    electronic = _ledger_sum(db, first.id, LedgerEntry.method == "electronic")
    assert (cash, electronic) == (600, 400)  # ¥5 prepaid + ¥1 on leaving; ¥10 prepaid less a ¥6 refund
    cells = re.findall(r'<td class="text-end[^"]*">(.*?)</td>', row, re.S)
    values = [re.sub(r"<[^>]+>", "", c).strip() for c in cells]
    cars_in, cars_out, cash_cell, e_cell, card_cell, recovered, unpaid, hand_over = values
    assert (cars_in, cars_out) == ("3", "3")
    assert cash_cell == _money(cash) and hand_over == _money(cash)
    assert e_cell == _money(electronic)
    assert card_cell == "¥0.00" and recovered == "¥0.00"
    assert unpaid == _money(db.session.scalar(select(ParkingOrder.fee_fen).where(
        ParkingOrder.id == shifts["orders"][2])))
    second = db.session.get(Shift, shifts["second"])
    row = _row(body, second.collector.display_name)[0]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r'<td class="text-end[^"]*">(.*?)</td>', row,
                                                                     re.S)]
    assert cells[5] == _money(_ledger_sum(db, second.id, LedgerEntry.kind == "recovery"))
    assert cells[7] == "¥0.00" and "on duty" in row


def test_shift_figures_match_independent_sums(shifts, db):
    from app.shifts.services import shift_summary
    from app.shifts.views import money_by_method

    for shift_id in (shifts["first"], shifts["second"]):
        shift = db.session.get(Shift, shift_id)
        m = money_by_method(shift_summary(shift))
        assert m["cash"] + m["electronic"] + m["card"] + m["recovered"] == _ledger_sum(db, shift_id)
        assert m["hand_over"] == _ledger_sum(db, shift_id, LedgerEntry.method == "cash")
        assert m["recovered"] == _ledger_sum(db, shift_id, LedgerEntry.kind == "recovery")


def test_shift_filters(shifts, client_as, tree, db, street):
    client = client_as("groupa1")
    first = db.session.get(Shift, shifts["first"])
    second = db.session.get(Shift, shifts["second"])
    names = (first.collector.display_name, second.collector.display_name)

    def shown(query):
        response = client.get("/shifts?" + query)
        assert response.status_code == 200
        body = response.get_data(as_text=True)
        return {n for n in names if _row(body, n)}

    assert shown(f"collector_id={first.collector_id}") == {names[0]}
    assert shown(f"segment_id={street.segments[1]}") == {names[1]}
    assert shown(f"park_id={tree.p2.id}") == set()
    today = datetime.now(timezone(timedelta(hours=8))).date()
    assert shown(f"date_from={today - timedelta(days=1)}&date_to={today + timedelta(days=1)}") == set(names)
    assert shown(f"date_to={today - timedelta(days=2)}") == set()
    first.late = True
    db.session.commit()
    assert shown("late=yes") == {names[0]} and shown("late=no") == {names[1]}
    assert shown("early=yes") == set()


def test_shift_detail_shows_summary_orders_and_ledger(shifts, client_as, db):
    client = client_as("parkp1")
    body = client.get(f"/shifts/{shifts['first']}").get_data(as_text=True)
    for plate in ("沪A10001", "沪A10002", "沪A10003"):
        assert plate in body
    hand_over = _ledger_sum(db, shifts["first"], LedgerEntry.method == "cash")
    assert re.search(r'id="hand-over">\s*<span[^>]*>' + re.escape(_money(hand_over)), body)
    ledger = body[body.index('id="shift-ledger"'):]
    assert "Prepayment refund" in ledger and "Prepayment" in ledger and "Parking fee" in ledger
    harbor = db.session.scalar(select(Shift.id).where(Shift.collector.has(Staff.username == "harborcollector")))
    assert client.get(f"/shifts/{harbor}").status_code == 404
    assert client_as("citya").get(f"/shifts/{harbor}").status_code == 404


def test_shift_export_rows_match_the_list(shifts, db, app, tree):
    from app.shifts.services import shift_summary

    spec = EXPORTS["shifts"]
    for viewer in ("parkp1", "citya"):
        scope = Scope.of(db.session.scalar(select(Staff).where(Staff.username == viewer)))
        with app.test_request_context():
            rows = list(spec.rows(scope, {}))
            assert [h for h, _ in spec.columns][0] == "Collector"
        assert len(rows) == 2 and all(len(r) == len(spec.columns) for r in rows)
        assert not any(MARKER in str(v) for r in rows for v in r)
        first = db.session.get(Shift, shifts["first"])
        row = next(r for r in rows if r[0] == first.collector.display_name)
        assert row[-1] == shift_summary(first).cash_to_hand_over_fen
        with app.test_request_context():
            assert list(spec.rows(scope, {"collector_id": "nonsense", "late": "yes"})) == []
            assert len(list(spec.rows(scope, {"park_id": str(tree.hp.id)}))) == 2  # refused, not used


def test_shift_list_links_to_export(shifts, client_as, tree):
    body = client_as("groupa1").get(f"/shifts?park_id={tree.p1.id}").get_data(as_text=True)
    assert f'href="/exports/new/shifts?park_id={tree.p1.id}"' in body
