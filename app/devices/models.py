from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.staff.models import Staff
from app.tenancy.models import AnchoredMixin, Park, ParkScopedMixin, TimestampMixin


class HandheldStatus(str, enum.Enum):
    PENDING = "pending"    # seen at a login attempt, waiting for a manager
    APPROVED = "approved"
    REVOKED = "revoked"


class Handheld(AnchoredMixin, TimestampMixin, db.Model):
    """A POS handheld, anchored at its park (or at the group while it waits for approval)."""

    __tablename__ = "handhelds"
    id: Mapped[int] = mapped_column(primary_key=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default=HandheldStatus.PENDING.value, index=True)
    first_seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_seen_by: Mapped[Staff | None] = relationship(foreign_keys=[first_seen_by_id])
    park: Mapped[Park | None] = relationship(foreign_keys="Handheld.park_id")

    @property
    def is_approved(self) -> bool:
        return self.status == HandheldStatus.APPROVED.value and self.park_id is not None


class DeviceSession(db.Model):
    """A bearer token of one field staff member on one handheld; only its hash is stored."""

    __tablename__ = "device_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    handheld_id: Mapped[int] = mapped_column(ForeignKey("handhelds.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    staff: Mapped[Staff] = relationship()
    handheld: Mapped[Handheld] = relationship()

    def is_valid(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class SimCard(ParkScopedMixin, TimestampMixin, db.Model):
    """SIM卡 of any device of a park: a handheld, a base station, a booth, a camera...
    (device_kind, device_id) names the device; both empty = in stock (未绑定)."""

    __tablename__ = "sim_cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    iccid: Mapped[str] = mapped_column(String(22), unique=True)
    number: Mapped[str | None] = mapped_column(String(20))
    carrier: Mapped[str | None] = mapped_column(String(20))
    device_kind: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[int | None] = mapped_column()
    expires_on: Mapped[date | None] = mapped_column(Date())
    note: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    park: Mapped[Park] = relationship()
