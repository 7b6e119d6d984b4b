"""Alerts and health: run_checks() and `flask sensors check`."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.core.types import utcnow
from app.extensions import db
from app.inbox.models import Message
from app.inspections.models import InspectionTask, InspectorGroup
from app.orders.models import Arrear, ParkingOrder
from app.sensors.models import BaseStation, Outage, Sensor, SensorSettings
from app.sensors.services import run_checks
from app.staff.models import Staff
from tests.sensors.helpers import at, ref, sensored, street  # noqa: F401


def _messages(kind):
    return db.session.scalars(select(Message).where(Message.kind == kind)).all()


def _inspector_group(tree, street):
    inspector = db.session.scalar(select(Staff).where(Staff.username == "inspectorp1"))
    from app.berths.models import BerthSegment

    group = InspectorGroup(park_id=tree.p1.id, name="Patrol", segments=[db.session.get(BerthSegment,
                                                                                       street.segments[0])],
                           inspectors=[inspector])
    db.session.add(group)
    db.session.commit()
    return inspector


def test_car_present_without_order_alerts_collector_and_inspectors(sensored, tree):
    s = sensored
    inspector = _inspector_group(tree, s.street)
    s.street.signed_in()
    s.post([s.event("S-A001", "arrive", at(minutes=4))])
    assert run_checks(utcnow())["no_order"] == 0
    counts = run_checks(utcnow() + timedelta(minutes=7))
    db.session.commit()
    assert counts["no_order"] == 1
    [alert] = _messages("sensor_no_order")
    assert alert.payload["number"] == "A001"
    [task] = db.session.scalars(select(InspectionTask)).all()
    assert task.kind == "car_no_order" and task.state == "open" and task.berth_id == s.street.berths["A001"]
    assert [m.recipient_id for m in _messages("inspection_task")] == [inspector.id]
    assert run_checks(utcnow() + timedelta(minutes=20))["no_order"] == 0  # once only


def test_a_late_upload_is_checked_when_it_arrives(sensored):
    s = sensored
    s.post([s.event("S-A003", "arrive", at(minutes=30))])
    db.session.expire_all()
    assert db.session.scalars(select(InspectionTask)).one().kind == "car_no_order"


def test_car_left_with_order_open_alerts_the_collector(sensored):
    s = sensored
    token = s.street.signed_in()
    s.post([s.event("S-A001", "arrive", at(minutes=8))])
    order_id = s.street.car_in(token, "A001", "沪A12345").get_json()["order"]["id"]
    s.post([s.event("S-A001", "depart", at(minutes=3))])
    assert run_checks(utcnow())["left_open"] == 0
    assert run_checks(utcnow() + timedelta(minutes=8))["left_open"] == 1
    db.session.commit()
    [alert] = _messages("sensor_left_open")
    assert alert.payload["order_id"] == order_id
    assert db.session.scalars(select(InspectionTask)).one().kind == "car_left_open"
    assert db.session.get(ParkingOrder, order_id).state == "open"


def test_nobody_on_duty_and_auto_escape_makes_the_order_unpaid(sensored, tree):
    s = sensored
    db.session.add(SensorSettings(park_id=tree.p1.id, auto_escape_unattended=True))
    db.session.commit()
    token = s.street.signed_in()
    s.post([s.event("S-A001", "arrive", at(minutes=200))])
    order_id = s.street.car_in(token, "A001", "沪A12345", entered_at=at(minutes=190).isoformat()).get_json()["order"]["id"]
    assert s.street.call("POST", "/shifts/current/close", token, json={"client_ref": ref()}).status_code == 200
    s.post([s.event("S-A001", "depart", at(minutes=15))])
    db.session.expire_all()
    order = db.session.get(ParkingOrder, order_id)
    assert order.state == "unpaid" and order.exit_collector_id is None
    arrear = db.session.scalar(select(Arrear).where(Arrear.order_id == order_id))
    assert arrear.amount_fen == order.fee_fen > 0
    assert db.session.scalars(select(InspectionTask).where(InspectionTask.kind == "car_left_open")).all() == []


def test_nobody_on_duty_without_auto_escape_raises_a_task(sensored):
    s = sensored
    token = s.street.signed_in()
    s.post([s.event("S-A001", "arrive", at(minutes=100))])
    order_id = s.street.car_in(token, "A001", "沪A12345").get_json()["order"]["id"]
    s.street.call("POST", "/shifts/current/close", token, json={"client_ref": ref()})
    s.post([s.event("S-A001", "depart", at(minutes=11))])
    db.session.expire_all()
    assert db.session.get(ParkingOrder, order_id).state == "open"
    assert db.session.scalars(select(InspectionTask).where(
        InspectionTask.kind == "car_left_open")).one().order_id == order_id


def test_silence_opens_an_outage_and_the_next_heartbeat_closes_it(sensored, tree):
    s = sensored
    s.post([s.event("S-A001", "heartbeat", at(minutes=40), battery_mv=3200),
            s.event("S-A002", "heartbeat", at(minutes=1))])
    sensor = db.session.get(Sensor, s.sensors["S-A001"])
    assert sensor.online and sensor.low_battery
    counts = run_checks(utcnow())
    db.session.commit()
    assert counts["sensors_offline"] == 1
    db.session.expire_all()
    assert not db.session.get(Sensor, s.sensors["S-A001"]).online
    [outage] = db.session.scalars(select(Outage)).all()
    assert outage.ended_at is None and outage.sensor_id == s.sensors["S-A001"]
    s.post([s.event("S-A001", "heartbeat", at(seconds=5), battery_mv=3500)])
    db.session.expire_all()
    outage = db.session.scalars(select(Outage)).one()
    assert outage.ended_at is not None
    sensor = db.session.get(Sensor, s.sensors["S-A001"])
    assert sensor.online and not sensor.low_battery
    # a station goes silent too
    station = db.session.get(BaseStation, s.stations["p1"])
    station.online, station.last_heartbeat_at = True, utcnow() - timedelta(hours=1)
    db.session.commit()
    assert run_checks(utcnow())["stations_offline"] == 1


def test_cli_check(app, sensored):
    result = app.test_cli_runner().invoke(args=["sensors", "check"])
    assert result.exit_code == 0 and "no_order=0" in result.output
