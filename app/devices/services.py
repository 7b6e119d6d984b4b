"""Handheld sign-in: field staff on an approved device of their park get a revocable bearer token."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select, update

from app.audit import services as audit
from app.auth import throttle
from app.auth.services import authenticate
from app.core.errors import Conflict, DomainError, Forbidden, TooManyRequests, Unauthorized
from app.core.types import utcnow
from app.devices.models import DeviceSession, Handheld, HandheldStatus
from app.extensions import db, execute_core
from app.shifts.models import Shift
from app.staff.models import Role, Staff
from app.tenancy.models import NODE_MODELS, Level, Park


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class NewSession:
    token: str
    session: DeviceSession
    park: Park
    device_key: str  # the handheld sends it with its next sign-in: a known device is not delayed


def sign_in(username: str, password: str, serial: str, *, ip: str | None = None, device_key: str | None = None,
            lifetime: timedelta = timedelta(hours=14)) -> NewSession:
    """Check credentials and device; a new sign-in revokes the user's earlier tokens.
    Raises with the outcome already staged (failure counters, pending device) for the caller to commit."""
    result = authenticate(username, password, ip=ip, known_device=device_key, admin=False)
    if result.staff is None:
        raise _refusal(result)
    staff = result.staff
    if not staff.is_field_staff:
        raise Forbidden("not_field_staff", "Only collectors and inspectors sign in on handhelds.")
    handheld = db.session.scalar(select(Handheld).where(Handheld.serial == serial.strip()))
    if handheld is None:
        handheld = _register_pending(staff, serial.strip())
    if handheld.status == HandheldStatus.PENDING.value:
        raise Forbidden("device_pending", "This handheld waits for a manager's approval.",
                        extra={"device_serial": handheld.serial})
    if not handheld.is_approved:
        raise Forbidden("device_revoked", "This handheld has been revoked.")
    park = db.session.get(Park, handheld.park_id)
    if park is None or not _works_at(staff, park) or not park.active:
        raise Forbidden("device_other_park", "This handheld belongs to a park you do not work at.")
    now = utcnow()
    db.session.execute(update(DeviceSession).where(DeviceSession.staff_id == staff.id,
                                                   DeviceSession.revoked_at.is_(None)).values(revoked_at=now))
    token = secrets.token_urlsafe(32)
    session = DeviceSession(token_hash=hash_token(token), staff_id=staff.id, handheld_id=handheld.id,
                            created_at=now, expires_at=now + lifetime, last_used_at=now)
    handheld.last_seen_at = now
    db.session.add(session)
    audit.record(staff, "device_sign_in", handheld, ip=ip)
    return NewSession(token, session, park, throttle.device_token(staff))


def _refusal(result) -> DomainError:
    """One code for every wrong guess; a disabled account is told apart only after its right password."""
    if result.error == "delayed":
        return TooManyRequests("too_many_requests", f"Too many failed sign-ins with this username. Try again in "
                                                    f"{result.retry_after} seconds.", result.retry_after)
    if result.error == "disabled":
        return Forbidden("account_disabled", "This account is disabled.")
    return Unauthorized("bad_credentials", "Wrong username or password.")


def _works_at(staff: Staff, park: Park) -> bool:
    level = Level(staff.level)
    if level == Level.PARK:
        return staff.park_id == park.id
    if level == Level.GROUP:
        return staff.group_id == park.group_id
    return False


# An unknown serial waits for a manager as a pending handheld: bounded, so that a signed-in collector cannot
# fill the managers' device list with made-up serials.
MAX_PENDING = 10  # pending handhelds waiting at one park (or at the group, for group-level staff)
MAX_NEW_PER_PERSON = 3  # handhelds one person may bring in within NEW_PER_PERSON_WINDOW
NEW_PER_PERSON_WINDOW = timedelta(hours=24)


def _register_pending(staff: Staff, serial: str) -> Handheld:
    node = _locked_anchor(staff)  # counts and insert of concurrent sign-ins at this node in turn
    now = utcnow()
    brought, oldest = db.session.execute(select(func.count(Handheld.id), func.min(Handheld.created_at)).where(
        Handheld.first_seen_by_id == staff.id, Handheld.created_at > now - NEW_PER_PERSON_WINDOW)).one()
    if brought >= MAX_NEW_PER_PERSON:
        wait = max(1, int((oldest + NEW_PER_PERSON_WINDOW - now).total_seconds()))
        raise TooManyRequests("too_many_new_devices", "You have brought in too many new handhelds in the last day: "
                              "use an approved one or ask a manager.", wait)
    level = Level(staff.level)
    waiting = select(func.count(Handheld.id)).where(Handheld.status == HandheldStatus.PENDING.value,
                                                    Handheld.level == level.value)
    if node is not None:
        waiting = waiting.where(getattr(Handheld, f"{level.value}_id") == node.id)
    if (db.session.scalar(waiting) or 0) >= MAX_PENDING:
        raise Conflict("too_many_pending_devices", "Too many handhelds wait for a manager's approval here: "
                       "a manager must approve or revoke them first.")
    handheld = Handheld(serial=serial, status=HandheldStatus.PENDING.value, first_seen_by_id=staff.id,
                        last_seen_at=now)
    handheld.anchor_at(node)
    db.session.add(handheld)
    db.session.flush()
    audit.record(staff, "device_registered", handheld, label=serial)
    return handheld


def _locked_anchor(staff: Staff):
    """The node the person's new handhelds wait at, locked until the sign-in commits. FOR NO KEY UPDATE:
    car ins inserting orders of the park (a foreign key share lock on its row) are not held up."""
    level = Level(staff.level)
    if level == Level.PLATFORM:
        return None
    return db.session.get(NODE_MODELS[level], getattr(staff, f"{level.value}_id"),
                          with_for_update={"key_share": True})


# Built once: every device request runs it, and building a statement costs more than running it.
# What every variant reads: the checks of the token, device and person, their role's kind, and the open
# shift (签到), which most device requests need next.
_SESSIONS, _HANDHELDS = DeviceSession.__table__.c, Handheld.__table__.c
_CHECKED = (Staff.active.label("staff_active"), Park.id.label("park_id"), Role.kind.label("role_kind"),
            Role.active.label("role_active"), Shift.id.label("shift_id"), Shift.park_id.label("shift_park_id"),
            Shift.segment_id.label("shift_segment_id"), _SESSIONS.id.label("session_id"), _SESSIONS.expires_at,
            _SESSIONS.revoked_at, _SESSIONS.last_used_at, _HANDHELDS.id.label("handheld_id"),
            _HANDHELDS.status.label("handheld_status"))


def _live_session(*columns):
    return (select(*columns, *_CHECKED)
            .select_from(DeviceSession.__table__)
            .join(Staff, Staff.id == _SESSIONS.staff_id)
            .join(Role, Role.id == Staff.role_id)
            .join(Handheld.__table__, _HANDHELDS.id == _SESSIONS.handheld_id)
            .outerjoin(Park, Park.id == _HANDHELDS.park_id)
            .outerjoin(Shift, (Shift.collector_id == _SESSIONS.staff_id) & Shift.ended_at.is_(None))
            .where(_SESSIONS.token_hash == bindparam("token_hash")))


# The person and the park as objects, for the endpoints that work with them ...
LIVE_SESSION = _live_session(Staff, Park)
# ... or as plain columns (DeviceStaff, DevicePark) for the car cycle's endpoints, which a handheld calls
# all day: loading two entities costs more than the query's round trip.
LIVE_SESSION_PLAIN = _live_session(Staff.id.label("staff_id"), Staff.role_id, Staff.display_name,
                                   Park.name.label("park_name"), Park.timezone.label("park_timezone"),
                                   Park.city_id.label("park_city_id"), Park.group_id.label("park_group_id"))
_TOUCH = update(DeviceSession.__table__).where(_SESSIONS.id == bindparam("session_id")).values(
    last_used_at=bindparam("now"))


@dataclass(frozen=True, slots=True)
class OpenShift:
    """The collector's open shift as read with the token: what the car cycle and the ledger need of it."""
    id: int
    park_id: int
    segment_id: int


@dataclass(frozen=True, slots=True)
class DeviceStaff:
    """The signed-in person as read by LIVE_SESSION_PLAIN: what the car cycle needs of them (a StaffRef). Not
    an account: a permission check loads the Staff (app.orders.services._may)."""
    id: int
    role_id: int
    display_name: str


@dataclass(frozen=True, slots=True)
class DevicePark:
    """The handheld's park as read by LIVE_SESSION_PLAIN: what the car cycle and its fee need of it."""
    id: int
    name: str
    timezone: str
    city_id: int
    group_id: int | None


def live_session_row(token: str, statement=LIVE_SESSION, *, plain: bool = False, **params):
    """The row of `statement` (LIVE_SESSION, or LIVE_SESSION_PLAIN with plain=True, perhaps with columns
    added) for a bearer token, or None when the token is unknown, expired or revoked, or the device or
    person is off."""
    values = {"token_hash": hash_token(token), **params}
    row = (execute_core if plain else db.session.execute)(statement, values).first()
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.handheld_status != HandheldStatus.APPROVED.value or row.park_id is None or not row.staff_active \
            or not row.role_active:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        # coarse, so a busy handheld does not write on every read
        execute_core(_TOUCH, {"session_id": row.session_id, "now": now})
    return row


def identity_of(row, *, plain: bool = False) -> tuple:
    """(staff, park, open shift) of a live session row: objects, or plain records for LIVE_SESSION_PLAIN."""
    shift = OpenShift(row.shift_id, row.shift_park_id, row.shift_segment_id) if row.shift_id is not None else None
    if plain:
        return (DeviceStaff(row.staff_id, row.role_id, row.display_name),
                DevicePark(row.park_id, row.park_name, row.park_timezone, row.park_city_id, row.park_group_id),
                shift)
    return row[0], row[1], shift


def sign_out(session_id: int) -> None:
    db.session.execute(update(DeviceSession).where(DeviceSession.id == session_id).values(revoked_at=utcnow()))
