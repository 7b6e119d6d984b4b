"""Berth segments (泊位段) and berths (泊位): creating, editing, bulk numbering, occupancy.

Plain functions: they flush and audit, the caller commits once per request. Occupancy is never
stored on the berth; it is whether the berth has an order in state 'open'."""
from __future__ import annotations

import re

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.berths.models import Berth, BerthSegment
from app.core.errors import Refused
from app.extensions import db
from app.orders.models import OrderState, ParkingOrder
from app.tenancy.models import Park

SEGMENT_FIELDS = ("park_id", "name", "address", "latitude", "longitude", "active")
BERTH_FIELDS = ("park_id", "segment_id", "number", "active")
MAX_BULK = 1000
NUMBER_RE = re.compile(r"^[A-Z0-9_\-]{1,16}$")
# "A001-A120", "A001–A120", "A001~120", "B7" (a single number)
RANGE_RE = re.compile(r"^(?P<prefix>[A-Za-z_]*)(?P<first>\d+)"
                      r"(?:\s*[-–—~]\s*(?P<prefix2>[A-Za-z_]*)(?P<last>\d+))?$")


class BerthError(Refused, ValueError):
    """A refused change of a segment or berth; `field` names the form field it belongs to."""
    code = "berth_refused"


# --- segments ---------------------------------------------------------------------------------

def save_segment(actor, segment: BerthSegment, *, park: Park, name: str, address: str | None,
                 latitude: float | None, longitude: float | None, ip: str | None = None) -> BerthSegment:
    creating = segment.id is None
    if not creating and segment.park_id != park.id and _has_berths(segment):
        raise BerthError(_("This segment has berths; it cannot move to another park."), "park_id")
    name = name.strip()
    if _segment_name_taken(park.id, name, segment.id):
        raise BerthError(_("A segment of this park already has that name."), "name")
    before = None if creating else audit.snapshot(segment, SEGMENT_FIELDS)
    segment.park_id, segment.name = park.id, name
    segment.address = (address or "").strip() or None
    segment.latitude, segment.longitude = latitude, longitude
    if creating:
        segment.active = True
        db.session.add(segment)
    _flush_or_refuse(_("A segment of this park already has that name."), "name")
    audit.record(actor, "create" if creating else "update", segment, anchor=park, before=before,
                 after=audit.snapshot(segment, SEGMENT_FIELDS), ip=ip)
    return segment


def set_segment_active(actor, segment: BerthSegment, active: bool, ip: str | None = None) -> None:
    before = audit.snapshot(segment, ("active",))
    segment.active = active
    audit.record(actor, "enable" if active else "disable", segment, anchor=segment.park, before=before,
                 after=audit.snapshot(segment, ("active",)), ip=ip)


def _segment_name_taken(park_id: int, name: str, exclude_id: int | None) -> bool:
    stmt = select(BerthSegment.id).where(BerthSegment.park_id == park_id, BerthSegment.name == name)
    if exclude_id is not None:
        stmt = stmt.where(BerthSegment.id != exclude_id)
    with db.session.no_autoflush:
        return db.session.scalar(stmt.limit(1)) is not None


def _has_berths(segment: BerthSegment) -> bool:
    return db.session.scalar(select(Berth.id).where(Berth.segment_id == segment.id).limit(1)) is not None


def segment_counts(segment_ids) -> dict[int, tuple[int, int]]:
    """Segment id -> (berths, occupied berths), computed by the database."""
    ids = list(segment_ids)
    if not ids:
        return {}
    totals = dict(db.session.execute(
        select(Berth.segment_id, func.count(Berth.id)).where(Berth.segment_id.in_(ids))
        .group_by(Berth.segment_id)).all())
    occupied = dict(db.session.execute(
        select(Berth.segment_id, func.count(Berth.id))
        .join(ParkingOrder, (ParkingOrder.berth_id == Berth.id) & (ParkingOrder.state == OrderState.OPEN.value))
        .where(Berth.segment_id.in_(ids)).group_by(Berth.segment_id)).all())
    return {i: (totals.get(i, 0), occupied.get(i, 0)) for i in ids}


# --- berths -----------------------------------------------------------------------------------

def open_orders_by_berth(berth_ids) -> dict[int, ParkingOrder]:
    ids = list(berth_ids)
    if not ids:
        return {}
    rows = db.session.scalars(select(ParkingOrder).where(ParkingOrder.berth_id.in_(ids),
                                                         ParkingOrder.state == OrderState.OPEN.value))
    return {o.berth_id: o for o in rows}


def occupied_clause():
    """True for berths with an open order (for list filters)."""
    return Berth.id.in_(select(ParkingOrder.berth_id).where(ParkingOrder.state == OrderState.OPEN.value,
                                                            ParkingOrder.berth_id.is_not(None)))


def normalize_number(number: str) -> str:
    return (number or "").strip().upper()


def expand_range(expression: str | None = None, *, prefix: str | None = None, start: int | None = None,
                 end: int | None = None, width: int | None = None) -> list[str]:
    """The berth numbers of a range: an expression like 'A001-A120' (the padding follows the first
    number), or a prefix, a start, an end and a zero-padding width. At most MAX_BULK numbers."""
    if expression and expression.strip():
        match = RANGE_RE.match(expression.strip())
        if not match:
            raise BerthError(_("Write a range like A001-A120 (a letter prefix, a first and a last number)."),
                             "expression")
        prefix2 = match["prefix2"]
        if prefix2 and prefix2.upper() != match["prefix"].upper():
            raise BerthError(_("Both ends of the range need the same prefix."), "expression")
        prefix, first = match["prefix"], match["first"]
        last = match["last"] if match["last"] is not None else first
        start, end = int(first), int(last)
        width = len(first) if first.startswith("0") or len(first) == len(last) else 0
        field = "expression"
    else:
        if start is None or end is None:
            raise BerthError(_("Give a range like A001-A120, or a first and a last number."), "expression")
        prefix, width, field = prefix or "", width or 0, "end"
    if end < start:
        raise BerthError(_("The last number is smaller than the first."), field)
    count = end - start + 1
    if count > MAX_BULK:
        raise BerthError(_("That is %(count)d berths; at most %(max)d can be created at once.",
                           count=count, max=MAX_BULK), field)
    numbers = [normalize_number(f"{prefix}{n:0{width}d}" if width else f"{prefix}{n}")
               for n in range(start, end + 1)]
    too_long = [n for n in numbers if not NUMBER_RE.match(n)]
    if too_long:
        raise BerthError(_("Berth numbers are at most 16 letters, digits, - or _ (%(example)s is not).",
                           example=too_long[0]), field)
    return numbers


def existing_numbers(park_id: int, numbers, exclude_id: int | None = None) -> list[str]:
    found: list[str] = []
    numbers = list(numbers)
    for i in range(0, len(numbers), 500):
        stmt = select(Berth.number).where(Berth.park_id == park_id, Berth.number.in_(numbers[i:i + 500]))
        if exclude_id is not None:
            stmt = stmt.where(Berth.id != exclude_id)
        with db.session.no_autoflush:
            found.extend(db.session.scalars(stmt))
    return sorted(found)


def _list_some(numbers: list[str], limit: int = 20) -> str:
    shown = ", ".join(numbers[:limit])
    if len(numbers) > limit:
        shown += " " + _("and %(count)d more", count=len(numbers) - limit)
    return shown


def bulk_create_berths(actor, segment: BerthSegment, numbers: list[str], ip: str | None = None) -> list[Berth]:
    """All or nothing: refuses the whole batch if any number exists in the park already."""
    if not numbers:
        raise BerthError(_("No berth numbers given."), "expression")
    if len(numbers) > MAX_BULK:
        raise BerthError(_("At most %(max)d berths can be created at once.", max=MAX_BULK), "expression")
    if len(set(numbers)) != len(numbers):
        raise BerthError(_("The same number appears twice."), "expression")
    taken = existing_numbers(segment.park_id, numbers)
    if taken:
        raise BerthError(_("These numbers already exist in this park: %(numbers)s. Nothing was created.",
                           numbers=_list_some(taken)), "expression")
    berths = [Berth(park_id=segment.park_id, segment_id=segment.id, number=n, active=True) for n in numbers]
    db.session.add_all(berths)
    _flush_or_refuse(_("Another manager created some of these numbers just now. Nothing was created."),
                     "expression")
    label = numbers[0] if len(numbers) == 1 else f"{numbers[0]}–{numbers[-1]}"
    audit.record(actor, "create", object_type="Berth", anchor=segment.park, label=f"{label} ({len(numbers)})",
                 after={"segment_id": segment.id, "count": len(numbers), "numbers": numbers}, ip=ip)
    return berths


def update_berth(actor, berth: Berth, *, number: str, segment: BerthSegment, ip: str | None = None) -> Berth:
    if segment.park_id != berth.park_id:
        raise BerthError(_("Choose a segment of the berth's own park."), "segment_id")
    number = normalize_number(number)
    if not NUMBER_RE.match(number):
        raise BerthError(_("Berth numbers are at most 16 letters, digits, - or _."), "number")
    if existing_numbers(berth.park_id, [number], exclude_id=berth.id):
        raise BerthError(_("Another berth of this park has that number."), "number")
    before = audit.snapshot(berth, BERTH_FIELDS)
    berth.number, berth.segment_id = number, segment.id
    _flush_or_refuse(_("Another berth of this park has that number."), "number")
    audit.record(actor, "update", berth, anchor=segment.park, label=berth.number, before=before,
                 after=audit.snapshot(berth, BERTH_FIELDS), ip=ip)
    return berth


def set_berth_active(actor, berth: Berth, active: bool, ip: str | None = None) -> None:
    before = audit.snapshot(berth, ("active",))
    berth.active = active
    audit.record(actor, "enable" if active else "disable", berth, anchor=db.session.get(Park, berth.park_id),
                 label=berth.number, before=before, after=audit.snapshot(berth, ("active",)), ip=ip)


def _flush_or_refuse(message: str, field: str) -> None:
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent request won between our check and the flush
        db.session.rollback()
        raise BerthError(message, field) from exc
