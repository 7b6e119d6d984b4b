"""The alliance (泊链): the signing recipe, the vendor account, uploads and availability through the
simulator, and payment notices that settle an order once, tell the collector, and count as electronic."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.core.types import utcnow
from app.inbox.models import Message
from app.integrations import alliance, events, outbox, webhooks
from app.integrations.delivery import HttpDispatcher
from app.integrations.models import AllianceNotice, AlliancePark, AllianceRecord, OutboxMessage
from app.ledger.models import LedgerEntry
from app.orders.models import ParkingOrder
from app.reports.figures import Filters, income
from tests.integrations.conftest import UKEY, UNION_ID
from tests.pos_api.conftest import ago


def test_signature_test_vector():
    params = {"union_id": "200123", "park_id": "12", "name": "泊链测试车场", "total_plot": 120, "empty_plot": 37,
              "remark": "", "lng": None, "rand": "581203"}
    assert alliance.string_to_sign(params, "ukey-0123456789ab") == (
        "empty_plot=37&name=泊链测试车场&park_id=12&rand=581203&total_plot=120&union_id=200123key=ukey-0123456789ab")
    assert alliance.sign(params, "ukey-0123456789ab") == "516D832B22EF1EB5BE8AF88A86ADCCFE"  # docs/alliance.md
    assert alliance.verify({**params, "sign": "516D832B22EF1EB5BE8AF88A86ADCCFE"}, "ukey-0123456789ab")
    assert not alliance.verify({**params, "empty_plot": 36, "sign": "516D832B22EF1EB5BE8AF88A86ADCCFE"},
                               "ukey-0123456789ab")


def _connect(tree, db, sim, client_as):
    response = client_as("citya").post(f"/integrations/alliance/city/{tree.city_a.id}", data={
        "union_id": UNION_ID, "ukey": UKEY, "base_url": sim.url, "availability_seconds": 5, "enabled": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def _deliver(db, minutes=0):
    counts = outbox.deliver_due(HttpDispatcher(), utcnow() + timedelta(minutes=minutes))
    db.session.commit()
    events._availability_written.clear()  # the delivery's clock ran ahead: so does the web process's
    return counts


def test_connecting_uploads_the_parks_and_availability_follows_the_kerb(street, tree, db, sim, client_as):
    _connect(tree, db, sim, client_as)
    settings = alliance.settings_of(tree.city_a.id)
    assert settings.ukey == UKEY and settings.ukey_hint == UKEY[-4:]
    page = client_as("citya").get(f"/integrations/alliance/city/{tree.city_a.id}").get_data(as_text=True)
    assert UKEY not in page
    _deliver(db)
    city_a_parks = {str(p.id) for p in (tree.p1, tree.p2, tree.p3)}
    assert set(sim.state.parks) == city_a_parks  # Harbor's park never goes to Alpha's vendor account
    assert sim.state.parks[str(tree.p1.id)]["total_plot"] == 6
    row = db.session.scalar(select(AlliancePark).where(AlliancePark.park_id == tree.p1.id))
    assert row.state == 1 and row.alliance_park_id == f"BL{tree.p1.id}" and row.last_upload_at is not None
    _sub, sim.webhook_secret = webhooks.create(tree.staff["citya"], tree.city_a, name="Simulator",
                                               url=sim.url + "_sim/webhook", events=["order.opened"])
    db.session.commit()
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=1)).get_json()["order"]
    assert street.car_in(token, "A002", "沪A12346").status_code == 201
    _deliver(db, minutes=1)
    assert sim.state.orders[str(order["id"])]["added"]["plate_number"] == "沪A12345"
    assert sim.state.availability[str(tree.p1.id)] == [(6, 4)]  # two car-ins, one push (coalesced)
    assert [(kind, valid) for kind, _id, valid in sim.state.webhooks] == [("order.opened", True)] * 2
    quote = street.call("GET", f"/orders/{order['id']}/quote", token).get_json()["quote"]
    settled = street.call("POST", f"/orders/{order['id']}/settle", token, json={
        "client_ref": "settle-1", "method": "cash", "amount_fen": quote["due_fen"], "left_at": ago(seconds=1)})
    assert settled.status_code == 200, settled.get_json()
    _deliver(db, minutes=2)
    assert sim.state.orders[str(order["id"])]["updated"]["total"] == f"{quote['due_fen'] / 100:.2f}"
    assert sim.state.availability[str(tree.p1.id)][-1] == (6, 5)
    assert sim.state.refused == 0 and sim.state.duplicates == 0


def test_the_alliance_failing_is_retried_and_its_error_shown(street, tree, db, sim, client_as):
    _connect(tree, db, sim, client_as)
    sim.fail_next = 10
    _deliver(db)
    row = db.session.scalar(select(AlliancePark).where(AlliancePark.park_id == tree.p1.id))
    assert row.state == 0 and row.last_error == "HTTP 500"
    sim.fail_next = 0
    _deliver(db, minutes=1)
    assert len(sim.state.parks) == 3
    assert {m.state for m in db.session.scalars(select(OutboxMessage))} == {"sent"}


def _notice(sim, park, order_id, money, **more):
    return sim.notice(park.id, order_id, money, **more)


def test_an_online_payment_settles_once_tells_the_collector_and_counts_as_electronic(street, tree, db, sim,
                                                                                    client_as, client):
    _connect(tree, db, sim, client_as)
    token = street.signed_in()
    order_id = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=2, minutes=30)).get_json()["order"]["id"]
    notice = _notice(sim, tree.p1, order_id, "6.00", trade_no="BL-T-1", plate_number="沪A12345")
    response = client.post("/alliance/v1/notify", json=notice)
    assert response.status_code == 200 and response.get_json() == {"state": 1}
    again = client.post("/alliance/v1/notify", json=notice)  # the alliance sends it again: booked once
    assert again.get_json() == {"state": 1}
    order = db.session.get(ParkingOrder, order_id)
    assert order.state == "settled" and order.payment_method == "electronic"
    assert db.session.execute(select(LedgerEntry.amount_fen, LedgerEntry.provider, LedgerEntry.trade_no)).all() == [
        (600, "alliance", "BL-T-1")]
    [message] = db.session.scalars(select(Message).where(Message.kind == "paid_online")).all()
    assert "沪A12345" in message.title
    today = date.today()
    figures = income([tree.p1.id], Filters(today - timedelta(days=1), today + timedelta(days=1)))
    assert sum(found.by_method().get("electronic", 0) for found in figures.values()) == 600
    [record] = db.session.scalars(select(AllianceRecord)).all()
    assert (record.direction, record.amount_fen, record.order_id) == ("income", 600, order_id)
    page = client_as("citya").get("/integrations/alliance/records").get_data(as_text=True)
    assert "BL-T-1" in page


def test_refused_and_reviewed_notices_book_nothing(street, tree, db, sim, client_as, client):
    _connect(tree, db, sim, client_as)
    token = street.signed_in()
    open_id = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=2, minutes=30)).get_json()["order"]["id"]
    settled_id = street.car_in(token, "A002", "沪A12346", entered_at=ago(hours=2, minutes=30)).get_json()["order"]["id"]
    assert client.post("/alliance/v1/notify", json=_notice(sim, tree.p1, settled_id, "6.00")).status_code == 200
    booked = db.session.scalars(select(LedgerEntry.id)).all()
    forged = {**_notice(sim, tree.p1, open_id, "6.00"), "money": "0.01"}
    response = client.post("/alliance/v1/notify", json=forged)
    assert response.status_code == 401 and response.get_json()["state"] == 0  # refused: the alliance sends again
    assert db.session.scalar(select(AllianceNotice).where(AllianceNotice.trade_no == forged["trade_no"])) is None
    for notice, reason in ((_notice(sim, tree.p1, 999_999, "6.00"), "order_not_found"),
                           (_notice(sim, tree.p1, open_id, "5.99"), "fee_changed"),
                           (_notice(sim, tree.p1, settled_id, "6.00"), "order_not_open")):
        response = client.post("/alliance/v1/notify", json=notice)
        assert response.get_json() == {"state": 1, "errmsg": reason}  # received: the alliance stops sending it
        kept = db.session.scalar(select(AllianceNotice).where(AllianceNotice.trade_no == notice["trade_no"]))
        assert (kept.outcome, kept.reason) == ("review", reason)
    review = client_as("citya").get("/integrations/alliance/records").get_data(as_text=True)
    assert "order_not_found" in review and "fee_changed" in review
    assert db.session.scalars(select(LedgerEntry.id)).all() == booked
    assert db.session.get(ParkingOrder, open_id).state == "open"


def test_a_payment_of_our_member_elsewhere_is_an_expense(tree, db, sim, client_as, client):
    _connect(tree, db, sim, client_as)
    notice = sim.notice(0, "", "12.50", trade_no="BL-OUT-1", kind=1, park_name="Other vendor park",
                        plate_number="沪B99999")
    assert client.post("/alliance/v1/notify", json=notice).get_json() == {"state": 1}
    [record] = db.session.scalars(select(AllianceRecord)).all()
    assert (record.direction, record.amount_fen, record.park_name) == ("expense", 1250, "Other vendor park")


def test_two_workers_making_a_new_parks_standing_at_once_both_deliver(app, tree, pg):
    """Two workers deliver two messages of a park the alliance has not seen: each makes its standing in its
    own transaction; the second waits for the first and takes its row instead of failing the delivery."""
    import threading

    park_id = tree.p1.id
    barrier, ids, errors = threading.Barrier(2), [], []

    def deliver():
        with app.app_context():
            try:
                barrier.wait()
                ids.append(alliance.alliance_park(park_id).id)
                pg.session.commit()
            except Exception as exc:  # noqa: BLE001  (a failed delivery is what the test looks for)
                errors.append(exc)
            finally:
                pg.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(ids) == 2 and ids[0] == ids[1]
    assert len(pg.session.scalars(select(AlliancePark).where(AlliancePark.park_id == park_id)).all()) == 1
