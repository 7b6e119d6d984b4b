"""The inspector's board of a segment: what each berth's sensor says next to what the collector registered."""
from __future__ import annotations

from sqlalchemy import select

from app.berths.models import Berth, BerthSegment
from app.extensions import db
from app.orders.models import OrderState, ParkingOrder
from app.sensors.models import OccupancySession, Sensor


def segment_board(segment: BerthSegment) -> list[dict]:
    """Each berth with what the sensor says next to what the collector registered."""
    berths = db.session.scalars(select(Berth).where(Berth.segment_id == segment.id, Berth.active.is_(True))
                                .order_by(Berth.number)).all()
    ids = [b.id for b in berths]
    sensors = {s.berth_id: s for s in db.session.scalars(select(Sensor).where(Sensor.berth_id.in_(ids)))}
    sessions = {s.berth_id: s for s in db.session.scalars(select(OccupancySession).where(
        OccupancySession.berth_id.in_(ids), OccupancySession.departed_at.is_(None)))}
    orders = {o.berth_id: o for o in db.session.scalars(select(ParkingOrder).where(
        ParkingOrder.berth_id.in_(ids), ParkingOrder.state == OrderState.OPEN.value))}
    board = []
    for b in berths:
        sensor, session, order = sensors.get(b.id), sessions.get(b.id), orders.get(b.id)
        sensor_state = None if sensor is None else ("occupied" if session else "free")
        since = session.arrived_at if session else sensor.state_changed_at if sensor else None
        board.append({
            "id": b.id, "number": b.number,
            "sensor": None if sensor is None else {
                "serial": sensor.serial, "state": sensor_state, "online": sensor.online,
                "low_battery": sensor.low_battery, "battery_mv": sensor.battery_mv,
                "since": since.isoformat() if since else None},
            "order": None if order is None else {"id": order.id, "plate": order.plate,
                                                 "entered_at": order.entered_at.isoformat()},
            "mismatch": sensor is not None and sensor.online and (sensor_state == "occupied") != (order is not None),
        })
    return board
