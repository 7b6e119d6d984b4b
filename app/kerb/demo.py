"""Demo sensors, a base station, an inspector group, a day of occupancy sessions and GPS tracks for
Central Street, written in bulk. Idempotent: nothing happens once the demo base station exists."""
from __future__ import annotations

import math
import random
from datetime import timedelta

from sqlalchemy import insert, select

from app.berths.models import Berth, BerthSegment
from app.core.types import utcnow
from app.extensions import db
from app.inspections.models import InspectionTask, InspectorGroup, TaskKind, TaskState, ViolationReport
from app.orders.models import ParkingOrder
from app.sensors.models import BaseStation, OccupancySession, Outage, Sensor, SensorEvent
from app.sensors.services import hash_key
from app.staff.models import Staff
from app.tenancy.models import Park
from app.tracks.models import LastPosition, TrackPoint

DEMO_STATION = "DEMO-BS-0001"
DEMO_STATION_KEY = "bs_demo_central_street_station_key"  # demo only: a real key is random and shown once
PARK = "Central Street"


def seed_sensors() -> None:
    park = db.session.scalar(select(Park).where(Park.name == PARK))
    if park is None or db.session.scalar(select(BaseStation.id).where(BaseStation.serial == DEMO_STATION)):
        return
    rnd = random.Random(7)
    now = utcnow()
    station = BaseStation(park_id=park.id, serial=DEMO_STATION, name="Central Street pole 1",
                          location="Central Street / corner of Market Road", latitude=park.latitude,
                          longitude=park.longitude, voltage_mv=12150, last_heartbeat_at=now, online=True,
                          key_hash=hash_key(DEMO_STATION_KEY), key_hint=DEMO_STATION_KEY[:7])
    db.session.add(station)
    db.session.flush()
    berths = db.session.scalars(select(Berth).where(Berth.park_id == park.id).order_by(Berth.number)).all()
    db.session.execute(insert(Sensor), [
        {"park_id": park.id, "serial": f"DC-{b.number}", "berth_id": b.id, "station_id": station.id,
         "battery_mv": (mv := rnd.choice([3250, 3280]) if i % 17 == 5 else rnd.randint(3350, 3650)),
         "low_battery": mv < 3300, "last_heartbeat_at": now - timedelta(minutes=rnd.randint(0, 9)),
         "online": True, "active": True, "created_at": now, "updated_at": now} for i, b in enumerate(berths)])
    sensors = {s.berth_id: s for s in db.session.scalars(select(Sensor).where(Sensor.park_id == park.id))}
    _sessions(park, sensors, rnd, now)
    _outages(park, list(sensors.values()), now)
    _inspections(park, now)
    _tracks(park, rnd, now)


def _sessions(park, sensors, rnd, now) -> None:
    """A day of sessions: one per order of the last 24 hours (the sensor saw the car a little earlier and
    later than the collector), plus cars nobody registered."""
    since = now - timedelta(hours=24)
    orders = db.session.execute(select(ParkingOrder.id, ParkingOrder.berth_id, ParkingOrder.entered_at,
                                       ParkingOrder.left_at).where(
        ParkingOrder.park_id == park.id, ParkingOrder.entered_at >= since, ParkingOrder.berth_id.is_not(None))
        .order_by(ParkingOrder.entered_at)).all()
    sessions, events, last_change = [], [], {}
    for order_id, berth_id, entered, left in orders:
        sensor = sensors.get(berth_id)
        if sensor is None:
            continue
        arrived = entered - timedelta(seconds=rnd.randint(20, 240))
        departed = left + timedelta(seconds=rnd.randint(5, 60)) if left else None
        if departed and departed > now:
            departed = None
        sessions.append({"park_id": park.id, "berth_id": berth_id, "sensor_id": sensor.id, "arrived_at": arrived,
                         "departed_at": departed, "order_id": order_id})
    for sensor in list(sensors.values())[::7]:  # cars nobody registered
        arrived = now - timedelta(hours=rnd.randint(2, 20), minutes=rnd.randint(0, 59))
        sessions.append({"park_id": park.id, "berth_id": sensor.berth_id, "sensor_id": sensor.id,
                         "arrived_at": arrived, "departed_at": arrived + timedelta(minutes=rnd.randint(5, 25)),
                         "order_id": None, "no_order_alerted_at": arrived + timedelta(minutes=10)})
    sessions.sort(key=lambda s: s["arrived_at"])
    open_by_sensor: dict[int, dict] = {}
    kept = []
    for s in sessions:  # no overlaps per sensor
        previous = open_by_sensor.get(s["sensor_id"])
        if previous is not None and (previous["departed_at"] is None or previous["departed_at"] > s["arrived_at"]):
            continue
        open_by_sensor[s["sensor_id"]] = s
        kept.append(s)
    for s in kept:
        s.setdefault("no_order_alerted_at", None)
        if s["departed_at"] is not None and s["order_id"] is not None:
            s["left_open_alerted_at"] = s["departed_at"]  # history: already checked
        events.append({"park_id": park.id, "sensor_id": s["sensor_id"], "station_id": None, "kind": "arrive",
                       "occurred_at": s["arrived_at"], "received_at": s["arrived_at"], "battery_mv": None,
                       "magnet": True})
        last_change[s["sensor_id"]] = (s["arrived_at"], True)
        if s["departed_at"]:
            events.append({"park_id": park.id, "sensor_id": s["sensor_id"], "station_id": None, "kind": "depart",
                           "occurred_at": s["departed_at"], "received_at": s["departed_at"], "battery_mv": None,
                           "magnet": False})
            last_change[s["sensor_id"]] = (s["departed_at"], False)
    if kept:
        db.session.execute(insert(OccupancySession), [{**{"left_open_alerted_at": None}, **s} for s in kept])
        db.session.execute(insert(SensorEvent), events)
    for sensor in sensors.values():
        sensor.state_changed_at, sensor.magnet = last_change.get(sensor.id, (None, False))


def _outages(park, sensors, now) -> None:
    if len(sensors) < 4:
        return
    day = timedelta(days=1)
    rows = [(sensors[3], now - 3 * day, now - 3 * day + timedelta(hours=5)),
            (sensors[11 % len(sensors)], now - day - timedelta(hours=3), now - day),
            (sensors[-2], now - timedelta(hours=2), None)]
    for sensor, start, end in rows:
        db.session.add(Outage(park_id=park.id, sensor_id=sensor.id, started_at=start, ended_at=end))
        if end is None:
            sensor.online, sensor.last_heartbeat_at = False, start


def _inspections(park, now) -> None:
    inspector = db.session.scalar(select(Staff).where(Staff.username == "inspector1"))
    segments = db.session.scalars(select(BerthSegment).where(BerthSegment.park_id == park.id)).all()
    group = InspectorGroup(park_id=park.id, name="Central patrol", segments=list(segments),
                           inspectors=[inspector] if inspector else [])
    db.session.add(group)
    berth = db.session.scalar(select(Berth).where(Berth.park_id == park.id).order_by(Berth.number).offset(6).limit(1))
    if berth is None:
        return
    open_task = InspectionTask(park_id=park.id, segment_id=berth.segment_id, berth_id=berth.id,
                               kind=TaskKind.CAR_NO_ORDER, state=TaskState.OPEN, created_at=now - timedelta(minutes=25))
    open_task.add_note("system", "Sensor: car present for 12 min, no order.", open_task.created_at)
    done = InspectionTask(park_id=park.id, segment_id=berth.segment_id, berth_id=berth.id,
                          kind=TaskKind.CAR_LEFT_OPEN, state=TaskState.RESOLVED, outcome="done",
                          assignee_id=inspector.id if inspector else None, created_at=now - timedelta(hours=5),
                          resolved_at=now - timedelta(hours=4, minutes=40),
                          resolved_by_id=inspector.id if inspector else None)
    done.add_note("system", "Sensor: the car left; the order is still open.", now - timedelta(hours=5))
    done.add_note(inspector.display_name if inspector else "inspector", "done — collector settled it.",
                  now - timedelta(hours=4, minutes=40))
    db.session.add_all([open_task, done])
    if inspector:
        db.session.add(ViolationReport(park_id=park.id, inspector_id=inspector.id, segment_id=berth.segment_id,
                                       berth_id=berth.id, kind="violation", plate="沪A9K321",
                                       note="Parked across two berths", latitude=park.latitude,
                                       longitude=park.longitude, observed_at=now - timedelta(hours=2)))


def _tracks(park, rnd, now) -> None:
    """Ten hours of points every 10 s for collector1 (around the segment, with stops) and inspector1
    (patrolling between Central Street and Market Road)."""
    lat0, lng0 = park.latitude or 31.2304, park.longitude or 121.4737
    market = (31.2330, 121.4790)
    start = now - timedelta(hours=10)
    for username, path in (("collector1", "collector"), ("inspector1", "inspector")):
        staff = db.session.scalar(select(Staff).where(Staff.username == username))
        if staff is None:
            continue
        rows = []
        for i in range(0, 10 * 360):
            at = start + timedelta(seconds=10 * i)
            phase = i / 360.0  # hours
            if path == "collector":
                if int(phase * 2) % 3 == 1:  # every 1.5 h, half an hour standing at a berth
                    lat, lng = lat0 + 0.0009, lng0 + 0.0002
                else:
                    s = math.sin(phase * math.pi * 3)
                    lat, lng = lat0 + 0.0012 * s, lng0 + 0.0002 * math.cos(phase * 7)
            else:
                f = (math.sin(phase * math.pi / 1.5) + 1) / 2  # walks to Market Road and back
                lat, lng = lat0 + (market[0] - lat0) * f, lng0 + (market[1] - lng0) * f
            rows.append({"staff_id": staff.id, "park_id": park.id, "handheld_id": None, "recorded_at": at,
                         "received_at": at, "lat": lat + rnd.uniform(-0.00002, 0.00002),
                         "lng": lng + rnd.uniform(-0.00002, 0.00002), "accuracy_m": rnd.choice([5.0, 8.0, 12.0]),
                         "speed_mps": None})
        db.session.execute(insert(TrackPoint), rows)
        last = rows[-1]
        db.session.merge(LastPosition(staff_id=staff.id, park_id=park.id, recorded_at=last["recorded_at"],
                                      lat=last["lat"], lng=last["lng"], accuracy_m=last["accuracy_m"]))
