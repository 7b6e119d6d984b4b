"""What the driver's pages read, without request objects: a berth's sign token, the berth's open order as the
driver may see it (the plate masked), and a plate's debts once the driver confirmed the last entry's time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select

from app.berths.models import Berth
from app.core.errors import Invalid
from app.core.plates import normalize_plate
from app.extensions import db
from app.orders import services as orders
from app.orders.models import Arrear, OrderState, ParkingOrder
from app.tenancy.models import Park

CONFIRM_MINUTES = 10  # a confirmed plate's debts can be paid this long


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="berth-sign")


def berth_token(berth_id: int) -> str:
    """The berth's sign address: signed, so nobody reaches another berth's page by counting."""
    return _signer().dumps(berth_id)


def berth_of_token(token: str) -> Berth | None:
    try:
        berth_id = _signer().loads(token)
    except BadSignature:
        return None
    return db.session.get(Berth, berth_id) if isinstance(berth_id, int) else None


def mask_plate(plate: str) -> str:
    """沪A12345 -> 沪A1***5: enough for a driver to know their car, not to read another's plate."""
    if len(plate) <= 4:
        return plate[:1] + "*" * (len(plate) - 1)
    return plate[:3] + "*" * (len(plate) - 4) + plate[-1]


@dataclass(frozen=True)
class BerthView:
    berth: Berth
    park: Park
    order: ParkingOrder | None
    quote: orders.Quote | None


def berth_view(berth: Berth, now: datetime) -> BerthView:
    park = db.session.get_one(Park, berth.park_id)
    order = db.session.scalar(select(ParkingOrder).where(ParkingOrder.berth_id == berth.id,
                                                         ParkingOrder.state == OrderState.OPEN.value))
    quote = orders.quote_order(order, max(now, order.entered_at), park) if order else None
    return BerthView(berth, park, order, quote)


def _confirm_signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="arrears-confirmed")


@dataclass(frozen=True)
class PlateDebts:
    plate: str
    park: Park
    arrears: list[Arrear]
    token: str  # carries the plate and the debts shown, for the pay step

    @property
    def total_fen(self) -> int:
        return sum(a.amount_fen for a in self.arrears)


def confirm_plate(plate_text: str, last_entry: datetime) -> PlateDebts | None:
    """The plate's open debts, if `last_entry` (the driver's word, local time without zone) is the minute of the
    plate's last entry anywhere on the platform; None otherwise (nothing said of why)."""
    try:
        plate = normalize_plate(plate_text)
    except Invalid:  # not a plate: the same answer as a wrong time
        return None
    last = db.session.scalar(select(ParkingOrder).where(ParkingOrder.plate == plate)
                             .order_by(ParkingOrder.entered_at.desc()).limit(1))
    if last is None:
        return None
    park = db.session.get_one(Park, last.park_id)
    local = last.entered_at.astimezone(ZoneInfo(park.timezone)).replace(tzinfo=None, second=0, microsecond=0)
    if abs(local - last_entry.replace(second=0, microsecond=0)) > timedelta(minutes=1):
        return None
    debts = db.session.scalars(select(Arrear).where(Arrear.plate == plate, Arrear.state == "open")
                               .order_by(Arrear.created_at)).all()
    if not debts:
        return PlateDebts(plate, park, [], "")
    # debts are paid within one operating group's (or city's) parks at a time: the oldest debt's
    home = db.session.get_one(Park, debts[0].park_id)
    in_scope = set(db.session.scalars(orders.arrears_scope_parks(home)))
    arrears = [a for a in debts if a.park_id in in_scope]
    token = _confirm_signer().dumps({"plate": plate, "park_id": home.id, "arrear_ids": [a.id for a in arrears]})
    return PlateDebts(plate, home, arrears, token)


def confirmed(token: str) -> dict | None:
    try:
        return _confirm_signer().loads(token, max_age=CONFIRM_MINUTES * 60)
    except (BadSignature, SignatureExpired):
        return None
