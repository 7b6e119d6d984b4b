"""A collector's day through the HTTP API: shift, car in with prepay, quote, settle, escape,
recovery elsewhere, and a shift summary that equals the ledger — to the fen."""
from sqlalchemy import func, select, update

from app.orders.models import Arrear, LedgerEntry, ParkingOrder
from app.parks.models import CollectorSettings, FreeReason, ParkParameters
from app.orders.models import PlateListEntry
from app.staff.models import RoleKind
from tests.openapi_support import undocumented_routes
from tests.pos_api.conftest import ago, ref


def _count(db, model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_shift_start_retry_and_double_sign_in(street, db):
    token = street.login("collectorp1")
    body = {"client_ref": ref(), "segment_id": street.segments[0]}
    first = street.call("POST", "/shifts", token, json=body)
    again = street.call("POST", "/shifts", token, json=body)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers.get("Idempotent-Replay") == "true"
    other = street.call("POST", "/shifts", token, json={"client_ref": ref(), "segment_id": street.segments[1]})
    assert other.status_code == 409 and other.get_json()["error"]["code"] == "shift_open"


def test_segment_of_another_park_is_404(street, tree, db):
    from app.berths.models import BerthSegment
    foreign = db.session.scalar(select(BerthSegment.id).where(BerthSegment.park_id == tree.p2.id))
    token = street.login("collectorp1")
    response = street.call("POST", "/shifts", token, json={"client_ref": ref(), "segment_id": foreign})
    assert response.status_code == 404


def test_car_in_quote_settle_with_prepay_top_up(street, db):
    token = street.signed_in()
    response = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=2, minutes=30),
                             prepay={"amount_fen": 500, "method": "cash"})
    assert response.status_code == 201, response.get_json()
    order = response.get_json()["order"]
    assert order["state"] == "open" and order["plate"] == "沪A12345" and order["prepaid_fen"] == 500
    quote = street.call("GET", f"/orders/{order['id']}/quote", token).get_json()["quote"]
    assert quote["fee_fen"] == 600 and quote["due_fen"] == 100 and quote["refund_fen"] == 0
    assert sum(line["amount_fen"] for line in quote["lines"]) == 600
    settle = street.call("POST", f"/orders/{order['id']}/settle", token, json={
        "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 100})
    assert settle.status_code == 200, settle.get_json()
    receipt = settle.get_json()["receipt"]
    assert receipt["fee_fen"] == 600 and receipt["collected_fen"] == 100 and receipt["plate"] == "沪A12345"
    assert receipt["park"] == "Alpha Street One" and receipt["berth"] == "A001" and receipt["receipt_no"]
    assert receipt["duration_minutes"] == 149  # 2 h 30 min less the second before "now"
    rows = db.session.execute(select(LedgerEntry.kind, LedgerEntry.method, LedgerEntry.amount_fen)
                              .order_by(LedgerEntry.id)).all()
    assert rows == [("prepay", "cash", 500), ("fee", "cash", 100)]


def test_prepay_larger_than_fee_is_refunded(street, db):
    token = street.signed_in()
    order = street.car_in(token, "A001", "B77777", entered_at=ago(minutes=20),
                          prepay={"amount_fen": 1000, "method": "electronic"}).get_json()["order"]
    settle = street.call("POST", f"/orders/{order['id']}/settle", token, json={
        "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 0})
    assert settle.status_code == 200
    assert settle.get_json()["receipt"]["refund_fen"] == 800
    refund = db.session.execute(select(LedgerEntry.method, LedgerEntry.amount_fen)
                                .where(LedgerEntry.kind == "prepay_refund")).one()
    assert refund == ("electronic", -800)
    db.session.expire_all()
    assert db.session.get(ParkingOrder, order["id"]).paid_fen == 200


def test_stale_amount_is_refused_with_the_new_quote(street, db):
    token = street.signed_in()
    order = street.car_in(token, "A001", "C11111", entered_at=ago(hours=1, minutes=5)).get_json()["order"]
    response = street.call("POST", f"/orders/{order['id']}/settle", token, json={
        "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 200})
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "fee_changed" and error["quote"]["due_fen"] == 400
    assert _count(db, LedgerEntry) == 0
    assert db.session.get(ParkingOrder, order["id"]).state == "open"


def test_settle_twice_and_retry(street, db):
    token = street.signed_in()
    order = street.car_in(token, "A002", "D22222", entered_at=ago(minutes=30)).get_json()["order"]
    body = {"client_ref": ref(), "left_at": ago(seconds=1), "method": "electronic", "amount_fen": 200}
    first = street.call("POST", f"/orders/{order['id']}/settle", token, json=body)
    retry = street.call("POST", f"/orders/{order['id']}/settle", token, json=body)
    assert retry.status_code == 200 and retry.get_json() == first.get_json()
    second = street.call("POST", f"/orders/{order['id']}/settle", token, json={**body, "client_ref": ref()})
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "order_not_open"
    assert _count(db, LedgerEntry) == 1


def test_car_in_refusals(street, db, tree):
    token = street.signed_in()
    assert street.car_in(token, "A001", "E33333").status_code == 201
    occupied = street.car_in(token, "A001", "E44444")
    assert occupied.status_code == 409 and occupied.get_json()["error"]["code"] == "berth_occupied"
    parked = street.car_in(token, "A002", "e-33333")
    assert parked.status_code == 409 and parked.get_json()["error"]["code"] == "plate_parked"
    other_segment = street.car_in(token, "B001", "E55555")
    assert other_segment.status_code == 403 and other_segment.get_json()["error"]["code"] == "not_on_segment"
    bad_plate = street.car_in(token, "A003", "!!")
    assert bad_plate.status_code == 422 and "plate" in bad_plate.get_json()["error"]["fields"]
    future = street.car_in(token, "A003", "E66666", entered_at=ago(minutes=-10))
    assert future.status_code == 422 and "entered_at" in future.get_json()["error"]["fields"]
    old = street.car_in(token, "A003", "E66666", entered_at=ago(hours=49))
    assert old.status_code == 422
    naive = street.car_in(token, "A003", "E66666", entered_at="2026-01-01T08:00:00")
    assert naive.status_code == 422
    foreign_berth = street.car_in(token, "C001", "E77777")
    assert foreign_berth.status_code == 404
    db.session.add(PlateListEntry(park_id=tree.p1.id, plate="F88888", kind="black", reason="stolen"))
    db.session.commit()
    black = street.car_in(token, "A003", "F88888")
    assert black.status_code == 409 and black.get_json()["error"]["code"] == "plate_blacklisted"
    assert _count(db, ParkingOrder) == 1


def test_car_in_without_shift_is_refused(street):
    token = street.login("collectorp1")
    response = street.car_in(token, "A001", "G12345")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_signed_in"


def test_car_in_retry_creates_one_order(street, db):
    token = street.signed_in()
    body = {"client_ref": ref(), "berth_id": street.berths["A001"], "plate": "H12345",
            "prepay": {"amount_fen": 300, "method": "cash"}}
    first = street.call("POST", "/orders", token, json=body)
    second = street.call("POST", "/orders", token, json=body)
    assert first.get_json() == second.get_json() and second.status_code == 201
    assert _count(db, ParkingOrder) == 1 and _count(db, LedgerEntry) == 1
    reused = street.call("POST", "/shifts/current/close", token, json={"client_ref": body["client_ref"]})
    assert reused.status_code == 409 and reused.get_json()["error"]["code"] == "client_ref_reused"


def test_missing_client_ref_is_refused(street):
    token = street.signed_in()
    response = street.call("POST", "/orders", token, json={"berth_id": street.berths["A001"], "plate": "J12345"})
    assert response.status_code == 422 and "client_ref" in response.get_json()["error"]["fields"]


def test_prepay_switched_off(street, db, tree):
    db.session.add(CollectorSettings(park_id=tree.p1.id, prepay_allowed=False))
    db.session.commit()
    token = street.signed_in()
    response = street.car_in(token, "A001", "K12345", prepay={"amount_fen": 500, "method": "cash"})
    assert response.status_code == 422 and response.get_json()["error"]["code"] == "prepay_not_allowed"


def test_escape_then_recovery_at_another_segment(street, db):
    token = street.signed_in()
    order = street.car_in(token, "A001", "L12345", entered_at=ago(hours=3, minutes=10),
                          prepay={"amount_fen": 200, "method": "cash"}).get_json()["order"]
    escape = street.call("POST", f"/orders/{order['id']}/escape", token,
                         json={"client_ref": ref(), "left_at": ago(minutes=5)})
    assert escape.status_code == 200
    arrear = escape.get_json()["arrear"]
    assert arrear["amount_fen"] == 600  # 4 started hours = 800, less 200 prepaid
    assert street.call("GET", "/berths", token).get_json()["berths"][0]["occupied"] is False

    other = street.signed_in("collector2p1", segment=1)
    lookup = street.call("GET", "/plates/l12345", other).get_json()
    assert lookup["arrears_total_fen"] == 600 and [a["id"] for a in lookup["arrears"]] == [arrear["id"]]
    wrong = street.call("POST", "/arrears/recover", other, json={"client_ref": ref(), "arrear_ids": [arrear["id"]],
                                                                "method": "cash", "amount_fen": 500})
    assert wrong.status_code == 409 and wrong.get_json()["error"]["due_fen"] == 600
    paid = street.call("POST", "/arrears/recover", other, json={"client_ref": ref(), "arrear_ids": [arrear["id"]],
                                                               "method": "cash", "amount_fen": 600})
    assert paid.status_code == 200 and paid.get_json()["total_fen"] == 600
    db.session.expire_all()
    assert db.session.get(ParkingOrder, order["id"]).state == "recovered"
    assert db.session.get(ParkingOrder, order["id"]).paid_fen == 800
    again = street.call("POST", "/arrears/recover", other, json={"client_ref": ref(), "arrear_ids": [arrear["id"]],
                                                                "method": "cash", "amount_fen": 600})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "arrear_already_recovered"


def test_recovery_is_all_or_nothing(street, db):
    token = street.signed_in()
    ids = []
    for berth, plate in (("A001", "M11111"), ("A002", "M11111"), ("A003", "N22222")):
        order = street.car_in(token, berth, plate, entered_at=ago(hours=1, minutes=30)).get_json()["order"]
        ids.append(street.call("POST", f"/orders/{order['id']}/escape", token,
                               json={"client_ref": ref(), "left_at": ago(minutes=1)}).get_json()["arrear"]["id"])
    response = street.call("POST", "/arrears/recover", token, json={
        "client_ref": ref(), "arrear_ids": ids[:2] + [999999], "method": "cash", "amount_fen": 800})
    assert response.status_code == 404
    assert _count(db, Arrear, Arrear.state == "recovered") == 0
    ok = street.call("POST", "/arrears/recover", token, json={
        "client_ref": ref(), "arrear_ids": ids[:2], "method": "electronic", "amount_fen": 800})
    assert ok.status_code == 200 and _count(db, Arrear, Arrear.state == "recovered") == 2


def test_escape_refused_when_prepay_covers_the_fee(street):
    token = street.signed_in()
    order = street.car_in(token, "A001", "P12345", entered_at=ago(minutes=30),
                          prepay={"amount_fen": 1000, "method": "cash"}).get_json()["order"]
    response = street.call("POST", f"/orders/{order['id']}/escape", token,
                           json={"client_ref": ref(), "left_at": ago(seconds=1)})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "prepay_covers_fee"


def test_shift_summary_equals_the_ledger(street, db):
    token = street.signed_in()
    o1 = street.car_in(token, "A001", "Q11111", entered_at=ago(hours=2, minutes=10),
                       prepay={"amount_fen": 500, "method": "cash"}).get_json()["order"]
    o2 = street.car_in(token, "A002", "Q22222", entered_at=ago(minutes=40),
                       prepay={"amount_fen": 1000, "method": "cash"}).get_json()["order"]
    o3 = street.car_in(token, "A003", "Q33333", entered_at=ago(hours=1, minutes=20)).get_json()["order"]
    left = ago(seconds=1)
    street.call("POST", f"/orders/{o1['id']}/settle", token,
                json={"client_ref": ref(), "left_at": left, "method": "cash", "amount_fen": 100})
    street.call("POST", f"/orders/{o2['id']}/settle", token,
                json={"client_ref": ref(), "left_at": left, "method": "cash", "amount_fen": 0})
    street.call("POST", f"/orders/{o3['id']}/escape", token, json={"client_ref": ref(), "left_at": left})
    close = street.call("POST", "/shifts/current/close", token, json={"client_ref": ref()})
    assert close.status_code == 200
    summary = close.get_json()["summary"]
    cash = db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.method == "cash"))
    assert summary["cash_to_hand_over_fen"] == cash == 500 + 1000 + 100 - 800
    assert summary["cars_in"] == 3 and summary["cars_out"] == 3
    assert summary["unpaid_count"] == 1 and summary["unpaid_fen"] == 400
    assert summary["prepay_cash_fen"] == 1500 and summary["refund_cash_fen"] == 800
    assert summary["fee_cash_fen"] == 100
    assert street.call("GET", "/berths", token).status_code == 403  # signed out of the segment


def test_signout_password(street, db, tree):
    from werkzeug.security import generate_password_hash
    db.session.add(CollectorSettings(park_id=tree.p1.id, signout_password_hash=generate_password_hash("4321")))
    db.session.commit()
    token = street.signed_in()
    wrong = street.call("POST", "/shifts/current/close", token, json={"client_ref": ref(), "password": "0000"})
    assert wrong.status_code == 403 and wrong.get_json()["error"]["code"] == "bad_signout_password"
    right = street.call("POST", "/shifts/current/close", token, json={"client_ref": ref(), "password": "4321"})
    assert right.status_code == 200


def test_free_release_needs_permission_and_reason(street, db, tree, make):
    db.session.add(FreeReason(park_id=tree.p1.id, name="Police"))
    db.session.commit()
    token = street.signed_in()
    order = street.car_in(token, "A001", "R12345", entered_at=ago(hours=1)).get_json()["order"]
    body = {"client_ref": ref(), "left_at": ago(seconds=1), "method": "free", "amount_fen": 0,
            "free_reason": "Police"}
    refused = street.call("POST", f"/orders/{order['id']}/settle", token, json=body)
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "free_release_forbidden"
    role = make.role(tree.p1, "Senior collector", codes={"pos.free_release"}, kind=RoleKind.COLLECTOR)
    make.staff(tree.p1, "seniorp1", role=role)
    street.call("POST", "/shifts/current/close", token, json={"client_ref": ref()})
    senior = street.signed_in("seniorp1")
    bad = street.call("POST", f"/orders/{order['id']}/settle", senior, json={**body, "client_ref": ref(),
                                                                           "free_reason": "Friend"})
    assert bad.status_code == 422 and bad.get_json()["error"]["reasons"] == ["Police"]
    db.session.add(ParkParameters(park_id=tree.p1.id, allow_free_settlement=False))
    db.session.commit()
    disabled = street.call("POST", f"/orders/{order['id']}/settle", senior, json={**body, "client_ref": ref()})
    assert disabled.status_code == 403 and disabled.get_json()["error"]["code"] == "free_release_disabled"
    db.session.execute(update(ParkParameters).values(allow_free_settlement=True))
    db.session.commit()
    ok = street.call("POST", f"/orders/{order['id']}/settle", senior, json={**body, "client_ref": ref()})
    assert ok.status_code == 200 and ok.get_json()["order"]["reduction_fen"] == 200
    assert _count(db, LedgerEntry) == 0


def test_berths_show_open_orders_with_fee_so_far(street):
    token = street.signed_in()
    street.car_in(token, "A002", "S12345", entered_at=ago(minutes=90))
    berths = street.call("GET", "/berths", token).get_json()["berths"]
    assert [b["number"] for b in berths] == ["A001", "A002", "A003"]
    assert berths[1]["occupied"] and berths[1]["order"]["plate"] == "S12345"
    assert berths[1]["order"]["fee_so_far_fen"] == 400


def test_orders_of_another_park_are_invisible(street):
    mine = street.signed_in()
    order = street.car_in(mine, "A001", "T12345").get_json()["order"]
    other = street.login("collectorp2", serial="POS-P2-A")
    assert street.call("GET", f"/orders/{order['id']}/quote", other).status_code == 404
    settle = street.call("POST", f"/orders/{order['id']}/settle", other,
                         json={"client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 0})
    assert settle.status_code in (403, 404)


def test_order_lists_stats_time_and_messages(street, db, tree):
    token = street.signed_in()
    order = street.car_in(token, "A001", "U12345", entered_at=ago(minutes=10)).get_json()["order"]
    assert [o["id"] for o in street.call("GET", "/orders?state=open", token).get_json()["orders"]] == [order["id"]]
    street.call("POST", f"/orders/{order['id']}/settle", token,
                json={"client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 200})
    closed = street.call("GET", "/orders?state=closed", token).get_json()["orders"]
    assert [o["id"] for o in closed] == [order["id"]]
    stats = street.call("GET", "/stats/today", token).get_json()["summary"]
    assert stats["fee_cash_fen"] == 200 and stats["cars_in"] == 1 and stats["cars_out"] == 1
    assert street.call("GET", "/orders?state=weird", token).status_code == 422
    assert street.call("GET", "/orders?state=closed&date=2026-13-01", token).status_code == 422
    for day in ("9999-12-31", "0001-01-01"):  # the day's bounds in the park's time would overflow
        refused = street.call("GET", f"/stats/today?date={day}", token)
        assert refused.status_code == 422 and refused.get_json()["error"]["fields"] == {"date": "a year from 1970 to 9998"}
    assert "now" in street.client.get("/pos/v1/time").get_json()
    from app.inbox.models import send
    send(tree.staff["collectorp1"].id, "alert", "Car without order at A003")
    send(tree.staff["collectorp1"].id, "task", "Check berth A002")
    send(tree.staff["parkp1"].id, "alert", "Not yours")
    db.session.commit()
    inbox = street.call("GET", "/messages?after=0", token).get_json()
    assert [m["title"] for m in inbox["messages"]] == ["Car without order at A003", "Check berth A002"]
    assert street.call("GET", f"/messages?after={inbox['last_id']}", token).get_json()["messages"] == []


def test_photos_jpeg_only_and_size_limited(street, app, tmp_path, db):
    app.config["PHOTO_DIR"] = str(tmp_path)
    try:
        token = street.signed_in()
        order = street.car_in(token, "A001", "V12345").get_json()["order"]
        jpeg = b"\xff\xd8\xff\xe0" + b"0" * 100
        import io
        ok = street.call("POST", f"/orders/{order['id']}/photos", token, data={
            "client_ref": ref(), "kind": "entry", "photo": (io.BytesIO(jpeg), "in.jpg")},
            content_type="multipart/form-data")
        assert ok.status_code == 201 and ok.get_json()["photo"]["content_type"] == "image/jpeg"
        assert len(list(tmp_path.rglob("*.jpg"))) == 1
        text = street.call("POST", f"/orders/{order['id']}/photos", token, data={
            "client_ref": ref(), "kind": "entry", "photo": (io.BytesIO(b"hello"), "in.jpg")},
            content_type="multipart/form-data")
        assert text.status_code == 422 and text.get_json()["error"]["code"] == "bad_photo"
        big = street.call("POST", f"/orders/{order['id']}/photos", token, data={
            "client_ref": ref(), "kind": "exit", "photo": (io.BytesIO(jpeg + b"0" * (5 * 1024 * 1024 - 3)), "x.jpg")},
            content_type="multipart/form-data")  # one byte over 5 MB: the request fits, the photo does not
        assert big.status_code == 422 and big.get_json()["error"]["code"] == "photo_too_large"
        huge = street.call("POST", f"/orders/{order['id']}/photos", token, data={
            "client_ref": ref(), "kind": "exit", "photo": (io.BytesIO(jpeg + b"0" * 6 * 1024 * 1024), "x.jpg")},
            content_type="multipart/form-data")
        assert huge.status_code == 413 and huge.get_json()["error"]["code"] == "payload_too_large"
        bad_kind = street.call("POST", f"/orders/{order['id']}/photos", token, data={
            "client_ref": ref(), "kind": "selfie", "photo": (io.BytesIO(jpeg), "in.jpg")},
            content_type="multipart/form-data")
        assert bad_kind.status_code == 422
    finally:
        app.config.pop("PHOTO_DIR")


def test_inspector_cannot_use_collector_endpoints(street):
    token = street.login("inspectorp1")
    response = street.call("POST", "/shifts", token, json={"client_ref": ref(), "segment_id": street.segments[0]})
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "wrong_role"


def test_every_device_route_is_in_the_openapi_document(app, street):
    doc = street.client.get("/pos/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert undocumented_routes(app, doc, "/pos/v1") == []
