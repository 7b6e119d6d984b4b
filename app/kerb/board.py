"""The inspector's board of a segment: what each berth's sensor says next to what the collector registered."""
from __future__ import annotations

from sqlalchemy import select

from app.berths.models import Berth, BerthSegment
from app.extensions import db
from app.orders.models import OrderState, ParkingOrder
from app.sensors.models import OccupancySession, Sensor


def sensor_states(berth_ids: list[int]) -> dict[int, dict]:
    """Berth id -> what its sensor says now (state, online, battery, since), for berths that have a sensor:
    two statements, whatever the number of berths."""
    if not berth_ids:
        return {}
    sensors = {s.berth_id: s for s in db.session.scalars(select(Sensor).where(Sensor.berth_id.in_(berth_ids)))
               if s.berth_id is not None}
    if not sensors:
        return {}
    sessions = {s.berth_id: s for s in db.session.scalars(select(OccupancySession).where(
        OccupancySession.berth_id.in_(list(sensors)), OccupancySession.departed_at.is_(None)))}
    states: dict[int, dict] = {}
    for berth_id, sensor in sensors.items():
        session = sessions.get(berth_id)
        since = session.arrived_at if session else sensor.state_changed_at
        states[berth_id] = {"serial": sensor.serial, "state": "occupied" if session else "free",
                            "online": sensor.online, "low_battery": sensor.low_battery,
                            "battery_mv": sensor.battery_mv, "since": since.isoformat() if since else None}
    return states


def disagrees(sensor: dict | None, has_order: bool) -> bool:
    """An online sensor that says occupied where no order is open, or free where one is."""
    return sensor is not None and sensor["online"] and (sensor["state"] == "occupied") != has_order


def segment_board(segment: BerthSegment) -> list[dict]:
    """Each berth with what the sensor says next to what the collector registered."""
    berths = db.session.scalars(select(Berth).where(Berth.segment_id == segment.id, Berth.active.is_(True))
                                .order_by(Berth.number)).all()
    ids = [b.id for b in berths]
    sensors = sensor_states(ids)
    orders = {o.berth_id: o for o in db.session.scalars(select(ParkingOrder).where(
        ParkingOrder.berth_id.in_(ids), ParkingOrder.state == OrderState.OPEN.value))}
    board = []
    for b in berths:
        sensor, order = sensors.get(b.id), orders.get(b.id)
        board.append({
            "id": b.id, "number": b.number, "sensor": sensor,
            "order": None if order is None else {"id": order.id, "plate": order.plate,
                                                 "entered_at": order.entered_at.isoformat()},
            "mismatch": disagrees(sensor, order is not None),
        })
    return board
