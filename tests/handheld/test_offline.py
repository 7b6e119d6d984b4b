"""Offline first: writes made without a network wait in the handheld, go out in order when it returns,
reach the server exactly once, and a refusal that arose meanwhile is put to the collector."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.handheld.conftest import PASSWORD, app_errors
from tests.handheld.test_collector_shift import berth, sign_in, type_plate

pytestmark = pytest.mark.browser

OUTBOX_REFS = """() => new Promise((done) => {
  const open = indexedDB.open("parkingos-m");
  open.onsuccess = () => {
    const all = open.result.transaction("outbox").objectStore("outbox").getAll();
    all.onsuccess = () => done(all.result.map((item) => [item.kind, item.body.client_ref]));
  };
})"""


def car_in_offline(page, number, plate):
    page.click(f"#berths [data-berth='{number}']")
    type_plate(page, plate)
    page.wait_for_selector("#arrears >> text=离线")  # the plate's debts could not be looked up
    page.click("#car-in")
    page.wait_for_selector(f"#berths [data-berth='{number}'][data-state='pending']")


def another_collector_takes(live_app, number, segment_name="Central North"):
    """Meanwhile, on another handheld, collector2 registers a car on the same berth."""
    from app.berths.models import Berth, BerthSegment
    from app.extensions import db

    with live_app.app_context():
        segment_id, berth_id = db.session.execute(select(BerthSegment.id, Berth.id).join(Berth.segment).where(
            BerthSegment.name == segment_name, Berth.number == number)).one()
    client = live_app.test_client()
    token = client.post("/pos/v1/session", json={"username": "collector2", "password": PASSWORD,
                                                 "device_serial": "DEMO-POS-0002"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/pos/v1/shifts", headers=headers, json={"client_ref": str(uuid.uuid4()),
                                                                "segment_id": segment_id}).status_code == 201
    answer = client.post("/pos/v1/orders", headers=headers, json={"client_ref": str(uuid.uuid4()),
                                                                  "berth_id": berth_id, "plate": "苏E99999"})
    assert answer.status_code == 201, answer.get_json()


def test_writes_made_offline_are_sent_once_when_the_network_returns(live_app, live_server, phone):
    from app.berths.models import Berth
    from app.core.idempotency import IdempotentRequest
    from app.extensions import db
    from app.orders.models import ParkingOrder
    from app.shifts.models import Shift

    page = phone
    page.set_default_timeout(15_000)
    sign_in(page, live_server)
    page.click("#segments >> text=Central North")
    page.wait_for_selector("#berths")

    page.context.set_offline(True)
    page.click("#nav-home")  # a read without a network: the last berths, with their age
    page.wait_for_selector("#stale")
    assert page.locator("#berths .berth").count() > 0
    free = [berth(page, "free")[1]]
    for _ in range(2):
        free.append(berth(page, "free", besides=free)[1])
    plates = ["京A00001", "京A00002", "京A00003"]
    for number, plate in zip(free, plates):
        car_in_offline(page, number, plate)
    cell, leaving = berth(page, "occupied")
    cell.click()
    page.wait_for_selector("text=离线估算金额")  # no quote without the network: the fee so far, marked
    page.click("#settle-cash")
    page.wait_for_selector(f"#berths [data-berth='{leaving}'][data-state='pending']")
    page.click(f"#berths [data-berth='{free[2]}']")  # the third car leaves before its car in was sent
    page.click("#settle-cash")
    page.wait_for_selector("#berths")
    assert page.inner_text("#queue-count") == "5"
    page.click("#nav-queue")
    expect(page.locator("#queue li[data-state='waiting']")).to_have_count(5)
    refs = page.evaluate(OUTBOX_REFS)
    assert [kind for kind, _ref in refs] == ["car_in", "car_in", "car_in", "settle", "settle"]

    another_collector_takes(live_app, free[1])
    page.context.set_offline(False)
    page.wait_for_selector("#queue .refusal[data-code='berth_occupied']")
    expect(page.locator("#queue-count")).to_have_text("1")  # the refused car in is all that is left
    assert "该泊位已有车辆" in page.inner_text("#queue")  # shown for a decision, in Chinese

    with live_app.app_context():
        stored = dict(db.session.execute(select(IdempotentRequest.client_ref, func.count()).where(
            IdempotentRequest.client_ref.in_([ref for _kind, ref in refs]))
            .group_by(IdempotentRequest.client_ref)).all())
        assert [stored.get(ref, 0) for _kind, ref in refs] == [1, 0, 1, 1, 1]
        by_plate = dict(db.session.execute(select(ParkingOrder.plate, func.count()).where(
            ParkingOrder.plate.in_(plates)).group_by(ParkingOrder.plate)).all())
        assert by_plate == {"京A00001": 1, "京A00003": 1}
        shift_id = db.session.scalar(select(Shift.id).where(Shift.ended_at.is_(None),
                                                            Shift.collector.has(username="collector1")))
        settled = db.session.execute(select(ParkingOrder.state, Berth.number).join(ParkingOrder.berth).where(
            ParkingOrder.exit_shift_id == shift_id).order_by(ParkingOrder.left_at)).all()
        assert settled == [("settled", leaving), ("settled", free[2])]

    page.click("#queue .refusal [data-act='discard']")  # the collector's decision
    page.wait_for_selector("#queue-empty")
    page.click("#nav-home")
    page.wait_for_selector(f"#berths [data-berth='{free[1]}'][data-state='occupied']")
    assert "苏E99999" in page.inner_text(f"#berths [data-berth='{free[1]}']")

    # started again without a network: the service worker's copy of the app, the last berths with their age
    assert page.evaluate("() => navigator.serviceWorker.ready.then((r) => r.active.scriptURL)").endswith("/m/sw.js")
    page.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#stale")
    assert "苏E99999" in page.inner_text(f"#berths [data-berth='{free[1]}']")
    page.context.set_offline(False)
    assert app_errors(page) == []


def test_a_fee_that_changed_while_offline_is_put_to_the_collector(live_app, live_server, phone):
    """The estimate made offline no longer matches the server's fee: the settle comes back fee_changed with
    the new quote, and the collector collects the new amount."""
    from app.core.types import utcnow
    from app.extensions import db
    from app.orders.models import ParkingOrder

    page = phone
    page.set_default_timeout(15_000)
    sign_in(page, live_server)
    page.wait_for_selector("#segments, #berths")
    if page.locator("#segments").count():
        page.click("#segments >> text=Central North")
    page.wait_for_selector("#berths")
    cell, number = berth(page, "occupied")
    plate = cell.locator("span").nth(1).inner_text()
    page.context.set_offline(True)
    cell.click()
    estimate = page.inner_text("#due")
    page.click("#settle-cash")
    page.wait_for_selector(f"#berths [data-berth='{number}'][data-state='pending']")
    with live_app.app_context():  # the car had been there longer than the handheld knew
        order = db.session.scalar(select(ParkingOrder).where(ParkingOrder.plate == plate,
                                                             ParkingOrder.state == "open"))
        order.entered_at = utcnow() - timedelta(hours=5)
        db.session.commit()
        order_id = order.id
    page.click("#nav-queue")
    page.context.set_offline(False)
    page.wait_for_selector("#queue .refusal[data-code='fee_changed']")
    offer = page.inner_text("#take-new")
    assert estimate not in offer
    page.click("#take-new")
    page.wait_for_selector("#queue-empty")
    with live_app.app_context():
        order = db.session.get(ParkingOrder, order_id)
        assert order.state == "settled" and f"¥{(order.paid_fen - order.prepaid_fen) / 100:.2f}" in offer
    assert app_errors(page) == []
