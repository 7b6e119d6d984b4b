"""Authentication rules, independent of Flask requests (the device API reuses them)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from app.audit import services as audit
from app.core.types import utcnow
from app.extensions import db
from app.staff.models import Staff


@dataclass
class LoginResult:
    staff: Staff | None
    error: str | None = None  # a code: bad_credentials, locked, disabled, field_staff


def authenticate(username: str, password: str, *, ip: str | None = None, max_failures: int = 5,
                 lock_minutes: int = 15, admin: bool = True) -> LoginResult:
    """Check a password, count failures, lock after `max_failures` in a row.
    The caller commits, so the failure counter and the audit entry are kept either way."""
    staff = db.session.scalar(select(Staff).where(func.lower(Staff.username) == username.strip().lower()))
    now = utcnow()
    if staff is None:
        audit.record(None, "login_failed", label=username[:64], object_type="Staff", ip=ip)
        return LoginResult(None, "bad_credentials")
    if staff.is_locked(now):
        audit.record(staff, "login_refused_locked", staff, ip=ip)
        return LoginResult(None, "locked")
    if not staff.check_password(password):
        staff.failed_logins += 1
        if staff.failed_logins >= max_failures:
            staff.locked_until = now + timedelta(minutes=lock_minutes)
            staff.failed_logins = 0
            audit.record(staff, "account_locked", staff, ip=ip)
            return LoginResult(None, "locked")
        audit.record(staff, "login_failed", staff, ip=ip)
        return LoginResult(None, "bad_credentials")
    if not staff.active or not staff.role.active:
        audit.record(staff, "login_refused_disabled", staff, ip=ip)
        return LoginResult(None, "disabled")
    if admin and staff.is_field_staff:
        audit.record(staff, "login_refused_field_staff", staff, ip=ip)
        return LoginResult(None, "field_staff")
    staff.failed_logins = 0
    staff.locked_until = None
    staff.last_login_at = now
    audit.record(staff, "login", staff, ip=ip)
    return LoginResult(staff)


def change_password(staff: Staff, new_password: str, *, actor=None, ip: str | None = None) -> None:
    """Set a new password; every session of the account signed with the old token ends."""
    staff.set_password(new_password)
    staff.failed_logins = 0
    staff.locked_until = None
    action = "password_change" if actor is None or actor.id == staff.id else "password_reset"
    audit.record(actor or staff, action, staff, ip=ip)


def load_session_user(session_id: str) -> Staff | None:
    """Flask-Login's loader: the id is '<staff id>:<session token>'."""
    staff_id, _, token = session_id.partition(":")
    if not staff_id.isdigit():
        return None
    staff = db.session.get(Staff, int(staff_id))
    if staff is None or staff.session_token != token or not staff.active or staff.is_field_staff:
        return None
    return staff
