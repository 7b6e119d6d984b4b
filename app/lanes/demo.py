"""Demo booths, lanes and devices for the off-street parks (idempotent)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.core.types import utcnow
from app.devices.models import SimCard
from app.extensions import db
from app.lanes.models import Barrier, Booth, Camera, Lane, LedScreen, Monitor
from app.tenancy.models import Park, ParkKind


def seed_demo_lanes() -> None:
    for park in db.session.scalars(select(Park).where(Park.kind == ParkKind.OFF_STREET.value).order_by(Park.id)):
        seed_lanes(park)


def seed_lanes(park: Park) -> None:
    """A booth with an entry and an exit lane, each with a camera, a barrier, an LED screen and a
    video monitor, an intercom and a SIM card. Does nothing to a park that has a booth already."""
    if park.kind != ParkKind.OFF_STREET.value:
        return
    if db.session.scalar(select(Booth.id).where(Booth.park_id == park.id).limit(1)) is not None:
        return
    now = utcnow()
    booth = Booth(park_id=park.id, name="Booth 1", ip="192.168.1.10", last_seen_at=now)
    db.session.add(booth)
    for n, (name, direction) in enumerate((("Entry 1", "entry"), ("Exit 1", "exit")), start=1):
        lane = Lane(park_id=park.id, booth=booth, name=name, code=f"L{n}", direction=direction, last_seen_at=now,
                    heartbeat_at=now)
        seen = now if direction == "entry" else now - timedelta(hours=2)  # the exit shows as offline
        db.session.add_all([
            lane,
            Camera(park_id=park.id, lane=lane, name=f"{name} camera", ip=f"192.168.1.{200 + n}", port=554,
                   maker="Generic ANPR", username="admin", password=f"demo-cam-{park.id}-{n}", last_seen_at=seen),
            Barrier(park_id=park.id, lane=lane, name=f"{name} barrier", model="BR-3", serial_port="COM1",
                    last_seen_at=seen),
            LedScreen(park_id=park.id, lane=lane, name=f"{name} screen", ip=f"192.168.1.{210 + n}", port=5005,
                      content="Welcome" if direction == "entry" else "Drive safely", last_seen_at=seen),
            Monitor(park_id=park.id, lane=lane, kind="video", name=f"{name} video", show_order=n,
                    play_url=f"rtsp://192.168.1.{200 + n}:554/stream1", last_seen_at=seen),
        ])
    db.session.add(Monitor(park_id=park.id, kind="intercom", name="Booth intercom", extension="801",
                           park_phone="800"))
    db.session.flush()
    db.session.add(SimCard(park_id=park.id, iccid=f"8986{park.id:016d}", number=f"1380000{park.id:04d}",
                           carrier="China Mobile", device_kind="booth", device_id=booth.id,
                           expires_on=date.today() + timedelta(days=365)))
    db.session.flush()
