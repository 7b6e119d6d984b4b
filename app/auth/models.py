"""What sign-in throttling remembers: failures per username, and unknown usernames counted per address."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime
from app.extensions import db


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
