"""The demo seed: idempotent, every account signs in, and the two cities stay apart."""
import pytest
from sqlalchemy import func, select

from app.demo import DEMO_PASSWORD, seed_demo
from app.staff.models import Staff
from app.tenancy.models import Area, City, OperatingGroup, Park


@pytest.fixture
def demo(db, app):
    app.config["PASSWORD_HASH_METHOD"] = "pbkdf2:sha256:1000"
    seed_demo(history_days=1)
    return db


def _counts(db):
    return [db.session.scalar(select(func.count()).select_from(m)) for m in (City, OperatingGroup, Area, Park, Staff)]


def test_seed_twice_changes_nothing(demo):
    first = _counts(demo)
    seed_demo(history_days=1)
    assert _counts(demo) == first and first[0] >= 2


def test_demo_city_has_on_and_off_street_parks(demo):
    kinds = demo.session.execute(select(Park.kind, func.count()).join(City, City.id == Park.city_id)
                                 .where(City.name == "Demo City").group_by(Park.kind)).all()
    kinds = dict(kinds)
    assert kinds["on_street"] >= 2 and kinds["off_street"] >= 1


def test_harbor_is_the_only_word_of_the_second_city(demo):
    harbor = demo.session.scalar(select(City).where(City.name.contains("Harbor")))
    names = [c.name for c in demo.session.scalars(select(City))]
    names += [g.name for g in demo.session.scalars(select(OperatingGroup))]
    names += [a.name for a in demo.session.scalars(select(Area))]
    names += [p.name for p in demo.session.scalars(select(Park))]
    staff = list(demo.session.scalars(select(Staff)))
    in_harbor = {s.display_name for s in staff if s.city_id == harbor.id}
    assert all("Harbor" in n for n in in_harbor)
    assert all("Harbor" not in s.display_name for s in staff if s.city_id != harbor.id)
    harbor_nodes = [n for n in names if "Harbor" in n]
    assert len(harbor_nodes) >= 4


@pytest.mark.parametrize("username", ["admin", "city1", "group1", "park1", "city2"])
def test_demo_managers_sign_in(demo, app, username):
    response = app.test_client().post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("username", ["collector1", "inspector1"])
def test_demo_field_staff_are_refused_by_the_admin(demo, app, username):
    response = app.test_client().post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 400


def test_demo_city_managers_never_see_harbor(demo, app, login):
    client = login(app.test_client(), "city1", DEMO_PASSWORD)
    for url in ("/", "/org/groups", "/org/areas", "/org/parks", "/staff", "/roles", "/audit"):
        assert "Harbor" not in client.get(url).get_data(as_text=True), url
    client = login(app.test_client(), "city2", DEMO_PASSWORD)
    assert "Harbor Pier Street" in client.get("/org/parks").get_data(as_text=True)


def test_demo_streets_have_berths_devices_and_history(demo):
    from app.berths.models import Berth
    from app.devices.models import Handheld
    from app.orders.models import LedgerEntry, ParkingOrder

    central = demo.session.scalar(select(Park).where(Park.name == "Central Street"))
    assert demo.session.scalar(select(func.count()).select_from(Berth).where(Berth.park_id == central.id)) == 60
    pos = demo.session.scalar(select(Handheld).where(Handheld.serial == "DEMO-POS-0001"))
    assert pos.status == "approved" and pos.park_id == central.id
    orders = demo.session.scalar(select(func.count()).select_from(ParkingOrder)
                                 .where(ParkingOrder.park_id == central.id))
    money = demo.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.park_id == central.id))
    assert orders > 50 and money > 0


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
