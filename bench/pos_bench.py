"""Full car cycles (car in, quote, settle) through the device API under gunicorn on PostgreSQL,
against a baseline endpoint of the same stack doing one insert and commit, measured in the same run.
Both servers are warmed up first (gunicorn opens its port before the workers have imported the app,
which takes the full app over a second of CPU per worker): the figures are steady state. Both run at
once and the measured seconds alternate between them in `--rounds` slices, so that the load of a
shared machine, which drifts from one minute to the next, weighs on both alike.

    python bench/pos_bench.py [--seconds 20] [--clients 8] [--warmup 3] [--rounds 5]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import time
import uuid
from datetime import datetime, timedelta, timezone

from _support import BENCH_URL, Client, city_and_group, ensure_database, gunicorn, percentile, result_line

PASSWORD = "bench-password-1"
RULE = {"kind": "parkingos", "day": {"b_time": 7, "e_time": 21, "unit": 15, "price": "1.50", "free_time": 15,
                                     "fpay_type": 1, "total24": "20", "is_fulldaytime": 0},
        "night": {"b_time": 21, "e_time": 7, "unit": 60, "price": "1", "free_time": 15, "fpay_type": 1}}


def prepare(url: str, clients: int, alliance: bool = True) -> None:
    """Schema by migrations, one park, a segment, berths, a handheld and a collector per client; the
    alliance (泊链) switched on for the park's city unless `alliance` is False (every car-in and settlement
    then writes its outbox messages; nothing delivers them during the run)."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.berths.models import Berth, BerthSegment
    from app.devices.models import Handheld
    from app.extensions import db
    from app.staff.models import RoleKind, Staff
    from app.staff.services import builtin_role, ensure_builtin_roles
    from app.tariffs.models import TariffRule, TariffVersion
    from app.tenancy.models import Level, Park
    from config import normalize_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        db.session.execute(text("CREATE TABLE bench_baseline (id serial primary key, payload text, "
                                "created_at timestamptz default now())"))
        city, group = city_and_group(db)
        park = Park(city_id=city.id, group_id=group.id, name="Bench Street")
        db.session.add(park)
        db.session.flush()
        rule = TariffRule(park_id=park.id, name="Street", vehicle_class="any")
        rule.versions.append(TariffVersion(version=1, kind="parkingos", document=RULE,
                                           effective_from=datetime(2020, 1, 1, tzinfo=timezone.utc)))
        db.session.add(rule)
        ensure_builtin_roles()
        role = builtin_role(Level.PARK, RoleKind.COLLECTOR)
        for i in range(clients):
            segment = BerthSegment(park_id=park.id, name=f"Segment {i}")
            db.session.add(segment)
            db.session.flush()
            db.session.add_all(Berth(park_id=park.id, segment_id=segment.id, number=f"S{i:02d}-{n:03d}")
                               for n in range(20))
            handheld = Handheld(serial=f"BENCH-{i}", status="approved")
            handheld.anchor_at(park)
            staff = Staff(username=f"bench{i}", display_name=f"Bench {i}", role=role)
            staff.anchor_at(park)
            staff.set_password(PASSWORD)
            db.session.add_all([handheld, staff])
        if alliance:
            from app.integrations.models import AllianceSettings

            db.session.add(AllianceSettings(city_id=city.id, union_id="bench-vendor", ukey="bench-alliance-key",
                                            ukey_hint="-key", base_url="http://127.0.0.1:9/", enabled=True))
        db.session.commit()


def cycle_worker(port: int, index: int, seconds: float, out: mp.Queue, first: int = 0) -> None:
    client = Client(port)
    status, body = client.call("POST", "/pos/v1/session", {"username": f"bench{index}", "password": PASSWORD,
                                                           "device_serial": f"BENCH-{index}"})
    assert status == 201, body
    client = Client(port, body["token"])
    segment = next(s["id"] for s in body["segments"] if s["name"] == f"Segment {index}")
    status, _ = client.call("POST", "/pos/v1/shifts", {"client_ref": str(uuid.uuid4()), "segment_id": segment})
    berths = [b["id"] for b in client.call("GET", "/pos/v1/berths")[1]["berths"]]
    client.latencies.clear()
    cycles, errors, n = 0, 0, first  # plates differ from one slice to the next
    codes: dict = {}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        berth = berths[n % len(berths)]
        n += 1
        entered = datetime.now(timezone.utc) - timedelta(minutes=20 + n % 100)  # a fee is due: a ledger row
        status, order = client.call("POST", "/pos/v1/orders", {"client_ref": str(uuid.uuid4()), "berth_id": berth,
                                                                "plate": f"B{index:02d}{n:06d}"[:10],
                                                                "entered_at": entered.isoformat()})
        if status != 201:
            errors += 1
            code = (order or {}).get("error", {}).get("code", status)
            codes[code] = codes.get(code, 0) + 1
            continue
        order_id = order["order"]["id"]
        left = datetime.now(timezone.utc).isoformat()
        status, quote = client.call("GET", f"/pos/v1/orders/{order_id}/quote?left_at={left.replace('+', '%2B')}")
        due = quote["quote"]["due_fen"] if status == 200 else 0
        status, settled = client.call("POST", f"/pos/v1/orders/{order_id}/settle",
                                {"client_ref": str(uuid.uuid4()), "left_at": left, "method": "cash",
                                 "amount_fen": due})
        if status == 200:
            cycles += 1
        else:
            errors += 1
            code = (settled or {}).get("error", {}).get("code", status)
            codes[code] = codes.get(code, 0) + 1
    if codes:
        print(f"client {index} refusals: {codes}")
    out.put((cycles, errors, client.latencies))


def baseline_worker(port: int, index: int, seconds: float, out: mp.Queue, first: int = 0) -> None:
    client = Client(port)
    count = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        status, _ = client.call("POST", "/insert", {"client": index, "n": count})
        count += status == 201
    out.put((count, 0, client.latencies))


def drive(worker, port: int, clients: int, seconds: float, first: int = 0):
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=worker, args=(port, i, seconds, queue, first)) for i in range(clients)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    done = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    latencies = [lat for r in results for lat in r[2]]
    return done, errors, latencies, min(elapsed, seconds + 5)


def fee_rows(url: str) -> int:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ledger_entries WHERE kind = 'fee'")
        return cur.fetchone()[0]


def outbox_rows(url: str) -> int:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM outbox_messages")
        return cur.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-alliance", action="store_true", help="the park's city without the alliance")
    args = parser.parse_args()
    url = ensure_database(BENCH_URL)
    prepare(url, args.clients, alliance=not args.no_alliance)
    env = {"DATABASE_URL": url, "SECRET_KEY": "bench"}
    inserts, base_lat, cycles, errors, lat = 0, [], 0, 0, []
    with gunicorn("bench.baseline_app:app", env, args.workers) as base_port, \
            gunicorn("wsgi:app", env, args.workers) as app_port:
        drive(baseline_worker, base_port, args.clients, args.warmup)
        drive(cycle_worker, app_port, args.clients, args.warmup, first=900_000)
        for round_ in range(args.rounds):
            done, _, latencies, _ = drive(baseline_worker, base_port, args.clients, args.seconds / args.rounds)
            inserts, base_lat = inserts + done, base_lat + latencies
            done, failed, latencies, _ = drive(cycle_worker, app_port, args.clients, args.seconds / args.rounds,
                                               first=round_ * 100_000)
            cycles, errors, lat = cycles + done, errors + failed, lat + latencies
    baseline_rps = inserts / args.seconds
    cycle_rps = cycles * 3 / args.seconds
    print(f"baseline: {inserts} inserts in {args.seconds:.0f}s = {baseline_rps:.0f} req/s, "
          f"p50 {percentile(base_lat, .5) * 1000:.1f} ms, p99 {percentile(base_lat, .99) * 1000:.1f} ms")
    print(f"car cycles: {cycles} cycles ({errors} errors) in {args.seconds:.0f}s = {cycles / args.seconds:.1f} "
          f"cycles/s = {cycle_rps:.0f} req/s, p50 {percentile(lat, .5) * 1000:.1f} ms, "
          f"p99 {percentile(lat, .99) * 1000:.1f} ms per request")
    print(f"fee ledger rows written (warm-up included): {fee_rows(url)}; outbox messages: {outbox_rows(url)}")
    print(result_line("pos_cycle", cycles / args.seconds, "cycles/s", ">=0.40", baseline_rps / 3,
                      cycle_rps / baseline_rps if baseline_rps else 0))
    print(result_line("pos_request_p50", percentile(lat, .5) * 1000, "ms", "<100"))
    print(result_line("pos_request_p99", percentile(lat, .99) * 1000, "ms", "<500"))


if __name__ == "__main__":
    main()
