"""Off-street device pages: per-level lists, on-street refusal, secrets never shown, validation."""
import pytest
from sqlalchemy import func, select, text

from app.audit.models import AuditEntry
from app.devices.models import SimCard
from app.lanes.demo import seed_lanes
from app.lanes.models import Barrier, Booth, Camera, Lane, LedScreen, Monitor
from app.lanes.services import LaneError, lane_rules, save_device
from app.parks.models import ParkParameters


@pytest.fixture
def lots(tree, make, db):
    """p4 (off-street, group a1) and p3 (off-street, group a2) with the demo lanes."""
    tree.nodes["p4"] = make.park(tree.a1, "Alpha Lot Four", kind="off_street")
    seed_lanes(tree.p4)
    seed_lanes(tree.p3)
    db.session.commit()
    return tree


def _lane(db, park, name="Entry 1"):
    return db.session.scalar(select(Lane).where(Lane.park_id == park.id, Lane.name == name))


@pytest.mark.parametrize("path", ["booths", "lanes", "cameras", "barriers", "screens", "monitors", "sims"])
def test_group_sees_its_parks_with_a_park_column(lots, client_as, path):
    body = client_as("groupa1").get(f"/lot/{path}").get_data(as_text=True)
    assert "Alpha Lot Four" in body and "Alpha Garage Three" not in body
    assert "<th>Park</th>" in body


def test_city_sees_every_group_and_filters_by_park_and_status(lots, client_as):
    client = client_as("citya")
    body = client.get("/lot/cameras").get_data(as_text=True)
    assert body.count("Entry 1 camera") == 2 and "Alpha Garage Three" in body and "Alpha Lot Four" in body
    assert body.count(">online<") == 2 and body.count(">offline<") == 2
    body = client.get(f"/lot/cameras?park_id={lots.p3.id}&status=offline").get_data(as_text=True)
    assert "Exit 1 camera" in body and "Entry 1 camera" not in body and body.count(">offline<") == 1


def test_park_manager_sees_only_their_park_without_park_column(lots, client_as):
    body = client_as("parkp3").get("/lot/lanes").get_data(as_text=True)
    assert "Entry 1" in body and "Exit 1" in body and "<th>Park</th>" not in body
    assert "Booth 1" in body and body.count("allowed (park default)") == 4
    assert "<td>3/3</td>" in body and "<td>0/3</td>" in body  # the demo's exit devices are silent


def test_on_street_park_gets_a_clear_refusal(tree, client_as, db):
    client = client_as("parkp1")
    body = client.get("/lot/lanes").get_data(as_text=True)
    assert 'id="no-off-street"' in body and "None yet." in body
    assert 'id="device-form"' not in client.get("/lot/lanes/new").get_data(as_text=True)
    with pytest.raises(LaneError, match="on-street park"):
        save_device(None, Lane(), tree.p1, {"name": "Gate", "direction": "entry"})


def test_camera_credentials_are_encrypted_and_never_shown(lots, client_as, db):
    client = client_as("groupa1")
    lane = _lane(db, lots.p4)
    response = client.post("/lot/cameras/new", data={
        "lane_id": lane.id, "name": "Side cam", "ip": "10.1.2.3", "port": 8554, "maker": "Acme",
        "username": "cam-user-x", "password": "s3cret-pw-x"})
    assert response.status_code == 302
    camera = db.session.scalar(select(Camera).where(Camera.name == "Side cam"))
    assert (camera.park_id, camera.password, camera.username) == (lots.p4.id, "s3cret-pw-x", "cam-user-x")
    raw = db.session.execute(text("SELECT password FROM cameras WHERE id = :id"), {"id": camera.id}).scalar()
    assert "s3cret" not in raw
    pages = [client.get("/lot/cameras").get_data(as_text=True),
             client.get(f"/lot/cameras/{camera.id}/edit").get_data(as_text=True)]
    assert all("s3cret-pw-x" not in p and "cam-user-x" not in p for p in pages)
    assert "Credentials stored: yes" in pages[1]
    # blank keeps the stored credentials; a new password replaces it
    assert client.post(f"/lot/cameras/{camera.id}/edit", data={
        "lane_id": lane.id, "name": "Side cam", "ip": "10.1.2.4", "port": 8554}).status_code == 302
    db.session.expire_all()
    assert (camera.ip, camera.password, camera.username) == ("10.1.2.4", "s3cret-pw-x", "cam-user-x")
    client.post(f"/lot/cameras/{camera.id}/edit", data={"lane_id": lane.id, "name": "Side cam", "ip": "10.1.2.4",
                                                         "port": 8554, "password": "n3w-pw-x"})
    db.session.expire_all()
    assert camera.password == "n3w-pw-x"
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Camera")
                                      .order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["create", "update", "update"]
    assert entries[0].park_id == lots.p4.id
    assert entries[2].after == {"credentials_changed": ["password"]}
    assert not any("pw-x" in str(e.before) + str(e.after) or "cam-user" in str(e.after) for e in entries)
    body = client.get(f"/audit/{entries[2].id}").get_data(as_text=True)
    assert "credentials_changed" in body and "pw-x" not in body


def test_bad_addresses_are_refused_in_the_page(lots, client_as, db):
    client = client_as("groupa1")
    lane = _lane(db, lots.p4)
    response = client.post("/lot/cameras/new", data={"lane_id": lane.id, "name": "Bad", "ip": "300.1.1.1",
                                                      "port": 70000})
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and "Enter an IPv4 or IPv6 address." in body
    assert "A port is between 1 and 65535." in body
    response = client.post("/lot/screens/new", data={"lane_id": lane.id, "name": "Led", "move_mode": 0,
                                                      "move_speed": 1, "dwell_seconds": 9, "width": 128,
                                                      "height": 32, "type_size": 16})
    assert response.status_code == 400 and "between 0 and 5" in response.get_data(as_text=True)
    response = client.post("/lot/screens/new", data={"lane_id": lane.id, "name": "Led", "link": "network",
                                                      "move_mode": 0, "move_speed": 1, "width": 128, "height": 32,
                                                      "type_size": 16})
    assert "A screen on the network needs its IP address." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Camera).where(Camera.name == "Bad")) == 0
    assert db.session.scalar(select(func.count()).select_from(LedScreen).where(LedScreen.name == "Led")) == 0


def test_a_lane_and_its_devices_stay_in_one_park(lots, client_as, db, make):
    other = make.park(lots.a1, "Alpha Lot Five", kind="off_street")
    seed_lanes(other)
    db.session.commit()
    client = client_as("groupa1")
    foreign_booth = db.session.scalar(select(Booth).where(Booth.park_id == other.id))
    response = client.post("/lot/lanes/new", data={"park_id": lots.p4.id, "name": "Gate 9", "direction": "both",
                                                    "booth_id": foreign_booth.id})
    assert response.status_code == 400 and "The booth must belong to the same park." in response.get_data(as_text=True)
    assert _lane(db, lots.p4, "Gate 9") is None
    # editing a camera offers only its own park's lanes
    camera = db.session.scalar(select(Camera).where(Camera.park_id == lots.p4.id))
    response = client.post(f"/lot/cameras/{camera.id}/edit", data={
        "lane_id": _lane(db, other).id, "name": camera.name, "ip": "10.0.0.9", "port": 554})
    assert response.status_code == 400
    db.session.expire_all()
    assert camera.lane.park_id == lots.p4.id
    with pytest.raises(LaneError, match="same park"):
        save_device(None, Barrier(), lots.p4, {"name": "B", "lane_id": _lane(db, other).id})
    # same name twice in a park
    response = client.post("/lot/lanes/new", data={"park_id": lots.p4.id, "name": "entry 1", "direction": "entry"})
    assert response.status_code == 400 and "already has one with this name" in response.get_data(as_text=True)


def test_lane_overrides_and_disable(lots, client_as, db):
    client = client_as("groupa1")
    lane = _lane(db, lots.p4)
    response = client.post(f"/lot/lanes/{lane.id}/edit", data={
        "name": "Entry 1", "direction": "entry", "booth_id": lane.booth_id, "allow_non_pass_cars": "0",
        "allow_pass_second_car": ""})
    assert response.status_code == 302
    db.session.expire_all()
    assert (lane.allow_non_pass_cars, lane.allow_pass_second_car) == (False, None)
    assert lane_rules(lane) == {"allow_non_pass_cars": False, "allow_pass_second_car": True}
    db.session.add(ParkParameters(park_id=lots.p4.id, allow_pass_second_car=False))
    db.session.commit()
    assert lane_rules(lane) == {"allow_non_pass_cars": False, "allow_pass_second_car": False}
    body = client.get(f"/lot/lanes?park_id={lots.p4.id}").get_data(as_text=True)
    assert body.count("refused (park default)") == 2 and body.count("allowed (park default)") == 1
    assert client.post(f"/lot/lanes/{lane.id}/toggle").status_code == 302
    db.session.expire_all()
    assert lane.active is False
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "disable"))
    assert (entry.object_type, entry.object_id, entry.park_id) == ("Lane", lane.id, lots.p4.id)
    assert ">disabled<" in client.get("/lot/lanes?status=disabled").get_data(as_text=True)


def test_monitor_and_intercom(lots, client_as, db):
    client = client_as("groupa1")
    assert client.post("/lot/monitors/new", data={"park_id": lots.p4.id, "kind": "intercom", "name": "Gate phone",
                                                   "extension": "805", "lane_id": ""}).status_code == 302
    response = client.post("/lot/monitors/new", data={"park_id": lots.p4.id, "kind": "video", "name": "Cam wall",
                                                       "play_url": "javascript:alert(1)", "lane_id": ""})
    assert response.status_code == 400
    response = client.post("/lot/monitors/new", data={"park_id": lots.p4.id, "kind": "intercom", "name": "Mute",
                                                       "lane_id": ""})
    assert "An intercom needs its extension number." in response.get_data(as_text=True)
    phone = db.session.scalar(select(Monitor).where(Monitor.name == "Gate phone"))
    assert (phone.park_id, phone.lane_id, phone.extension) == (lots.p4.id, None, "805")


def test_sim_cards_bind_to_devices_of_their_park(lots, client_as, db):
    client = client_as("groupa1")
    booth = db.session.scalar(select(Booth).where(Booth.park_id == lots.p4.id))
    foreign = db.session.scalar(select(Booth).where(Booth.park_id == lots.p3.id))
    body = client.get("/lot/sims/new").get_data(as_text=True)
    assert f"booth:{booth.id}" in body and f"booth:{foreign.id}" not in body
    data = {"park_id": lots.p4.id, "iccid": "89860012345678901234", "number": "13900000001",
            "carrier": "Unicom", "device": f"booth:{booth.id}", "expires_on": "2099-01-31"}
    assert client.post("/lot/sims/new", data=data).status_code == 302
    assert client.post("/lot/sims/new", data=data).status_code == 400  # the ICCID is taken
    response = client.post("/lot/sims/new", data={**data, "iccid": "89860012345678909999", "park_id": lots.p1.id})
    assert response.status_code == 400 and "same park" in response.get_data(as_text=True)
    assert client.post("/lot/sims/new", data={**data, "iccid": "89860012345678905555", "device": "",
                                               "expires_on": "2020-01-01"}).status_code == 302
    body = client.get("/lot/sims").get_data(as_text=True)
    assert "89860012345678901234" in body and "Booth 1" in body and "2099-01-31" in body
    assert "2020-01-01 (expired)" in body and "not bound" in body
    assert db.session.scalar(select(func.count()).select_from(SimCard).where(SimCard.park_id == lots.p1.id)) == 0


def test_view_only_role_cannot_change_devices(lots, client_as, make, db):
    make.staff(lots.p3, "lanewatcher", role=make.role(lots.p3, codes=["lot_devices.view"]))
    client = client_as("lanewatcher")
    lane = _lane(db, lots.p3)
    body = client.get("/lot/lanes").get_data(as_text=True)
    assert "Entry 1" in body and "Add a lane" not in body and "/toggle" not in body
    assert client.get("/lot/lanes/new").status_code == 403
    assert client.post(f"/lot/lanes/{lane.id}/toggle").status_code == 403
    assert client.get("/lot/sims").status_code == 403
