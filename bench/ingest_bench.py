"""Sensor events and GPS points through the device API (gunicorn on PostgreSQL), against a baseline that
inserts the same rows with plain SQL (psycopg2, batched VALUES, ON CONFLICT DO NOTHING, one commit per
batch) from the same number of client processes, measured in the same run.

    python bench/ingest_bench.py [--seconds 15] [--clients 4] [--workers 4] [--rounds 3]

Baseline and API take turns (`--rounds`, each seconds / rounds long), so both see the same background load.

Sensor batches are 1,000 events of which ~85 % heartbeats and ~15 % arrivals/departures (each one opens or
closes an occupancy session), each client owning its own 1,000 sensors (as each base station does). Track
batches are 5,000 points per person."""
from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import uuid
from datetime import datetime, timedelta, timezone

from _support import BENCH_URL, Client, city_and_group, ensure_database, gunicorn, result_line

PASSWORD = "bench-password-1"
SENSORS_PER_CLIENT = 1000
EVENT_BATCH = 1000
POINT_BATCH = 5000


def prepare(url: str, clients: int) -> dict:
    """Schema by migrations; one park, berths with sensors, a station key per client, one collector and
    handheld per client; baseline tables shaped like the real ones."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from app import create_app
    from app.berths.models import Berth, BerthSegment
    from app.devices.models import Handheld
    from app.extensions import db
    from app.sensors.models import BaseStation, Sensor, SensorSettings
    from app.sensors.services import hash_key
    from app.staff.models import RoleKind, Staff
    from app.staff.services import builtin_role, ensure_builtin_roles
    from app.tenancy.models import Level, Park
    from config import normalize_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    info = {"keys": [], "park_id": None}
    with app.app_context():
        upgrade()
        db.session.execute(text(
            "CREATE TABLE bench_sensor_events (id bigserial primary key, park_id int, sensor_id int, station_id int, "
            "kind varchar(16), occurred_at timestamptz, received_at timestamptz, battery_mv int, magnet boolean, "
            "UNIQUE (sensor_id, kind, occurred_at))"))
        db.session.execute(text(
            "CREATE TABLE bench_track_points (id bigserial primary key, staff_id int, park_id int, handheld_id int, "
            "recorded_at timestamptz, received_at timestamptz, lat float, lng float, accuracy_m float, "
            "speed_mps float, UNIQUE (staff_id, recorded_at))"))
        city, group = city_and_group(db)
        park = Park(city_id=city.id, group_id=group.id, name="Bench Street")
        db.session.add(park)
        db.session.flush()
        info["park_id"] = park.id
        ensure_builtin_roles()
        role = builtin_role(Level.PARK, RoleKind.COLLECTOR)
        for i in range(clients):
            segment = BerthSegment(park_id=park.id, name=f"Segment {i}", latitude=31.23, longitude=121.47)
            db.session.add(segment)
            db.session.flush()
            db.session.execute(insert(Berth), [{"park_id": park.id, "segment_id": segment.id,
                                                "number": f"S{i:02d}-{n:04d}", "active": True}
                                               for n in range(SENSORS_PER_CLIENT)])
            berths = db.session.execute(text("SELECT id FROM berths WHERE segment_id = :s ORDER BY id"),
                                        {"s": segment.id}).scalars().all()
            key = f"bs_bench_{i}_{uuid.uuid4().hex}"
            station = BaseStation(park_id=park.id, serial=f"BENCH-BS-{i}", key_hash=hash_key(key), key_hint=key[:7])
            db.session.add(station)
            db.session.flush()
            db.session.execute(insert(Sensor), [{"park_id": park.id, "serial": f"BS{i}-{n:04d}", "berth_id": b,
                                                 "station_id": station.id, "online": True, "active": True,
                                                 "low_battery": False} for n, b in enumerate(berths)])
            info["keys"].append(key)
            if i == 0:
                db.session.add(SensorSettings(park_id=park.id, blip_seconds=20))  # 35 s stays are real
            handheld = Handheld(serial=f"BENCH-{i}", status="approved")
            handheld.anchor_at(park)
            staff = Staff(username=f"bench{i}", display_name=f"Bench {i}", role=role)
            staff.anchor_at(park)
            staff.set_password(PASSWORD)
            db.session.add_all([handheld, staff])
        db.session.commit()
        info["sensor_ids"] = {serial: sid for sid, serial in db.session.execute(
            text("SELECT id, serial FROM sensors")).all()}
        info["staff_ids"] = [sid for (sid,) in db.session.execute(
            text("SELECT id FROM staff WHERE username LIKE 'bench%' ORDER BY username")).all()]
    return info


class EventSource:
    """Time-ordered events per sensor: heartbeats mostly, alternating arrive/depart now and then."""

    def __init__(self, index: int, start: datetime):
        self.index, self.clock, self.occupied, self.n = index, start, {}, 0

    def batch(self) -> list[dict]:
        events = []
        for _ in range(EVENT_BATCH):
            self.n += 1
            sensor = self.n % SENSORS_PER_CLIENT
            if sensor == 0:
                self.clock += timedelta(seconds=5)  # each sensor reports every 5 s of device time
            at = self.clock + timedelta(milliseconds=sensor)
            serial = f"BS{self.index}-{sensor:04d}"
            if self.n % 7 == 0:
                kind = "depart" if self.occupied.get(serial) else "arrive"
                self.occupied[serial] = kind == "arrive"
            else:
                kind = "heartbeat"
            events.append({"client_ref": uuid.uuid4().hex[:16], "sensor_serial": serial, "kind": kind,
                           "occurred_at": at.isoformat(), "battery_mv": 3500})
        return events


def point_batch(start: datetime, offset: int) -> list[dict]:
    return [{"lat": 31.23 + (i % 500) * 1e-5, "lng": 121.47, "accuracy_m": 5.0,
             "recorded_at": (start + timedelta(milliseconds=10 * (offset + i))).isoformat()}
            for i in range(POINT_BATCH)]


def api_events_worker(port, index, key, seconds, source, out):
    client = Client(port)
    client.headers["X-Station-Key"] = key
    client.call("POST", "/pos/v1/stations/heartbeat", {})  # untimed: the first requests wait for workers to boot
    accepted = errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        status, body = client.call("POST", "/pos/v1/sensor-events", {"events": source.batch()})
        if status == 200:
            accepted += body["counts"]["accepted"]
        else:
            errors += 1
    out.put((index, accepted, errors, source))


def sql_events_worker(url, index, info, seconds, source, out):
    import psycopg2
    from psycopg2.extras import execute_values

    conn = psycopg2.connect(url)
    rows_done = 0
    deadline = time.perf_counter() + seconds
    with conn.cursor() as cur:
        while time.perf_counter() < deadline:
            now = datetime.now(timezone.utc)
            rows = [(info["park_id"], info["sensor_ids"][e["sensor_serial"]], None, e["kind"],
                     e["occurred_at"], now, e["battery_mv"], None) for e in source.batch()]
            execute_values(cur, "INSERT INTO bench_sensor_events (park_id, sensor_id, station_id, kind, occurred_at, "
                                "received_at, battery_mv, magnet) VALUES %s ON CONFLICT DO NOTHING", rows,
                           page_size=1000)
            conn.commit()
            rows_done += len(rows)
    conn.close()
    out.put((index, rows_done, 0, source))


def api_points_worker(port, index, seconds, start, out):
    client = Client(port)
    status, body = client.call("POST", "/pos/v1/session", {"username": f"bench{index}", "password": PASSWORD,
                                                           "device_serial": f"BENCH-{index}"})
    assert status == 201, body
    client = Client(port, body["token"])
    added = errors = offset = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        status, body = client.call("POST", "/pos/v1/tracks", {"client_ref": uuid.uuid4().hex,
                                                              "points": point_batch(start, offset)})
        offset += POINT_BATCH
        if status == 200:
            added += body["added"]
        else:
            errors += 1
    out.put((index, added, errors, start + timedelta(milliseconds=10 * offset)))


def sql_points_worker(url, index, info, seconds, start, out):
    import psycopg2
    from psycopg2.extras import execute_values

    conn = psycopg2.connect(url)
    staff_id = info["staff_ids"][index]
    rows_done = offset = 0
    deadline = time.perf_counter() + seconds
    with conn.cursor() as cur:
        while time.perf_counter() < deadline:
            now = datetime.now(timezone.utc)
            rows = [(staff_id, info["park_id"], None, p["recorded_at"], now, p["lat"], p["lng"], p["accuracy_m"], None)
                    for p in point_batch(start, offset)]
            offset += POINT_BATCH
            execute_values(cur, "INSERT INTO bench_track_points (staff_id, park_id, handheld_id, recorded_at, "
                                "received_at, lat, lng, accuracy_m, speed_mps) VALUES %s ON CONFLICT DO NOTHING",
                           rows, page_size=1000)
            conn.commit()
            rows_done += len(rows)
    conn.close()
    out.put((index, rows_done, 0, start + timedelta(milliseconds=10 * offset)))


def drive(target, args_of, clients, seconds):
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=target, args=(*args_of(i), queue)) for i in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 180) for _ in procs]
    for p in procs:
        p.join()
    return results


def alternate(rounds, seconds, clients, *sides):
    """Run each side (worker, its arguments for client i, its data source for client i) for `seconds` in
    turn, `rounds` times, so that the baseline and the API see the same background load (on a shared machine
    it drifts within a minute); each client's source goes on where its last round stopped.
    Per side: (rows, failed batches)."""
    sources = [[source_of(i) for i in range(clients)] for _, _, source_of in sides]
    totals = [[0, 0] for _ in sides]
    for _ in range(rounds):
        for side, (target, args_of, _) in enumerate(sides):
            for index, rows, errors, source in drive(
                    target, lambda i, args_of=args_of, side=side: (*args_of(i), seconds, sources[side][i]),
                    clients, seconds):
                totals[side][0] += rows
                totals[side][1] += errors
                sources[side][index] = source
    return totals


def single_batch_time(port: int, start: datetime) -> float:
    client = Client(port)
    status, body = client.call("POST", "/pos/v1/session", {"username": "bench0", "password": PASSWORD,
                                                           "device_serial": "BENCH-0"})
    client = Client(port, body["token"])
    times = []
    for attempt in range(5):
        points = point_batch(start + timedelta(hours=2, minutes=attempt * 5), 0)
        began = time.perf_counter()
        status, body = client.call("POST", "/pos/v1/tracks", {"client_ref": uuid.uuid4().hex, "points": points})
        times.append(time.perf_counter() - began)
        assert status == 200 and body["added"] == POINT_BATCH, body
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3, help="turns of baseline and API, seconds / rounds each")
    args = parser.parse_args()
    url = ensure_database(BENCH_URL)
    info = prepare(url, args.clients)
    raw_url = url
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench"}
    now = datetime.now(timezone.utc)
    ev_start = now - timedelta(minutes=8)  # live traffic: recent device times (no alert is overdue yet)
    pt_start = now - timedelta(hours=30)
    secs, n, turn = args.seconds, args.clients, args.seconds / args.rounds

    with gunicorn("wsgi:app", env, args.workers) as port:
        (base_events, _), (api_events, ev_errors) = alternate(
            args.rounds, turn, n,
            (sql_events_worker, lambda i: (raw_url, i, info), lambda i: EventSource(i, ev_start - timedelta(hours=5))),
            (api_events_worker, lambda i: (port, i, info["keys"][i]), lambda i: EventSource(i, ev_start)))
        (base_points, _), (api_points, pt_errors) = alternate(
            args.rounds, turn, n,
            (sql_points_worker, lambda i: (raw_url, i, info), lambda i: pt_start - timedelta(hours=5)),
            (api_points_worker, lambda i: (port, i), lambda i: pt_start))
        one_batch = single_batch_time(port, pt_start + timedelta(hours=10))
    ev_rate, ev_base = api_events / secs, base_events / secs
    pt_rate, pt_base = api_points / secs, base_points / secs
    print(f"sensor events: API {api_events} in {secs:.0f}s ({ev_errors} failed batches) = {ev_rate:.0f}/s; "
          f"plain SQL {base_events} = {ev_base:.0f}/s")
    print(f"track points: API {api_points} in {secs:.0f}s ({pt_errors} failed batches) = {pt_rate:.0f}/s; "
          f"plain SQL {base_points} = {pt_base:.0f}/s")
    print(f"one {POINT_BATCH}-point batch: {one_batch * 1000:.0f} ms (median of 5)")
    print(result_line("sensor_events", ev_rate, "events/s", ">=0.30", ev_base, ev_rate / ev_base if ev_base else 0))
    print(result_line("track_points", pt_rate, "points/s", ">=0.30", pt_base, pt_rate / pt_base if pt_base else 0))
    print(result_line("track_batch_5000", one_batch * 1000, "ms", "<1000"))


if __name__ == "__main__":
    main()
