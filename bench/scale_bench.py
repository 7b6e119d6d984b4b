"""A big city's history on one database (issue 22; PostgreSQL at BENCH_DATABASE_URL).

Builds a 50,000-berth city (200 on-street parks of 250 berths, 2 segments and 4 collectors each) with
`--orders N` orders at `--per-day` orders a day (44,000: the history grows in days, as a city's does, so the
live part of today is the same at any N), their ledger rows and debts, and as many track points and
half as many sensor events, all loaded with COPY (triggers off, as a bulk load by an operator, who then
runs `flask reports rebuild`; here `rollups.rebuild`). Then prints RESULT lines with goals:

- city 30-day income summary (app/reports/queries.income_summary, the page's and export's call) < 50 ms,
  read from the daily rollups; flat between runs at 2M and 20M orders (compare the two runs' lines);
  the same summary from raw rows beside it (ROLLUPS_READ off), for scale;
- the city's overview (dashboard_today, today's live rows) < 150 ms;
- the city's hourly traffic of 30 days (the hourly traffic and occupancy-by-hour reports) < 150 ms, closed
  days read from the hourly rollup;
- the order list's first keyset page of the city, unfiltered, < 20 ms; plate search (the plate page's
  orders and debts, exact plate) < 50 ms; the kerb's arrears lookup of a plate < 20 ms;
- rebuilding one closed city day of rollups (what the worker does per dirty or newly closed day);
- dropping a month of track points < 1 s (a partition drop).

    python bench/scale_bench.py [--orders 2000000] [--per-day 44000 | --days D] [--repeat 7]

20M orders: `--orders 20000000` (about ten times the load time; see docs/operations.md for figures)."""
from __future__ import annotations

import argparse
import io
import os
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import BENCH_URL, ensure_database, result_line  # noqa: E402

PARKS, SEGMENTS, BERTHS_PER_SEGMENT, COLLECTORS_PER_PARK = 200, 2, 125, 4
TZ = "Asia/Shanghai"
PARTITIONED = (("parking_orders", "entered_at", "year"), ("ledger_entries", "occurred_at", "year"),
               ("track_points", "recorded_at", "month"), ("sensor_events", "occurred_at", "month"))
UTC = timezone.utc


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


class Stream(io.RawIOBase):
    """A file COPY reads from, filled by a generator of text lines (no temporary file, bounded memory)."""

    def __init__(self, lines):
        self.lines, self.buffer = lines, b""

    def readable(self):
        return True

    def readinto(self, target):
        while len(self.buffer) < len(target):
            chunk = "".join(line for _, line in zip(range(5000), self.lines))
            if not chunk:
                break
            self.buffer += chunk.encode()
        n = min(len(target), len(self.buffer))
        target[:n], self.buffer = self.buffer[:n], self.buffer[n:]
        return n


def copy(cur, table: str, columns: str, lines) -> None:
    cur.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.BufferedReader(Stream(lines), 1 << 20))


_MINUTES: dict[int, str] = {}


def ts(at) -> str:
    """A UTC time (datetime or epoch seconds) as COPY reads it; minutes formatted once (strftime per row
    would cost more than the rest of the row)."""
    sec = int(at.timestamp()) if isinstance(at, datetime) else int(at)
    minute = sec // 60
    prefix = _MINUTES.get(minute)
    if prefix is None:
        prefix = _MINUTES[minute] = datetime.fromtimestamp(minute * 60, UTC).strftime("%Y-%m-%d %H:%M:")
    return f"{prefix}{sec % 60:02d}+00"


# ------------------------------------------------------------------------------------------------ the city

def seed_city(db):
    from sqlalchemy import text

    from app.staff.models import RoleKind, Staff
    from app.staff.services import builtin_role, ensure_builtin_roles
    from app.tenancy.models import City, OperatingGroup, Park

    ensure_builtin_roles()
    city = City(name="Scale City")
    db.session.add(city)
    db.session.flush()
    groups = [OperatingGroup(city_id=city.id, name=f"Scale Group {i}") for i in range(4)]
    db.session.add_all(groups)
    db.session.flush()
    parks = [Park(city_id=city.id, group_id=groups[i % 4].id, name=f"Road {i:03d}") for i in range(PARKS)]
    db.session.add_all(parks)
    db.session.flush()
    manager = Staff(username="scalecity", display_name="City manager", role=builtin_role(city.level))
    manager.anchor_at(city)
    manager.password_hash = "x"
    db.session.add(manager)
    collector_role = builtin_role(parks[0].level, RoleKind.COLLECTOR)
    for park in parks:
        for n in range(COLLECTORS_PER_PARK):
            s = Staff(username=f"c{park.id}_{n}", display_name=f"Collector {park.id}/{n}", role=collector_role)
            s.anchor_at(park)
            s.password_hash = "x"
            db.session.add(s)
    db.session.commit()
    db.session.execute(text("""
        INSERT INTO berth_segments (park_id, name, active, created_at, updated_at)
        SELECT p.id, 'Segment ' || s, true, now(), now() FROM parks p CROSS JOIN generate_series(1, :n) s
        ORDER BY p.id, s"""), {"n": SEGMENTS})
    db.session.execute(text("""
        INSERT INTO berths (park_id, segment_id, number, active, created_at, updated_at)
        SELECT s.park_id, s.id, s.id || '-' || lpad(n::text, 3, '0'), true, now(), now()
        FROM berth_segments s CROSS JOIN generate_series(1, :per) n ORDER BY s.id, n"""), {"per": BERTHS_PER_SEGMENT})
    db.session.commit()
    park_ids = [p.id for p in parks]
    segments = {pid: [r[0] for r in db.session.execute(text(
        "SELECT id FROM berth_segments WHERE park_id = :p ORDER BY id"), {"p": pid})] for pid in park_ids}
    first_berth = dict(db.session.execute(text("SELECT park_id, min(id) FROM berths GROUP BY park_id")).all())
    collectors = {pid: [r[0] for r in db.session.execute(text(
        "SELECT id FROM staff WHERE username LIKE :u ORDER BY id"), {"u": f"c{pid}\\_%"})] for pid in park_ids}
    return manager, park_ids, segments, first_berth, collectors


def history(db, n_orders: int, days: int, now: datetime, city) -> dict:
    """Orders over `days` days before `now`, chronological; 20% prepaid, 3% escaped (half recovered a day
    later), the rest settled at exit by the berth's collector; plates from a pool of 400,000 cars."""
    manager, park_ids, segments, first_berth, collectors = city
    start = now - timedelta(days=days)
    span = (now - start).total_seconds() - 6 * 3600  # the last stays end before now
    t0, day_s, now_s = int(start.timestamp()), 86400, int(now.timestamp())
    berths = SEGMENTS * BERTHS_PER_SEGMENT

    def order(g):
        park = park_ids[g % PARKS]
        b = (g // PARKS) % berths
        seg = b // BERTHS_PER_SEGMENT
        collector = collectors[park][seg * 2 + (g // 7) % 2]
        entered = t0 + int(span * g / n_orders)
        dwell = 10 + g % 230
        left = entered + dwell * 60
        fee = 200 * (1 + dwell // 60)
        prepaid = 500 if g % 5 == 0 else 0
        escaped = g % 100 < 3
        state = ("recovered" if g % 2 == 0 else "unpaid") if escaped else "settled"
        return park, segments[park][seg], first_berth[park] + b, collector, entered, left, fee, prepaid, state

    from sqlalchemy import text

    from app.core import partition_keys
    from app.core.partitions import create_partition, month_start, next_month, period_start
    from app.extensions import db as _db

    first_month = month_start(start.date())
    month = first_month
    while month <= month_start(now.date()):  # the history's months, as the worker would have made them
        for table, column, period in PARTITIONED:
            create_partition(table, column, period_start(month, period), period)
        month = next_month(month)
    _db.session.commit()
    raw = db.engine.raw_connection()
    cur = raw.cursor()
    cur.execute("SET session_replication_role = replica")  # bulk load: no per-row FK, key or rollup triggers
    started = time.perf_counter()
    methods = ("electronic", "electronic", "cash", "card")

    def order_lines():
        for g in range(n_orders):
            park, seg, berth, coll, entered, left, fee, prepaid, state = order(g)
            paid = fee if state == "settled" else prepaid
            method = methods[(g // PARKS) % 4]
            yield (f"{g + 1}\t{park}\t{seg}\t{berth}\tA{(g * 7919) % 400000:05d}\tsmall\t{state}\tpos\t{ts(entered)}\t"
                   f"{ts(entered)}\t{ts(left)}\t{ts(left)}\t{fee}\t{prepaid}\t{paid}\t0\t{method}\t{coll}\t{coll}\t"
                   f"{ts(entered)}\n")

    copy(cur, "parking_orders", "id, park_id, segment_id, berth_id, plate, vehicle_class, state, entry_method, "
         "entered_at, entry_received_at, left_at, exit_received_at, fee_fen, prepaid_fen, paid_fen, reduction_fen, "
         "payment_method, entry_collector_id, exit_collector_id, created_at", order_lines())
    log(f"orders copied in {time.perf_counter() - started:.0f}s")

    def arrear_lines():
        a = 0
        for g in range(n_orders):
            if g % 100 < 3:
                park, seg, berth, coll, entered, left, fee, prepaid, state = order(g)
                a += 1
                if state == "recovered":
                    yield (f"{a}\t{park}\t{g + 1}\tA{(g * 7919) % 400000:05d}\t{fee - prepaid}\trecovered\t{ts(left)}\t"
                           f"{ts(left + day_s)}\t{coll}\t{park}\tcard\n")
                else:
                    yield (f"{a}\t{park}\t{g + 1}\tA{(g * 7919) % 400000:05d}\t{fee - prepaid}\topen\t{ts(left)}\t"
                           f"\\N\t\\N\t\\N\t\\N\n")

    copy(cur, "arrears", "id, park_id, order_id, plate, amount_fen, state, created_at, recovered_at, recovered_by_id, "
         "recovered_park_id, recovered_method", arrear_lines())

    def ledger_lines():
        a = 0
        for g in range(n_orders):
            park, seg, berth, coll, entered, left, fee, prepaid, state = order(g)
            method = methods[(g // PARKS) % 4]
            head = f"{park}\t{g + 1}\t\\N\t{coll}\t{seg}\t{berth}"
            if prepaid:
                yield f"{head}\telectronic\tprepay\t{prepaid}\t{ts(entered)}\t{ts(entered)}\n"
            if state == "settled":
                due = fee - prepaid
                if due > 0:
                    yield f"{head}\t{method}\tfee\t{due}\t{ts(left)}\t{ts(left)}\n"
                elif due < 0:
                    yield f"{head}\tcash\tprepay_refund\t{due}\t{ts(left)}\t{ts(left)}\n"
            else:
                a += 1
                if state == "recovered" and left + day_s < now_s:
                    at = ts(left + day_s)
                    yield f"{park}\t{g + 1}\t{a}\t{coll}\t\\N\t\\N\tcard\trecovery\t{fee - prepaid}\t{at}\t{at}\n"

    copy(cur, "ledger_entries", "park_id, order_id, arrear_id, collector_id, segment_id, berth_id, method, kind, "
         "amount_fen, occurred_at, created_at", ledger_lines())
    log(f"arrears and ledger copied in {time.perf_counter() - started:.0f}s")
    raw.commit()

    # track points: as many as orders, half of them in the oldest full month (dropped below), half after it;
    # sensor events: half as many, over the history
    drop_month = next_month(first_month)
    drop_start = datetime.combine(drop_month, datetime.min.time(), UTC)
    drop_span = (datetime.combine(next_month(drop_month), datetime.min.time(), UTC) - drop_start).total_seconds()
    staff = [c for pid in park_ids for c in collectors[pid]]
    d0 = int(drop_start.timestamp())
    m2 = int(datetime.combine(next_month(drop_month), datetime.min.time(), UTC).timestamp())

    def point_lines():
        half = n_orders // 2
        for g in range(n_orders):
            if g < half:
                at = d0 + drop_span * g / half
            else:  # the rest after that month, up to the last stays
                at = m2 + (t0 + span - m2) * (g - half) / half
            s = staff[g % len(staff)]
            yield f"{s}\t{park_ids[(g % len(staff)) // COLLECTORS_PER_PARK]}\t{ts(at)}\t{ts(at)}\t31.2\t121.5\n"

    copy(cur, "track_points", "staff_id, park_id, recorded_at, received_at, lat, lng", point_lines())

    def event_lines():
        n = n_orders // 2
        for g in range(n):
            at = t0 + span * g / n
            yield f"{park_ids[g % PARKS]}\t{g % 50000}\t\\N\t{'arrive' if g % 2 else 'leave'}\t{ts(at)}\t{ts(at)}\n"

    copy(cur, "sensor_events", "park_id, sensor_id, station_id, kind, occurred_at, received_at", event_lines())
    for table in ("parking_orders", "arrears"):
        cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    cur.execute("SET session_replication_role = origin")
    raw.commit()
    log(f"track points and sensor events copied in {time.perf_counter() - started:.0f}s")
    raw.close()
    for table in ("parking_orders", "ledger_entries"):  # the keys the triggers would have kept
        partition_keys.fill(lambda sql, **kw: _db.session.execute(text(sql), kw), table)
    _db.session.commit()
    log(f"key tables filled in {time.perf_counter() - started:.0f}s")
    vacuum(db)
    load_s = time.perf_counter() - started
    log(f"history loaded and analyzed in {load_s:.0f}s")
    return {"load_s": load_s, "drop_month": drop_month, "start": start}


def vacuum(db) -> None:
    """VACUUM ANALYZE outside a transaction (visibility maps for index-only scans, planner statistics)."""
    raw = db.engine.raw_connection()
    raw.driver_connection.autocommit = True
    raw.cursor().execute("VACUUM ANALYZE")
    raw.driver_connection.autocommit = False
    raw.close()


# ------------------------------------------------------------------------------------------------ timing

def best(fn, repeat: int, after=None) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if after:
            after()
    times.sort()
    return times[len(times) // 2] * 1000  # median, ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2_000_000)
    parser.add_argument("--per-day", type=int, default=44_000,
                        help="orders a day (the city's size); the history is as many days as the orders make")
    parser.add_argument("--days", type=int, default=None, help="days of history instead")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--reuse", action="store_true",
                        help="time the history the last run loaded (same --orders; no load, no month dropped)")
    args = parser.parse_args()
    args.days = args.days or max(31, -(-args.orders // args.per_day))
    url = BENCH_URL if args.reuse else ensure_database(BENCH_URL)
    os.environ["DATABASE_URL"] = url
    from flask_migrate import upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.core import partitions
    from app.extensions import db
    from app.orders.models import Arrear, ParkingOrder
    from app.orders.queries import OrderFilters, keyset_page, order_records
    from app.orders.services import open_arrears
    from app.reports import queries as q
    from app.reports import rollups
    from app.search.services import plate_file
    from app.tenancy.scope import Scope
    from config import normalize_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SQLALCHEMY_ENGINE_OPTIONS": {},
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    lines = []
    tag = f"{args.orders / 1e6:g}m"
    with app.app_context(), app.test_request_context():
        today = q.local_today(TZ)
        if args.reuse:
            from app.staff.models import Staff

            upgrade()  # migrations added since the load (a new rollup queues the days built before)
            manager = db.session.scalar(select(Staff).where(Staff.username == "scalecity"))
            info = None
            queued = db.session.scalar(text("SELECT count(*) FROM rollup_dirty"))
            started = time.perf_counter()
            first = today - timedelta(days=(args.days + 2) if queued else 3)
            built = rollups.rebuild(first, today - timedelta(days=1))
            rebuild_s = time.perf_counter() - started
            log(f"reusing the loaded history; {queued:,} queued marks; {built:,} park-days built in {rebuild_s:.0f}s")
        else:
            upgrade()
            log(f"schema ready (partitioned); {args.orders:,} orders over {args.days} days")
            now = datetime.now(UTC).replace(microsecond=0)
            city = seed_city(db)
            info = history(db, args.orders, args.days, now, city)
            manager = city[0]
            started = time.perf_counter()
            built = rollups.rebuild(today - timedelta(days=args.days + 1), today - timedelta(days=1))
            rebuild_s = time.perf_counter() - started
            log(f"rollups built: {built:,} park-days in {rebuild_s:.1f}s")
        scope = Scope.of(db.session.get(type(manager), manager.id))
        rows = db.session.scalar(text("SELECT count(*) FROM rollup_income"))
        log(f"rollup_income rows: {rows:,}")
        vacuum(db)

        f = q.Filters(today - timedelta(days=29), today, TZ)
        ids = q.park_ids(scope, f)
        assert len(ids) == PARKS

        def summary():
            return q.income_summary(scope, f, "park")

        with_rollups = summary()
        app.config["ROLLUPS_READ"] = False
        raw_rows = summary()
        raw_ms = best(summary, max(3, args.repeat // 2))
        app.config["ROLLUPS_READ"] = True
        assert with_rollups == raw_rows, "rollups and raw rows disagree"
        ms = best(summary, args.repeat)
        lines.append(result_line(f"city_income_30d_{tag}", ms, "ms", "<50", baseline=raw_ms, ratio=ms / raw_ms))

        overview_ms = best(lambda: q.dashboard_today(scope), args.repeat)
        lines.append(result_line(f"city_overview_{tag}", overview_ms, "ms", "<150"))

        traffic = q.hourly_traffic(scope, f)  # closed days from the hourly rollup, today raw
        app.config["ROLLUPS_READ"] = False
        assert q.hourly_traffic(scope, f) == traffic, "hourly rollups and raw rows disagree"
        app.config["ROLLUPS_READ"] = True
        hourly_ms = best(lambda: q.hourly_traffic(scope, f), args.repeat)
        lines.append(result_line(f"city_hourly_traffic_30d_{tag}", hourly_ms, "ms", "<150"))

        wide = order_records(scope, OrderFilters())
        page_ms = best(lambda: keyset_page(wide, ParkingOrder.entered_at, ParkingOrder.id, size=50, plain=True),
                       args.repeat)
        lines.append(result_line(f"order_list_page_{tag}", page_ms, "ms", "<20"))

        plate = db.session.scalar(select(Arrear.plate).where(Arrear.state == "open").order_by(Arrear.id.desc())
                                  .limit(1))
        found = plate_file(scope, plate, orders=True, passes=False, lists=False)
        assert found.orders and found.arrears
        plate_ms = best(lambda: plate_file(scope, plate, orders=True, passes=False, lists=False), args.repeat,
                        after=db.session.expunge_all)
        lines.append(result_line(f"plate_search_{tag}", plate_ms, "ms", "<50"))
        park = db.session.scalar(select(Arrear.park_id).where(Arrear.plate == plate).limit(1))
        from app.tenancy.models import Park
        park_obj = db.session.get(Park, park)
        kerb_ms = best(lambda: open_arrears(plate, park_obj), args.repeat)
        lines.append(result_line(f"kerb_arrears_lookup_{tag}", kerb_ms, "ms", "<20"))

        day = today - timedelta(days=3)
        day_ms = best(lambda: (rollups.build_day(day, TZ, ids), db.session.commit()), 3)
        lines.append(result_line(f"rollup_rebuild_city_day_{tag}", day_ms, "ms", "<1000"))

        if info is None:  # --reuse: the load's month was dropped by its run
            for line in lines:
                print(line)
            return
        month = info["drop_month"]
        n_points = db.session.scalar(text(
            f"SELECT count(*) FROM {partitions.partition_name('track_points', month)}"))
        cutoff = datetime.combine(partitions.next_month(month), datetime.min.time(), UTC)
        db.session.commit()
        # The load, the rollups and VACUUM left gigabytes of dirty pages; written out first, so that the drop's
        # commit is timed, not the wait for their writes it would queue behind (the worker drops at night).
        db.session.execute(text("CHECKPOINT"))
        db.session.commit()
        t0 = time.perf_counter()
        dropped = partitions.drop_months_before("track_points", cutoff)
        db.session.commit()
        drop_s = time.perf_counter() - t0
        assert month in dropped, dropped
        log(f"dropped {len(dropped)} month(s) of track points ({n_points:,} rows in {month:%Y-%m})")
        lines.append(result_line(f"track_points_month_drop_{tag}", drop_s, "s", "<1"))
        sizes = db.session.execute(text(  # a partitioned table's size is its partitions' (a plain table: itself)
            "SELECT c.relname, coalesce((SELECT sum(pg_total_relation_size(t.relid)) FROM pg_partition_tree(c.oid) t), "
            "pg_total_relation_size(c.oid))::bigint "
            "FROM pg_class c WHERE c.relname IN ('parking_orders', 'parking_orders_keys', 'ledger_entries', "
            "'arrears', 'rollup_income', 'rollup_cars_in', 'rollup_cars_out', 'rollup_arrears', 'rollup_days', "
            "'rollup_hourly') ORDER BY 1")).all()
        total_db = db.session.scalar(text("SELECT pg_database_size(current_database())"))
    log(f"load {info['load_s']:.0f}s, rollups {rebuild_s:.0f}s; sizes: " +
        ", ".join(f"{n} {s / 1e6:.0f} MB" for n, s in sizes) + f"; database {total_db / 1e9:.2f} GB")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
