"""What managers do to handhelds from the admin pages: add, approve, edit, revoke.

The device API's own rules (sign-in, first sighting, tokens) live in app/devices/services.py;
these functions only flush and audit, the view commits once per request."""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.core.errors import Refused
from app.core.types import utcnow
from app.devices.models import DeviceSession, Handheld, HandheldStatus
from app.extensions import db
from app.tenancy.models import Park

FIELDS = ("serial", "label", "status", "level", "group_id", "park_id", "approved_by_id")


class DeviceError(Refused, ValueError):
    code = "device_refused"


def serial_taken(serial: str) -> bool:
    return db.session.scalar(select(Handheld.id).where(func.lower(Handheld.serial) == serial.lower())) is not None


def create_handheld(actor, *, serial: str, label: str | None, park: Park, ip: str | None = None) -> Handheld:
    """A device registered by hand is approved at once for the chosen park."""
    serial = serial.strip()
    if serial_taken(serial):
        raise DeviceError(_("A handheld with this serial is already registered."), "serial")
    handheld = Handheld(serial=serial, label=(label or "").strip() or None)
    _approve_fields(actor, handheld, park)
    db.session.add(handheld)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise DeviceError(_("A handheld with this serial is already registered."), "serial") from exc
    audit.record(actor, "create", handheld, label=handheld.serial, after=audit.snapshot(handheld, FIELDS), ip=ip)
    return handheld


def approve(actor, handheld: Handheld, park: Park, *, label: str | None = None, ip: str | None = None) -> None:
    """Approve a pending device, or approve a revoked one again, for `park`."""
    if handheld.status == HandheldStatus.APPROVED.value:
        raise DeviceError(_("This handheld is approved already."))
    before = audit.snapshot(handheld, FIELDS)
    if label is not None and label.strip():
        handheld.label = label.strip()
    _approve_fields(actor, handheld, park)
    audit.record(actor, "approve", handheld, label=handheld.serial, before=before,
                 after=audit.snapshot(handheld, FIELDS), ip=ip)


def _approve_fields(actor, handheld: Handheld, park: Park) -> None:
    handheld.anchor_at(park)
    handheld.status = HandheldStatus.APPROVED.value
    handheld.approved_by_id = getattr(actor, "id", None)
    handheld.approved_at = utcnow()


def edit(actor, handheld: Handheld, *, label: str | None, park: Park, ip: str | None = None) -> int:
    """Change the label and the park. Moving a device to another park ends its sign-ins there.
    Returns how many sessions were ended."""
    before = audit.snapshot(handheld, FIELDS)
    handheld.label = (label or "").strip() or None
    ended = 0
    if handheld.park_id != park.id or handheld.level != park.level.value:
        moved = handheld.park_id is not None
        handheld.anchor_at(park)
        if moved:
            ended = revoke_sessions(handheld)
    audit.record(actor, "update", handheld, label=handheld.serial, before=before,
                 after=audit.snapshot(handheld, FIELDS), ip=ip)
    return ended


def revoke(actor, handheld: Handheld, ip: str | None = None) -> int:
    """Refuse the device from now on and end every session on it. Returns how many sessions ended."""
    if handheld.status == HandheldStatus.REVOKED.value:
        raise DeviceError(_("This handheld is revoked already."))
    before = audit.snapshot(handheld, FIELDS)
    handheld.status = HandheldStatus.REVOKED.value
    ended = revoke_sessions(handheld)
    after = {**audit.snapshot(handheld, FIELDS), "sessions_ended": ended}
    audit.record(actor, "revoke", handheld, label=handheld.serial, before=before, after=after, ip=ip)
    return ended


def revoke_sessions(handheld: Handheld) -> int:
    result = db.session.execute(
        update(DeviceSession).where(DeviceSession.handheld_id == handheld.id, DeviceSession.revoked_at.is_(None))
        .values(revoked_at=utcnow()).execution_options(synchronize_session=False))
    return result.rowcount or 0
