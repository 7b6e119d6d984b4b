"""Demo: the first off-street park gets its on-site server and 30 days of lane traffic, written in bulk."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select

from app.core.types import utcnow
from app.extensions import db
from app.lanes.demo import seed_lanes
from app.lanes.models import Lane
from app.ledger.models import LedgerEntry
from app.orders.models import ParkingOrder
from app.sync.cli import PROVINCES, _fee
from app.sync.models import LaneUpload
from app.sync.services import create_site_server, site_of
from app.tenancy.models import Park, ParkKind

CARS_PER_DAY = 60
PARKED_NOW = 12


def seed_lane_history(days: int = 30) -> None:
    park = db.session.scalar(select(Park).where(Park.kind == ParkKind.OFF_STREET.value).order_by(Park.id).limit(1))
    if park is None or site_of(park.id) is not None:
        return
    seed_lanes(park)
    site, _secret = create_site_server(None, park)  # managers see a secret only when they rotate it on the link page
    site.version, site.last_heartbeat_at = "demo", utcnow()  # the heartbeat seed_lanes' device times come from
    db.session.flush()
    lanes = dict(db.session.execute(select(Lane.direction, Lane.id).where(Lane.park_id == park.id)).all())
    entry_lane, exit_lane = lanes.get("entry"), lanes.get("exit", lanes.get("entry"))
    rnd, now = random.Random(park.id), utcnow()
    zone = ZoneInfo(park.timezone)
    visits = []
    for day in range(days, 0, -1):  # the garage's days: cars come between 06:30 and 22:30 local time
        opening = datetime.combine(now.astimezone(zone).date() - timedelta(days=day), time(6, 30), tzinfo=zone)
        for _ in range(CARS_PER_DAY):
            entered = opening + timedelta(minutes=rnd.uniform(0, 16 * 60))
            left_by = int((now - entered).total_seconds() // 60) - 1  # yesterday's late cars have left by now
            visits.append((entered, max(1, min(rnd.randint(10, 300), left_by))))
    visits += [(now - timedelta(minutes=rnd.uniform(5, 300)), None) for _ in range(PARKED_NOW)]
    rows, plates = [], set()
    for n, (entered, stay) in enumerate(visits):
        plate = f"{rnd.choice(PROVINCES)}{'ABCDE'[n % 5]}{10000 + n:05d}"
        plates.add(plate)
        row = {"park_id": park.id, "plate": plate, "vehicle_class": "small", "entry_method": "lane",
               "entered_at": entered, "entry_received_at": entered + timedelta(seconds=2), "state": "open",
               "fee_fen": 0, "prepaid_fen": 0, "paid_fen": 0, "reduction_fen": 0, "created_at": entered,
               "left_at": None, "exit_received_at": None, "payment_method": None}
        if stay is not None:
            left = entered + timedelta(minutes=stay)
            fee = _fee(stay)
            row.update(state="settled", left_at=left, exit_received_at=left + timedelta(seconds=2), fee_fen=fee,
                       paid_fen=fee, payment_method=rnd.choice(("cash", "electronic", "electronic", "card")))
        rows.append(row)
    ids = db.session.execute(insert(ParkingOrder).returning(ParkingOrder.id, sort_by_parameter_order=True),
                             rows).scalars().all()
    ledger, uploads = [], []
    for order_id, row, n in zip(ids, rows, range(len(rows))):
        ref = f"demo-{park.id}-{n:06d}"
        uploads.append(_upload(park.id, "entry", ref, order_id, entry_lane, row["plate"], row["entered_at"]))
        if row["state"] == "settled":
            ledger.append({"park_id": park.id, "order_id": order_id, "method": row["payment_method"], "kind": "fee",
                           "amount_fen": row["fee_fen"], "occurred_at": row["left_at"], "created_at": row["left_at"]})
            uploads.append(_upload(park.id, "settlement", f"{ref}-pay", order_id, None, row["plate"],
                                   row["left_at"], {"fee_fen": row["fee_fen"], "collector_name": "Booth 1"}))
            uploads.append(_upload(park.id, "exit", ref, order_id, exit_lane, row["plate"], row["left_at"]))
    db.session.execute(insert(LedgerEntry), ledger)
    db.session.execute(insert(LaneUpload), uploads)


def _upload(park_id, kind, ref, order_id, lane_id, plate, at, detail=None) -> dict:
    return {"park_id": park_id, "kind": kind, "site_ref": ref, "status": "ok", "order_id": order_id,
            "lane_id": lane_id, "plate": plate, "occurred_at": at, "received_at": at + timedelta(seconds=2),
            "detail": detail, "order_site_ref": ref if kind != "entry" else None, "photo_path": None,
            "response": {"kind": kind, "site_id": ref, "status": "ok", "order_id": order_id}}
