from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.tenancy.models import Park, ParkScopedMixin, TimestampMixin


class BerthSegment(ParkScopedMixin, TimestampMixin, db.Model):
    __tablename__ = "berth_segments"
    __table_args__ = (Index("uq_berth_segments_park_name", "park_id", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    address: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    active: Mapped[bool] = mapped_column(default=True)
    park: Mapped[Park] = relationship()


class Berth(ParkScopedMixin, TimestampMixin, db.Model):
    """One parking space at the kerb. Whether it is occupied is derived from its open order."""

    __tablename__ = "berths"
    __table_args__ = (Index("uq_berths_park_number", "park_id", "number", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    segment_id: Mapped[int] = mapped_column(ForeignKey("berth_segments.id"), index=True)
    number: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(default=True)
    segment: Mapped[BerthSegment] = relationship()
