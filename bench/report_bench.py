"""Report and export benchmark (PostgreSQL at BENCH_DATABASE_URL).

Seeds one million orders and their ledger rows (INSERT ... SELECT generate_series), ANALYZE, then:
- the income summary of a city for 30 days through app/reports/queries.py against the same aggregate
  as one hand-written SQL statement (goal ratio < 1.5);
- an export of 100,000 orders through app/exports/services.write_workbook (rows streamed with yield_per)
  against bare xlsxwriter writing the same rows from a psycopg2 server-side cursor (goal ratio < 1.5),
  and the peak memory of that export (goal < 300 MB).

Run from the project root: `python bench/report_bench.py`."""
from __future__ import annotations

import os
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _support import BENCH_URL, ensure_database, result_line  # noqa: E402

ORDERS = int(os.environ.get("BENCH_ORDERS", 1_000_000))
EXPORT_ROWS = int(os.environ.get("BENCH_EXPORT_ROWS", 100_000))
PARKS, BERTHS_PER_PARK, COLLECTORS, DAYS = 20, 500, 40, 30
TZ = "Asia/Shanghai"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def seed(app, db):
    from sqlalchemy import text

    from app.staff.models import RoleKind, Staff
    from app.staff.services import builtin_role, ensure_builtin_roles
    from app.tenancy.models import City, OperatingGroup, Park

    ensure_builtin_roles()
    city = City(name="Bench City")
    db.session.add(city)
    db.session.flush()
    groups = [OperatingGroup(city_id=city.id, name=f"Bench Group {i}") for i in range(2)]
    db.session.add_all(groups)
    db.session.flush()
    parks = [Park(city_id=city.id, group_id=groups[i % 2].id, name=f"Bench Park {i:02d}") for i in range(PARKS)]
    db.session.add_all(parks)
    db.session.flush()
    manager = Staff(username="benchcity", display_name="Bench city manager", role=builtin_role(city.level))
    manager.anchor_at(city)
    manager.set_password("bench-password")
    db.session.add(manager)
    for i in range(COLLECTORS):
        s = Staff(username=f"benchcollector{i}", display_name=f"Collector {i}",
                  role=builtin_role(parks[0].level, RoleKind.COLLECTOR))
        s.anchor_at(parks[i % PARKS])
        s.password_hash = "x"
        db.session.add(s)
    db.session.commit()
    first_park = parks[0].id
    first_staff = db.session.scalar(text("SELECT min(id) FROM staff WHERE username LIKE 'benchcollector%'"))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    started = time.perf_counter()
    with db.engine.begin() as conn:
        if conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            # bulk seeding: skip the per-row foreign-key triggers (the rows are built consistent)
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("""
            INSERT INTO berth_segments (park_id, name, active, created_at, updated_at)
            SELECT :p0 + p, 'Segment ' || p, true, now(), now() FROM generate_series(0, :parks - 1) p"""),
                     {"p0": first_park, "parks": PARKS})
        conn.execute(text("""
            INSERT INTO berths (park_id, segment_id, number, active, created_at, updated_at)
            SELECT s.park_id, s.id, 'B' || lpad(n::text, 4, '0'), true, now(), now()
            FROM berth_segments s CROSS JOIN generate_series(1, :per) n"""), {"per": BERTHS_PER_PARK})
        # orders: spread over DAYS days, 20 parks; 3% escape (half of them recovered later), 20% prepaid
        conn.execute(text("""
            INSERT INTO parking_orders (park_id, segment_id, berth_id, plate, vehicle_class, state, entry_method,
                entered_at, entry_received_at, left_at, exit_received_at, fee_fen, prepaid_fen, paid_fen,
                reduction_fen, payment_method, entry_collector_id, exit_collector_id, created_at)
            SELECT b.park_id, b.segment_id, b.id, 'B' || lpad(g::text, 7, '0'), 'small',
                   CASE WHEN g % 100 < 3 THEN (CASE WHEN g % 2 = 0 THEN 'recovered' ELSE 'unpaid' END)
                        ELSE 'settled' END, 'pos',
                   t.entered, t.entered, t.entered + d.dwell, t.entered + d.dwell,
                   f.fee, CASE WHEN g % 5 = 0 THEN 500 ELSE 0 END,
                   CASE WHEN g % 100 < 3 AND g % 2 = 1 THEN CASE WHEN g % 5 = 0 THEN 500 ELSE 0 END ELSE f.fee END,
                   CASE WHEN g % 97 = 0 THEN f.fee ELSE 0 END,
                   (ARRAY['cash','electronic','card'])[1 + g % 3],
                   :s0 + g % :nc, :s0 + g % :nc, t.entered
            FROM generate_series(1, :orders) g
            JOIN berths b ON b.id = (SELECT min(id) FROM berths) + (g % (:parks * :per))
            CROSS JOIN LATERAL (SELECT (:now)::timestamptz - ((g::float / :orders) * :days * interval '1 day')
                                       AS entered) t
            CROSS JOIN LATERAL (SELECT ((10 + g % 230) * interval '1 minute') AS dwell) d
            CROSS JOIN LATERAL (SELECT (200 * (1 + (10 + g % 230) / 60))::int AS fee) f"""),
                     {"orders": ORDERS, "parks": PARKS, "per": BERTHS_PER_PARK, "s0": first_staff,
                      "nc": COLLECTORS, "now": now, "days": DAYS})
        log(f"orders inserted in {time.perf_counter() - started:.0f}s")
        conn.execute(text("""
            INSERT INTO arrears (park_id, order_id, plate, amount_fen, state, created_at, recovered_at,
                                 recovered_by_id, recovered_park_id, recovered_method)
            SELECT park_id, id, plate, fee_fen - prepaid_fen,
                   CASE WHEN state = 'recovered' THEN 'recovered' ELSE 'open' END,
                   left_at, CASE WHEN state = 'recovered' THEN left_at + interval '1 day' END,
                   CASE WHEN state = 'recovered' THEN exit_collector_id END,
                   CASE WHEN state = 'recovered' THEN park_id END, CASE WHEN state = 'recovered' THEN 'card' END
            FROM parking_orders WHERE state IN ('unpaid', 'recovered')"""))
        conn.execute(text("""
            INSERT INTO ledger_entries (park_id, order_id, arrear_id, collector_id, segment_id, berth_id, method, kind,
                                        amount_fen, occurred_at, created_at)
            SELECT park_id, id, NULL::int, entry_collector_id, segment_id, berth_id, 'cash', 'prepay', prepaid_fen,
                   entered_at, entered_at FROM parking_orders WHERE prepaid_fen > 0
            UNION ALL
            SELECT park_id, id, NULL, exit_collector_id, segment_id, berth_id, payment_method, 'fee',
                   fee_fen - prepaid_fen, left_at, left_at
            FROM parking_orders WHERE state = 'settled' AND fee_fen > prepaid_fen AND reduction_fen = 0
            UNION ALL
            SELECT park_id, id, NULL, exit_collector_id, segment_id, berth_id, 'cash', 'prepay_refund',
                   fee_fen - prepaid_fen, left_at, left_at
            FROM parking_orders WHERE state = 'settled' AND fee_fen < prepaid_fen
            UNION ALL
            SELECT a.recovered_park_id, a.order_id, a.id, a.recovered_by_id, NULL::int, NULL::int, 'card', 'recovery',
                   a.amount_fen, a.recovered_at, a.recovered_at FROM arrears a WHERE a.state = 'recovered'"""))
        log(f"arrears and ledger inserted in {time.perf_counter() - started:.0f}s")
        conn.execute(text("ANALYZE"))
    counts = db.session.execute(text(
        "SELECT (SELECT count(*) FROM parking_orders), (SELECT count(*) FROM ledger_entries)")).one()
    log(f"seeded {counts[0]:,} orders and {counts[1]:,} ledger rows in {time.perf_counter() - started:.0f}s")
    return manager


RAW_MONEY_SQL = """
SELECT park_id,
  sum(CASE WHEN kind IN ('fee','prepay','prepay_refund') AND method = 'cash' THEN amount_fen ELSE 0 END),
  sum(CASE WHEN kind = 'recovery' AND method = 'cash' THEN amount_fen ELSE 0 END),
  sum(CASE WHEN kind IN ('fee','prepay','prepay_refund') AND method = 'electronic' THEN amount_fen ELSE 0 END),
  sum(CASE WHEN kind = 'recovery' AND method = 'electronic' THEN amount_fen ELSE 0 END),
  sum(CASE WHEN kind IN ('fee','prepay','prepay_refund') AND method = 'card' THEN amount_fen ELSE 0 END),
  sum(CASE WHEN kind = 'recovery' AND method = 'card' THEN amount_fen ELSE 0 END),
  sum(CASE WHEN kind IN ('fee','prepay','prepay_refund','recovery') THEN amount_fen ELSE 0 END),
  sum(CASE WHEN kind = 'pass_sale' THEN amount_fen ELSE 0 END)
FROM ledger_entries WHERE park_id = ANY(%(ids)s) AND occurred_at >= %(start)s AND occurred_at < %(end)s
GROUP BY park_id
"""
RAW_UNPAID_SQL = """
SELECT a.park_id, sum(a.amount_fen) FROM arrears a JOIN parking_orders o ON o.id = a.order_id
WHERE a.park_id = ANY(%(ids)s) AND a.state = 'open' AND o.left_at >= %(start)s AND o.left_at < %(end)s
GROUP BY a.park_id
"""


def best_of(n, fn):
    times = []
    for _ in range(n):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), result


EXPORT_COLUMNS = None


def export_columns():
    from app.exports.registry import DATETIME, INT, MONEY, TEXT

    return [("Id", INT), ("Plate", TEXT), ("State", TEXT), ("Vehicle", TEXT), ("Entered", DATETIME),
            ("Left", DATETIME), ("Fee", MONEY), ("Prepaid", MONEY), ("Paid", MONEY), ("Reduction", MONEY),
            ("Method", TEXT), ("Park", INT), ("Segment", INT), ("Berth", INT), ("Collector", INT)]


def spec_rows(db, limit):
    """Rows as an export spec yields them: a SQLAlchemy select streamed in batches (yield_per)."""
    from sqlalchemy import select

    from app.orders.models import ParkingOrder as O

    stmt = (select(O.id, O.plate, O.state, O.vehicle_class, O.entered_at, O.left_at, O.fee_fen, O.prepaid_fen,
                   O.paid_fen, O.reduction_fen, O.payment_method, O.park_id, O.segment_id, O.berth_id,
                   O.exit_collector_id).order_by(O.id).limit(limit).execution_options(yield_per=5000))
    yield from db.session.execute(stmt)


def bare_export(url, path, limit, zone):
    """The baseline: psycopg2 server-side cursor and bare xlsxwriter, same cells and formats."""
    import psycopg2
    import xlsxwriter

    conn = psycopg2.connect(url)
    cur = conn.cursor(name="bench_export")
    cur.itersize = 5000
    cur.execute("SELECT id, plate, state, vehicle_class, entered_at, left_at, fee_fen, prepaid_fen, paid_fen, "
                "reduction_fen, payment_method, park_id, segment_id, berth_id, exit_collector_id "
                "FROM parking_orders ORDER BY id LIMIT %s", (limit,))
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Orders")
    money = wb.add_format({"num_format": "0.00"})
    integer = wb.add_format({"num_format": "0"})
    dt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    ws.write_row(0, 0, [h for h, _k in export_columns()])
    r = 0
    for row in cur:
        r += 1
        ws.write_number(r, 0, row[0], integer)
        ws.write_string(r, 1, row[1])
        ws.write_string(r, 2, row[2])
        ws.write_string(r, 3, row[3])
        ws.write_datetime(r, 4, row[4].astimezone(zone).replace(tzinfo=None), dt)
        if row[5] is not None:
            ws.write_datetime(r, 5, row[5].astimezone(zone).replace(tzinfo=None), dt)
        for c in (6, 7, 8, 9):
            ws.write_number(r, c, row[c] / 100, money)
        if row[10] is not None:
            ws.write_string(r, 10, row[10])
        for c in (11, 12, 13, 14):
            if row[c] is not None:
                ws.write_number(r, c, row[c], integer)
    wb.close()
    conn.close()
    return r


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM (peak RSS) on Linux
        return True
    except OSError:
        return False


def main() -> None:
    url = ensure_database(BENCH_URL)
    os.environ["DATABASE_URL"] = url
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db

    app = create_app({"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SQLALCHEMY_ENGINE_OPTIONS": {}})
    with app.test_request_context():
        upgrade()
        log("schema ready")
        manager = seed(app, db)
        from app.exports.services import write_workbook
        from app.reports import queries as q
        from app.tenancy.scope import Scope

        scope = Scope.of(manager)
        today = q.local_today(TZ)
        f = q.Filters(today - timedelta(days=DAYS - 1), today, TZ)
        ids = q.park_ids(scope, f)
        raw_conn = db.engine.raw_connection()

        def raw():  # the same two aggregates as plain SQL on the bare driver (the leanest equivalent)
            args = {"ids": ids, "start": f.start, "end": f.end}
            cur = raw_conn.cursor()
            cur.execute(RAW_MONEY_SQL, args)
            rows = cur.fetchall()
            cur.execute(RAW_UNPAID_SQL, args)
            unpaid = dict(cur.fetchall())
            cur.close()
            return [(*r, unpaid.get(r[0], 0)) for r in rows]

        def ours():
            return q.income_summary(scope, f, "park")

        raw()
        ours()  # warm both (plans, caches)
        t_raw, raw_rows = best_of(3, raw)
        t_ours, our_rows = best_of(3, ours)
        assert len(raw_rows) == len(our_rows) == PARKS, (len(raw_rows), len(our_rows))
        raw_collected = sum(r[7] for r in raw_rows)
        assert sum(r[9] for r in raw_rows) == sum(r["unpaid"] for r in our_rows), "unpaid disagrees"
        assert raw_collected == sum(r["collected"] for r in our_rows), "the two aggregates disagree"
        log(f"income summary: ours {t_ours * 1000:.0f} ms, raw SQL {t_raw * 1000:.0f} ms, "
            f"collected ¥{raw_collected / 100:,.2f}")
        raw_conn.close()

        zone = ZoneInfo(TZ)
        tmp = Path(tempfile.mkdtemp(prefix="report-bench-"))
        started = time.perf_counter()
        n_bare = bare_export(url, tmp / "bare.xlsx", EXPORT_ROWS, zone)
        t_bare = time.perf_counter() - started
        log(f"bare xlsxwriter: {n_bare:,} rows in {t_bare:.1f}s")
        db.session.rollback()
        rss_before = _status_kb("VmRSS")
        exact_peak = reset_peak()
        maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        n_ours = write_workbook(tmp / "ours.xlsx", "Orders", export_columns(), spec_rows(db, EXPORT_ROWS), zone)
        t_ours_export = time.perf_counter() - started
        db.session.rollback()
        if exact_peak and rss_before is not None:
            peak_mb = max(_status_kb("VmHWM") - rss_before, 0) / 1024
        else:
            peak_mb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - maxrss_before, 0) / 1024
        assert n_ours == n_bare == EXPORT_ROWS
        log(f"our writer: {n_ours:,} rows in {t_ours_export:.1f}s, peak memory +{peak_mb:.1f} MB "
            f"({(tmp / 'ours.xlsx').stat().st_size / 1e6:.1f} MB file)")
        for name in ("bare.xlsx", "ours.xlsx"):
            (tmp / name).unlink()
        tmp.rmdir()

    print(result_line("income_summary_1m_orders", t_ours * 1000, "ms", "<1.5", baseline=t_raw * 1000,
                      ratio=t_ours / t_raw))
    print(result_line("export_100k_orders", t_ours_export, "s", "<1.5", baseline=t_bare, ratio=t_ours_export / t_bare))
    print(result_line("export_100k_peak_memory", peak_mb, "MB", "<300"))


if __name__ == "__main__":
    main()
