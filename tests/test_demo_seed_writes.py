"""The demo seed where tests write (each its own seed; tests/test_demo_seed.py shares one that is only read):
seeding again changes nothing, and the demo's collector works a car through the device API."""
import pytest
from sqlalchemy import func, select

from app.demo import DEMO_PASSWORD, seed_demo
from app.staff.models import Staff
from app.tenancy.models import Area, City, OperatingGroup, Park


@pytest.fixture
def demo(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(tmp_path / "photos"))
    seed_demo(history_days=1)
    return db


def _counts(db):
    return [db.session.scalar(select(func.count()).select_from(m)) for m in (City, OperatingGroup, Area, Park, Staff)]


def test_seed_twice_changes_nothing(demo):
    first = _counts(demo)
    seed_demo(history_days=1)
    assert _counts(demo) == first and first[0] >= 2


def test_demo_collector_works_a_car_through_the_api(demo, app):
    client = app.test_client()
    login = client.post("/pos/v1/session", json={"username": "collector1", "password": DEMO_PASSWORD,
                                                 "device_serial": "DEMO-POS-0001"}).get_json()
    auth = {"Authorization": f"Bearer {login['token']}"}
    segment = login["segments"][0]["id"]
    shift = client.post("/pos/v1/shifts", json={"client_ref": "demo-shift-1", "segment_id": segment}, headers=auth)
    # the demo history may already have put collector1 on today's shift (after 07:00 park time)
    assert shift.status_code == 201 or shift.get_json()["error"]["code"] == "shift_open"
    berths = client.get("/pos/v1/berths", headers=auth).get_json()["berths"]
    free = next(b for b in berths if not b["occupied"])
    response = client.post("/pos/v1/orders", json={"client_ref": "demo-order-1", "berth_id": free["id"],
                                                   "plate": "沪Z99999"}, headers=auth)
    assert response.status_code == 201
