"""`flask simulate-lane`: an on-site system driving the real /sync/v1 API (signed), for demos and load."""
from __future__ import annotations

import random
from datetime import timedelta

import click
from flask import current_app
from flask.cli import with_appcontext

PROVINCES = "粤沪京苏浙川鄂湘"


def _fee(minutes: int) -> int:
    """The simulated booth's price: 3 yuan per started half hour, 30 yuan a day at most."""
    return min(((minutes + 29) // 30) * 300, 3000)


def plan_cars(rnd: random.Random, cars: int, park_id: int, lanes: tuple[int, int], now, minutes: int) -> list[dict]:
    """Time-ordered upload items of `cars` visits during the last `minutes`: entries, and for the cars
    already gone a settlement and an exit."""
    events = []
    entry_lane, exit_lane = lanes
    for _ in range(cars):
        ref = f"sim-{park_id}-{rnd.randrange(16**10):010x}"
        plate = f"{rnd.choice(PROVINCES)}{rnd.choice('ABCDE')}{rnd.randrange(10000, 99999)}"
        entered = now - timedelta(minutes=rnd.uniform(1, minutes))
        stay = rnd.randint(5, 240)
        left = entered + timedelta(minutes=stay)
        events.append((entered, {"kind": "entry", "site_id": ref, "plate": plate, "lane_id": entry_lane,
                                 "at": entered.isoformat(), "vehicle_class": "small"}))
        if left < now:
            fee = _fee(stay)
            method = rnd.choice(("cash", "electronic", "electronic", "card"))
            events.append((left - timedelta(seconds=20), {
                "kind": "settlement", "site_id": f"{ref}-pay", "order_site_id": ref, "fee_fen": fee,
                "at": (left - timedelta(seconds=20)).isoformat(), "payments": [{"method": method, "amount_fen": fee}],
                "collector_name": "Simulated booth"}))
            events.append((left, {"kind": "exit", "site_id": ref, "order_site_id": ref, "lane_id": exit_lane,
                                  "at": left.isoformat()}))
    events.sort(key=lambda e: e[0])
    return [item for _at, item in events]


@click.command("simulate-lane")
@click.option("--park", "park_id", type=int, required=True, help="Id of an off-street park.")
@click.option("--cars", type=click.IntRange(1, 100000), default=20, show_default=True)
@click.option("--minutes", type=click.IntRange(10, 7 * 24 * 60), default=240, show_default=True,
              help="Visits spread over this many minutes, ending now.")
@click.option("--batch", type=click.IntRange(1, 500), default=50, show_default=True)
@click.option("--base-url", default=None, help="Drive a running server (e.g. http://127.0.0.1:5000) instead of "
                                               "the in-process test client.")
@click.option("--seed", type=int, default=None, help="Random seed, for a repeatable run.")
@with_appcontext
def simulate_lane_command(park_id, cars, minutes, batch, base_url, seed):
    """Play a park's on-site system: heartbeat, pull and acknowledge the feed, upload entries, payments
    and exits, answer barrier commands."""
    from sqlalchemy import select

    from app.core.types import utcnow
    from app.extensions import db
    from app.lanes.demo import seed_lanes
    from app.lanes.models import Lane
    from app.sync import services
    from app.sync.client import SiteClient
    from app.tenancy.models import Park, ParkKind

    park = db.session.get(Park, park_id)
    if park is None or park.kind != ParkKind.OFF_STREET.value:
        raise click.ClickException(f"no off-street park {park_id}")
    seed_lanes(park)
    site = services.site_of(park.id)
    if site is None:
        site, _secret = services.create_site_server(None, park)
    lanes = db.session.execute(select(Lane.id, Lane.direction).where(Lane.park_id == park.id,
                                                                     Lane.active.is_(True))).all()
    entry = next((i for i, d in lanes if d in ("entry", "both")), None)
    exit_ = next((i for i, d in lanes if d in ("exit", "both")), None)
    if entry is None or exit_ is None:
        raise click.ClickException(f"{park.name} needs an entry and an exit lane")
    secret = site.secret
    db.session.commit()
    client = SiteClient(park.id, secret, base_url=base_url,
                        test_client=None if base_url else current_app._get_current_object().test_client())
    status, body = client.heartbeat("sim-1.0", {"lane": [i for i, _d in lanes]})
    if status != 200:
        raise click.ClickException(f"heartbeat refused ({status}): {body}")
    cursor, pulled = 0, 0
    while True:
        status, feed = client.pull(cursor, limit=500)
        pulled += len(feed["changes"])
        cursor = feed["seq"]
        for command in feed["commands"]:
            client.call("POST", f"/commands/{command['id']}/result", {"ok": True, "message": "done by simulator"})
        if not feed["more"]:
            break
    client.ack(cursor)
    items = plan_cars(random.Random(seed), cars, park.id, (entry, exit_), utcnow() - timedelta(seconds=5), minutes)
    accepted = refused = 0
    for start in range(0, len(items), batch):
        status, body = client.upload(items[start:start + batch])
        if status != 200:
            raise click.ClickException(f"upload refused ({status}): {body}")
        accepted += body["accepted"]
        refused += body["refused"]
    click.echo(f"{park.name}: pulled {pulled} changes up to {cursor}; uploaded {accepted} items "
               f"({refused} refused) for {cars} cars")
