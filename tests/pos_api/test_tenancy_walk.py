"""Generated tenancy walk of the device API, the handheld app's only source of data: every /pos/v1 route that
names an object by id is called by a person of park p1 with the id of park p2's object, and must answer 404
and change nothing. A new route with an id nobody taught this test about fails here until it is."""
from __future__ import annotations

import io

from sqlalchemy import func, select

from app.berths.models import BerthSegment
from app.core.types import utcnow
from app.extensions import db
from app.inspections.models import InspectionTask, ViolationReport
from app.inspections.services import create_report, raise_task
from app.orders.models import OrderPhoto, ParkingOrder
from app.payments.services import request_order_payment
from app.staff.models import RoleKind
from tests.payments.conftest import make_account
from tests.pos_api.conftest import ago, ref

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _bodies():
    """What each write sends: a valid request, so that only the foreign id can refuse it."""
    return {
        "pay_by_phone": {"json": {"client_ref": ref(), "channel": "native"}},
        "settle": {"json": {"client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 0}},
        "escape": {"json": {"client_ref": ref(), "left_at": ago(seconds=1)}},
        "upload_photo": {"data": {"client_ref": ref(), "kind": "evidence", "photo": (io.BytesIO(PNG), "a.png")}},
        "resolve_task": {"json": {"client_ref": ref(), "outcome": "done", "note": "x"}},
        "task_photo": {"data": {"client_ref": ref(), "photo": (io.BytesIO(PNG), "a.png")}},
        "report_photo": {"data": {"client_ref": ref(), "photo": (io.BytesIO(PNG), "a.png")}},
    }


def _foreign(street, tree, make):
    """An object of each kind in park p2, by the name of the route parameter that names it."""
    p2_collector = street.login("collectorp2", serial="POS-P2-A")
    street.call("POST", "/shifts", p2_collector, json={"client_ref": ref(), "segment_id": db.session.scalar(
        select(BerthSegment.id).where(BerthSegment.park_id == tree.p2.id).limit(1))})
    order = street.car_in(p2_collector, "C001", "沪C12345", entered_at=ago(hours=1)).get_json()["order"]
    segment = db.session.scalar(select(BerthSegment).where(BerthSegment.park_id == tree.p2.id).limit(1))
    inspector = make.staff(tree.p2, "inspectorp2", kind=RoleKind.INSPECTOR)
    task = raise_task(park_id=tree.p2.id, segment_id=segment.id, berth_id=None, kind="car_no_order", note=None,
                      at=utcnow())
    report = create_report(inspector, tree.p2.id, kind="violation", note=None, lat=None, lng=None,
                           segment_id=segment.id, berth_id=None, plate=None, observed_at=utcnow())
    make_account(db, tree.nodes["city_a"])  # p1 and p2 both pay through their city's sandbox account
    payment = request_order_payment(park=tree.p2, order_id=order["id"], staff_id=None, now=utcnow())
    db.session.commit()
    return {"order_id": order["id"], "segment_id": segment.id, "task_id": task.id, "report_id": report.id,
            "payment_id": payment.id}


def _state():
    """What a refused call must leave as it was."""
    return (db.session.scalar(select(func.count()).select_from(OrderPhoto)),
            db.session.scalars(select(ParkingOrder.state).order_by(ParkingOrder.id)).all(),
            db.session.scalars(select(InspectionTask.state).order_by(InspectionTask.id)).all(),
            db.session.scalars(select(ViolationReport.photo_path).order_by(ViolationReport.id)).all())


def test_no_device_route_reaches_another_parks_object(app, street, tree, make):
    ids = _foreign(street, tree, make)
    collector = street.signed_in()  # p1's collector, signed in to a segment
    inspector = street.login("inspectorp1")
    bodies = _bodies()
    before = _state()
    walked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/pos/v1/") or "<int:" not in rule.rule:
            continue
        params = sorted(rule.arguments)
        assert set(params) <= set(ids), f"{rule.rule}: teach this test a foreign object for {params}"
        url = rule.rule.removeprefix("/pos/v1")
        for name in params:
            url = url.replace(f"<int:{name}>", str(ids[name]))
        token = inspector if url.startswith("/inspector/") else collector
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            endpoint = rule.endpoint.rsplit(".", 1)[-1]
            response = street.call(method, url, token, **(bodies.get(endpoint, {}) if method == "POST" else {}))
            assert response.status_code == 404, (method, url, response.get_json())
            walked.append(endpoint)
    assert _state() == before
    assert len(walked) >= 8 and {"quote", "settle", "upload_photo", "task_photo", "report_photo"} <= set(walked)


def test_lists_show_only_the_persons_park(street, tree):
    """The handheld's own lists (berths, orders, tasks) hold nothing of another park."""
    p2 = street.login("collectorp2", serial="POS-P2-A")
    street.call("POST", "/shifts", p2, json={"client_ref": ref(), "segment_id": db.session.scalar(
        select(BerthSegment.id).where(BerthSegment.park_id == tree.p2.id).limit(1))})
    assert street.car_in(p2, "C001", "沪C54321").status_code == 201
    raise_task(park_id=tree.p2.id, segment_id=None, berth_id=None, kind="car_no_order", note=None, at=utcnow())
    db.session.commit()
    collector = street.signed_in()
    berths = street.call("GET", "/berths", collector).get_json()["berths"]
    assert berths and all(b["number"].startswith("A") for b in berths)
    assert street.call("GET", "/orders?state=open", collector).get_json()["orders"] == []
    inspector = street.login("inspectorp1")
    assert street.call("GET", "/inspector/tasks?state=all", inspector).get_json()["tasks"] == []
