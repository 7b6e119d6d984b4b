"""GPS points of field staff (WGS-84) and the latest position of each person."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.staff.models import Staff
from app.tenancy.models import ParkScopedMixin

BigId = BigInteger().with_variant(Integer(), "sqlite")


class TrackPoint(ParkScopedMixin, db.Model):
    """One point; (staff, recorded_at) is unique, so re-sending a batch adds nothing."""

    __tablename__ = "track_points"
    __table_args__ = (UniqueConstraint("staff_id", "recorded_at"),
                      Index("ix_track_points_park_recorded", "park_id", "recorded_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    handheld_id: Mapped[int | None] = mapped_column(ForeignKey("handhelds.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)


class LastPosition(ParkScopedMixin, db.Model):
    """The newest point of each person, kept up to date by the upload (one row per person)."""

    __tablename__ = "track_last_positions"
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    staff: Mapped[Staff] = relationship()
