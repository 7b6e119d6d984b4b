"""Sensor events end to end: sessions, links to orders, duplicates, disorder, debouncing, station keys."""
from __future__ import annotations

from sqlalchemy import event, func, select, update

from app.core.types import utcnow
from app.extensions import db
from app.inbox.models import Message
from app.orders.models import ParkingOrder
from app.sensors.models import OccupancySession, Outage, Sensor, SensorEvent
from tests.sensors.helpers import at, ref, sensored, street  # noqa: F401


def sessions(berth_id=None):
    db.session.expire_all()
    stmt = select(OccupancySession).order_by(OccupancySession.arrived_at)
    if berth_id is not None:
        stmt = stmt.where(OccupancySession.berth_id == berth_id)
    return db.session.scalars(stmt).all()


def test_arrival_and_departure_make_one_session(sensored, db):
    s = sensored
    r = s.post([s.event("S-A001", "arrive", at(minutes=30), battery_mv=3600),
                s.event("S-A001", "depart", at(minutes=5))])
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["counts"] == {"accepted": 2, "duplicate": 0, "unknown_sensor": 0, "invalid": 0}
    [session] = sessions()
    assert session.berth_id == s.street.berths["A001"] and session.departed_at is not None
    sensor = db.session.get(Sensor, s.sensors["S-A001"])
    assert sensor.online and sensor.magnet is False and sensor.battery_mv == 3600 and not sensor.low_battery


def test_duplicates_change_nothing_and_results_are_per_item(sensored, db):
    s = sensored
    when = at(minutes=20)
    first = s.event("S-A001", "arrive", when)
    r = s.post([first, {**first, "client_ref": ref()}, s.event("S-NOPE", "arrive", when),
                {"sensor_serial": "S-A002", "kind": "fly", "occurred_at": "yesterday"}, "junk"])
    statuses = [x["status"] for x in r.get_json()["results"]]
    assert statuses == ["accepted", "duplicate", "unknown_sensor", "invalid", "invalid"]
    assert r.get_json()["results"][3]["fields"].keys() == {"kind", "occurred_at"}
    again = s.post([first])
    assert again.get_json()["results"][0]["status"] == "duplicate"
    assert db.session.scalar(select(func.count()).select_from(SensorEvent)) == 1
    assert len(sessions()) == 1


def test_an_older_arrival_after_a_newer_departure_does_not_reopen(sensored):
    s = sensored
    s.post([s.event("S-A001", "arrive", at(minutes=40))])
    s.post([s.event("S-A001", "depart", at(minutes=10))])
    r = s.post([s.event("S-A001", "arrive", at(minutes=20))])  # late, out of order
    assert r.get_json()["results"][0]["status"] == "accepted"
    [session] = sessions()
    assert session.departed_at is not None


def test_disorder_inside_one_batch_is_sorted(sensored):
    s = sensored
    s.post([s.event("S-A001", "depart", at(minutes=10)), s.event("S-A001", "arrive", at(minutes=40))])
    [session] = sessions()
    assert session.departed_at is not None
    assert round((session.departed_at - session.arrived_at).total_seconds()) == 30 * 60


def test_short_pairs_are_ignored(sensored):
    s = sensored
    s.post([s.event("S-A001", "arrive", at(minutes=30)), s.event("S-A001", "depart", at(minutes=30, seconds=-20))])
    assert sessions() == []
    # a departure flicker: the car is still there, one session
    s.post([s.event("S-A002", "arrive", at(minutes=50))])
    s.post([s.event("S-A002", "depart", at(minutes=20))])
    s.post([s.event("S-A002", "arrive", at(minutes=20, seconds=-15))])
    [session] = sessions(s.street.berths["A002"])
    assert session.departed_at is None


def test_wrong_key_is_401_and_other_park_sensors_are_unknown(sensored):
    s = sensored
    r = s.post([s.event("S-A001", "arrive", at(minutes=5))], key="bs_wrong")
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "invalid_station_key"
    r = s.street.client.post("/pos/v1/sensor-events", json={"events": [s.event("S-A001", "arrive", at(minutes=5))]},
                             headers={"Authorization": f"Bearer {s.keys['p1']}"})
    assert r.get_json()["results"][0]["status"] == "accepted"
    r = s.post([s.event("S-A002", "arrive", at(minutes=5))], park="p2")  # p2's station, p1's sensor
    assert r.get_json()["results"][0]["status"] == "unknown_sensor"
    assert len(sessions(s.street.berths["A002"])) == 0
    assert s.street.client.post("/pos/v1/sensor-events", json={"events": []},
                                headers={"X-Station-Key": s.keys["p1"]}).status_code == 422
    too_many = [s.event("S-A001", "heartbeat", at(seconds=i)) for i in range(1001)]
    assert s.post(too_many).status_code == 422


def test_a_collector_order_uses_the_sensor_arrival_and_links_the_session(sensored, db):
    s = sensored
    arrived = at(minutes=6)
    s.post([s.event("S-A001", "arrive", arrived)])
    token = s.street.signed_in()
    r = s.street.car_in(token, "A001", "沪A12345")
    assert r.status_code == 201, r.get_json()
    order = db.session.get(ParkingOrder, r.get_json()["order"]["id"])
    assert abs((order.entered_at - arrived).total_seconds()) < 1
    [session] = sessions()
    assert session.order_id == order.id
    # an arrival on a berth that already has an order links to it
    r = s.street.car_in(token, "A002", "沪A54321")
    s.post([s.event("S-A002", "arrive", at(seconds=30))])
    assert sessions(s.street.berths["A002"])[0].order_id == r.get_json()["order"]["id"]


def test_old_sensor_arrivals_do_not_change_the_order_time(sensored, db):
    s = sensored
    s.post([s.event("S-A001", "arrive", at(minutes=25))])
    token = s.street.signed_in()
    before = utcnow()
    r = s.street.car_in(token, "A001", "沪A12345")
    order = db.session.get(ParkingOrder, r.get_json()["order"]["id"])
    assert order.entered_at >= before
    assert sessions()[0].order_id == order.id


def test_the_on_duty_collector_hears_of_berth_changes(sensored, db):
    s = sensored
    token = s.street.signed_in()
    s.post([s.event("S-A001", "arrive", at(minutes=2))])
    r = s.street.call("GET", "/messages", token)
    kinds = [m["kind"] for m in r.get_json()["messages"]]
    assert kinds == ["berth_state"]
    assert r.get_json()["messages"][0]["payload"]["state"] == "occupied"


def test_station_heartbeat(sensored, db):
    s = sensored
    r = s.street.client.post("/pos/v1/stations/heartbeat", json={"voltage_mv": 12100},
                             headers={"X-Station-Key": s.keys["p1"]})
    assert r.status_code == 200 and r.get_json()["online"] is True
    r = s.street.client.post("/pos/v1/stations/heartbeat", json={"voltage_mv": "high"},
                             headers={"X-Station-Key": s.keys["p1"]})
    assert r.status_code == 422
    assert s.street.client.post("/pos/v1/stations/heartbeat", json={}).status_code == 401
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0


def test_a_batch_costs_the_same_statements_whatever_its_size(sensored, tree):
    """Set-wise ingest: five sensors coming back from an outage and arriving, then departing, cost the
    statements of one."""
    s = sensored
    serials = ["S-A001", "S-A002", "S-A003", "S-B001", "S-B002", "S-B003"]
    s.post([s.event(serial, "heartbeat", at(minutes=50)) for serial in serials])
    db.session.execute(update(Sensor).values(online=False))
    db.session.add_all(Outage(park_id=tree.p1.id, sensor_id=s.sensors[serial], started_at=at(minutes=50))
                       for serial in serials)
    db.session.commit()
    from app.integrations.events import targets

    targets(tree.p1.id)  # what the integrations need of the park is cached, as on a running server

    # the ORM inserts new sessions one by one on SQLite (multi-row INSERT … RETURNING on PostgreSQL)
    per_row = "INSERT INTO occupancy_sessions" if db.engine.dialect.name == "sqlite" else None

    def statements(events):
        seen = []

        def count(conn, cursor, statement, *args):
            if per_row is None or not statement.startswith(per_row):
                seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert s.post(events).get_json()["counts"]["accepted"] == len(events)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    for kind, when in (("arrive", at(minutes=3)), ("depart", at(minutes=1))):
        one = statements([s.event(serials[0], kind, when)])
        assert statements([s.event(serial, kind, when) for serial in serials[1:]]) == one
    assert [x.departed_at is not None for x in sessions()] == [True] * 6
    assert db.session.scalar(select(func.count()).select_from(Outage).where(Outage.ended_at.is_(None))) == 0
