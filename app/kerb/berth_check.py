"""车检器订单: each berth's sensor beside the collector's order, and the differences between them.

Two views of the same berths: now (the sensor's state and since, the open order and its collector, one
flag per disagreement) and a day (each sensor session beside the orders of that day, with the fee the
sensor's time implies, 车检器应收, next to what the order charged, 实收)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from app.berths.models import Berth
from app.core.errors import DomainError
from app.extensions import db
from app.members.services import coverage
from app.orders.models import OrderState, ParkingOrder
from app.sensors.models import OccupancySession, Sensor
from app.staff.models import Staff
from app.tariffs.services import applicable_version, parsed_rule, quote_rule, rule_of_version
from app.tenancy.models import Park

DEFAULT_GAP_MINUTES = 10  # a collector registers a car within minutes of its arrival; beyond that, look
CAR_NO_ORDER, ORDER_NO_CAR, TIMES_APART, SENSOR_OFFLINE = "car_no_order", "order_no_car", "times_apart", "offline"
FLAGS = (CAR_NO_ORDER, ORDER_NO_CAR, TIMES_APART, SENSOR_OFFLINE)


@dataclass
class BerthCheck:
    berth: Berth
    sensor: Sensor | None
    session: OccupancySession | None  # the sensor's open session: a car present
    order: ParkingOrder | None        # the berth's open order
    collector: str | None
    flags: tuple[str, ...] = ()
    gap_minutes: int | None = None    # sensor arrival to order entry

    @property
    def sensor_state(self) -> str | None:
        """occupied | free | offline | None (no sensor, or a disabled one)."""
        if self.sensor is None:
            return None
        if not self.sensor.online:
            return "offline"
        return "occupied" if self.session is not None else "free"

    @property
    def since(self) -> datetime | None:
        if self.sensor is None:
            return None
        if self.sensor_state == "offline":
            return self.sensor.last_heartbeat_at
        return self.session.arrived_at if self.session is not None else self.sensor.state_changed_at


def flags_of(sensor: Sensor | None, session: OccupancySession | None, order: ParkingOrder | None,
             gap_minutes: int) -> tuple[tuple[str, ...], int | None]:
    """The disagreements of one berth, and the minutes between the sensor's arrival and the order's entry.
    An offline sensor's last word is not trusted: it is flagged offline and nothing else."""
    if sensor is None:
        return (), None
    if not sensor.online:
        return (SENSOR_OFFLINE,), None
    if session is not None and order is None:
        return (CAR_NO_ORDER,), None
    if session is None and order is not None:
        return (ORDER_NO_CAR,), None
    if session is None or order is None:
        return (), None
    gap = round(abs((order.entered_at - session.arrived_at).total_seconds()) / 60)
    return ((TIMES_APART,) if gap > gap_minutes else ()), gap


def _names(ids) -> dict[int, str]:
    ids = {i for i in ids if i}
    return dict(db.session.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(ids))).all()) \
        if ids else {}


def berth_checks(berths: list[Berth], gap_minutes: int = DEFAULT_GAP_MINUTES,
                 flagged_only: bool = False) -> list[BerthCheck]:
    """The berths (already chosen through the manager's scope) with their sensor and open order."""
    ids = [b.id for b in berths]
    if not ids:
        return []
    sensors = {s.berth_id: s for s in db.session.scalars(select(Sensor).where(
        Sensor.berth_id.in_(ids), Sensor.active.is_(True)))}
    sessions = {s.berth_id: s for s in db.session.scalars(select(OccupancySession).where(
        OccupancySession.berth_id.in_(ids), OccupancySession.departed_at.is_(None)))}
    orders = {o.berth_id: o for o in db.session.scalars(select(ParkingOrder).where(
        ParkingOrder.berth_id.in_(ids), ParkingOrder.state == OrderState.OPEN.value))}
    names = _names(o.entry_collector_id for o in orders.values())
    checks = []
    for berth in berths:
        sensor, order = sensors.get(berth.id), orders.get(berth.id)
        session = sessions.get(berth.id) if sensor is not None else None
        flags, gap = flags_of(sensor, session, order, gap_minutes)
        if flagged_only and not flags:
            continue
        checks.append(BerthCheck(berth, sensor, session, order,
                                 names.get(order.entry_collector_id) if order and order.entry_collector_id else None,
                                 flags, gap))
    return checks


# --- a day: sessions beside orders ----------------------------------------------------------------

@dataclass
class SessionRow:
    """One line of a berth's day: a sensor session and the order it belongs to, or either alone."""

    berth: Berth
    session: OccupancySession | None
    order: ParkingOrder | None
    sensor_fee_fen: int | None = None   # 车检器应收: the tariff over the sensor's arrival to departure
    collector: str | None = None

    @property
    def charged_fen(self) -> int | None:
        """实收: what the order charged (receivable at settlement); None while it is open."""
        if self.order is None or self.order.state == OrderState.OPEN.value:
            return None
        return self.order.fee_fen

    @property
    def difference_fen(self) -> int | None:
        if self.sensor_fee_fen is None or self.charged_fen is None:
            return None
        return self.sensor_fee_fen - self.charged_fen

    @property
    def sensor_minutes(self) -> int | None:
        s = self.session
        if s is None or s.departed_at is None:
            return None
        return int((s.departed_at - s.arrived_at).total_seconds() // 60)


def _overlaps(a_start, a_end, b_start, b_end) -> bool:
    return a_start < (b_end or datetime.max.replace(tzinfo=a_start.tzinfo)) and \
        b_start < (a_end or datetime.max.replace(tzinfo=b_start.tzinfo))


def _pair(sessions: list[OccupancySession], orders: list[ParkingOrder]) -> list[tuple]:
    """Sessions with their orders: the link the sensor made at car-in first, else the first overlapping stay."""
    by_id = {o.id: o for o in orders}
    taken: set[int] = set()
    pairs: list[tuple] = []
    for s in sessions:
        order = by_id.get(s.order_id) if s.order_id else None
        if order is None:
            order = next((o for o in orders if o.id not in taken and not any(x.order_id == o.id for x in sessions)
                          and _overlaps(s.arrived_at, s.departed_at, o.entered_at, o.left_at)), None)
        if order is not None:
            taken.add(order.id)
        pairs.append((s, order))
    pairs += [(None, o) for o in orders if o.id not in taken]
    return sorted(pairs, key=lambda p: (p[0].arrived_at if p[0] else p[1].entered_at))


def _sensor_fee(park: Park, session: OccupancySession, order: ParkingOrder | None) -> int | None:
    """The fee of the sensor's stay under the tariff the order used (or the one in force at arrival), with
    the plate's pass or white list applied like at settlement. None while the car is still there."""
    if session.departed_at is None:
        return None
    try:
        if order is not None:
            rule = rule_of_version(order.tariff_version_id)
            cover = coverage(park, order.plate, session.arrived_at)
            vehicle_class = order.vehicle_class
        else:
            version = applicable_version(park.id, "small", session.arrived_at)
            rule, cover, vehicle_class = (parsed_rule(version) if version else None), None, "small"
        return quote_rule(park, rule, session.arrived_at, session.departed_at, vehicle_class, pass_=cover).total_fen
    except (DomainError, ValueError):
        return None


def day_sessions(berths: list[Berth], start: datetime, end: datetime) -> list[SessionRow]:
    """Each berth's sensor sessions and orders that overlap [start, end), paired, in time order."""
    ids = [b.id for b in berths]
    if not ids:
        return []
    sessions = db.session.scalars(select(OccupancySession).where(
        OccupancySession.berth_id.in_(ids), OccupancySession.arrived_at < end,
        or_(OccupancySession.departed_at.is_(None), OccupancySession.departed_at >= start))
        .order_by(OccupancySession.arrived_at)).all()
    orders = db.session.scalars(select(ParkingOrder).where(
        ParkingOrder.berth_id.in_(ids), ParkingOrder.entered_at < end,
        or_(ParkingOrder.left_at.is_(None), ParkingOrder.left_at >= start)).order_by(ParkingOrder.entered_at)).all()
    parks = {p.id: p for p in db.session.scalars(select(Park).where(Park.id.in_({b.park_id for b in berths})))}
    names = _names(o.entry_collector_id for o in orders)
    rows = []
    for berth in berths:
        mine = [s for s in sessions if s.berth_id == berth.id]
        for session, order in _pair(mine, [o for o in orders if o.berth_id == berth.id]):
            fee = _sensor_fee(parks[berth.park_id], session, order) if session is not None else None
            rows.append(SessionRow(berth, session, order, fee,
                                   names.get(order.entry_collector_id) if order is not None else None))
    return rows
