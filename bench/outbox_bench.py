"""Outbox delivery throughput: events written to the outbox (as the domains' receivers write them) and
delivered by the worker's delivery run (`deliver_due` with the HTTP dispatcher: signed webhook requests
over keep-alive connections, a thread per lane) to a loopback receiver (asyncio) in its own process,
which keeps each event id once. PostgreSQL, like production.

    python bench/outbox_bench.py [--events 6000] [--parks 24]
"""
from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import time

from _support import BENCH_URL, city_and_group, ensure_database, free_port, result_line


async def _handle(reader, writer, seen: set, duplicates) -> None:
    """One keep-alive connection of the receiver: each request answered 200, its event id kept once."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length, event_id = 0, None
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"x-parkingos-event-id":
                    event_id = value.strip()
            await reader.readexactly(length)
            if event_id in seen:
                duplicates.value += 1
            seen.add(event_id)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    except (asyncio.IncompleteReadError, ConnectionError):
        writer.close()


def serve(port: int, duplicates) -> None:
    """The loopback receiver (asyncio, its own process: the receiver's cost is not the outbox's)."""
    seen: set = set()

    async def main():
        server = await asyncio.start_server(lambda r, w: _handle(r, w, seen, duplicates), "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def prepare(url: str, receiver_url: str, parks: int, events: int):
    from flask_migrate import upgrade

    from app import create_app
    from app.core.types import utcnow
    from app.extensions import db
    from app.integrations import outbox, webhooks
    from app.tenancy.models import Park
    from config import normalize_database_url

    app = create_app({"SQLALCHEMY_DATABASE_URI": normalize_database_url(url), "SECRET_KEY": "bench",
                      "OUTBOX_KICK": False})
    with app.app_context():
        upgrade()
        city, group = city_and_group(db)
        park_ids = []
        for i in range(parks):
            park = Park(city_id=city.id, group_id=group.id, name=f"Bench Park {i}")
            db.session.add(park)
            db.session.flush()
            park_ids.append(park.id)
        sub, _secret = webhooks.create(None, city, name="Bench receiver", url=receiver_url,
                                       events=["order.opened"])
        now = utcnow()
        for start in range(0, events, 1000):
            outbox.write([outbox.Message(city.id, park_ids[n % parks], "order.opened", outbox.new_event_id(),
                                         {"id": n, "type": "order.opened", "data": {"order_id": n, "plate": "沪A0"}},
                                         subscription_id=sub.id) for n in range(start, min(start + 1000, events))],
                         now)
        db.session.commit()
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--parks", type=int, default=24)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    url = ensure_database(BENCH_URL)
    port = free_port()
    duplicates = mp.Value("i", 0)
    receiver = mp.Process(target=serve, args=(port, duplicates), daemon=True)
    receiver.start()
    app = prepare(url, f"http://127.0.0.1:{port}/", args.parks, args.events)
    from app.extensions import db
    from app.integrations.delivery import HttpDispatcher
    from app.integrations.outbox import deliver_due

    with app.app_context():
        started = time.perf_counter()
        sent = 0
        while True:
            counts = deliver_due(HttpDispatcher(), threads=args.threads)
            db.session.commit()
            sent += counts["sent"]
            if not counts["batches"]:
                break
        elapsed = time.perf_counter() - started
    receiver.terminate()
    rate = sent / elapsed
    print(f"outbox: {sent} of {args.events} events delivered in {elapsed:.2f}s = {rate:.0f} events/s "
          f"({args.parks} parks, {args.threads} threads, {duplicates.value} duplicates at the receiver)")
    print(result_line("outbox_delivery", rate, "events/s", ">=1000"))


if __name__ == "__main__":
    main()
