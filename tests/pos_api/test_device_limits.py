"""What a signed-in collector cannot abuse: made-up device serials and free-text vehicle classes."""
import os
import threading
import uuid

import pytest
from sqlalchemy import func, select

from app.devices import services as devices
from app.devices.models import Handheld
from app.orders.models import ParkingOrder
from app.parks.models import CarType
from app.staff.models import RoleKind
from tests.factories import PASSWORD
from tests.pos_api.conftest import Street


def _sign_in(street, username, serial):
    return street.client.post("/pos/v1/session", json={"username": username, "password": PASSWORD,
                                                       "device_serial": serial})


def _pending(db):
    db.session.expire_all()
    return db.session.scalar(select(func.count(Handheld.id)).where(Handheld.status == "pending"))


def test_a_collector_with_fifty_made_up_serials_brings_in_only_a_few(street, db):
    answers = [_sign_in(street, "collectorp1", f"FAKE-{uuid.uuid4().hex[:12]}") for _ in range(50)]
    assert [a.get_json()["error"]["code"] for a in answers[:devices.MAX_NEW_PER_PERSON]] == \
        ["device_pending"] * devices.MAX_NEW_PER_PERSON
    refused = answers[devices.MAX_NEW_PER_PERSON:]
    assert {(a.status_code, a.get_json()["error"]["code"]) for a in refused} == {(429, "too_many_new_devices")}
    assert _pending(db) == devices.MAX_NEW_PER_PERSON
    # the serials already waiting still say so, and the approved handheld still signs in
    assert _sign_in(street, "collectorp1", answers[0].get_json()["error"]["device_serial"]).status_code == 403
    assert _sign_in(street, "collectorp1", "POS-P1-A").status_code == 201


def test_a_park_holds_at_most_its_cap_of_pending_handhelds(street, make, tree, db):
    people = [make.staff(tree.p1, f"newcomer{i}", kind=RoleKind.COLLECTOR).username for i in range(5)]
    codes = [_sign_in(street, person, f"FAKE-{person}-{n}").get_json()["error"]["code"]
             for person in people for n in range(devices.MAX_NEW_PER_PERSON)]
    assert codes.count("device_pending") == devices.MAX_PENDING
    assert set(codes[devices.MAX_PENDING:]) == {"too_many_pending_devices"}
    assert _pending(db) == devices.MAX_PENDING
    refused = _sign_in(street, "collector2p1", "FAKE-ONE-MORE")
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "too_many_pending_devices"
    # another park's collectors are not held up by p1's queue
    assert _sign_in(street, "collectorp2", "FAKE-AT-P2").get_json()["error"]["code"] == "device_pending"
    # once a manager has dealt with one, the next new handheld is recorded again
    first = db.session.scalar(select(Handheld).where(Handheld.status == "pending", Handheld.park_id == tree.p1.id))
    first.status = "revoked"
    db.session.commit()
    assert _sign_in(street, "collector2p1", "FAKE-ONE-MORE").get_json()["error"]["code"] == "device_pending"


def test_the_sign_in_tells_the_handheld_which_vehicle_classes_car_in_takes(street, tree, db):
    db.session.add_all([CarType(park_id=tree.p1.id, name="Small car", code="1", vehicle_class="small"),
                        CarType(park_id=tree.p1.id, name="Coach", code="2", vehicle_class="large"),
                        CarType(park_id=tree.p1.id, name="Old type", code="3", vehicle_class="other",
                                active=False),
                        CarType(park_id=tree.p2.id, name="Elsewhere", code="1", vehicle_class="large")])
    db.session.commit()
    body = _sign_in(street, "collectorp1", "POS-P1-A").get_json()
    assert body["vehicle_classes"] == ["small", "large", "other"]
    assert body["car_types"] == [{"code": "1", "name": "Small car", "vehicle_class": "small"},
                                 {"code": "2", "name": "Coach", "vehicle_class": "large"}]


def test_car_in_takes_only_a_known_vehicle_class(street, db):
    token = street.signed_in()
    for bad in ("tank<script>", "bus", "", 7):
        response = street.car_in(token, "A001", "沪A70001", vehicle_class=bad)
        assert response.status_code == 422, bad
        error = response.get_json()["error"]
        assert error["code"] == "validation_failed" and set(error["fields"]) == {"vehicle_class"}
    assert db.session.scalar(select(func.count(ParkingOrder.id))) == 0
    for berth, plate, vehicle_class in (("A001", "沪A70001", "large"), ("A002", "沪A70002", "other")):
        response = street.car_in(token, berth, plate, vehicle_class=vehicle_class)
        assert response.status_code == 201 and response.get_json()["order"]["vehicle_class"] == vehicle_class
    assert street.car_in(token, "A003", "沪A70003").get_json()["order"]["vehicle_class"] == "small"


@pytest.mark.postgres
@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="row locks and real concurrency need PostgreSQL")
def test_concurrent_sign_ins_with_made_up_serials_keep_both_limits(app, street, make, tree, db):
    people = [make.staff(tree.p1, f"rusher{i}", kind=RoleKind.COLLECTOR).username for i in range(5)]
    attempts = [(person, f"RUSH-{person}-{n}") for person in people for n in range(4)]
    barrier = threading.Barrier(len(attempts))
    codes = []

    def attempt(person, serial):
        client = app.test_client()
        barrier.wait()
        codes.append(_sign_in(Street(client), person, serial).get_json()["error"]["code"])

    threads = [threading.Thread(target=attempt, args=pair) for pair in attempts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert codes.count("device_pending") == devices.MAX_PENDING == _pending(db)
    db.session.expire_all()
    per_person = db.session.execute(select(Handheld.first_seen_by_id, func.count(Handheld.id))
                                    .group_by(Handheld.first_seen_by_id)).all()
    assert max(count for _person, count in per_person if _person is not None) <= devices.MAX_NEW_PER_PERSON
