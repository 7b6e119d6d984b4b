"""Order pages: records with filters and keyset paging, one order, cars parked with manual
settlement, long stays, unpaid orders with manager recovery, the berth check, and the exports —
for park, group and city managers, never showing another tenant's rows."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote as urlquote

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.berths.models import BerthSegment
from app.exports.registry import EXPORTS
from app.orders import queries
from app.orders.models import Arrear, LedgerEntry, ParkingOrder
from app.parks.models import FreeReason
from app.tenancy.scope import Scope
from tests.factories import MARKER
from tests.pos_api.conftest import ago, ref, street  # noqa: F401  (the street fixture)


def _count(db, model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _car(street, token, berth, plate, **kw):
    response = street.car_in(token, berth, plate, **kw)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["order"]["id"]


def _settle(street, token, order_id, method="cash"):
    left_at = ago(seconds=1)
    quote = street.call("GET", f"/orders/{order_id}/quote?left_at={urlquote(left_at)}", token).get_json()["quote"]
    response = street.call("POST", f"/orders/{order_id}/settle", token, json={
        "client_ref": ref(), "left_at": left_at, "method": method, "amount_fen": quote["due_fen"]})
    assert response.status_code == 200, response.get_json()
    return quote


def _escape(street, token, order_id):
    response = street.call("POST", f"/orders/{order_id}/escape", token, json={"client_ref": ref(),
                                                                              "left_at": ago(seconds=1)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["arrear"]["id"]


def _harbor_order(db, tree, plate="HB99999", state="open", **kw):
    order = ParkingOrder(park_id=tree.hp.id, plate=plate, state=state, free_reason=f"{MARKER} reason",
                         entered_at=kw.pop("entered_at", datetime.now(timezone.utc) - timedelta(days=3)), **kw)
    db.session.add(order)
    db.session.commit()
    return order


@pytest.fixture
def day(street, tree, db):
    """A collector's morning at p1: one car settled in cash with a prepayment, one escaped, one still
    parked; plus a car at p2 and a Harbor order and debt that nobody in Alpha may see."""
    token = street.signed_in()
    settled = _car(street, token, "A001", "沪A12345", entered_at=ago(hours=2, minutes=30),
                   prepay={"amount_fen": 200, "method": "cash"})
    _settle(street, token, settled)
    escaped = _car(street, token, "A002", "沪B55555", entered_at=ago(hours=1, minutes=10))
    arrear = _escape(street, token, escaped)
    parked = _car(street, token, "A003", "苏E77777", entered_at=ago(hours=3, minutes=5))
    p2_seg = db.session.scalar(select(BerthSegment).where(BerthSegment.park_id == tree.p2.id))
    p2 = ParkingOrder(park_id=tree.p2.id, segment_id=p2_seg.id, plate="京C00002",
                      entered_at=datetime.now(timezone.utc) - timedelta(hours=1))
    db.session.add(p2)
    harbor = _harbor_order(db, tree)
    harbor_unpaid = _harbor_order(db, tree, plate="HB88888", state="unpaid")
    db.session.add(Arrear(park_id=tree.hp.id, order_id=harbor_unpaid.id, plate="HB88888", amount_fen=700))
    db.session.commit()
    return {"token": token, "settled": settled, "escaped": escaped, "arrear": arrear, "parked": parked,
            "p2": p2.id, "harbor": harbor.id}


LIST_PAGES = ["/orders", "/orders/parked", "/orders/long-stays?min_days=0", "/orders/unpaid", "/orders/recovered",
              "/shifts"]


# --- lists per level --------------------------------------------------------------------------

@pytest.mark.parametrize("viewer, sees, hidden", [
    ("parkp1", ["沪A12345", "沪B55555", "苏E77777"], ["京C00002", "HB99999", MARKER]),
    ("groupa1", ["沪A12345", "京C00002"], ["HB99999", MARKER]),
    ("citya", ["沪A12345", "京C00002"], ["HB99999", MARKER]),
])
def test_order_records_per_level(day, client_as, viewer, sees, hidden):
    body = client_as(viewer).get("/orders").get_data(as_text=True)
    for plate in sees:
        assert plate in body, (viewer, plate)
    for text in hidden:
        assert text not in body, (viewer, text)


@pytest.mark.parametrize("viewer", ["parkp1", "groupa1", "citya"])
def test_no_list_page_shows_another_tenant(day, client_as, viewer, db):
    client = client_as(viewer)
    for url in LIST_PAGES + ["/orders/berth-check"]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        body = response.get_data(as_text=True)
        assert MARKER not in body and "HB99999" not in body and "HB88888" not in body, url
    assert client.get(f"/orders/{day['harbor']}").status_code == 404
    assert client.get(f"/orders/{day['harbor']}/settle").status_code == 404
    harbor_arrear = db.session.scalar(select(Arrear.id).where(Arrear.plate == "HB88888"))
    body = client.get(f"/orders/unpaid/recover?arrear_id={harbor_arrear}").get_data(as_text=True)
    assert "HB88888" not in body


def test_order_records_columns_and_money(day, client_as):
    body = client_as("parkp1").get("/orders").get_data(as_text=True)
    row = re.search(r"<tr>\s*<td><a[^>]*>沪A12345</a>.*?</tr>", body, re.S).group(0)
    assert "6.00" in row          # receivable: 2h30 at ¥2 per started hour
    assert "2.00" in row          # prepaid
    assert "Cash" in row and "Settled" in row and "A001" in row and "Alpha Street One" in row
    assert "2 h 30 min" in row or "2 h 29 min" in row


def test_filters(day, client_as, tree, street, db):
    client = client_as("groupa1")

    def plates(query):
        response = client.get("/orders?" + query)
        assert response.status_code == 200, query
        body = response.get_data(as_text=True)
        return {p for p in ("沪A12345", "沪B55555", "苏E77777", "京C00002") if p in body}

    assert plates("plate=a123") == {"沪A12345"}                     # partial, any case
    assert plates("state=unpaid") == {"沪B55555"}
    assert plates("state=open") == {"苏E77777", "京C00002"}
    assert plates(f"park_id={tree.p2.id}") == {"京C00002"}
    segment = street.segments[0]
    assert plates(f"park_id={tree.p1.id}&segment_id={segment}") == {"沪A12345", "沪B55555", "苏E77777"}
    collector = db.session.scalar(select(ParkingOrder.entry_collector_id).where(ParkingOrder.plate == "沪A12345"))
    assert plates(f"collector_id={collector}") == {"沪A12345", "沪B55555", "苏E77777"}
    assert plates("method=cash") == {"沪A12345"}
    assert plates("amount_min=5.5&amount_max=6") == {"沪A12345"}     # kept ¥6: prepaid 2 + paid 4
    today = datetime.now(timezone(timedelta(hours=8))).date()
    assert plates(f"date_from={today - timedelta(days=1)}&date_to={today}") == {
        "沪A12345", "沪B55555", "苏E77777", "京C00002"}
    assert plates(f"date_from={today + timedelta(days=1)}") == set()
    assert plates("time_field=left&date_from=2000-01-01") == {"沪A12345", "沪B55555"}
    assert plates("entry_method=pos") == {"沪A12345", "沪B55555", "苏E77777", "京C00002"}


def test_amount_filter_is_on_money_kept(day, client_as, db):
    kept = db.session.scalar(select(ParkingOrder.paid_fen).where(ParkingOrder.plate == "沪A12345"))
    assert kept == 600
    body = client_as("parkp1").get("/orders?amount_min=6&amount_max=6.00").get_data(as_text=True)
    assert "沪A12345" in body and "沪B55555" not in body


@pytest.mark.parametrize("query", [
    "park_id=abc", "park_id=999999999", "segment_id=-1", "collector_id=x", "date_from=2024-13-45",
    "date_from=0001-01-01", "date_to=9999-12-31", "amount_min=abc", "amount_max=1e999", "amount_min=1.234",
    "state=burnt", "method=%00", "time_field=nope", "after=garbage", "before=1.2.3", "after=99999999999999999999.1",
    "after=-5.-5", "last=yes", "plate=" + "x" * 200, "entry_method=<script>",
])
def test_bad_filter_values_never_500(day, client_as, query):
    client = client_as("citya")
    for url in ("/orders", "/orders/parked", "/orders/unpaid", "/orders/recovered", "/shifts",
                "/orders/berth-check", "/orders/long-stays"):
        response = client.get(f"{url}?{query}")
        assert response.status_code in (200, 400), (url, query, response.status_code)


def test_foreign_park_in_filter_is_refused_not_used(day, client_as, tree):
    response = client_as("parkp1").get(f"/orders?park_id={tree.p2.id}")
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Not a valid choice" in body
    assert "京C00002" not in body and "沪A12345" in body  # the refused filter is ignored, scope still applies


# --- keyset pagination --------------------------------------------------------------------------

@pytest.fixture
def many(tree, db):
    base = datetime(2024, 6, 1, 2, 0, tzinfo=timezone.utc)
    rows = []
    for i in range(11):
        # two orders share an entry time, so the id breaks the tie
        at = base + timedelta(minutes=10 * (i // 2 * 2))
        rows.append(ParkingOrder(park_id=tree.p1.id, plate=f"PG{i:05d}", state="settled", entered_at=at,
                                 left_at=at + timedelta(hours=1), fee_fen=100 * i, paid_fen=100 * i))
    db.session.add_all(rows)
    db.session.commit()
    expected = [o.plate for o in sorted(rows, key=lambda o: (o.entered_at, o.id), reverse=True)]
    return expected


def _page_plates(body):
    return re.findall(r">(PG\d{5})</a>", body)


def _link(body, rel):
    match = re.search(rf'<li class="page-item\s*"><a class="page-link" rel="{rel}" href="([^"]+)"', body)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.mark.parametrize("viewer", ["parkp1", "citya"])
def test_keyset_pages_walk_forward_and_back(app, many, client_as, viewer, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 3)
    client = client_as(viewer)
    seen, pages, url = [], [], "/orders?plate=PG"
    while url:
        body = client.get(url).get_data(as_text=True)
        plates = _page_plates(body)
        assert 0 < len(plates) <= 3
        pages.append((url, plates))
        seen += plates
        url = _link(body, "next")
    assert seen == many and len(pages) == 4
    # previous from the third page is the second page again
    body = client.get(pages[2][0]).get_data(as_text=True)
    assert _page_plates(client.get(_link(body, "prev")).get_data(as_text=True)) == pages[1][1]
    # the last page holds the oldest rows; from it, "previous" goes back towards the newest
    body = client.get("/orders?plate=PG&last=1").get_data(as_text=True)
    assert _page_plates(body) == many[-3:]
    assert _link(body, "next") is None and _link(body, "prev")
    assert _page_plates(client.get(_link(body, "prev")).get_data(as_text=True)) == many[-6:-3]
    # the first page has no previous
    assert _link(client.get("/orders?plate=PG").get_data(as_text=True), "prev") is None


def test_count_is_exact_only_when_narrowed(app, many, client_as, tree, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_LIMIT", 5)
    client = client_as("citya")
    body = client.get("/orders").get_data(as_text=True)
    assert "more than 5 rows" in body
    body = client.get(f"/orders?park_id={tree.p1.id}&date_from=2024-06-01&date_to=2024-06-01").get_data(as_text=True)
    assert "11 rows" in body


def test_keyset_query_uses_no_offset(app, many, tree, db):
    f = queries.OrderFilters(park_id=tree.p1.id)
    page = queries.keyset_page(queries.order_list(Scope.platform(), f), ParkingOrder.entered_at, ParkingOrder.id,
                               size=4)
    nxt = queries.keyset_page(queries.order_list(Scope.platform(), f), ParkingOrder.entered_at, ParkingOrder.id,
                              after=page.next_cursor, size=4)
    assert [o.plate for o in page.items + nxt.items] == many[:8]
    sql = str(queries.order_list(Scope.platform(), f).compile()).upper()
    assert "OFFSET" not in sql


# --- one order --------------------------------------------------------------------------------

def test_order_detail_timeline_ledger_and_fee_lines(day, client_as):
    body = client_as("parkp1").get(f"/orders/{day['settled']}").get_data(as_text=True)
    timeline = body[body.index('id="timeline"'):body.index("</ol>", body.index('id="timeline"'))]
    assert timeline.index("Entered") < timeline.index("Prepaid") and timeline.index("Entered") < timeline.index(
        "Settled")  # the prepayment is booked when the handheld sent it, the exit at the time the car left
    ledger = body[body.index('id="ledger-lines"'):]
    assert "Prepayment" in ledger and "Parking fee" in ledger and "¥4.00" in ledger
    assert 'id="fee-lines"' in body and "6.00" in body


def test_order_detail_of_escaped_and_recovered_order(day, client_as, db):
    client = client_as("groupa1")
    body = client.get(f"/orders/{day['escaped']}").get_data(as_text=True)
    assert "Left without paying" in body and "Recover the debt" in body
    total = db.session.get(Arrear, day["arrear"]).amount_fen
    client.post("/orders/unpaid/recover", data={"arrear_id": day["arrear"], "method": "cash",
                                                "amount": f"{total / 100:.2f}"})
    body = client.get(f"/orders/{day['escaped']}").get_data(as_text=True)
    assert "Debt recovered" in body and "recovery" in body
    audit = body[body.index('id="order-audit"'):]
    assert "recover" in audit and "groupa1" in audit


def test_order_photos_show_on_the_detail_and_stream_in_scope_only(day, client_as, street, db, app, tmp_path,
                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path))
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    response = street.call("POST", f"/orders/{day['parked']}/photos", day["token"],
                           data={"client_ref": ref(), "kind": "entry", "photo": (__import__("io").BytesIO(png),
                                                                                  "a.png")})
    assert response.status_code == 201, response.get_json()
    client = client_as("parkp1")
    body = client.get(f"/orders/{day['parked']}").get_data(as_text=True)
    photos = body[body.index('id="photos"'):]
    src = re.search(r'<img [^>]*src="([^"]+)"', photos).group(1)
    assert "Entry" in photos and f'href="{src}"' in photos
    image = client.get(src)
    assert image.status_code == 200 and image.data == png and image.mimetype == "image/png"
    assert "private" in image.headers["Cache-Control"]
    for outsider in ("parkp2", "harborpark"):
        assert client_as(outsider).get(src).status_code == 404, outsider
    for path in tmp_path.rglob("*.png"):
        path.unlink()  # purged from disk: gone, not a 500
    assert client.get(src).status_code == 404


# --- cars parked, long stays, manual settlement -----------------------------------------------

def test_cars_parked_show_live_fee(day, client_as):
    body = client_as("parkp1").get("/orders/parked").get_data(as_text=True)
    assert "苏E77777" in body and "沪A12345" not in body
    row = re.search(r"<tr>\s*<td><a[^>]*>苏E77777</a>.*?</tr>", body, re.S).group(0)
    assert "8.00" in row  # 3h05 so far: four started hours
    assert "/orders/%d/settle" % day["parked"] in row


def test_long_stays_default_and_configurable_days(tree, db, client_as):
    now = datetime.now(timezone.utc)
    for plate, days in (("LS00001", 1), ("LS00003", 3), ("LS00012", 12)):
        db.session.add(ParkingOrder(park_id=tree.p1.id, plate=plate, entered_at=now - timedelta(days=days)))
    db.session.commit()
    client = client_as("groupa1")
    body = client.get("/orders/long-stays").get_data(as_text=True)
    assert "LS00003" in body and "LS00001" not in body and "LS00012" not in body
    body = client.get("/orders/long-stays?min_days=0&max_days=20").get_data(as_text=True)
    assert all(p in body for p in ("LS00001", "LS00003", "LS00012"))
    assert "/exports/new/parked?" in body and "min_days=0" in body


@pytest.mark.parametrize("viewer", ["parkp1", "groupa1", "citya"])
def test_manual_settlement_writes_ledger_audit_and_state(day, client_as, db, viewer):
    client = client_as(viewer)
    page = client.get(f"/orders/{day['parked']}/settle")
    assert page.status_code == 200 and "8.00" in page.get_data(as_text=True)
    response = client.post(f"/orders/{day['parked']}/settle", data={"method": "electronic", "amount": "8.00"})
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    order = db.session.get(ParkingOrder, day["parked"])
    assert (order.state, order.paid_fen, order.reduction_fen, order.payment_method) == ("settled", 800, 0, "electronic")
    assert order.exit_collector.username == viewer and order.fee_lines
    rows = db.session.execute(select(LedgerEntry.kind, LedgerEntry.method, LedgerEntry.amount_fen,
                                     LedgerEntry.shift_id).where(LedgerEntry.order_id == order.id)).all()
    assert rows == [("fee", "electronic", 800, None)]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "ParkingOrder",
                                                       AuditEntry.object_id == order.id))
    assert entry.action == "settle" and entry.actor_name == viewer and entry.park_id == order.park_id
    assert entry.after["state"] == "settled" and entry.before["state"] == "open"
    # a settled order cannot be settled twice
    again = client.post(f"/orders/{day['parked']}/settle", data={"method": "cash", "amount": "8.00"})
    assert again.status_code == 302 and _count(db, LedgerEntry, LedgerEntry.order_id == order.id) == 1


def test_zero_settlement_needs_a_reason(day, client_as, db, tree):
    client = client_as("parkp1")
    response = client.post(f"/orders/{day['parked']}/settle", data={"method": "free", "amount": "0"})
    assert response.status_code == 400 and "reason" in response.get_data(as_text=True)
    assert db.session.get(ParkingOrder, day["parked"]).state == "open"
    db.session.add(FreeReason(park_id=tree.p1.id, name="Ambulance"))
    db.session.commit()
    response = client.post(f"/orders/{day['parked']}/settle", data={"method": "free", "amount": "0",
                                                                    "reason": "Not a reason"})
    assert response.status_code == 400
    response = client.post(f"/orders/{day['parked']}/settle", data={"method": "free", "amount": "0",
                                                                    "reason": "Ambulance"})
    assert response.status_code == 302
    db.session.expire_all()
    order = db.session.get(ParkingOrder, day["parked"])
    assert (order.state, order.paid_fen, order.reduction_fen, order.free_reason) == ("settled", 0, 800, "Ambulance")
    assert _count(db, LedgerEntry, LedgerEntry.order_id == order.id) == 0
    assert _count(db, AuditEntry, AuditEntry.action == "settle", AuditEntry.object_id == order.id) == 1


def test_manual_settlement_refuses_bad_amounts(day, client_as, db):
    client = client_as("parkp1")
    for data in ({"method": "cash", "amount": "99.00"}, {"method": "cash", "amount": "0"},
                 {"method": "cash", "amount": "-1"}, {"method": "cash", "amount": "abc"},
                 {"method": "free", "amount": "1.00"}, {"method": "cash", "amount": "3.00"},  # reduction, no reason
                 {"method": "bitcoin", "amount": "8.00"}):
        response = client.post(f"/orders/{day['parked']}/settle", data=data)
        assert response.status_code == 400, data
    db.session.expire_all()
    assert db.session.get(ParkingOrder, day["parked"]).state == "open"
    assert _count(db, LedgerEntry, LedgerEntry.order_id == day["parked"]) == 0


def test_partial_settlement_with_reason_records_reduction(day, client_as, db, tree):
    db.session.add(FreeReason(park_id=tree.p1.id, name="Disabled driver"))
    db.session.commit()
    response = client_as("parkp1").post(f"/orders/{day['parked']}/settle", data={
        "method": "cash", "amount": "3.00", "reason": "Disabled driver"})
    assert response.status_code == 302
    db.session.expire_all()
    order = db.session.get(ParkingOrder, day["parked"])
    assert (order.paid_fen, order.reduction_fen, order.free_reason) == (300, 500, "Disabled driver")


def _limited_client(make, tree, client_as, codes):
    role = make.role(tree.p1, "Viewer only", codes=codes)
    make.staff(tree.p1, "viewerp1", role=role)
    return client_as("viewerp1")


def test_roles_without_settle_or_recover_get_403(day, make, tree, client_as, db):
    client = _limited_client(make, tree, client_as, ["orders.view"])
    assert client.get("/orders").status_code == 200
    body = client.get("/orders/parked").get_data(as_text=True)
    assert "/settle" not in body and "Export to Excel" not in body
    assert client.get(f"/orders/{day['parked']}/settle").status_code == 403
    assert client.post(f"/orders/{day['parked']}/settle", data={"method": "cash", "amount": "8"}).status_code == 403
    assert client.get(f"/orders/unpaid/recover?arrear_id={day['arrear']}").status_code == 403
    assert client.post("/orders/unpaid/recover", data={"arrear_id": day["arrear"], "method": "cash",
                                                       "amount": "4"}).status_code == 403
    assert 'name="arrear_id"' not in client.get("/orders/unpaid").get_data(as_text=True)
    assert client.get("/shifts").status_code == 403
    assert db.session.get(ParkingOrder, day["parked"]).state == "open"
    assert _count(db, Arrear, Arrear.state == "recovered") == 0


# --- unpaid orders and recovery ---------------------------------------------------------------

@pytest.fixture
def debts(street):
    """Three open debts at p1: two of one plate (it escaped twice), one of another."""
    token = street.signed_in()
    ids = []
    for berth, plate, hours in (("A001", "沪D11111", 1), ("A002", "沪D11111", 2), ("A003", "沪D22222", 3)):
        ids.append(_escape(street, token, _car(street, token, berth, plate, entered_at=ago(hours=hours, minutes=30))))
    return ids


def test_unpaid_list_total_and_filters(debts, client_as, tree, db):
    client = client_as("citya")
    body = client.get("/orders/unpaid").get_data(as_text=True)
    total = db.session.scalar(select(func.sum(Arrear.amount_fen)).where(Arrear.id.in_(debts)))
    assert f"3 debts, {total // 100}.{total % 100:02d} yuan owed" in body
    body = client.get("/orders/unpaid?plate=d2222").get_data(as_text=True)
    assert "1 debts, 8.00 yuan owed" in body and "沪D22222" in body and "沪D11111" not in body
    body = client.get(f"/orders/unpaid?park_id={tree.p2.id}").get_data(as_text=True)
    assert "0 debts" in body and "No unpaid order matches" in body
    assert "/exports/new/arrears?park_id=" in body


@pytest.mark.parametrize("viewer", ["parkp1", "groupa1", "citya"])
def test_manager_recovery_all_or_nothing(debts, client_as, db, viewer):
    client = client_as(viewer)
    owed = {a.id: a.amount_fen for a in db.session.scalars(select(Arrear).where(Arrear.id.in_(debts)))}
    chosen = debts[:2]
    total = sum(owed[i] for i in chosen)
    page = client.get("/orders/unpaid/recover?" + "&".join(f"arrear_id={i}" for i in chosen))
    assert page.status_code == 200 and f"{total / 100:.2f}" in page.get_data(as_text=True)
    # wrong amount: nothing happens
    response = client.post("/orders/unpaid/recover", data={"arrear_id": chosen, "method": "cash",
                                                           "amount": f"{(total - 1) / 100:.2f}"})
    assert response.status_code == 400
    assert _count(db, Arrear, Arrear.state == "recovered") == 0 and _count(db, LedgerEntry, LedgerEntry.kind ==
                                                                           "recovery") == 0
    response = client.post("/orders/unpaid/recover", data={"arrear_id": chosen, "method": "cash",
                                                           "amount": f"{total / 100:.2f}"})
    assert response.status_code == 302
    db.session.expire_all()
    for arrear_id in chosen:
        arrear = db.session.get(Arrear, arrear_id)
        assert arrear.state == "recovered" and arrear.recovered_by_id and arrear.recovered_method == "cash"
        assert arrear.order.state == "recovered"
    rows = db.session.execute(select(LedgerEntry.arrear_id, LedgerEntry.amount_fen, LedgerEntry.method)
                              .where(LedgerEntry.kind == "recovery").order_by(LedgerEntry.arrear_id)).all()
    assert rows == [(i, owed[i], "cash") for i in sorted(chosen)]
    assert _count(db, AuditEntry, AuditEntry.action == "recover", AuditEntry.actor_name == viewer) == 2
    # an already recovered debt with an open one: refused as a whole
    response = client.post("/orders/unpaid/recover", data={"arrear_id": [chosen[0], debts[2]], "method": "cash",
                                                           "amount": f"{(owed[chosen[0]] + owed[debts[2]]) / 100:.2f}"})
    assert response.status_code == 400
    assert db.session.get(Arrear, debts[2]).state == "open"
    # history: who, when, where
    body = client.get("/orders/recovered").get_data(as_text=True)
    assert "沪D11111" in body and "Alpha Street One" in body and "Cash" in body


def test_recovery_with_a_foreign_debt_changes_nothing(debts, client_as, db, tree):
    harbor = _harbor_order(db, tree, plate="HB77777", state="unpaid")
    foreign = Arrear(park_id=tree.hp.id, order_id=harbor.id, plate="HB77777", amount_fen=500)
    db.session.add(foreign)
    db.session.commit()
    owed = db.session.get(Arrear, debts[0]).amount_fen
    response = client_as("citya").post("/orders/unpaid/recover", data={
        "arrear_id": [debts[0], foreign.id], "method": "cash", "amount": f"{(owed + 500) / 100:.2f}"})
    assert response.status_code == 400 and "HB77777" not in response.get_data(as_text=True)
    db.session.expire_all()
    assert _count(db, Arrear, Arrear.state == "recovered") == 0
    assert _count(db, LedgerEntry, LedgerEntry.kind == "recovery") == 0


def test_recover_page_without_a_choice_says_what_to_do(client_as, tree):
    client = client_as("parkp1")
    body = client.get("/orders/unpaid/recover").get_data(as_text=True)
    assert "Tick the debts" in body or "No debt chosen" in body
    assert client.post("/orders/unpaid/recover", data={"method": "cash", "amount": "1"}).status_code == 400


def test_zero_recovery_waives_with_a_reason_audited_and_no_money(debts, client_as, db, make, tree):
    client = client_as("groupa1")
    chosen = debts[:2]
    owed = {a.id: a.amount_fen for a in db.session.scalars(select(Arrear).where(Arrear.id.in_(chosen)))}
    page = client.get("/orders/unpaid/recover?" + "&".join(f"arrear_id={i}" for i in chosen))
    assert 'id="waive-form"' in page.get_data(as_text=True)
    harbor = _harbor_order(db, tree, plate="HB77778", state="unpaid")
    foreign = Arrear(park_id=tree.hp.id, order_id=harbor.id, plate="HB77778", amount_fen=500)
    db.session.add(foreign)
    db.session.commit()
    for data in ({"arrear_id": chosen, "reason": " "}, {"arrear_id": [chosen[0], foreign.id], "reason": "Hearse"}):
        response = client.post("/orders/unpaid/waive", data=data)
        assert response.status_code == 400 and "HB77778" not in response.get_data(as_text=True)
    assert _count(db, Arrear, Arrear.state != "open") == 0
    response = client.post("/orders/unpaid/waive", data={"arrear_id": chosen, "reason": "Hearse on duty"})
    assert response.status_code == 302
    db.session.expire_all()
    for arrear_id in chosen:
        arrear = db.session.get(Arrear, arrear_id)
        order = arrear.order
        assert arrear.state == "waived" and arrear.recovered_method == "free" and arrear.recovered_by_id
        assert order.state == "recovered" and order.free_reason == "Hearse on duty"
        assert order.fee_fen == order.paid_fen + order.reduction_fen and order.reduction_fen >= owed[arrear_id]
        ledger = db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                                   .where(LedgerEntry.order_id == order.id))
        assert ledger == order.paid_fen  # no money moved
    assert _count(db, LedgerEntry, LedgerEntry.kind == "recovery") == 0
    assert _count(db, AuditEntry, AuditEntry.action == "waive", AuditEntry.actor_name == "groupa1") == 2
    # a waived debt cannot be recovered or waived again
    assert client.post("/orders/unpaid/waive", data={"arrear_id": chosen[0], "reason": "again"}).status_code == 400
    unpaid = client.get("/orders/unpaid").get_data(as_text=True)
    assert "1 debts" in unpaid
    history = client.get("/orders/recovered").get_data(as_text=True)
    assert "2 debts closed, 0.00 yuan recovered" in history and "waived" in history and "Hearse on duty" in history
    detail = client.get(f"/orders/{db.session.get(Arrear, chosen[0]).order_id}").get_data(as_text=True)
    assert "Debt waived" in detail
    # recovering money does not let a role waive
    limited = _limited_client(make, tree, client_as, ["orders.view", "orders.recover"])
    assert 'id="waive-form"' not in limited.get(f"/orders/unpaid/recover?arrear_id={debts[2]}").get_data(as_text=True)
    assert limited.post("/orders/unpaid/waive", data={"arrear_id": debts[2], "reason": "x"}).status_code == 403
    assert db.session.get(Arrear, debts[2]).state == "open"


# --- berth check and empty states -------------------------------------------------------------

def test_berth_check_shows_orders_beside_berths_without_sensors(day, client_as, street):
    client = client_as("groupa1")
    body = client.get("/orders/berth-check").get_data(as_text=True)
    assert "Choose a park or a berth segment" in body and 'id="berth-check-table"' not in body
    body = client.get(f"/orders/berth-check?segment_id={street.segments[0]}").get_data(as_text=True)
    table = body[body.index('id="berth-check-table"'):body.index("</table>")]
    assert "A003" in table and "苏E77777" in table and "no sensor" in table
    assert "data-flag=" not in table  # without a sensor nothing can disagree


def test_empty_states_tell_what_to_do(tree, client_as):
    client = client_as("parkp1")
    assert "No orders yet" in client.get("/orders").get_data(as_text=True)
    assert "No car is parked right now" in client.get("/orders/parked").get_data(as_text=True)
    assert "No car has been parked that long" in client.get("/orders/long-stays").get_data(as_text=True)
    assert "No unpaid orders" in client.get("/orders/unpaid").get_data(as_text=True)
    assert "No debt has been recovered yet" in client.get("/orders/recovered").get_data(as_text=True)
    assert "No shifts yet" in client.get("/shifts").get_data(as_text=True)


# --- exports --------------------------------------------------------------------------------

def test_exports_are_registered_with_screen_headers(app):
    with app.test_request_context():
        for kind, permission in (("orders", "orders.export"), ("arrears", "orders.export"),
                                 ("parked", "orders.export"), ("shifts", "shifts.export")):
            spec = EXPORTS[kind]
            assert spec.permission == permission and len(spec.columns) > 5
            assert all(isinstance(h, str) for h, _ in spec.columns)
        assert [h for h, _ in EXPORTS["orders"].columns][:3] == ["Plate", "Park", "Berth"]


def test_export_link_keeps_the_filters(day, client_as, tree):
    body = client_as("groupa1").get(f"/orders?park_id={tree.p1.id}&state=settled&after=1.1").get_data(as_text=True)
    link = re.search(r'href="(/exports/new/orders[^"]*)"', body).group(1).replace("&amp;", "&")
    assert link == f"/exports/new/orders?park_id={tree.p1.id}&state=settled"


@pytest.mark.parametrize("viewer", ["parkp1", "groupa1", "citya"])
def test_export_rows_equal_the_filtered_list(day, tree, db, viewer, app):
    from app.staff.models import Staff

    scope = Scope.of(db.session.scalar(select(Staff).where(Staff.username == viewer)))
    for params, kind, first_col in (({}, "orders", 0), ({"state": "settled"}, "orders", 0),
                                    ({"plate": "e777"}, "parked", 0), ({}, "arrears", 0),
                                    ({"park_id": str(tree.p1.id)}, "orders", 0)):
        with app.test_request_context():
            rows = list(EXPORTS[kind].rows(scope, params))
        spec = EXPORTS[kind]
        assert all(len(r) == len(spec.columns) for r in rows)
        plates = [r[first_col] for r in rows]
        assert not any("HB" in p for p in plates)
        # the same filters on the query the page uses
        if kind == "orders":
            form_filters = queries.OrderFilters.from_dict({k: (int(v) if k == "park_id" else v)
                                                           for k, v in params.items()})
            expected = [o.plate for o in db.session.scalars(queries.order_list(scope, form_filters))]
            assert plates == expected
    with app.test_request_context():
        parked = [r[0] for r in EXPORTS["parked"].rows(scope, {})]
        arrears = [r[0] for r in EXPORTS["arrears"].rows(scope, {})]
    assert "苏E77777" in parked and "沪A12345" not in parked
    assert arrears == ["沪B55555"]
    # a park outside the scope in the params is refused, not used
    with app.test_request_context():
        rows = list(EXPORTS["orders"].rows(scope, {"park_id": str(tree.hp.id)}))
    assert rows and not any("HB" in r[0] for r in rows)


def test_export_links_open_the_exporter(day, client_as, tree):
    client = client_as("groupa1")
    for page in ("/orders", "/orders/parked", "/orders/unpaid", "/shifts"):
        body = client.get(f"{page}?park_id={tree.p1.id}").get_data(as_text=True)
        link = re.search(r'href="(/exports/new/[^"]*)"', body).group(1).replace("&amp;", "&")
        response = client.get(link)
        assert response.status_code == 200, (page, link, response.status_code)
        assert MARKER not in response.get_data(as_text=True)
