"""The signed link: who may talk, uploads that count once, the feed a site pulls, barrier commands."""
from __future__ import annotations

import json
import time
from datetime import timedelta

from sqlalchemy import func, select

from app.core.types import utcnow
from app.orders.models import LedgerEntry, ParkingOrder, PlateListEntry
from app.sync.client import SiteClient
from app.sync.models import LaneUpload
from app.sync.uploads import KINDS
from app.sync.signing import signed_headers


def _iso(minutes_ago: float) -> str:
    return (utcnow() - timedelta(minutes=minutes_ago)).isoformat()


def _raw(client, site, method, path, body: bytes, **sign):
    headers = {"Content-Type": "application/json", **signed_headers(site.park.id, site.secret, method, path, body,
                                                                     **sign)}
    return client.open(path, method=method, data=body, headers=headers)


def test_signature_refusals_have_their_own_codes(app, site):
    client = app.test_client()
    body = json.dumps({"version": "1.0"}).encode()
    stamp = time.time()
    ok = _raw(client, site, "POST", "/sync/v1/heartbeat", body, nonce="fixed-nonce-1", now=stamp)
    assert ok.status_code == 200
    replay = _raw(client, site, "POST", "/sync/v1/heartbeat", body, nonce="fixed-nonce-1", now=stamp)
    assert replay.status_code == 401 and replay.get_json()["error"]["code"] == "replayed_request"

    wrong_key = SiteClient(site.park.id, "sk_not-the-secret", test_client=client).heartbeat("1.0")
    assert wrong_key[0] == 401 and wrong_key[1]["error"]["code"] == "bad_signature"
    stale = _raw(client, site, "POST", "/sync/v1/heartbeat", body, now=time.time() - 301)
    assert stale.status_code == 401 and stale.get_json()["error"]["code"] == "stale_timestamp"
    headers = signed_headers(site.park.id, site.secret, "POST", "/sync/v1/heartbeat", body)
    tampered = client.post("/sync/v1/heartbeat", data=json.dumps({"version": "6.6"}).encode(),
                           headers={"Content-Type": "application/json", **headers})
    assert tampered.status_code == 401 and tampered.get_json()["error"]["code"] == "bad_signature"
    other_query = client.get("/sync/v1/changes?after=5", headers=signed_headers(
        site.park.id, site.secret, "GET", "/sync/v1/changes?after=0", b""))
    assert other_query.get_json()["error"]["code"] == "bad_signature"
    unknown = SiteClient(site.park.id + 1000, site.secret, test_client=client).heartbeat("1.0")
    assert unknown[0] == 401 and unknown[1]["error"]["code"] == "unknown_park"
    unsigned = client.post("/sync/v1/heartbeat", json={"version": "1.0"})
    assert unsigned.status_code == 401 and unsigned.get_json()["error"]["code"] == "signature_missing"


def test_lane_cycle_is_idempotent_and_lands_in_orders_and_ledger(app, db, site):
    entry = {"kind": "entry", "site_id": "ord-1", "plate": "粤B12345", "lane_id": site.entry, "at": _iso(90),
             "vehicle_class": "small"}
    settle = {"kind": "settlement", "site_id": "pay-1", "order_site_id": "ord-1", "at": _iso(5), "fee_fen": 1500,
              "payments": [{"method": "cash", "amount_fen": 1000}, {"method": "electronic", "amount_fen": 300}],
              "reduction_fen": 200, "free_reason": "coupon", "collector_name": "Booth Wang"}
    exit_ = {"kind": "exit", "site_id": "ord-1", "order_site_id": "ord-1", "lane_id": site.exit, "at": _iso(4)}
    bad = {"kind": "exit", "site_id": "ord-2", "order_site_id": "never-entered", "lane_id": site.exit, "at": _iso(3)}
    status, first = site.client.upload([entry, settle, exit_, bad])
    assert status == 200, first
    assert [r["status"] for r in first["results"]] == ["ok", "ok", "ok", "refused"]
    assert first["results"][3]["error"]["fields"] == {"order_site_id": "no entry with this id was uploaded"}
    status, again = site.client.upload([entry, settle, exit_])
    assert again["results"] == first["results"][:3]

    order = db.session.scalar(select(ParkingOrder).where(ParkingOrder.park_id == site.park.id))
    assert (order.plate, order.state, order.entry_method, order.berth_id) == ("粤B12345", "settled", "lane", None)
    assert (order.fee_fen, order.paid_fen, order.reduction_fen, order.payment_method) == (1500, 1300, 200, "mixed")
    ledger = db.session.execute(select(LedgerEntry.method, LedgerEntry.amount_fen).where(
        LedgerEntry.order_id == order.id).order_by(LedgerEntry.method)).all()
    assert ledger == [("cash", 1000), ("electronic", 300)]
    assert db.session.scalar(select(func.count()).select_from(LaneUpload)) == 4
    lane_entry = db.session.scalar(select(LaneUpload).where(LaneUpload.kind == "entry"))
    assert (lane_entry.lane_id, lane_entry.order_id) == (site.entry, order.id)


def test_device_times_and_photos_are_checked(site):
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
    items = [{"kind": "entry", "site_id": "a", "plate": "沪A11111", "lane_id": site.entry, "at": _iso(-5)},
             {"kind": "entry", "site_id": "b", "plate": "沪A22222", "lane_id": site.entry, "at": _iso(8 * 24 * 60)},
             {"kind": "entry", "site_id": "c", "plate": "沪A33333", "lane_id": site.entry, "at": _iso(1),
              "photo": "bm90IGFuIGltYWdl"},
             {"kind": "entry", "site_id": "d", "plate": "沪A44444", "lane_id": 999999, "at": _iso(1)},
             {"kind": "entry", "site_id": "e", "plate": "沪A55555", "lane_id": site.entry, "at": _iso(6 * 24 * 60),
              "photo": png}]
    status, body = site.client.upload(items)
    results = body["results"]
    assert [r["status"] for r in results] == ["refused"] * 4 + ["ok"]
    assert set(results[0]["error"]["fields"]) == {"at"} and set(results[1]["error"]["fields"]) == {"at"}
    assert set(results[2]["error"]["fields"]) == {"photo"} and set(results[3]["error"]["fields"]) == {"lane_id"}
    fixed = dict(items[0], at=_iso(1))
    assert site.client.upload([fixed])[1]["results"][0]["status"] == "ok"  # a refused id may be sent again
    status, odd = site.client.upload([dict(fixed, site_id=["a"]), dict(fixed, kind={"entry": 1})])
    assert status == 200 and [r["error"]["fields"] for r in odd["results"]] == [
        {"site_id": "1 to 64 letters, digits or . _ : -"}, {"kind": "one of " + ", ".join(KINDS)}]


def test_reentry_closes_the_stale_order_and_lift_is_audited(db, site):
    from app.audit.models import AuditEntry

    status, body = site.client.upload([
        {"kind": "entry", "site_id": "x1", "plate": "京A00001", "lane_id": site.entry, "at": _iso(60)},
        {"kind": "entry", "site_id": "x2", "plate": "京A00001", "lane_id": site.entry, "at": _iso(30)},
        {"kind": "lift", "site_id": "lift-1", "lane_id": site.exit, "at": _iso(2), "reason": "手动抬杆 ambulance",
         "operator_name": "Li"}])
    assert [r["status"] for r in body["results"]] == ["ok", "ok", "ok"]
    states = db.session.execute(select(ParkingOrder.state).order_by(ParkingOrder.id)).scalars().all()
    assert states == ["settled", "open"]
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "barrier_lift")).park_id == site.park.id

    # a later request: the open order of an earlier one is closed before the plate's new one opens
    status, later = site.client.upload([
        {"kind": "entry", "site_id": "x3", "plate": "京A00001", "lane_id": site.entry, "at": _iso(10)},
        {"kind": "settlement", "site_id": "x1-pay", "order_site_id": "x1", "at": _iso(9), "fee_fen": 300,
         "payments": [{"method": "cash", "amount_fen": 300}]}])
    assert status == 200 and [r["status"] for r in later["results"]] == ["ok", "ok"], later
    rows = db.session.execute(select(ParkingOrder.id, ParkingOrder.state, ParkingOrder.paid_fen,
                                     ParkingOrder.receipt_no).order_by(ParkingOrder.id)).all()
    assert [(r.state, r.paid_fen) for r in rows] == [("settled", 300), ("settled", 0), ("open", 0)]
    assert rows[0].receipt_no and rows[1].receipt_no is None
    closed = db.session.scalar(select(LaneUpload.detail).where(LaneUpload.site_ref == "x3"))
    assert closed["closed_order_id"] == rows[1].id


def test_feed_delivers_edits_in_order_once_and_snapshot_at_zero(app, db, site):
    park = site.park
    def add_entry(n):
        entry = PlateListEntry(park_id=park.id, plate=f"粤B0000{n}", kind="black", reason="r")
        db.session.add(entry)
        db.session.commit()  # one transaction per edit
        return entry

    entries = [add_entry(0)]
    status, snap = site.client.pull(0)
    assert snap["snapshot"] is True and snap["seq"] == 1
    assert sorted(c["payload"]["name"] for c in snap["changes"] if c["entity"] == "lane") == ["Entry A", "Exit A"]
    assert [c["payload"]["plate"] for c in snap["changes"] if c["entity"] == "plate_list"] == ["粤B00000"]
    entries += [add_entry(n) for n in range(1, 5)]
    entries[0].reason = "changed"
    db.session.delete(entries[1])
    db.session.commit()
    _status, page1 = site.client.pull(snap["seq"], limit=4)
    assert page1["more"] is True and [c["seq"] for c in page1["changes"]] == [2, 3, 4, 5]
    _status, page2 = site.client.pull(page1["seq"], limit=50)
    assert [c["seq"] for c in page2["changes"]] == [6, 7] and page2["more"] is False
    assert {(c["entity_id"], c["op"]) for c in page2["changes"]} == {(entries[0].id, "upsert"),
                                                                     (entries[1].id, "delete")}
    assert next(c for c in page2["changes"] if c["op"] == "upsert")["payload"]["reason"] == "changed"
    assert site.client.ack(page2["seq"])[1] == {"acked_seq": 7}
    assert site.client.ack(99)[0] == 422
    _status, empty = site.client.pull(7)
    assert empty["changes"] == [] and empty["seq"] == 7
    _status, full = site.client.pull(0)
    assert {(c["entity"], c["payload"]["plate"]) for c in full["changes"] if c["entity"] == "plate_list"} == \
        {("plate_list", f"粤B0000{n}") for n in (0, 2, 3, 4)}


def test_barrier_command_round_trip(app, db, site, client_as):
    from app.audit.models import AuditEntry
    from app.sync.models import BarrierCommand

    manager = client_as("parkp3")
    assert site.client.heartbeat("1.0")[0] == 200  # commands go to a site that is online
    page = manager.get(f"/site-link/park/{site.park.id}")
    assert page.status_code == 200 and "Entry A" in page.get_data(as_text=True)
    sent = manager.post(f"/site-link/park/{site.park.id}/commands",
                        data={"lane_id": site.exit, "action": "lift", "reason": "truck stuck"})
    assert sent.status_code == 302
    _status, pulled = site.client.pull(0)
    (command,) = pulled["commands"]
    assert (command["lane_id"], command["action"], command["state"]) == (site.exit, "lift", "delivered")
    status, done = site.client.call("POST", f"/commands/{command['id']}/result", {"ok": True, "message": "opened"})
    assert status == 200 and done["command"]["state"] == "done"
    assert site.client.call("GET", "/commands")[1]["commands"] == []
    assert db.session.get(BarrierCommand, command["id"]).result_message == "opened"
    assert {"barrier_lift", "barrier_lift_done"} <= set(db.session.scalars(select(AuditEntry.action)))
    assert "opened" in manager.get(f"/site-link/park/{site.park.id}").get_data(as_text=True)


def test_pass_sold_at_the_booth_books_money_and_comes_back_in_the_feed(db, site, tree):
    from app.members.models import MonthlyPass, MonthlyProduct, PassRenewal

    product = MonthlyProduct(name="Garage month", price_fen=30000)
    product.anchor_at(tree.a2)  # group-wide: reaches p3's site through the fan-out
    db.session.add(product)
    db.session.commit()
    _s, first = site.client.pull(0)
    assert [c["entity"] for c in first["changes"] if c["entity"] == "product"] == ["product"]
    sale = {"kind": "pass_sale", "site_id": "sale-1", "at": _iso(1), "product_id": product.id, "holder_name": "Zhao",
            "plates": ["粤B55555"], "starts_on": utcnow().date().isoformat(), "months": 2, "method": "cash"}
    status, body = site.client.upload([sale, dict(sale, site_id="sale-2", plates=["粤B55555"])])
    ok, overlap = body["results"]
    assert ok["status"] == "ok" and overlap["status"] == "refused"
    assert site.client.upload([sale])[1]["results"][0] == ok
    renewal = db.session.scalar(select(PassRenewal))
    assert (renewal.park_id, renewal.paid_fen, renewal.method) == (site.park.id, 60000, "cash")
    assert db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.kind == "pass_sale")) == 60000
    _s, changes = site.client.pull(first["seq"])
    sold = [c for c in changes["changes"] if c["entity"] == "pass"]
    assert sold and sold[-1]["payload"]["plates"] == ["粤B55555"]
    assert sold[-1]["entity_id"] == ok["pass_id"] == db.session.scalar(select(MonthlyPass.id))


def test_an_edit_committed_late_is_never_skipped(app, db, site):
    """Numbers are taken under the site row's lock: a second editor waits for the first, so a site
    that pulls meanwhile never sees number 3 before number 2 is committed."""
    import threading

    import pytest
    from sqlalchemy.orm import Session

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks and concurrent writers need PostgreSQL")
    db.session.add(PlateListEntry(park_id=site.park.id, plate="粤B10000", kind="white"))
    db.session.commit()
    cursor = site.client.pull(0)[1]["seq"]
    engine = db.engine
    slow = Session(engine)
    slow.add(PlateListEntry(park_id=site.park.id, plate="粤B20000", kind="white"))
    slow.flush()  # holds number 2, not committed

    def second_editor():
        with Session(engine) as other:
            other.add(PlateListEntry(park_id=site.park.id, plate="粤B30000", kind="black"))
            other.commit()

    thread = threading.Thread(target=second_editor)
    thread.start()
    try:
        thread.join(0.5)
        assert thread.is_alive()  # waiting for the first editor's lock
        assert site.client.pull(cursor)[1]["changes"] == []
        slow.commit()
    finally:
        slow.close()
        thread.join(10)
    changes = site.client.pull(cursor)[1]["changes"]
    assert [(c["seq"], c["payload"]["plate"]) for c in changes] == [(2, "粤B20000"), (3, "粤B30000")]
