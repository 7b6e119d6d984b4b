"""Authentication rules, independent of Flask requests (the device API reuses them)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from flask import current_app
from sqlalchemy import func, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit import services as audit
from app.auth import throttle
from app.core.types import utcnow
from app.extensions import db
from app.staff.models import Staff


@dataclass
class LoginResult:
    staff: Staff | None
    error: str | None = None  # a code: bad_credentials, delayed, disabled, field_staff
    retry_after: int = 0      # seconds, when delayed


def authenticate(username: str, password: str, *, ip: str | None = None, known_device: str | None = None,
                 admin: bool = True) -> LoginResult:
    """Check a password. Every name, known or not, takes the same path, so neither the answer nor its time
    tells which names exist: the same lookup, the same hashing (a dummy hash stands in for an unknown name),
    the same growing delay after wrong passwords in a row (app/auth/throttle.py). Only someone who gave the
    right password learns more (disabled account, handheld account). The caller commits, so the failure
    count and the audit entry are kept either way."""
    staff = db.session.scalar(select(Staff).where(func.lower(Staff.username) == username.strip().lower()))
    now = utcnow()
    name = throttle.name_hash(username)
    failures = throttle.failures_of(name)
    wait = throttle.wait_seconds(failures, now)
    if wait and not throttle.is_known_device(known_device, staff):
        return LoginResult(None, "delayed", retry_after=wait)  # refused unchecked: a right password stays unknown
    if not _password_matches(staff, password):
        in_a_row = throttle.record_failure(name, failures, now)
        if staff is None:
            throttle.count_unknown(ip, now)  # counted, not audited: names nobody has are no one's history
        else:
            audit.record(staff, "login_failed", staff, ip=ip, after={
                "failures_in_a_row": in_a_row, "delay_seconds": throttle.delay_after(in_a_row)})
        return LoginResult(None, "bad_credentials")
    if failures is not None and not wait:  # a known device let in early leaves the others' wait as it is
        throttle.forget(name)
    if not staff.active or not staff.role.active:
        audit.record(staff, "login_refused_disabled", staff, ip=ip)
        return LoginResult(None, "disabled")
    if admin and staff.is_field_staff:
        audit.record(staff, "login_refused_field_staff", staff, ip=ip)
        return LoginResult(None, "field_staff")
    staff.last_login_at = now
    audit.record(staff, "login", staff, ip=ip)
    return LoginResult(staff)


def _password_matches(staff: Staff | None, password: str) -> bool:
    if staff is None:  # as long as a wrong password of a real account: the dummy is hashed the same way
        check_password_hash(_dummy_hash(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")), password)
        return False
    return staff.check_password(password)


@cache
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def change_password(staff: Staff, new_password: str, *, actor=None, ip: str | None = None) -> None:
    """Set a new password; every session of the account signed with the old token ends."""
    staff.set_password(new_password)
    throttle.forget(throttle.name_hash(staff.username))  # a delayed person can sign in with the new one at once
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
