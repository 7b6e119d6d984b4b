"""What managers see of off-street parks: the link page, the secret shown once, lane orders in the
same lists and reports as any other park's."""
from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from app.core.types import utcnow
from app.sync.client import SiteClient


def test_lane_orders_show_in_the_order_list_and_income_report(site, client_as):
    at = (utcnow() - timedelta(minutes=30)).isoformat()
    status, body = site.client.upload([
        {"kind": "entry", "site_id": "o-77", "plate": "粤B77777", "lane_id": site.entry, "at": at},
        {"kind": "settlement", "site_id": "p-77", "order_site_id": "o-77", "at": at, "fee_fen": 4321,
         "payments": [{"method": "card", "amount_fen": 4321}]},
        {"kind": "exit", "site_id": "o-77", "order_site_id": "o-77", "lane_id": site.exit, "at": at}])
    assert body["accepted"] == 3
    manager = client_as("parkp3")
    assert "粤B77777" in manager.get("/orders").get_data(as_text=True)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    report = manager.get(f"/reports/income?by=park&date_from={today}&date_to={today}").get_data(as_text=True)
    assert "43.21" in report
    assert "粤B77777" not in client_as("parkp1").get("/orders").get_data(as_text=True)


def test_secret_is_shown_once_and_rotation_retires_the_old_one(app, tree, client_as):
    manager = client_as("parkp3")
    park = tree.p3
    assert "Set up the on-site server" in manager.get(f"/site-link/park/{park.id}").get_data(as_text=True)
    created = manager.post(f"/site-link/park/{park.id}/secret")
    first = re.search(r"<code[^>]*>(sk_[^<]+)</code>", created.get_data(as_text=True)).group(1)
    assert created.headers["Cache-Control"] == "no-store"
    again = manager.get(f"/site-link/park/{park.id}").get_data(as_text=True)
    assert first not in again and f"…{first[-4:]}" in again
    old = SiteClient(park.id, first, test_client=app.test_client())
    assert old.heartbeat("2.1.0")[0] == 200
    rotated = manager.post(f"/site-link/park/{park.id}/secret").get_data(as_text=True)
    second = re.search(r"<code[^>]*>(sk_[^<]+)</code>", rotated).group(1)
    assert second != first
    assert old.heartbeat("2.1.0")[1]["error"]["code"] == "bad_signature"
    assert SiteClient(park.id, second, test_client=app.test_client()).heartbeat("2.1.1")[0] == 200
    listing = manager.get("/site-link/").get_data(as_text=True)
    assert "2.1.1" in listing and "online" in listing


def test_on_street_parks_have_no_link_and_other_tenants_see_nothing(tree, site, client_as):
    manager = client_as("parkp1")
    assert manager.get(f"/site-link/park/{tree.p1.id}").status_code == 404  # on-street
    assert manager.get(f"/site-link/park/{site.park.id}").status_code == 404  # not theirs
    assert manager.post(f"/site-link/park/{site.park.id}/secret").status_code == 404
    assert tree.p3.name not in manager.get("/site-link/").get_data(as_text=True)
    assert tree.p3.name in client_as("citya").get("/site-link/").get_data(as_text=True)


def test_heartbeat_marks_devices_seen_and_reports_unknown_ids(db, site):
    from app.lanes.models import Lane

    status, body = site.client.heartbeat("3.0.0", {"lane": [site.entry, 987654]})
    assert status == 200 and body["unknown_devices"] == {"lane": [987654]}
    assert db.session.get(Lane, site.entry).last_seen_at is not None
    assert db.session.get(Lane, site.exit).last_seen_at is None


def test_simulator_plays_a_site_through_the_api(app, db, tree):
    from sqlalchemy import func, select

    from app.orders.models import ParkingOrder
    from app.sync.models import LaneUpload

    result = app.test_cli_runner().invoke(args=["simulate-lane", "--park", str(tree.p3.id), "--cars", "12",
                                                "--seed", "7", "--batch", "5"])
    assert result.exit_code == 0, result.output
    assert "(0 refused) for 12 cars" in result.output
    assert db.session.scalar(select(func.count()).select_from(ParkingOrder).where(
        ParkingOrder.park_id == tree.p3.id, ParkingOrder.entry_method == "lane")) == 12
    assert db.session.scalar(select(func.count()).select_from(LaneUpload)) >= 12
    assert app.test_cli_runner().invoke(args=["simulate-lane", "--park", str(tree.p1.id)]).exit_code != 0


def test_demo_history_fills_the_first_off_street_park(app, db, tree, client_as):
    from sqlalchemy import func, select

    from app.orders.models import LedgerEntry, ParkingOrder
    from app.sync.demo import CARS_PER_DAY, PARKED_NOW, seed_lane_history
    from app.sync.services import site_of

    seed_lane_history(days=2)
    db.session.commit()
    seed_lane_history(days=2)  # idempotent: the park has its server now
    db.session.commit()
    assert site_of(tree.p3.id) is not None
    counts = dict(db.session.execute(select(ParkingOrder.state, func.count()).where(
        ParkingOrder.park_id == tree.p3.id).group_by(ParkingOrder.state)).all())
    assert counts == {"settled": 2 * CARS_PER_DAY, "open": PARKED_NOW}
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 2 * CARS_PER_DAY
    body = client_as("parkp3").get(f"/site-link/park/{tree.p3.id}").get_data(as_text=True)
    assert "Entry 1" in body and "order" in body
