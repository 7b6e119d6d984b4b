"""Sensor ingest and what follows from it: occupancy sessions, links to orders, alerts, health.

The HTTP ingest (`POST /pos/v1/sensor-events`) and the TCP gateway both call `ingest()`. A batch is
handled set-wise, in a fixed number of statements whatever its size: one query for the sensors, one
INSERT … ON CONFLICT DO NOTHING RETURNING for the events (a repeat of (sensor, kind, occurred_at) changes
nothing), then the state machines of the sensors with new events, in time order, written back with one
UPDATE per table (`app.core.bulk.update_rows`).

Rules:
- an arrive or depart older than the newest one already applied to that sensor is stored but changes
  nothing (an old arrive after a newer depart does not reopen a session);
- an arrive/depart pair shorter than the park's blip seconds is noise: the session is dropped, and an
  arrival shortly after a departure reopens the session it closed;
- any report is a sign of life: it sets the heartbeat, brings the sensor online and closes its outage.
`check_session` and `run_checks` announce overdue sessions; the kerb (app/kerb) alerts the on-duty
collector, raises inspection tasks and decides unattended escapes."""
from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from operator import attrgetter
from typing import cast

from sqlalchemy import CursorResult, func, select, text, update
from sqlalchemy.orm import contains_eager
from sqlalchemy.orm.attributes import get_history, set_committed_value
from sqlalchemy.sql.selectable import ScalarSelect

from app.audit.services import record
from app.berths.models import Berth
from app.core import signals
from app.core.bulk import insert_ignore, one_of, update_rows
from app.core.devicetime import AHEAD, MAX_AGE, NO_OFFSET, NOT_A_TIME, TOO_OLD, read_device_time
from app.core.errors import Refused
from app.core.signals import berth_occupancy, device_offline
from app.core.types import utcnow
from app.extensions import db, on_postgresql
from app.inbox.models import send
from app.orders.models import OPEN_STATE, ParkingOrder
from app.sensors.models import BaseStation, EventKind, OccupancySession, Outage, Sensor, SensorEvent, SensorSettings
from app.shifts.models import Shift
from app.tenancy.models import Park

MAX_BATCH = 1000
SENSOR_TIME_WINDOW = timedelta(minutes=10)     # an order takes the sensor's arrival time if it is this recent
HEARTBEAT_WRITE_EVERY = timedelta(seconds=60)  # a sensor row is rewritten for a bare heartbeat at most this often
SERIAL_RE = re.compile(r"^[A-Za-z0-9_\-:.]{1,64}$")
REF_RE = re.compile(r"^[A-Za-z0-9\-_]{8,64}$")

DEFAULTS = {c.key: c.default.arg for c in SensorSettings.__table__.columns
            if c.default is not None and not callable(c.default.arg)}


# --- settings and keys -------------------------------------------------------------------------

def settings_for(park_id: int) -> SensorSettings:
    row = db.session.scalar(select(SensorSettings).where(SensorSettings.park_id == park_id))
    return row or SensorSettings(park_id=park_id, **DEFAULTS)


def _settings_map(park_ids) -> dict[int, SensorSettings]:
    ids = set(park_ids)
    rows = {r.park_id: r for r in db.session.scalars(select(SensorSettings).where(SensorSettings.park_id.in_(ids)))} \
        if ids else {}
    return {pid: rows.get(pid) or SensorSettings(park_id=pid, **DEFAULTS) for pid in ids}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return "bs_" + secrets.token_urlsafe(30)


def station_for_key(key: str | None) -> BaseStation | None:
    if not key or len(key) > 200:
        return None
    return db.session.scalar(select(BaseStation).join(BaseStation.park).options(contains_eager(BaseStation.park))
                             .where(BaseStation.key_hash == hash_key(key.strip()), BaseStation.active.is_(True),
                                    Park.active.is_(True)))


# --- parsing -----------------------------------------------------------------------------------

class SensorState:
    """What ingest needs of a sensor, read with one Core query (not ORM objects: a batch touches up to
    1,000 sensors) and written back in one statement by `_write_sensors`."""

    __slots__ = ("id", "park_id", "serial", "berth_id", "battery_mv", "low_battery", "last_heartbeat_at", "online",
                 "magnet", "state_changed_at")

    def __init__(self, id, park_id, serial, berth_id, battery_mv, low_battery, last_heartbeat_at, online, magnet,
                 state_changed_at):
        self.id, self.park_id, self.serial, self.berth_id = id, park_id, serial, berth_id
        self.battery_mv, self.low_battery, self.last_heartbeat_at = battery_mv, low_battery, last_heartbeat_at
        self.online, self.magnet, self.state_changed_at = online, magnet, state_changed_at


def _states(*where, lock: bool = False) -> list[SensorState]:
    stmt = select(*(getattr(Sensor, name) for name in SensorState.__slots__)).where(*where)
    if lock:
        stmt = stmt.order_by(Sensor.id).with_for_update()
    return [SensorState(*row) for row in db.session.execute(stmt)]


@dataclass
class Item:
    index: int
    client_ref: str | None
    serial: str
    kind: str
    occurred_at: datetime
    battery_mv: int | None
    magnet: bool | None
    sensor: SensorState | None = None


def _parse_time(value, now: datetime):
    if isinstance(value, str) and len(value) > 40:
        return None, TIME_PROBLEMS[NOT_A_TIME]
    parsed = read_device_time(value, now)
    if isinstance(parsed, str):
        return None, TIME_PROBLEMS[parsed]
    return parsed.astimezone(timezone.utc), None


TIME_PROBLEMS = {NOT_A_TIME: "an ISO 8601 time with offset", NO_OFFSET: "a time with its UTC offset",
                 AHEAD: "more than 2 minutes in the future", TOO_OLD: "older than 48 hours"}


def parse_item(index: int, raw, now: datetime) -> tuple[Item | None, dict]:
    """One event of a batch; on a problem, the per-item result saying what is wrong."""
    if not isinstance(raw, dict):
        return None, {"index": index, "status": "invalid", "fields": {"": "an object"}}
    errors = {}
    ref = raw.get("client_ref")
    if ref is not None and (not isinstance(ref, str) or not REF_RE.match(ref)):
        errors["client_ref"] = "8 to 64 letters, digits, - or _"
        ref = None
    serial = raw.get("sensor_serial")
    if not isinstance(serial, str) or not SERIAL_RE.match(serial):
        errors["sensor_serial"] = "1 to 64 letters, digits, - _ : ."
    kind = raw.get("kind")
    if kind not in EventKind.ALL:
        errors["kind"] = "arrive, depart or heartbeat"
    occurred_at, problem = _parse_time(raw.get("occurred_at"), now)
    if problem:
        errors["occurred_at"] = problem
    battery = raw.get("battery_mv")
    if battery is not None and (isinstance(battery, bool) or not isinstance(battery, int) or not 0 <= battery <= 10000):
        errors["battery_mv"] = "millivolts between 0 and 10000"
    magnet = raw.get("magnet")
    if magnet is not None and not isinstance(magnet, bool):
        errors["magnet"] = "true (car present) or false"
    result = {"index": index, "client_ref": ref if isinstance(ref, str) else None}
    if errors:
        return None, {**result, "status": "invalid", "fields": errors}
    return Item(index, ref, serial, kind, occurred_at, battery, magnet), result


# --- ingest ------------------------------------------------------------------------------------

@dataclass
class Context:
    """What one batch touched, to notify and check once at the end."""
    received_at: datetime
    settings: dict
    touched_sessions: dict
    changes: list  # (berth, state, session, at)
    back_online: dict = field(default_factory=dict)  # sensor id -> when it was heard again


def ingest(station: BaseStation, raw_items: list, received_at: datetime | None = None) -> list[dict]:
    """Store and apply a batch reported by `station`; one result per item, in order:
    accepted, duplicate, unknown_sensor or invalid. The caller commits."""
    now = received_at or utcnow()
    results: list[dict] = []
    items: list[Item] = []
    for index, raw in enumerate(raw_items):
        item, result = parse_item(index, raw, now)
        results.append(result)
        if item is not None:
            items.append(item)
    _touch_station(station, now)
    if not items:
        return results
    sensors = {s.serial: s for s in _states(
        one_of(Sensor.serial, {i.serial for i in items}), Sensor.park_id == station.park_id, Sensor.active.is_(True))}
    rows, seen, known = [], set(), []
    for item in items:
        sensor = sensors.get(item.serial)
        if sensor is None:
            results[item.index]["status"] = "unknown_sensor"
            continue
        item.sensor = sensor
        key = (sensor.id, item.kind, item.occurred_at)
        if key in seen:
            results[item.index]["status"] = "duplicate"
            continue
        seen.add(key)
        known.append(item)
        rows.append((sensor.id, item.kind, item.occurred_at, item.battery_mv, item.magnet))
    inserted = _insert_events(station, rows, now)
    accepted: list[Item] = []
    for item in known:
        if (item.sensor.id, item.kind, item.occurred_at) in inserted:
            results[item.index]["status"] = "accepted"
            accepted.append(item)
        else:
            results[item.index]["status"] = "duplicate"
    if accepted:
        apply(accepted, now)
    return results


# PostgreSQL: the batch travels as one JSON parameter, unpacked by the server (no per-value quoting in Python)
PG_INSERT_EVENTS = text(
    "INSERT INTO sensor_events (park_id, station_id, received_at, sensor_id, kind, occurred_at, battery_mv, magnet) "
    "SELECT :park_id, :station_id, :received_at, e.s, e.k, e.t, e.b, e.m "
    "FROM json_to_recordset(CAST(:events AS json)) AS e(s int, k text, t timestamptz, b int, m boolean) "
    "ON CONFLICT DO NOTHING RETURNING sensor_id, kind, occurred_at")


def _insert_events(station: BaseStation, rows: list[tuple], now: datetime) -> set:
    """Insert (sensor_id, kind, occurred_at, battery_mv, magnet) rows, skipping what is stored already;
    the keys (sensor, kind, occurred_at) that were new (aware datetimes: equal whatever their offset)."""
    if not rows:
        return set()
    if on_postgresql():
        events = json.dumps([{"s": s, "k": k, "t": t.isoformat(), "b": b, "m": m} for s, k, t, b, m in rows])
        found = db.session.execute(PG_INSERT_EVENTS, {"park_id": station.park_id, "station_id": station.id,
                                                      "received_at": now, "events": events})
        return {tuple(r) for r in found}
    stmt = insert_ignore(SensorEvent.__table__).returning(
        SensorEvent.sensor_id, SensorEvent.kind, SensorEvent.occurred_at)
    return {tuple(r) for r in db.session.execute(stmt, [
        {"park_id": station.park_id, "station_id": station.id, "received_at": now, "sensor_id": s, "kind": k,
         "occurred_at": t, "battery_mv": b, "magnet": m} for s, k, t, b, m in rows])}


def _touch_station(station: BaseStation, now: datetime) -> None:
    if station.last_heartbeat_at is None or now - station.last_heartbeat_at >= HEARTBEAT_WRITE_EVERY \
            or not station.online:
        station_heartbeat(station, now, station.voltage_mv)


def apply(items: list[Item], now: datetime) -> None:
    """Apply accepted events: signs of life, then arrive/depart in time order per sensor."""
    by_sensor: dict[int, list[Item]] = defaultdict(list)
    for item in items:
        by_sensor[item.sensor.id].append(item)
    sensors = {i.sensor.id: i.sensor for i in items}
    stateful = sorted(sid for sid, its in by_sensor.items()
                      if sensors[sid].berth_id is not None and any(i.kind != EventKind.HEARTBEAT for i in its))
    if stateful and on_postgresql():
        # one writer per sensor at a time; ids in order so two batches cannot deadlock
        for fresh in _states(one_of(Sensor.id, stateful), lock=True):  # the state as of the lock
            for name in SensorState.__slots__:
                setattr(sensors[fresh.id], name, getattr(fresh, name))
    ctx = Context(now, _settings_map(s.park_id for s in sensors.values()), {}, [])
    open_sessions, recent_closed, free_orders = _preload(by_sensor, sensors, stateful, ctx)
    before = {sid: _row(sensor) for sid, sensor in sensors.items()}
    for sid, its in by_sensor.items():
        sensor = sensors[sid]
        its.sort(key=lambda i: (i.occurred_at, i.kind != EventKind.DEPART))
        _sign_of_life(sensor, its, ctx)
        if sensor.berth_id is None:
            for item in its:
                if item.kind != EventKind.HEARTBEAT and (sensor.state_changed_at is None
                                                          or item.occurred_at > sensor.state_changed_at):
                    sensor.magnet, sensor.state_changed_at = item.kind == EventKind.ARRIVE, item.occurred_at
            continue
        for item in its:
            if item.kind == EventKind.HEARTBEAT:
                continue
            _apply_state(sensor, item, ctx, open_sessions, recent_closed, free_orders)
    with db.session.no_autoflush:  # else the ORM would first write each departure on its own
        _write_sensors(sensors, before)
        _write_departures(ctx.touched_sessions.values())
        _end_outages(ctx.back_online)
    db.session.flush()
    _notify_changes(ctx)
    for session in ctx.touched_sessions.values():
        if session.id is not None and session in db.session:
            check_session(session, now, ctx.settings.get(session.park_id))


SENSOR_STATE = ("last_heartbeat_at", "battery_mv", "low_battery", "online", "magnet", "state_changed_at")
_row = attrgetter(*SENSOR_STATE)  # the written part of a SensorState, as a tuple


def _write_sensors(sensors: dict, before: dict) -> None:
    """The changed state of a batch's sensors, in one statement instead of one UPDATE per sensor row."""
    update_rows(Sensor.__table__, [{"id": sid, **dict(zip(SENSOR_STATE, _row(sensor)))}
                                          for sid, sensor in sensors.items() if _row(sensor) != before[sid]])


def _write_departures(sessions) -> None:
    """Departures set (or undone) on stored sessions, in one statement: the ORM would send one UPDATE per row."""
    changed = [s for s in sessions if s.id is not None and get_history(s, "departed_at").has_changes()]
    update_rows(OccupancySession.__table__, [{"id": s.id, "departed_at": s.departed_at} for s in changed])
    for session in changed:
        set_committed_value(session, "departed_at", session.departed_at)  # written: nothing left for the flush


def _end_outages(back: dict) -> None:
    """Close the open outages of sensors heard again ({sensor id: first sign of life}), in one statement."""
    update_rows(Outage.__table__, [{"sensor_id": sid, "ended_at": at} for sid, at in back.items()], "sensor_id",
                only_null=("ended_at",))


def _preload(by_sensor, sensors, stateful, ctx):
    open_sessions: dict[int, OccupancySession] = {}
    recent_closed: dict[int, OccupancySession] = {}
    free_orders: dict[int, int] = {}
    if not stateful:
        return open_sessions, recent_closed, free_orders
    for s in db.session.scalars(select(OccupancySession).where(one_of(OccupancySession.sensor_id, stateful),
                                                               OccupancySession.departed_at.is_(None))):
        open_sessions[s.sensor_id] = s
    arrivals = [i for sid in stateful for i in by_sensor[sid] if i.kind == EventKind.ARRIVE]
    if arrivals:
        longest_blip = max(ctx.settings[sensors[i.sensor.id].park_id].blip_seconds for i in arrivals)
        since = min(i.occurred_at for i in arrivals) - timedelta(seconds=longest_blip)
        for s in db.session.scalars(select(OccupancySession).where(
                one_of(OccupancySession.sensor_id, {i.sensor.id for i in arrivals}),
                OccupancySession.departed_at >= since).order_by(OccupancySession.departed_at)):
            recent_closed[s.sensor_id] = s
        berths = {sensors[i.sensor.id].berth_id for i in arrivals}
        orders = dict(db.session.execute(select(ParkingOrder.berth_id, ParkingOrder.id).where(
            one_of(ParkingOrder.berth_id, berths), ParkingOrder.state == OPEN_STATE)).all())
        if orders:
            linked = set(db.session.scalars(select(OccupancySession.order_id).where(
                OccupancySession.order_id.in_(orders.values()))))
            free_orders = {b: o for b, o in orders.items() if o not in linked}
    return open_sessions, recent_closed, free_orders


def _sign_of_life(sensor: SensorState, items: list[Item], ctx: Context) -> None:
    newest = max(i.occurred_at for i in items)
    settings = ctx.settings[sensor.park_id]
    battery = next((i.battery_mv for i in reversed(items) if i.battery_mv is not None), None)
    if battery is not None and battery != sensor.battery_mv:
        sensor.battery_mv = battery
        sensor.low_battery = battery < settings.low_battery_mv
    if not sensor.online:
        sensor.online = True
        ctx.back_online[sensor.id] = newest
    if sensor.last_heartbeat_at is None or newest - sensor.last_heartbeat_at >= HEARTBEAT_WRITE_EVERY \
            or any(i.kind != EventKind.HEARTBEAT for i in items):
        if sensor.last_heartbeat_at is None or newest > sensor.last_heartbeat_at:
            sensor.last_heartbeat_at = newest
    if sensor.berth_id is None or all(i.kind == EventKind.HEARTBEAT for i in items):
        reported = next((i.magnet for i in reversed(items) if i.magnet is not None), None)
        if reported is not None and sensor.state_changed_at is None:
            sensor.magnet = reported


def _apply_state(sensor: SensorState, item: Item, ctx: Context, open_sessions, recent_closed, free_orders) -> None:
    t = item.occurred_at
    if sensor.state_changed_at is not None and t <= sensor.state_changed_at:
        return  # older than what we already know: stored, not applied
    blip = timedelta(seconds=ctx.settings[sensor.park_id].blip_seconds)
    berth_id = sensor.berth_id
    if item.kind == EventKind.ARRIVE:
        if sensor.id in open_sessions:  # already occupied: a repeated arrival
            sensor.state_changed_at = t
            return
        previous = recent_closed.get(sensor.id)
        if previous is not None and previous.departed_at is not None and t - previous.departed_at < blip \
                and previous.left_open_alerted_at is None and previous.berth_id == berth_id:
            previous.departed_at = None  # the departure was a flicker: the same car is still there
            session = previous
        else:
            session = OccupancySession(park_id=sensor.park_id, berth_id=berth_id, sensor_id=sensor.id, arrived_at=t)
            order_id = free_orders.pop(berth_id, None)
            if order_id is not None:
                session.order_id = order_id
            db.session.add(session)
            ctx.changes.append((berth_id, "occupied", session, t))
        open_sessions[sensor.id] = session
        recent_closed.pop(sensor.id, None)
        sensor.magnet, sensor.state_changed_at = True, t
        ctx.touched_sessions[id(session)] = session
    else:
        session = open_sessions.pop(sensor.id, None)
        sensor.magnet, sensor.state_changed_at = False, t
        if session is None:
            return
        if t - session.arrived_at < blip and session.order_id is None and session.no_order_alerted_at is None:
            if session.id is not None:
                db.session.delete(session)
            else:
                db.session.expunge(session)
            ctx.changes[:] = [c for c in ctx.changes if c[2] is not session]
            ctx.touched_sessions.pop(id(session), None)
            return
        session.departed_at = t
        recent_closed[sensor.id] = session
        ctx.changes.append((berth_id, "free", session, t))
        ctx.touched_sessions[id(session)] = session


def _notify_changes(ctx: Context) -> None:
    """Tell the on-duty collector of each berth that its state changed (the handheld refreshes its grid),
    and whoever listens to `berth_occupancy` (the integrations)."""
    if not ctx.changes:
        return
    if berth_occupancy.receivers:
        for berth_id, state, session, at in ctx.changes:
            berth_occupancy.send(session.park_id, berth_id=berth_id, state=state, at=at)
    watchers: dict[int, list] = defaultdict(list)  # berth -> (number, collector) of open shifts on its segment
    for berth_id, number, collector_id in db.session.execute(
            select(Berth.id, Berth.number, Shift.collector_id).join(Shift, Shift.segment_id == Berth.segment_id)
            .where(one_of(Berth.id, {c[0] for c in ctx.changes}), Shift.ended_at.is_(None))):
        watchers[berth_id].append((number, collector_id))
    for berth_id, state, session, at in ctx.changes:
        for number, collector_id in watchers.get(berth_id, ()):
            send(collector_id, "berth_state", f"Berth {number}: {state}", None,
                 {"berth_id": berth_id, "number": number, "state": state, "session_id": session.id,
                  "order_id": session.order_id, "at": at.isoformat()})


def on_duty(segment_ids) -> dict[int, list[int]]:
    """Collectors signed in to each segment (open shifts)."""
    ids = {s for s in segment_ids if s is not None}
    duty: dict[int, list[int]] = defaultdict(list)
    if ids:
        for segment_id, collector_id in db.session.execute(select(Shift.segment_id, Shift.collector_id).where(
                Shift.segment_id.in_(ids), Shift.ended_at.is_(None))):
            duty[segment_id].append(collector_id)
    return duty


def station_heartbeat(station: BaseStation, at: datetime, voltage_mv: int | None = None) -> None:
    if voltage_mv is not None:
        station.voltage_mv = voltage_mv
    if station.last_heartbeat_at is None or at > station.last_heartbeat_at:
        station.last_heartbeat_at = at
    if not station.online:
        station.online = True
        db.session.execute(update(Outage).where(Outage.station_id == station.id, Outage.ended_at.is_(None))
                           .values(ended_at=at))


# --- the collector's order and the sensor ---------------------------------------------------------

def open_session_id(berth_id) -> ScalarSelect:
    """The id of the berth's open sensor session not yet linked to an order: a column for the caller's
    own query (car-in reads it with the berth), since most berths have no sensor."""
    return select(OccupancySession.id).where(
        OccupancySession.berth_id == berth_id, OccupancySession.departed_at.is_(None),
        OccupancySession.order_id.is_(None)).order_by(OccupancySession.arrived_at.desc()).limit(1).scalar_subquery()


def arrival_time_for(session_id: int | None, received_at: datetime, entered_at: datetime,
                     use_sensor_time: bool) -> tuple[datetime, OccupancySession | None]:
    """Called by car-in with `open_session_id` of the berth: that session, and the entry time to use —
    the sensor's arrival when the park uses sensor time and it is at most 10 minutes old."""
    session = db.session.get(OccupancySession, session_id) if session_id is not None else None
    if session is not None and use_sensor_time and \
            timedelta(0) <= received_at - session.arrived_at <= SENSOR_TIME_WINDOW:
        return session.arrived_at, session
    return entered_at, session


def link_order(session: OccupancySession | None, order_id: int) -> None:
    if session is not None and session.order_id is None:
        session.order_id = order_id


# --- checks: alerts and health ----------------------------------------------------------------------

def claim(session: OccupancySession, mark: str, now: datetime) -> bool:
    """Set the session's alert mark unless another run set it first (the worker's checks, `flask sensors
    check`, an ingest): the conditional UPDATE waits for a concurrent claim to commit, then finds the mark
    set, so an alert is raised once however runs overlap."""
    column = getattr(OccupancySession, mark)
    claimed = cast(CursorResult, db.session.execute(
        update(OccupancySession).where(OccupancySession.id == session.id, column.is_(None))
        .values({mark: now}).execution_options(synchronize_session=False))).rowcount
    if claimed:
        set_committed_value(session, mark, now)
    return claimed == 1


def check_session(session: OccupancySession, now: datetime, settings: SensorSettings | None = None) -> None:
    """Announce what is overdue for one session (car present without order, car gone with its order still
    open); the kerb (app.kerb.alerts) decides what follows."""
    settings = settings or settings_for(session.park_id)
    wait = timedelta(minutes=settings.no_order_minutes)
    if session.departed_at is None:
        if session.order_id is None and session.no_order_alerted_at is None and now - session.arrived_at >= wait:
            signals.car_without_order.send(session, now=now, settings=settings)
    elif session.order_id is not None and session.left_open_alerted_at is None and now - session.departed_at >= wait:
        signals.car_left_order_open.send(session, now=now, settings=settings)


CHECKS_LOCK = 0x5E450001  # PostgreSQL advisory lock of run_checks


def _checks_lock() -> bool:
    """PostgreSQL: one run_checks at a time, the lock held until commit (and freed if the process dies); a run
    finding it taken skips. SQLite serialises writers anyway. Either way the conditional claims (`claim`,
    `_take_offline`) keep overlapping runs from raising an alert or an outage twice."""
    if not on_postgresql():
        return True
    return bool(db.session.scalar(select(func.pg_try_advisory_xact_lock(CHECKS_LOCK))))


def run_checks(now: datetime | None = None) -> dict:
    """The periodic checks (every minute in the worker, `app.sensors.tasks`, or `flask sensors check`):
    alerts of overdue sessions, sensors and stations gone silent. The caller commits."""
    now = now or utcnow()
    counts = {"no_order": 0, "left_open": 0, "sensors_offline": 0, "stations_offline": 0}
    if not _checks_lock():
        return {**counts, "skipped": 1}
    settings = {r.park_id: r for r in db.session.scalars(select(SensorSettings))}

    def of(park_id):
        return settings.get(park_id) or SensorSettings(park_id=park_id, **DEFAULTS)

    shortest_wait = min([DEFAULTS["no_order_minutes"]] + [s.no_order_minutes for s in settings.values()])
    horizon = now - timedelta(minutes=shortest_wait)
    for session in db.session.scalars(select(OccupancySession).where(
            OccupancySession.departed_at.is_(None), OccupancySession.order_id.is_(None),
            OccupancySession.no_order_alerted_at.is_(None), OccupancySession.arrived_at <= horizon)):
        before = session.no_order_alerted_at
        check_session(session, now, of(session.park_id))
        counts["no_order"] += before is None and session.no_order_alerted_at is not None
    for session in db.session.scalars(select(OccupancySession).join(
            ParkingOrder, ParkingOrder.id == OccupancySession.order_id).where(
            OccupancySession.departed_at.is_not(None), OccupancySession.departed_at <= horizon,
            OccupancySession.departed_at >= now - MAX_AGE, OccupancySession.left_open_alerted_at.is_(None),
            ParkingOrder.state == OPEN_STATE)):
        check_session(session, now, of(session.park_id))
        counts["left_open"] += session.left_open_alerted_at is not None
    shortest_offline = min([DEFAULTS["offline_minutes"]] + [s.offline_minutes for s in settings.values()])
    silent_since = now - timedelta(minutes=shortest_offline)
    for model, key, count in ((Sensor, "sensor_id", "sensors_offline"),
                              (BaseStation, "station_id", "stations_offline")):
        silent = [row.id for row in db.session.execute(select(model.id, model.park_id, model.last_heartbeat_at).where(
            model.online.is_(True), model.last_heartbeat_at < silent_since))
            if now - row.last_heartbeat_at >= timedelta(minutes=of(row.park_id).offline_minutes)]
        for id_, park_id, since in _take_offline(model, silent):
            db.session.add(Outage(park_id=park_id, started_at=since, **{key: id_}))
            counts[count] += 1
            device_offline.send(park_id, kind=key.removesuffix("_id"), device_id=id_, since=since)
    db.session.flush()
    return counts


def _take_offline(model, ids: list) -> list:
    """Mark sensors or stations offline unless they came back or another run marked them first (the UPDATE
    waits for a concurrent one, then skips the rows it changed); (id, park, last heartbeat) of those marked."""
    if not ids:
        return []
    return list(db.session.execute(update(model).where(model.id.in_(ids), model.online.is_(True))
                                   .values(online=False).returning(model.id, model.park_id, model.last_heartbeat_at)
                                   .execution_options(synchronize_session="fetch")).all())


# --- admin: stations, binding, import, health figures ---------------------------------------------

class SensorError(Refused):
    code = "sensor_refused"


def create_station(actor, park: Park, serial: str, name: str | None, location: str | None,
                   latitude: float | None, longitude: float | None, *, ip=None) -> tuple[BaseStation, str]:
    serial = serial.strip()
    if db.session.scalar(select(BaseStation.id).where(BaseStation.serial == serial)):
        raise SensorError("A base station with this serial exists already.", "serial")
    key = new_key()
    station = BaseStation(park_id=park.id, serial=serial, name=name, location=location, latitude=latitude,
                          longitude=longitude, key_hash=hash_key(key), key_hint=key[:7])
    db.session.add(station)
    db.session.flush()
    record(actor, "create", station, anchor=park, label=serial, ip=ip,
           after={"serial": serial, "name": name, "park_id": park.id})
    return station, key


def rotate_key(actor, station: BaseStation, *, ip=None) -> str:
    key = new_key()
    station.key_hash, station.key_hint, station.key_rotated_at = hash_key(key), key[:7], utcnow()
    record(actor, "rotate_key", station, anchor=station.park, label=station.serial, ip=ip)
    return key


def bind(actor, sensor: Sensor, berth: Berth | None, *, ip=None) -> None:
    """Bind a sensor to a berth of its park (None unbinds). A berth has at most one sensor.
    Open sessions of the old berth are closed: they described another place."""
    if berth is not None and berth.park_id != sensor.park_id:
        raise SensorError("The berth belongs to another park.", "berth")
    if berth is not None:
        other = db.session.scalar(select(Sensor).where(Sensor.berth_id == berth.id, Sensor.id != sensor.id))
        if other is not None:
            raise SensorError(f"Berth {berth.number} already has sensor {other.serial}.", "berth")
    before = sensor.berth_id
    if before == (berth.id if berth else None):
        return
    now = utcnow()
    db.session.execute(update(OccupancySession).where(OccupancySession.sensor_id == sensor.id,
                                                      OccupancySession.departed_at.is_(None))
                       .values(departed_at=now, left_open_alerted_at=now))
    sensor.berth_id = berth.id if berth else None
    sensor.magnet, sensor.state_changed_at = None, None
    db.session.flush()
    record(actor, "bind" if berth else "unbind", sensor, anchor=sensor.park, label=sensor.serial, ip=ip,
           before={"berth_id": before}, after={"berth_id": sensor.berth_id})


def import_sensors(actor, park: Park, text_: str, station: BaseStation | None = None, *, ip=None) -> dict:
    """Pasted CSV lines "serial,berth_number": creates unknown serials in `park` and binds them.
    All or nothing: any bad line refuses the whole paste with the line numbers."""
    lines = [(n, line.strip()) for n, line in enumerate(text_.splitlines(), 1) if line.strip()]
    if not lines:
        raise SensorError("Paste at least one line “serial,berth_number”.", "lines")
    if len(lines) > 2000:
        raise SensorError("At most 2,000 lines at a time.", "lines")
    berths = {b.number: b for b in db.session.scalars(select(Berth).where(Berth.park_id == park.id))}
    errors, wanted, seen_serials, seen_berths = [], [], set(), set()
    for n, line in lines:
        parts = [p.strip() for p in line.split(",")]
        if parts[0].lower() == "serial" and n == lines[0][0]:
            continue  # a header line
        if len(parts) not in (1, 2) or not SERIAL_RE.match(parts[0]):
            errors.append(f"line {n}: expected “serial,berth_number”")
            continue
        serial, number = parts[0], (parts[1] if len(parts) == 2 and parts[1] else None)
        if serial in seen_serials:
            errors.append(f"line {n}: serial {serial} twice")
        if number is not None and number not in berths:
            errors.append(f"line {n}: no berth {number} in {park.name}")
        if number is not None and number in seen_berths:
            errors.append(f"line {n}: berth {number} twice")
        seen_serials.add(serial)
        if number:
            seen_berths.add(number)
        wanted.append((serial, number))
    existing = {s.serial: s for s in db.session.scalars(select(Sensor).where(Sensor.serial.in_(seen_serials)))}
    for serial, _number in wanted:
        if serial in existing and existing[serial].park_id != park.id:
            errors.append(f"serial {serial} belongs to another park")
    if errors:
        raise SensorError("; ".join(errors[:20]) + (f" … and {len(errors) - 20} more" if len(errors) > 20 else ""),
                          "lines")
    created = bound = 0
    for serial, number in wanted:
        sensor = existing.get(serial)
        if sensor is None:
            sensor = Sensor(park_id=park.id, serial=serial, station_id=station.id if station else None)
            db.session.add(sensor)
            db.session.flush()
            created += 1
        if number is not None and sensor.berth_id != berths[number].id:
            holder = db.session.scalar(select(Sensor).where(Sensor.berth_id == berths[number].id))
            if holder is not None:
                bind(actor, holder, None, ip=ip)
            bind(actor, sensor, berths[number], ip=ip)
            bound += 1
    record(actor, "import", None, anchor=park, object_type="Sensor", label=f"{len(wanted)} sensors", ip=ip,
           after={"created": created, "bound": bound})
    return {"created": created, "bound": bound, "lines": len(wanted)}


def online_rates(park_ids: list[int], days: list, tz_name_of) -> list[dict]:
    """Per park and local day: sensors, outage minutes and the online rate
    (1 − outage time / (sensors × day)). Outages are clipped to the day."""
    from zoneinfo import ZoneInfo

    if not park_ids or not days:
        return []
    counts = dict(db.session.execute(select(Sensor.park_id, func.count()).where(
        Sensor.park_id.in_(park_ids), Sensor.active.is_(True)).group_by(Sensor.park_id)).all())
    rows = []
    for park_id in park_ids:
        tz = ZoneInfo(tz_name_of(park_id))
        first = datetime(days[0].year, days[0].month, days[0].day, tzinfo=tz)
        last = datetime(days[-1].year, days[-1].month, days[-1].day, tzinfo=tz) + timedelta(days=1)
        outages = db.session.execute(select(Outage.started_at, Outage.ended_at).where(
            Outage.park_id == park_id, Outage.sensor_id.is_not(None), Outage.started_at < last,
            (Outage.ended_at.is_(None)) | (Outage.ended_at > first))).all()
        for day in days:
            start = datetime(day.year, day.month, day.day, tzinfo=tz)
            end = min(start + timedelta(days=1), max(utcnow(), start))
            span = (end - start).total_seconds()
            lost = sum(max(0.0, (min(e or end, end) - max(s, start)).total_seconds()) for s, e in outages)
            sensors = counts.get(park_id, 0)
            rate = None if not sensors or span <= 0 else max(0.0, 1 - lost / (sensors * span))
            rows.append({"park_id": park_id, "day": day, "sensors": sensors, "outage_minutes": int(lost // 60),
                         "rate": rate})
    return rows

