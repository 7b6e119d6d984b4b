import time
from datetime import timedelta
from sqlalchemy import event
from app.core.types import utcnow
from tests.sync.test_costs import _visits


def test_split(db, site):
    start = utcnow() - timedelta(days=3)
    site.client.upload(_visits(site, 100, start))
    per = {}
    def before(conn, *a):
        conn.info["t0"] = time.perf_counter()
    def after(conn, cursor, statement, *a):
        key = statement.split("(")[0][:40]
        per[key] = per.get(key, 0) + time.perf_counter() - conn.info["t0"]
    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    total = 0
    for i in range(8):
        start += timedelta(hours=3)
        items = _visits(site, 100, start)
        t = time.perf_counter()
        site.client.upload(items)
        total += time.perf_counter() - t
    event.remove(db.engine, "before_cursor_execute", before)
    event.remove(db.engine, "after_cursor_execute", after)
    dbt = sum(per.values())
    print(f"\nTOTAL {total/8*1000:.1f}ms DB {dbt/8*1000:.1f}ms")
    for k, v in sorted(per.items(), key=lambda kv: -kv[1]):
        print(f"{v/8*1000:6.2f}ms {k}")
