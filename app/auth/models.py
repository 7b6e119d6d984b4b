"""What admin sign-in keeps: sign-in sessions (登录会话), failures per username, unknown usernames per address.

A sign-in session is one row per sign-in. The cookie carries a random token whose hash keys the row, so
signing out, a password change or a disabled account ends the session on the server, whatever copy of the
cookie is still around."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime
from app.extensions import db
from app.staff.models import Staff


class SignInSession(db.Model):
    __tablename__ = "signin_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 of the cookie's token
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())  # written at most once a minute
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(45))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    end_reason: Mapped[str | None] = mapped_column(String(16))  # logout, ended, password, reset, disabled, manager
    staff: Mapped[Staff] = relationship(lazy="joined", innerjoin=True)

    token = None  # the cookie's value: known only to the request that created or presented it


class SignInFailures(db.Model):
    """Wrong passwords in a row on one username, known or not: both get the same growing delay, so the
    delay tells no one whether a name exists. The name is kept as a keyed hash: people type passwords
    into the username field."""

    __tablename__ = "sign_in_failures"
    name_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    delayed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UnknownSignIns(db.Model):
    """Failed sign-ins with a username nobody has, counted per address and hour instead of one audit entry
    each: an attacker trying names must not be able to fill the audit log."""

    __tablename__ = "unknown_sign_ins"
    hour: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True)
    ip: Mapped[str] = mapped_column(String(45), primary_key=True)
    attempts: Mapped[int]
