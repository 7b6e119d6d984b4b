"""Admin pages: sensors, import, bind, base stations (key shown once, rotation), health, settings,
inspection tasks and groups, tracks. Scope is walked by tests/test_tenancy_routes.py."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from app.audit.models import AuditEntry
from app.berths.models import Berth, BerthSegment
from app.extensions import db
from app.inspections.models import InspectionTask, InspectorGroup
from app.sensors.models import BaseStation, Sensor, SensorSettings
from app.sensors.services import hash_key
from app.staff.models import Staff
from app.tracks.models import LastPosition, TrackPoint


def _segment(tree, db, number_prefix="A"):
    seg = BerthSegment(park_id=tree.p1.id, name="North", latitude=31.2304, longitude=121.4737)
    db.session.add(seg)
    db.session.flush()
    for n in range(1, 4):
        db.session.add(Berth(park_id=tree.p1.id, segment_id=seg.id, number=f"{number_prefix}{n:03d}"))
    db.session.commit()
    return seg


def test_import_bind_and_list(tree, db, client_as):
    _segment(tree, db)
    client = client_as("parkp1")
    page = client.get("/sensors/import")
    assert page.status_code == 200
    bad = client.post("/sensors/import", data={"park_id": tree.p1.id, "lines": "S1,A001\nS2,Z999\nS1,A002"})
    assert bad.status_code == 400 and "line 2" in bad.get_data(as_text=True)
    assert db.session.scalar(select(Sensor)) is None
    ok = client.post("/sensors/import", data={"park_id": tree.p1.id, "lines": "serial,berth\nS1,A001\nS2,A002\nS3"})
    assert ok.status_code == 302
    sensors = {s.serial: s for s in db.session.scalars(select(Sensor))}
    assert sensors["S1"].berth.number == "A001" and sensors["S3"].berth_id is None
    listing = client.get("/sensors/?status=unbound").get_data(as_text=True)
    assert "S3" in listing and "S1" not in listing
    a3 = db.session.scalar(select(Berth).where(Berth.number == "A003"))
    assert client.post(f"/sensors/{sensors['S1'].id}/bind", data={"berth_id": a3.id}).status_code == 302
    a2 = db.session.scalar(select(Berth).where(Berth.number == "A002"))
    taken = client.post(f"/sensors/{sensors['S1'].id}/bind", data={"berth_id": a2.id})
    assert taken.status_code == 400 and "already has sensor S2" in taken.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "bind")) is not None


def test_station_key_is_shown_once_and_rotates(tree, db, client_as):
    client = client_as("parkp1")
    r = client.post("/sensors/stations/new", data={"park_id": tree.p1.id, "serial": "BS-9", "name": "Pole"})
    assert r.status_code == 200
    key = re.search(r'id="station-key">([^<]+)<', r.get_data(as_text=True)).group(1)
    station = db.session.scalar(select(BaseStation))
    assert station.key_hash == hash_key(key) and key not in client.get("/sensors/stations").get_data(as_text=True)
    rotated = client.post(f"/sensors/stations/{station.id}/rotate")
    new_key = re.search(r'id="station-key">([^<]+)<', rotated.get_data(as_text=True)).group(1)
    assert new_key != key
    from flask import current_app

    c = current_app.test_client()
    assert c.post("/pos/v1/stations/heartbeat", json={}, headers={"X-Station-Key": key}).status_code == 401
    assert c.post("/pos/v1/stations/heartbeat", json={}, headers={"X-Station-Key": new_key}).status_code == 200


def test_health_and_settings(tree, db, client_as):
    db.session.add(Sensor(park_id=tree.p1.id, serial="S1", online=False))
    db.session.commit()
    client = client_as("parkp1")
    page = client.get("/sensors/health")
    assert page.status_code == 200 and "Alpha Street One" in page.get_data(as_text=True)
    r = client.post(f"/sensors/settings/{tree.p1.id}", data={"blip_seconds": 90, "no_order_minutes": 15,
                                                             "offline_minutes": 30, "low_battery_mv": 3300,
                                                             "auto_escape_unattended": "y"})
    assert r.status_code == 302
    row = db.session.scalar(select(SensorSettings))
    assert row.blip_seconds == 90 and row.auto_escape_unattended


def test_task_pages_and_groups(tree, db, client_as, make):
    from app.staff.models import RoleKind

    seg = _segment(tree, db)
    inspector = make.staff(tree.p1, "inspectorx", kind=RoleKind.INSPECTOR, display_name="Insp X")
    client = client_as("parkp1")
    r = client.post("/inspections/groups/new", data={"park_id": tree.p1.id, "name": "Patrol",
                                                     "segment_ids": [seg.id], "inspector_ids": [inspector.id]})
    assert r.status_code == 302, r.get_data(as_text=True)
    group = db.session.scalar(select(InspectorGroup))
    assert [s.id for s in group.segments] == [seg.id] and [s.id for s in group.inspectors] == [inspector.id]
    r = client.post("/inspections/tasks/new", data={"segment_id": seg.id, "berth_number": "A002", "kind": "other",
                                                    "note": "look at it"})
    assert r.status_code == 302
    task = db.session.scalar(select(InspectionTask))
    assert task.state == "open" and task.berth.number == "A002"
    assert client.post(f"/inspections/tasks/{task.id}/assign", data={"assign-assignee_id": inspector.id}).status_code == 302
    assert client.post(f"/inspections/tasks/{task.id}/follow-up",
                       data={"follow-note": "all fine", "follow-close": "close"}).status_code == 302
    db.session.refresh(task)
    assert task.state == "resolved" and task.assignee_id == inspector.id and "all fine" in task.note
    body = client.get("/inspections/tasks?state=resolved").get_data(as_text=True)
    assert f'/inspections/tasks/{task.id}"' in body
    assert client.get("/inspections/reports").status_code == 200


def test_track_pages(tree, db, client_as, make):
    from app.staff.models import RoleKind

    person = db.session.scalar(select(Staff).where(Staff.username == "collectorp1"))
    now = datetime.now(timezone.utc)
    db.session.add_all(TrackPoint(staff_id=person.id, park_id=tree.p1.id, recorded_at=now - timedelta(minutes=i),
                                  lat=31.2304, lng=121.4737 + i * 0.0001) for i in range(20))
    db.session.add(LastPosition(staff_id=person.id, park_id=tree.p1.id, recorded_at=now, lat=31.23, lng=121.47))
    db.session.commit()
    client = client_as("parkp1")
    live = client.get("/tracks/live")
    assert live.status_code == 200 and person.display_name in live.get_data(as_text=True)
    assert "<script>" not in live.get_data(as_text=True)
    day = client.get(f"/tracks/people/{person.id}")
    text = day.get_data(as_text=True)
    assert day.status_code == 200 and 'id="track-day-data"' in text and "km" in text
    admin = db.session.scalar(select(Staff).where(Staff.username == "parkp1"))
    assert client.get(f"/tracks/people/{admin.id}").status_code == 404  # not field staff
    assert client_as("parkp2").get(f"/tracks/people/{person.id}").status_code == 404
