"""Inspector flows on the handheld: nearby segments, berths board, tasks, resolve, reports, photos."""
from __future__ import annotations

import io

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.berths.models import BerthSegment
from app.core.types import utcnow
from app.extensions import db
from app.inspections.models import InspectionTask, InspectorGroup, ViolationReport
from app.inspections.services import raise_task
from app.staff.models import Staff
from tests.sensors.helpers import at, ref, sensored, street  # noqa: F401

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _setup(street, tree):
    north, south = (db.session.get(BerthSegment, sid) for sid in street.segments)
    north.latitude, north.longitude = 31.2304, 121.4737
    south.latitude, south.longitude = 31.2330, 121.4737   # about 290 m north
    inspector = db.session.scalar(select(Staff).where(Staff.username == "inspectorp1"))
    db.session.add(InspectorGroup(park_id=tree.p1.id, name="Patrol", segments=[north], inspectors=[inspector]))
    db.session.commit()
    return north, south, inspector


def test_nearby_segments_sorted_by_distance(street, tree):
    north, south, _ = _setup(street, tree)
    token = street.login("inspectorp1")
    r = street.call("GET", "/inspector/segments?lat=31.2329&lng=121.4737", token)
    assert r.status_code == 200
    assert [s["id"] for s in r.get_json()["segments"]] == [south.id, north.id]
    assert r.get_json()["segments"][0]["distance_m"] < 20
    far = street.call("GET", "/inspector/segments?lat=31.30&lng=121.4737", token)
    assert far.get_json()["segments"] == []
    assert street.call("GET", "/inspector/segments?lat=nan&lng=1", token).status_code == 422
    assert street.call("GET", "/inspector/segments?lat=91&lng=1", token).status_code == 422
    collector = street.login("collectorp1")
    assert street.call("GET", "/inspector/segments?lat=31&lng=121", collector).status_code == 403


def test_board_shows_sensor_next_to_order(sensored, tree):
    s = sensored
    north, _, _ = _setup(s.street, tree)
    s.post([s.event("S-A001", "arrive", at(minutes=3)), s.event("S-A002", "heartbeat", at(minutes=1))])
    collector = s.street.signed_in()
    s.street.car_in(collector, "A003", "沪A11111")
    token = s.street.login("inspectorp1")
    r = s.street.call("GET", f"/inspector/segments/{north.id}/berths", token)
    board = {b["number"]: b for b in r.get_json()["berths"]}
    assert board["A001"]["sensor"]["state"] == "occupied" and board["A001"]["order"] is None
    assert board["A001"]["mismatch"] is True
    assert board["A003"]["order"]["plate"] == "沪A11111"
    assert r.get_json()["collectors_on_duty"]
    assert s.street.call("GET", "/inspector/segments/999999/berths", token).status_code == 404


def test_tasks_resolve_with_photo(street, tree):
    north, south, inspector = _setup(street, tree)
    mine = raise_task(park_id=tree.p1.id, segment_id=north.id, berth_id=None, kind="car_no_order",
                      note="check it", at=utcnow())
    other = raise_task(park_id=tree.p1.id, segment_id=south.id, berth_id=None, kind="other", note=None, at=utcnow())
    db.session.commit()
    token = street.login("inspectorp1")
    listed = street.call("GET", "/inspector/tasks", token).get_json()["tasks"]
    assert [t["id"] for t in listed] == [mine.id]  # the south segment is not patrolled by my group
    photo = street.call("POST", f"/inspector/tasks/{mine.id}/photos", token,
                        data={"client_ref": ref(), "photo": (io.BytesIO(PNG), "a.png")},
                        content_type="multipart/form-data")
    assert photo.status_code == 201, photo.get_json()
    body = {"client_ref": ref(), "note": "moved on", "outcome": "done"}
    first = street.call("POST", f"/inspector/tasks/{mine.id}/resolve", token, json=body)
    again = street.call("POST", f"/inspector/tasks/{mine.id}/resolve", token, json=body)
    assert first.status_code == 200 and again.headers.get("Idempotent-Replay") == "true"
    assert first.get_json() == again.get_json()
    task = db.session.get(InspectionTask, mine.id)
    db.session.refresh(task)
    assert task.state == "resolved" and task.assignee_id == inspector.id and task.photo_path
    assert "moved on" in task.note
    conflict = street.call("POST", f"/inspector/tasks/{mine.id}/resolve", token, json={"client_ref": ref()})
    assert conflict.status_code == 409
    assert street.call("POST", f"/inspector/tasks/{other.id}/resolve", token,
                       json={"client_ref": ref()}).status_code == 404
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "resolve")) is not None


def test_report_with_position_and_photo(street, tree):
    street.berths  # noqa: B018
    token = street.login("inspectorp1")
    r = street.call("POST", "/inspector/reports", token, json={
        "client_ref": ref(), "kind": "violation", "plate": "沪a 12345", "berth_id": street.berths["A001"],
        "lat": 31.23, "lng": 121.47, "note": "double parked"})
    assert r.status_code == 201, r.get_json()
    report = r.get_json()["report"]
    assert report["plate"] == "沪A12345" and report["segment_id"] == street.segments[0]
    up = street.call("POST", f"/inspector/reports/{report['id']}/photos", token,
                     data={"client_ref": ref(), "photo": (io.BytesIO(b"GIF89a"), "a.gif")},
                     content_type="multipart/form-data")
    assert up.status_code == 422 and up.get_json()["error"]["code"] == "bad_photo"
    assert street.call("POST", "/inspector/reports", token, json={"client_ref": ref(), "kind": "violation",
                                                                  "lat": 31.2}).status_code == 422
    assert street.call("POST", "/inspector/reports", token, json={
        "client_ref": ref(), "kind": "anomaly", "berth_id": street.berths["C001"]}).status_code == 404
    assert db.session.scalar(select(ViolationReport)).kind == "violation"
