from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import ForeignKey, Index, Time, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.berths.models import BerthSegment
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.staff.models import Role, Staff
from app.tenancy.models import ParkScopedMixin


class Shift(ParkScopedMixin, db.Model):
    __tablename__ = "shifts"
    __table_args__ = (
        Index("uq_shifts_open_per_collector", "collector_id", unique=True,
              sqlite_where=text("ended_at IS NULL"), postgresql_where=text("ended_at IS NULL")),
        Index("ix_shifts_park_started", "park_id", "started_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    segment_id: Mapped[int] = mapped_column(ForeignKey("berth_segments.id"), index=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    handheld_id: Mapped[int | None] = mapped_column(ForeignKey("handhelds.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    late: Mapped[bool] = mapped_column(default=False)
    left_early: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    collector: Mapped[Staff] = relationship()
    segment: Mapped[BerthSegment] = relationship()


class WorkHours(ParkScopedMixin, db.Model):
    """上班时间: the duty window of a field role at a park, in the park's local time."""

    __tablename__ = "work_hours"
    __table_args__ = (Index("uq_work_hours_park_role", "park_id", "role_id", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    starts_at: Mapped[time] = mapped_column(Time())
    ends_at: Mapped[time] = mapped_column(Time())
    grace_minutes: Mapped[int] = mapped_column(default=5)
    role: Mapped[Role] = relationship()
