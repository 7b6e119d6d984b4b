"""查找: what one box in the header finds (plates, order and receipt numbers, staff, handhelds) and what the
plate page (车牌档案) gathers, always inside the manager's scope. Knows nothing of requests or URLs."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import or_, select, union

from app.core.plates import clean_plate
from app.devices.models import Handheld
from app.extensions import db
from app.members.models import MonthlyPass, PassPlate, PlateListEntry
from app.orders.models import Arrear, OrderPhoto, ParkingOrder
from app.staff.models import Staff

LIMIT = 20          # hits per kind: a search box, not a report
PLATE_ROWS = 50     # rows per section of the plate page
_PLATE_PART = re.compile(r"^[A-Z0-9\u4e00-\u9fff]{2,10}$")
_MAX_ID = 2**31 - 1  # larger numbers are no order id (and would overflow PostgreSQL's integer)

# what each kind of hit needs the viewer to be allowed to see
KIND_PERMISSIONS = {"plate": "orders.view", "order": "orders.view", "receipt": "orders.view",
                    "staff": "staff.view", "handheld": "devices.view"}


@dataclass(frozen=True)
class Hit:
    kind: str            # plate | order | receipt | staff | handheld
    key: int | str       # the plate, or the id of the row
    label: str
    detail: str = ""


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def find(scope, text: str | None, kinds: set[str]) -> list[Hit]:
    """Every hit of `text` among the kinds the viewer may see, plates first."""
    text = (text or "").strip()[:64]
    if not text:
        return []
    hits: list[Hit] = []
    if "plate" in kinds:
        hits += _plates(scope, clean_plate(text))
    if "order" in kinds:
        hits += _order_by_number(scope, text)
    if "receipt" in kinds:
        hits += _receipts(scope, text)
    if "staff" in kinds:
        hits += _staff(scope, text)
    if "handheld" in kinds:
        hits += _handhelds(scope, text)
    return hits


def _plates(scope, part: str) -> list[Hit]:
    """Distinct plates containing `part` (车牌模糊查询) in orders, debts, passes or lists of the scope."""
    if not _PLATE_PART.match(part):
        return []
    like = _like(part)
    sources = union(*(_first_plates(stmt) for stmt in (
        select(ParkingOrder.plate).where(scope.clause(ParkingOrder), ParkingOrder.plate.like(like, escape="\\")),
        select(Arrear.plate).where(scope.clause(Arrear), Arrear.plate.like(like, escape="\\")),
        select(PassPlate.plate).join(MonthlyPass, MonthlyPass.id == PassPlate.pass_id)
        .where(scope.clause(MonthlyPass), PassPlate.plate.like(like, escape="\\")),
        select(PlateListEntry.plate).where(scope.clause(PlateListEntry),
                                           PlateListEntry.plate.like(like, escape="\\")),
    ))).subquery()
    plates = db.session.scalars(select(sources.c.plate).order_by(sources.c.plate).limit(LIMIT))
    return [Hit("plate", plate, plate) for plate in plates]


def _first_plates(stmt):
    """At most LIMIT distinct plates of one source, so a common part stops each scan early."""
    first = stmt.distinct().limit(LIMIT).subquery()
    return select(first.c.plate)


def _order_by_number(scope, text: str) -> list[Hit]:
    if not text.isdigit() or int(text) > _MAX_ID:
        return []
    order = scope.get(ParkingOrder, int(text))
    return [Hit("order", order.id, str(order.id), order.plate)] if order is not None else []


def _receipts(scope, text: str) -> list[Hit]:
    orders = db.session.scalars(scope.select(ParkingOrder).where(ParkingOrder.receipt_no == text).limit(LIMIT))
    return [Hit("receipt", o.id, o.receipt_no or "", o.plate) for o in orders]


def _staff(scope, text: str) -> list[Hit]:
    like = _like(text)
    people = db.session.scalars(scope.select(Staff).where(or_(
        Staff.username.ilike(like, escape="\\"), Staff.display_name.ilike(like, escape="\\")))
        .order_by(Staff.username).limit(LIMIT))
    return [Hit("staff", s.id, s.display_name, s.username) for s in people]


def _handhelds(scope, text: str) -> list[Hit]:
    found = db.session.scalars(scope.select(Handheld).where(Handheld.serial.ilike(_like(text), escape="\\"))
                               .order_by(Handheld.serial).limit(LIMIT))
    return [Hit("handheld", h.id, h.serial, h.label or "") for h in found]


@dataclass
class PlateFile:
    """车牌档案: what the scope holds about one plate, newest first."""

    plate: str
    orders: list = field(default_factory=list)
    arrears: list = field(default_factory=list)
    passes: list = field(default_factory=list)
    list_entries: list = field(default_factory=list)
    photos: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.orders or self.arrears or self.passes or self.list_entries or self.photos)


def plate_file(scope, raw: str, *, orders: bool, passes: bool, lists: bool) -> PlateFile:
    """The sections the viewer may see (orders with their debts and photos, passes, list entries)."""
    plate = clean_plate(raw)
    found = PlateFile(plate)
    if orders:
        found.orders = _rows(scope.select(ParkingOrder).where(ParkingOrder.plate == plate)
                             .order_by(ParkingOrder.entered_at.desc(), ParkingOrder.id.desc()))
        found.arrears = _rows(scope.select(Arrear).where(Arrear.plate == plate)
                              .order_by(Arrear.created_at.desc(), Arrear.id.desc()))
        found.photos = _rows(scope.select(OrderPhoto).join(ParkingOrder, ParkingOrder.id == OrderPhoto.order_id)
                             .where(ParkingOrder.plate == plate)
                             .order_by(OrderPhoto.created_at.desc(), OrderPhoto.id.desc()))
    if passes:
        found.passes = _rows(scope.select(MonthlyPass).where(MonthlyPass.id.in_(
            select(PassPlate.pass_id).where(PassPlate.plate == plate))).order_by(MonthlyPass.ends_on.desc()))
    if lists:
        found.list_entries = _rows(scope.select(PlateListEntry).where(PlateListEntry.plate == plate)
                                   .order_by(PlateListEntry.created_at.desc()))
    return found


def _rows(stmt) -> list:
    return list(db.session.scalars(stmt.limit(PLATE_ROWS)))
