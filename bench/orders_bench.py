"""The order list (订单记录) at a million rows on PostgreSQL: the keyset page of the query the page
runs (app/orders/queries.py `order_records`, fetched by `keyset_page(..., plain=True)` exactly as
the view does) against the same query written as plain SQL text on a raw DBAPI cursor, for the
first, a middle and the last page of a filtered list (a group manager's scope, one park, a 30-day
range by entry, settled orders). `orders_page_max` is the slowest of the three pages with the
names the page shows (park, berth, collectors: `NameBook`, one primary-key query per kind).
Medians of --repeat runs.

    python bench/orders_bench.py [--rows 1000000] [--repeat 41] [--reuse]
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import datetime, timedelta, timezone

from _support import BENCH_URL, ensure_database, result_line

PARKS = 20
DAYS = 60
PAGE = 50


def seed(db, rows: int) -> dict:
    """Tenant tree, segments, berths and collectors by ORM; the orders by INSERT … SELECT generate_series."""
    from sqlalchemy import text

    from app.berths.models import Berth, BerthSegment
    from app.staff.models import RoleKind, Staff
    from app.staff.services import builtin_role, ensure_builtin_roles
    from app.tenancy.models import City, Level, OperatingGroup, Park

    city = City(name="Bench City")
    db.session.add(city)
    db.session.flush()
    group = OperatingGroup(city_id=city.id, name="Bench Group")
    other = OperatingGroup(city_id=city.id, name="Other Group")
    db.session.add_all([group, other])
    db.session.flush()
    parks = [Park(city_id=city.id, group_id=(group if i % 2 == 0 else other).id, name=f"Bench Street {i}")
             for i in range(PARKS)]
    db.session.add_all(parks)
    db.session.flush()
    ensure_builtin_roles()
    manager = Staff(username="benchgroup", display_name="Bench manager", role=builtin_role(Level.GROUP))
    manager.anchor_at(group)
    manager.set_password("bench-password-1")
    db.session.add(manager)
    collectors = []
    for park in parks:
        segment = BerthSegment(park_id=park.id, name="Segment")
        db.session.add(segment)
        db.session.flush()
        db.session.add_all(Berth(park_id=park.id, segment_id=segment.id, number=f"B{n:03d}") for n in range(100))
        staff = Staff(username=f"bc{park.id}", display_name=f"Collector {park.id}",
                      role=builtin_role(Level.PARK, RoleKind.COLLECTOR))
        staff.anchor_at(park)
        staff.set_password("bench-password-1")
        db.session.add(staff)
        collectors.append(staff)
    db.session.commit()
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    started = time.perf_counter()
    # order i: park by i % PARKS, spread evenly over DAYS days; 90 % settled, 7 % unpaid, 3 % recovered
    db.session.execute(text(f"""
        INSERT INTO parking_orders (park_id, segment_id, berth_id, plate, vehicle_class, state, entry_method,
            entered_at, entry_received_at, left_at, exit_received_at, fee_fen, prepaid_fen, paid_fen,
            reduction_fen, payment_method, entry_collector_id, exit_collector_id, created_at)
        SELECT p.id, s.id, b.id, 'BA' || lpad(i::text, 7, '0'), 'small',
               CASE WHEN i % 100 < 90 THEN 'settled' WHEN i % 100 < 97 THEN 'unpaid' ELSE 'recovered' END, 'pos',
               t, t, t + interval '75 minutes', t + interval '75 minutes', 600, 0,
               CASE WHEN i % 100 < 90 THEN 600 ELSE 0 END, 0,
               CASE WHEN i % 100 < 90 THEN (ARRAY['cash','electronic','card'])[1 + i % 3] END,
               st.id, st.id, t
        FROM generate_series(1, :rows) AS i
        CROSS JOIN LATERAL (SELECT :start + (i::float8 / :rows) * interval '{DAYS} days' AS t) AS tt
        JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM parks) p ON p.k = i % {PARKS}
        JOIN berth_segments s ON s.park_id = p.id
        JOIN (SELECT id, park_id, row_number() OVER (PARTITION BY park_id ORDER BY id) - 1 AS k FROM berths) b
          ON b.park_id = p.id AND b.k = (i / {PARKS}) % 100
        JOIN staff st ON st.username = 'bc' || p.id
    """), {"rows": rows, "start": start})
    db.session.commit()
    insert_s = time.perf_counter() - started
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return {"park": parks[0], "manager": manager, "insert_s": insert_s, "start": start}


def _seeded(url: str) -> int:
    import psycopg2

    try:
        conn = psycopg2.connect(url)
    except psycopg2.OperationalError:
        return 0
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM parking_orders")
            return cur.fetchone()[0]
    except psycopg2.Error:
        return 0
    finally:
        conn.close()


def _reload(db) -> dict:
    from sqlalchemy import select

    from app.staff.models import Staff
    from app.tenancy.models import Park

    park = db.session.scalar(select(Park).where(Park.name == "Bench Street 0"))
    manager = db.session.scalar(select(Staff).where(Staff.username == "benchgroup"))
    return {"park": park, "manager": manager, "insert_s": 0.0, "start": datetime(2024, 1, 1, tzinfo=timezone.utc)}


PLAIN_SQL = """
SELECT o.id, o.plate, o.park_id, o.berth_id, o.entered_at, o.left_at, o.fee_fen, o.paid_fen, o.payment_method,
       o.free_reason, o.prepaid_fen, o.reduction_fen, o.entry_collector_id, o.exit_collector_id, o.state
FROM parking_orders o
WHERE o.park_id IN (SELECT parks.id FROM parks WHERE parks.group_id = %(group)s)
  AND o.park_id = %(park)s AND o.entered_at >= %(start)s AND o.entered_at < %(end)s AND o.state = 'settled'
  {keyset}
ORDER BY o.entered_at {dir}, o.id {dir}
LIMIT %(limit)s
"""


def timed_pair(base, value, repeat: int, cleanup) -> tuple[float, object, float, object]:
    """Medians of both, run alternately so that both see the same load on the machine."""
    base(), value()
    cleanup()
    base_times, value_times, base_result, value_result = [], [], None, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        base_result = base()
        t1 = time.perf_counter()
        value_result = value()
        t2 = time.perf_counter()
        cleanup()
        base_times.append((t1 - t0) * 1000)
        value_times.append((t2 - t1) * 1000)
    return statistics.median(base_times), base_result, statistics.median(value_times), value_result


def timed(fn, repeat: int, cleanup=lambda: None) -> tuple[float, object]:
    fn()  # warm
    cleanup()
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
        cleanup()
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=41)
    parser.add_argument("--reuse", action="store_true", help="keep the orders seeded by a previous run")
    args = parser.parse_args()
    url = BENCH_URL if args.reuse and _seeded(BENCH_URL) >= args.rows else ensure_database(BENCH_URL)
    reuse = url == BENCH_URL and args.reuse and _seeded(BENCH_URL) >= args.rows

    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.orders.models import ParkingOrder
    from app.orders.queries import NameBook, OrderFilters, decode_cursor, encode_cursor, keyset_page, order_records
    from app.tenancy.scope import Scope
    from config import normalize_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url),
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    with app.app_context(), app.test_request_context():
        if reuse:
            info = _reload(db)
        else:
            upgrade()
            info = seed(db, args.rows)
        park, manager = info["park"], info["manager"]
        print(f"seeded {args.rows} orders in {info['insert_s']:.1f} s", flush=True)
        scope = Scope.of(manager)
        first_day = (info["start"] + timedelta(days=10)).astimezone(timezone(timedelta(hours=8))).date()
        filters = OrderFilters(park_id=park.id, date_from=first_day, date_to=first_day + timedelta(days=29),
                               state="settled")
        stmt = order_records(scope, filters)               # what the page runs (app/orders/views.list_orders)
        # the same bounds the query function computes (Asia/Shanghai local days)
        tz = timezone(timedelta(hours=8))
        lo = datetime.combine(first_day, datetime.min.time(), tz)
        hi = datetime.combine(first_day + timedelta(days=30), datetime.min.time(), tz)
        total = db.session.scalar(text(
            "SELECT count(*) FROM parking_orders WHERE park_id = :p AND entered_at >= :lo AND entered_at < :hi "
            "AND state = 'settled'"), {"p": park.id, "lo": lo, "hi": hi})
        mid_row = db.session.execute(text(
            "SELECT entered_at, id FROM parking_orders WHERE park_id = :p AND entered_at >= :lo AND entered_at < :hi "
            "AND state = 'settled' ORDER BY entered_at DESC, id DESC OFFSET :n LIMIT 1"),
            {"p": park.id, "lo": lo, "hi": hi, "n": total // 2}).one()
        middle = encode_cursor(mid_row[0], mid_row[1])
        print(f"filtered list: {total} rows, {total // PAGE + 1} pages of {PAGE}", flush=True)
        db.session.remove()

        raw = db.engine.raw_connection()
        cursor = raw.cursor()
        params = {"group": manager.group_id, "park": park.id, "start": lo, "end": hi, "limit": PAGE + 1}

        def plain(which: str):
            keyset, direction, extra = "", "DESC", {}
            if which == "middle":
                t, i = decode_cursor(middle)
                keyset = "AND o.entered_at <= %(t)s AND (o.entered_at < %(t)s OR o.id < %(i)s)"
                extra = {"t": t, "i": i}
            elif which == "last":
                direction = "ASC"
            cursor.execute(PLAIN_SQL.format(keyset=keyset, dir=direction), {**params, **extra})
            return cursor.fetchall()

        def page_of(which: str, with_names: bool = False):
            page = keyset_page(stmt, ParkingOrder.entered_at, ParkingOrder.id, size=PAGE, plain=True,
                               after=middle if which == "middle" else None, last=which == "last")
            if with_names:
                names = NameBook().add(page.items)
                return [(o.id, names.park(o.park_id), names.berth(o.berth_id)) for o in page.items]
            return [o.id for o in page.items]

        def cleanup():
            # a page runs inside one request's transaction on one pooled connection: keep both open
            # between runs (a rollback would hand the connection back and pay pool_pre_ping's probe)
            db.session.expunge_all()
            raw.rollback()

        lines, worst = [], 0.0
        for which in ("first", "middle", "last"):
            base_ms, rows, value_ms, ids = timed_pair(lambda which=which: plain(which),
                                                      lambda which=which: page_of(which), args.repeat,
                                                      cleanup)
            assert len(ids) == PAGE and len(rows) == PAGE + 1, (which, len(ids), len(rows))
            assert ids == [r[0] for r in (rows[:PAGE] if which != "last" else list(reversed(rows[:PAGE])))], which
            lines.append(result_line(f"orders_page_{which}", value_ms, "ms", "<2", base_ms, value_ms / base_ms))
            full_ms, _ = timed(lambda which=which: page_of(which, True), args.repeat, cleanup)
            print(f"{which} page with names (park, berth, collectors): {full_ms:.1f} ms", flush=True)
            worst = max(worst, full_ms)
        # not a goal of this bench: the whole scope, no filter (needs an index on (entered_at, id))
        wide = order_records(scope, OrderFilters())
        wide_ms, _ = timed(lambda: keyset_page(wide, ParkingOrder.entered_at, ParkingOrder.id, size=PAGE,
                                               plain=True), 5, cleanup)
        print(f"first page of the group's whole list, unfiltered: {wide_ms:.1f} ms", flush=True)
        try:
            compiled = stmt.order_by(None).order_by(ParkingOrder.entered_at.desc(), ParkingOrder.id.desc()) \
                .limit(PAGE + 1).compile(db.engine)
            cursor.execute("EXPLAIN " + str(compiled), compiled.params)
            plan = [row[0] for row in cursor.fetchall()]
            raw.commit()
            print("plan (first page):", " | ".join(line.strip() for line in plan[:8]), flush=True)
        except Exception as exc:  # the plan is a diagnostic, not a figure
            print("plan unavailable:", exc)
        raw.close()
    for line in lines:
        print(line)
    print(result_line("orders_page_max", worst, "ms", "<200"))


if __name__ == "__main__":
    main()
