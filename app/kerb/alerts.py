"""What follows an overdue sensor session: a message to the collectors on duty on the segment, an
inspection task, or, when nobody is on duty and the park allows it, the unattended escape."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app.audit.services import record
from app.core import signals
from app.extensions import db
from app.inbox.models import send
from app.inspections.models import TaskKind
from app.inspections.services import raise_task
from app.orders import services as orders
from app.orders.models import OPEN_STATE, OrderState, ParkingOrder
from app.sensors.models import OccupancySession, SensorSettings
from app.sensors.services import claim, on_duty
from app.tenancy.models import Park


@signals.car_without_order.connect
def car_without_order(session: OccupancySession, now: datetime, settings: SensorSettings) -> None:
    berth = session.berth
    order = db.session.scalar(select(ParkingOrder).where(ParkingOrder.berth_id == berth.id,
                                                        ParkingOrder.state == OPEN_STATE).limit(1))
    if order is not None and not db.session.scalar(select(func.count()).select_from(OccupancySession).where(
            OccupancySession.order_id == order.id)):
        session.order_id = order.id  # registered meanwhile: link, nothing to say
        return
    if not claim(session, "no_order_alerted_at", now):
        return
    minutes = int((now - session.arrived_at).total_seconds() // 60)
    for collector_id in on_duty([berth.segment_id]).get(berth.segment_id, ()):
        send(collector_id, "sensor_no_order", f"Berth {berth.number}: car present, no order",
             f"A car has been in berth {berth.number} for {minutes} minutes without an order.",
             {"berth_id": berth.id, "number": berth.number, "session_id": session.id,
              "arrived_at": session.arrived_at.isoformat()})
    raise_task(park_id=session.park_id, segment_id=berth.segment_id, berth_id=berth.id, kind=TaskKind.CAR_NO_ORDER,
               note=f"Sensor: car present since {session.arrived_at:%H:%M} UTC, no order after {minutes} min.",
               session_id=session.id, sensor_id=session.sensor_id, at=now)


@signals.car_left_order_open.connect
def car_left_order_open(session: OccupancySession, now: datetime, settings: SensorSettings) -> None:
    departed = session.departed_at
    if departed is None or not claim(session, "left_open_alerted_at", now):
        return
    order = db.session.get(ParkingOrder, session.order_id)
    if order is None or order.state != OrderState.OPEN.value:
        return
    berth = session.berth
    duty = on_duty([berth.segment_id]).get(berth.segment_id, [])
    for collector_id in duty:
        send(collector_id, "sensor_left_open", f"Berth {berth.number}: car left, order still open",
             f"The sensor saw {order.plate} leave berth {berth.number} at {departed:%H:%M} UTC.",
             {"berth_id": berth.id, "number": berth.number, "order_id": order.id, "plate": order.plate,
              "departed_at": departed.isoformat()})
    if not duty and settings.auto_escape_unattended and _escape_unattended(order, session, departed, now):
        return
    raise_task(park_id=session.park_id, segment_id=berth.segment_id, berth_id=berth.id, kind=TaskKind.CAR_LEFT_OPEN,
               note=f"Sensor: {order.plate} left at {departed:%H:%M} UTC; the order is still open.",
               session_id=session.id, sensor_id=session.sensor_id, order_id=order.id, at=now)


def _escape_unattended(order: ParkingOrder, session: OccupancySession, departed: datetime, now: datetime) -> bool:
    """逃单 decided by the system: the sensor saw the car leave and nobody was on duty to collect. False when
    the prepayment covers the fee (the order stays open: only a person can hand money back)."""
    park = db.session.get_one(Park, order.park_id)
    arrear = orders.escape_unattended(order.id, park, departed, now)
    if arrear is None:
        return False
    record(None, "sensor_escape", order, anchor=park, label=order.plate,
           after={"state": order.state, "left_at": order.left_at.isoformat() if order.left_at else None,
                  "arrear_fen": arrear.amount_fen, "session_id": session.id})
    return True
