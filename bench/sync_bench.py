"""Lane events uploaded by on-site systems through /sync/v1 (signed, gunicorn on PostgreSQL), against a
baseline that inserts one row per event with plain SQL (psycopg2, batched VALUES, ON CONFLICT DO NOTHING,
one commit per batch) from the same number of client processes, measured in the same run.

    python bench/sync_bench.py [--seconds 15] [--clients 4] [--workers 4] [--batch 300]

Each client is the on-site server of its own off-street park and uploads batches of whole car visits
(entry, settlement, exit: three events each). The API writes an order, its ledger row, the lane detail
of every event and checks each item's idempotency key; the baseline writes one bare row per event."""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import time
import uuid
from datetime import datetime, timedelta, timezone

from _support import BENCH_URL, Client, city_and_group, ensure_database, gunicorn, result_line

SECRET_KEY = "bench"  # the site secrets are encrypted with a key derived from it: prepare and serve alike


def prepare(url: str, clients: int) -> dict:
    """Schema by migrations, one off-street park per client with an entry and an exit lane and an on-site
    server; the baseline table."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.lanes.models import Lane
    from app.sync.services import create_site_server
    from app.tenancy.models import Park
    from config import normalize_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SECRET_KEY": SECRET_KEY})
    sites = []
    with app.app_context():
        upgrade()
        db.session.execute(text(
            "CREATE TABLE bench_lane_events (id bigserial primary key, park_id int, kind varchar(16), "
            "site_ref varchar(64), plate varchar(16), lane_id int, occurred_at timestamptz, received_at timestamptz, "
            "amount_fen int, UNIQUE (park_id, kind, site_ref))"))
        city, group = city_and_group(db)
        for i in range(clients):
            park = Park(city_id=city.id, group_id=group.id, name=f"Bench Garage {i}", kind="off_street")
            db.session.add(park)
            db.session.flush()
            entry, exit_ = Lane(park_id=park.id, name="In", direction="entry"), \
                Lane(park_id=park.id, name="Out", direction="exit")
            db.session.add_all([entry, exit_])
            _site, secret = create_site_server(None, park)
            db.session.flush()
            sites.append({"park_id": park.id, "secret": secret, "entry": entry.id, "exit": exit_.id})
        db.session.commit()
    return {"sites": sites}


class Visits:
    """Whole car visits of one site, time-ordered, in the last hours."""

    def __init__(self, index: int, start: datetime, site: dict):
        self.index, self.clock, self.site, self.n = index, start, site, 0

    def batch(self, size: int) -> list[dict]:
        items = []
        while len(items) < size:
            self.n += 1
            self.clock += timedelta(milliseconds=250)
            ref = f"b{self.index}-{self.n}-{uuid.uuid4().hex[:8]}"
            plate = f"粤B{self.index}{self.n % 100000:05d}"
            entered, left = self.clock, self.clock + timedelta(minutes=5)
            items += [
                {"kind": "entry", "site_id": ref, "plate": plate, "lane_id": self.site["entry"],
                 "at": entered.isoformat()},
                {"kind": "settlement", "site_id": ref + "-p", "order_site_id": ref, "at": left.isoformat(),
                 "fee_fen": 600, "payments": [{"method": "electronic", "amount_fen": 600}]},
                {"kind": "exit", "site_id": ref, "order_site_id": ref, "lane_id": self.site["exit"],
                 "at": left.isoformat()}]
        return items


def api_worker(port, index, site, seconds, start, batch, out):
    from app.sync.signing import signed_headers

    client = Client(port)
    source = Visits(index, start, site)
    accepted = errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        body = json.dumps({"items": source.batch(batch)}).encode()
        headers = {"Content-Type": "application/json",
                   **signed_headers(site["park_id"], site["secret"], "POST", "/sync/v1/uploads", body)}
        client.conn.request("POST", "/sync/v1/uploads", body=body, headers=headers)
        response = client.conn.getresponse()
        answer = json.loads(response.read())
        if response.status == 200:
            accepted += answer["accepted"]
            errors += answer["refused"]
        else:
            errors += 1
    out.put((accepted, errors))


def sql_worker(url, index, site, seconds, start, batch, out):
    import psycopg2
    from psycopg2.extras import execute_values

    conn = psycopg2.connect(url)
    source = Visits(index, start, site)
    rows_done = 0
    deadline = time.perf_counter() + seconds
    with conn.cursor() as cur:
        while time.perf_counter() < deadline:
            now = datetime.now(timezone.utc)
            rows = [(site["park_id"], e["kind"], e["site_id"], e.get("plate"), e.get("lane_id"), e["at"], now,
                     e.get("fee_fen")) for e in source.batch(batch)]
            execute_values(cur, "INSERT INTO bench_lane_events (park_id, kind, site_ref, plate, lane_id, occurred_at, "
                                "received_at, amount_fen) VALUES %s ON CONFLICT DO NOTHING", rows, page_size=1000)
            conn.commit()
            rows_done += len(rows)
    conn.close()
    out.put((rows_done, 0))


def drive(target, args_of, clients, seconds):
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=target, args=(*args_of(i), queue)) for i in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 180) for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] for r in results), sum(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=300)
    args = parser.parse_args()
    url = ensure_database(BENCH_URL)
    info = prepare(url, args.clients)
    sites, secs, n = info["sites"], args.seconds, args.clients
    start = datetime.now(timezone.utc) - timedelta(days=5)  # a site uploading the backlog of an outage
    base, _ = drive(sql_worker, lambda i: (url, i, sites[i], secs, start - timedelta(days=1), args.batch), n, secs)
    with gunicorn("wsgi:app", {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY}, args.workers) as port:
        drive(api_worker, lambda i: (port, 100 + i, sites[i], 3, start - timedelta(hours=12), args.batch), n, 3)
        api, errors = drive(api_worker, lambda i: (port, i, sites[i], secs, start, args.batch), n, secs)
    rate, base_rate = api / secs, base / secs
    print(f"lane events: API {api} in {secs:.0f}s ({errors} refused or failed) = {rate:.0f}/s; "
          f"plain SQL {base} = {base_rate:.0f}/s; batches of {args.batch}, {n} sites, {args.workers} workers")
    print(result_line("sync_lane_events", rate, "events/s", ">=0.30", base_rate, rate / base_rate if base_rate else 0))


if __name__ == "__main__":
    main()
