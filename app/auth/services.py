"""Authentication rules, independent of Flask requests (the device API reuses them)."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import current_app
from sqlalchemy import delete, func, or_, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from app.audit import services as audit
from app.auth import throttle
from app.auth.models import SignInSession
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


def change_password(staff: Staff, new_password: str, *, actor=None, keep: SignInSession | None = None,
                    ip: str | None = None) -> None:
    """Set a new password and end every session of the account but `keep` (the one changing it)."""
    staff.set_password(new_password)
    throttle.forget(throttle.name_hash(staff.username))  # a delayed person can sign in with the new one at once
    own = actor is None or actor.id == staff.id
    end_sessions(staff, "password" if own else "reset", keep=keep)
    audit.record(actor or staff, "password_change" if own else "password_reset", staff, ip=ip)


@dataclass(frozen=True)
class SessionLimits:
    idle: timedelta      # a session unused this long has ended
    absolute: timedelta  # and any session this old

    @classmethod
    def of(cls, config) -> SessionLimits:
        return cls(idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                   absolute=timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]))


TOUCH_EVERY = timedelta(minutes=1)  # how stale last_seen_at may get: a write per request would be too many


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _live(now, limits: SessionLimits):
    return (SignInSession.ended_at.is_(None), SignInSession.last_seen_at > now - limits.idle,
            SignInSession.created_at > now - limits.absolute)


def open_session(staff: Staff, *, user_agent: str | None, ip: str | None) -> SignInSession:
    """A new sign-in of `staff`; its token (`.token`) goes into the cookie and nowhere else."""
    now = utcnow()
    row = SignInSession(token_hash="", staff=staff, created_at=now, last_seen_at=now,
                        user_agent=(user_agent or "")[:200] or None, ip=ip)
    row.token = secrets.token_urlsafe(32)
    row.token_hash = _digest(row.token)
    db.session.add(row)
    staff.signin = row
    return row


def load_session_user(token: str, limits: SessionLimits) -> Staff | None:
    """Flask-Login's loader: the staff of a live session, with the session attached (`staff.signin`).
    Its `last_seen_at` is written (and committed: the loader runs before the view) at most once a minute."""
    now = utcnow()
    row = db.session.scalar(select(SignInSession).where(SignInSession.token_hash == _digest(token),
                                                        *_live(now, limits)))
    if row is None or not row.staff.active or row.staff.is_field_staff:
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        db.session.commit()
    row.token = token
    row.staff.signin = row
    return row.staff


def active_sessions(staff: Staff, limits: SessionLimits) -> list[SignInSession]:
    return list(db.session.scalars(select(SignInSession).where(SignInSession.staff_id == staff.id,
                                                               *_live(utcnow(), limits))
                                   .order_by(SignInSession.last_seen_at.desc(), SignInSession.id.desc())))


def end_session(row: SignInSession, reason: str) -> None:
    row.ended_at, row.end_reason = utcnow(), reason


def end_sessions(staff: Staff, reason: str, *, keep: SignInSession | None = None) -> int:
    """End every session of `staff` (but `keep`); how many were open."""
    stmt = update(SignInSession).where(SignInSession.staff_id == staff.id, SignInSession.ended_at.is_(None))
    if keep is not None:
        stmt = stmt.where(SignInSession.id != keep.id)
    return db.session.execute(stmt.values(ended_at=utcnow(), end_reason=reason)).rowcount


def forget_old_sessions(now, keep_days: int = 30) -> int:
    """Delete sessions that ended or went unused more than `keep_days` ago (the audit log keeps sign-ins)."""
    cutoff = now - timedelta(days=keep_days)
    return db.session.execute(delete(SignInSession).where(
        or_(SignInSession.ended_at < cutoff, SignInSession.last_seen_at < cutoff))).rowcount
