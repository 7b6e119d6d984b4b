"""Sign-in throttling kept in the database (the per-address limits are Flask-Limiter's, in app/auth/limits.py).

- A growing delay per username (known or not): after LOGIN_DELAY_AFTER_FAILURES wrong passwords in a row the
  name answers "try again in N s", N doubling with each further failure up to LOGIN_DELAY_MAX_SECONDS. There is
  no lock an attacker could keep renewing: the wait never exceeds the cap, and a browser or handheld that signed
  in to the account before (a signed "known device" token, OWASP's device cookie) is not delayed at all, so
  spraying an account does not keep its owner out.
- Failed sign-ins with unknown usernames are counted per address and hour, not audited one row each.
"""
from __future__ import annotations

import hashlib
import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.models import SignInFailures, UnknownSignIns
from app.extensions import db, on_postgresql

FAILURES = SignInFailures.__table__
UNKNOWN = UnknownSignIns.__table__


@dataclass(frozen=True)
class Failures:
    """A username's wrong passwords in a row, as read before checking a new one."""
    name_hash: str
    count: int
    last_failed_at: datetime
    delayed_until: datetime | None


def name_hash(username: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, username.strip().lower().encode(), hashlib.sha256).hexdigest()


def failures_of(name: str) -> Failures | None:
    row = db.session.execute(select(FAILURES.c.name_hash, FAILURES.c.failures, FAILURES.c.last_failed_at,
                                    FAILURES.c.delayed_until).where(FAILURES.c.name_hash == name)).first()
    return Failures(*row) if row else None


def wait_seconds(failures: Failures | None, now: datetime) -> int:
    """How long the name must wait before its next try; 0 when it may try now."""
    if failures is None or failures.delayed_until is None or failures.delayed_until <= now:
        return 0
    return math.ceil((failures.delayed_until - now).total_seconds())


def delay_after(count: int) -> int:
    """Seconds a name waits after its `count`-th wrong password in a row: none for the first few, then the
    first delay, doubling, up to the cap."""
    config = current_app.config
    beyond = count - config["LOGIN_DELAY_AFTER_FAILURES"]
    if beyond < 0:
        return 0
    return min(config["LOGIN_DELAY_FIRST_SECONDS"] * 2 ** min(beyond, 20), config["LOGIN_DELAY_MAX_SECONDS"])


def record_failure(name: str, failures: Failures | None, now: datetime) -> int:
    """Count a wrong password; returns how many are now in a row. One upsert whatever the name: a first failure and
    the next one cost the same, and two at once cannot fail on the key. After a quiet
    LOGIN_FAILURES_FORGOTTEN_HOURS the count starts again."""
    forgotten = now - timedelta(hours=current_app.config["LOGIN_FAILURES_FORGOTTEN_HOURS"])
    fresh = failures is None or failures.last_failed_at < forgotten
    count = 1 if fresh else failures.count + 1
    delay = delay_after(count)
    until = now + timedelta(seconds=delay) if delay else None
    stmt = _insert(FAILURES).values(name_hash=name, failures=count, last_failed_at=now, delayed_until=until)
    db.session.execute(stmt.on_conflict_do_update(index_elements=[FAILURES.c.name_hash], set_={
        "failures": 1 if fresh else FAILURES.c.failures + 1, "last_failed_at": now, "delayed_until": until}))
    return count


def forget(name: str) -> None:
    """The right password ends a run of failures (and a manager's password reset does too)."""
    db.session.execute(delete(FAILURES).where(FAILURES.c.name_hash == name))


def count_unknown(ip: str | None, now: datetime) -> None:
    hour = now.replace(minute=0, second=0, microsecond=0)
    stmt = _insert(UNKNOWN).values(hour=hour, ip=(ip or "")[:45], attempts=1)
    db.session.execute(stmt.on_conflict_do_update(index_elements=[UNKNOWN.c.hour, UNKNOWN.c.ip],
                                                  set_={"attempts": UNKNOWN.c.attempts + 1}))


@dataclass(frozen=True)
class UnknownSummary:
    attempts: int
    addresses: int
    busiest: list  # (address, attempts), the most first


def unknown_summary(since: datetime, top: int = 5) -> UnknownSummary:
    """Failed sign-ins with unknown usernames since a time, for the audit page."""
    attempts, addresses = db.session.execute(
        select(func.coalesce(func.sum(UNKNOWN.c.attempts), 0), func.count(UNKNOWN.c.ip.distinct()))
        .where(UNKNOWN.c.hour >= since)).one()
    total = func.sum(UNKNOWN.c.attempts)
    busiest = db.session.execute(select(UNKNOWN.c.ip, total).where(UNKNOWN.c.hour >= since)
                                 .group_by(UNKNOWN.c.ip).order_by(total.desc(), UNKNOWN.c.ip).limit(top)).all()
    return UnknownSummary(int(attempts), int(addresses), [tuple(row) for row in busiest])


def prune(now: datetime) -> dict:
    """Housekeeping (hourly, in the worker): failure runs past their memory mean nothing any more, and the
    unknown-name counts are kept LOGIN_UNKNOWN_KEEP_DAYS for the auditors."""
    config = current_app.config
    failures = db.session.execute(delete(FAILURES).where(
        FAILURES.c.last_failed_at < now - timedelta(hours=config["LOGIN_FAILURES_FORGOTTEN_HOURS"])))
    unknown = db.session.execute(delete(UNKNOWN).where(
        UNKNOWN.c.hour < now - timedelta(days=config["LOGIN_UNKNOWN_KEEP_DAYS"])))
    return {"sign_in_failures": failures.rowcount, "unknown_sign_ins": unknown.rowcount}


# Known devices: a token handed to a browser (cookie) or handheld (`device_key`) after it signed in to an
# account; it waives that account's delay for that client only. It names the account and carries a mark of
# its password hash, so a password change retires every token of the account.

def device_token(staff) -> str:
    return _serializer().dumps([staff.id, _password_mark(staff)])


def is_known_device(token: str | None, staff) -> bool:
    if not token or staff is None:
        return False
    max_age = current_app.config["LOGIN_KNOWN_DEVICE_DAYS"] * 86400
    try:
        staff_id, mark = _serializer().loads(token, max_age=max_age)
    except (BadData, TypeError, ValueError):
        return False
    return staff_id == staff.id and isinstance(mark, str) and hmac.compare_digest(mark, _password_mark(staff))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="known-device")


def _password_mark(staff) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, staff.password_hash.encode(), hashlib.sha256).hexdigest()[:16]


def _insert(table):
    return (postgresql.insert if on_postgresql() else sqlite.insert)(table)
