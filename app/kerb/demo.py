"""Demo sensors, a base station, an inspector group, a day of occupancy sessions and GPS tracks for
Central Street, written in bulk. Idempotent: nothing happens once the demo base station exists."""
from __future__ import annotations

import math
import random
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, or_, select, update

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
NO_ORDER_WAIT = timedelta(minutes=10)  # the sensors' default alert delay (SensorSettings.no_order_minutes)


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
    sensors = {s.berth_id: s for s in db.session.scalars(select(Sensor).where(Sensor.park_id == park.id)
                                                         .order_by(Sensor.id))}
    by_sensor = _sessions(park, sensors, rnd, now)
    _outages(park, sensors, by_sensor, now)
    waiting = _car_waiting(park, sensors, by_sensor, now)
    _write_sessions(sensors, by_sensor)
    _inspections(park, sensors, by_sensor, waiting, rnd, now)
    _tracks(park, rnd, now)


def _order_sessions(park, sensors, rnd, now) -> dict[int, list[dict]]:
    """Per sensor, in time order: a session for each order of the last day and each order still open (the
    sensor saw the car a little earlier and later than the collector), never two at once."""
    since = now - timedelta(hours=24)
    orders = db.session.execute(select(ParkingOrder.id, ParkingOrder.berth_id, ParkingOrder.entered_at,
                                       ParkingOrder.left_at).where(
        ParkingOrder.park_id == park.id, ParkingOrder.berth_id.is_not(None),
        or_(ParkingOrder.entered_at >= since, ParkingOrder.state == "open")).order_by(ParkingOrder.entered_at)).all()
    by_sensor: dict[int, list[dict]] = {}
    for order_id, berth_id, entered, left in orders:
        sensor = sensors.get(berth_id)
        if sensor is None:
            continue
        arrived = entered - timedelta(seconds=rnd.randint(20, 240))
        # a car that left in the last minute has left the sensor too (not still over it, orderless)
        departed = min(left + timedelta(seconds=rnd.randint(5, 60)), max(left, now)) if left else None
        runs = by_sensor.setdefault(sensor.id, [])
        if runs and runs[-1]["departed_at"] is not None and runs[-1]["departed_at"] >= arrived:
            runs[-1]["departed_at"] = runs[-1]["left"]  # the next car came at once: no slack either side
            arrived = max(arrived, runs[-1]["left"] + timedelta(seconds=1))
        runs.append({"park_id": park.id, "berth_id": berth_id, "sensor_id": sensor.id, "arrived_at": arrived,
                     "departed_at": departed if departed is None or departed <= now else None,
                     "order_id": order_id, "left": left, "no_order_alerted_at": None,
                     "left_open_alerted_at": departed if departed is not None and departed <= now else None})
    return by_sensor


def _free_at(runs: list[dict], start, end, now) -> bool:
    return all((r["departed_at"] or now) < start or r["arrived_at"] > end for r in runs)


def _unregistered(sensors, by_sensor, rnd, now) -> None:
    """Cars nobody registered: short stays on berths free at the time; the sensor alerts after 10 minutes."""
    for sensor in list(sensors.values())[::7]:
        arrived = now - timedelta(hours=rnd.randint(2, 20), minutes=rnd.randint(0, 59))
        departed = arrived + timedelta(minutes=rnd.randint(5, 25))
        if not 7 <= arrived.astimezone(ZoneInfo(sensor.park.timezone)).hour < 21:
            continue  # street hours: nobody parks unregistered at 3 a.m. in the demo
        runs = by_sensor.setdefault(sensor.id, [])
        if not _free_at(runs, arrived - timedelta(minutes=2), departed + timedelta(minutes=2), now):
            continue
        alerted = arrived + NO_ORDER_WAIT
        runs.append({"park_id": sensor.park_id, "berth_id": sensor.berth_id, "sensor_id": sensor.id,
                     "arrived_at": arrived, "departed_at": departed, "order_id": None, "left": None,
                     "no_order_alerted_at": alerted if alerted <= departed else None, "left_open_alerted_at": None})
        runs.sort(key=lambda r: r["arrived_at"])


def _sessions(park, sensors, rnd, now) -> dict[int, list[dict]]:
    by_sensor = _order_sessions(park, sensors, rnd, now)
    _unregistered(sensors, by_sensor, rnd, now)
    return by_sensor


def _write_sessions(sensors, by_sensor) -> None:
    sessions = [s for runs in by_sensor.values() for s in runs]
    events, last_change = [], {}
    for s in sorted(sessions, key=lambda s: s["arrived_at"]):
        events.append({"park_id": s["park_id"], "sensor_id": s["sensor_id"], "station_id": None, "kind": "arrive",
                       "occurred_at": s["arrived_at"], "received_at": s["arrived_at"], "battery_mv": None,
                       "magnet": True})
        last_change[s["sensor_id"]] = (s["arrived_at"], True)
        if s["departed_at"]:
            events.append({"park_id": s["park_id"], "sensor_id": s["sensor_id"], "station_id": None,
                           "kind": "depart", "occurred_at": s["departed_at"], "received_at": s["departed_at"],
                           "battery_mv": None, "magnet": False})
            last_change[s["sensor_id"]] = (s["departed_at"], False)
    if sessions:
        ids = db.session.execute(insert(OccupancySession).returning(OccupancySession.id, sort_by_parameter_order=True),
                                 [{k: v for k, v in s.items() if k != "left"} for s in sessions]).scalars().all()
        for s, session_id in zip(sessions, ids):
            s["id"] = session_id
        db.session.execute(insert(SensorEvent), events)
    for sensor in sensors.values():
        sensor.state_changed_at, sensor.magnet = last_change.get(sensor.id, (None, False))


def _idle_sensors(sensors, by_sensor, now, quiet: timedelta) -> list:
    """Sensors of empty berths whose last car left at least `quiet` ago: where a demo event may start."""
    idle = []
    for sensor in sensors.values():
        runs = by_sensor.get(sensor.id, [])
        if all(r["departed_at"] is not None and r["departed_at"] <= now - quiet for r in runs):
            idle.append(sensor)
    return idle


def _outages(park, sensors, by_sensor, now) -> None:
    """Two outages of the past, and one sensor offline for two hours now, on a berth nobody used since."""
    listed = list(sensors.values())
    if len(listed) < 4:
        return
    day = timedelta(days=1)
    rows = [(listed[3], now - 3 * day, now - 3 * day + timedelta(hours=5)),
            (listed[11 % len(listed)], now - day - timedelta(hours=3), now - day)]
    idle = [s for s in _idle_sensors(sensors, by_sensor, now, timedelta(hours=2, minutes=5)) if s not in
            (listed[3], listed[11 % len(listed)])]
    if idle:
        rows.append((idle[-1], now - timedelta(hours=2), None))
    for sensor, start, end in rows:
        db.session.add(Outage(park_id=park.id, sensor_id=sensor.id, started_at=start, ended_at=end))
        if end is None:
            sensor.online, sensor.last_heartbeat_at = False, start


def _car_waiting(park, sensors, by_sensor, now) -> dict | None:
    """A car standing for 23 minutes on a berth without an order: the open task of the demo."""
    idle = [s for s in _idle_sensors(sensors, by_sensor, now, timedelta(minutes=40)) if s.online]
    if not idle:
        return None
    sensor = idle[len(idle) // 3]
    arrived = now - timedelta(minutes=23)
    session = {"park_id": park.id, "berth_id": sensor.berth_id, "sensor_id": sensor.id, "arrived_at": arrived,
               "departed_at": None, "order_id": None, "left": None, "no_order_alerted_at": arrived + NO_ORDER_WAIT,
               "left_open_alerted_at": None}
    by_sensor.setdefault(sensor.id, []).append(session)
    return session


def _inspections(park, sensors, by_sensor, waiting, rnd, now) -> None:
    """The tasks the sensors' alerts raised (app.kerb.alerts), told as they happened: the car waiting now
    (open), the cars nobody registered that left before an inspector came, and a car that left while its
    order stayed open until the inspector had the collector settle it; and two violation reports."""
    inspector = db.session.scalar(select(Staff).where(Staff.username == "inspector1"))
    segments = db.session.scalars(select(BerthSegment).where(BerthSegment.park_id == park.id)).all()
    db.session.add(InspectorGroup(park_id=park.id, name="Central patrol", segments=list(segments),
                                  inspectors=[inspector] if inspector else []))
    berths = {b.id: b for b in db.session.scalars(select(Berth).where(Berth.park_id == park.id))}
    if waiting is not None:
        _task(berths[waiting["berth_id"]], waiting, TaskKind.CAR_NO_ORDER, waiting["no_order_alerted_at"],
              f"Sensor: car present since {waiting['arrived_at']:%H:%M} UTC, no order after 10 min.")
    sessions = sorted((s for runs in by_sensor.values() for s in runs), key=lambda s: s["arrived_at"])
    for s in sessions:
        if s["order_id"] is None and s["departed_at"] is not None and s["no_order_alerted_at"] is not None:
            task = _task(berths[s["berth_id"]], s, TaskKind.CAR_NO_ORDER, s["no_order_alerted_at"],
                         f"Sensor: car present since {s['arrived_at']:%H:%M} UTC, no order after 10 min.")
            gone = s["departed_at"] + timedelta(minutes=rnd.randint(3, 15))
            _resolve(task, inspector, "failed", "the car had gone when I arrived.", gone)
    left = next((s for s in reversed(sessions) if s["order_id"] is not None and s["departed_at"] is not None
                 and s["departed_at"] <= now - timedelta(minutes=40)), None)
    if left is not None:
        order = db.session.get_one(ParkingOrder, left["order_id"])
        alerted = left["departed_at"] + NO_ORDER_WAIT
        task = _task(berths[left["berth_id"]], left, TaskKind.CAR_LEFT_OPEN, alerted,
                     f"Sensor: {order.plate} left at {left['departed_at']:%H:%M} UTC; the order is still open.")
        task.order_id = order.id
        db.session.execute(update(OccupancySession).where(OccupancySession.id == left["id"])
                           .values(left_open_alerted_at=alerted))
        settled = alerted + timedelta(minutes=18)
        order.exit_received_at = settled  # the collector settled it once the inspector called
        _resolve(task, inspector, "done", "collector settled it.", settled)
    if inspector:
        _violations(park, inspector, berths, now)


def _task(berth, session, kind, at, note) -> InspectionTask:
    task = InspectionTask(park_id=berth.park_id, segment_id=berth.segment_id, berth_id=berth.id, kind=kind,
                          state=TaskState.OPEN, session_id=session.get("id"), sensor_id=session["sensor_id"],
                          created_at=at)
    task.add_note("system", note, at)
    db.session.add(task)
    return task


def _resolve(task, inspector, outcome, note, at) -> None:
    task.state, task.outcome, task.resolved_at = TaskState.RESOLVED, outcome, at
    if inspector is not None:
        task.assignee_id = task.resolved_by_id = inspector.id
    task.add_note(inspector.display_name if inspector else "inspector", f"{outcome} — {note}", at)


def _violations(park, inspector, berths, now) -> None:
    """A car across two berths two hours ago (a car the collector had registered) and a damaged sensor
    cover, each with the inspector's photo, where the berth's segment is."""
    from app.inspections.services import store_photo
    from app.orders.demo import demo_photo

    seen = now - timedelta(hours=2)
    order = db.session.scalar(select(ParkingOrder).where(
        ParkingOrder.park_id == park.id, ParkingOrder.berth_id.is_not(None), ParkingOrder.entered_at < seen,
        or_(ParkingOrder.left_at.is_(None), ParkingOrder.left_at > seen + timedelta(minutes=5)))
        .order_by(ParkingOrder.entered_at.desc()).limit(1))
    tz = ZoneInfo(park.timezone)
    reports = []
    if order is not None:
        reports.append((berths[order.berth_id], "violation", order.plate, "Parked across two berths", seen))
    sorted_berths = sorted(berths.values(), key=lambda b: b.number)
    if sorted_berths:
        reports.append((sorted_berths[len(sorted_berths) // 2], "anomaly", None, "Sensor cover cracked",
                        now - timedelta(hours=5, minutes=12)))
    for berth, kind, plate, note, at in reports:
        segment = db.session.get_one(BerthSegment, berth.segment_id)
        photo = store_photo(park.id, demo_photo(plate or "", berth.number, at.astimezone(tz), note))
        db.session.add(ViolationReport(park_id=park.id, inspector_id=inspector.id, segment_id=berth.segment_id,
                                       berth_id=berth.id, kind=kind, plate=plate, note=note,
                                       latitude=(segment.latitude or park.latitude) + 0.00003,
                                       longitude=(segment.longitude or park.longitude) - 0.00002,
                                       observed_at=at, created_at=at + timedelta(seconds=40), photo_path=photo))


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
