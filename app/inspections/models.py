"""Inspection tasks (巡查事件), inspector groups bound to segments, violation reports."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.berths.models import Berth, BerthSegment
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.staff.models import Staff
from app.tenancy.models import Park, ParkScopedMixin, TimestampMixin


class TaskKind:
    CAR_NO_ORDER = "car_no_order"        # 有车未录
    CAR_LEFT_OPEN = "car_left_open"      # 有车未结
    SENSOR_FAULT = "sensor_fault"        # 车检器检修/更换
    COLLECTOR = "collector_anomaly"      # 收费员异常
    OTHER = "other"
    ALL = (CAR_NO_ORDER, CAR_LEFT_OPEN, SENSOR_FAULT, COLLECTOR, OTHER)


class TaskState:
    OPEN = "open"
    ASSIGNED = "assigned"
    RESOLVED = "resolved"
    ALL = (OPEN, ASSIGNED, RESOLVED)


inspector_group_segments = Table(
    "inspector_group_segments", db.metadata,
    Column("group_id", ForeignKey("inspector_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("segment_id", ForeignKey("berth_segments.id", ondelete="CASCADE"), primary_key=True, index=True))

inspector_group_members = Table(
    "inspector_group_members", db.metadata,
    Column("group_id", ForeignKey("inspector_groups.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff.id", ondelete="CASCADE"), primary_key=True, index=True))


class InspectorGroup(ParkScopedMixin, TimestampMixin, db.Model):
    """巡查组: inspectors who patrol a set of segments of one park."""

    __tablename__ = "inspector_groups"
    __table_args__ = (Index("uq_inspector_groups_park_name", "park_id", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    park: Mapped[Park] = relationship()
    segments: Mapped[list[BerthSegment]] = relationship(secondary=inspector_group_segments, order_by=BerthSegment.name)
    inspectors: Mapped[list[Staff]] = relationship(secondary=inspector_group_members, order_by=Staff.display_name)


class InspectionTask(ParkScopedMixin, db.Model):
    __tablename__ = "inspection_tasks"
    __table_args__ = (Index("ix_inspection_tasks_park_state", "park_id", "state", "created_at"),
                      Index("ix_inspection_tasks_assignee_state", "assignee_id", "state"),
                      Index("ix_inspection_tasks_segment_state", "segment_id", "state"))
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("berth_segments.id"))
    berth_id: Mapped[int | None] = mapped_column(ForeignKey("berths.id"))
    sensor_id: Mapped[int | None] = mapped_column(ForeignKey("sensors.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("occupancy_sessions.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("parking_orders.id"))
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=TaskState.OPEN)
    outcome: Mapped[str | None] = mapped_column(String(16))  # done | failed
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    note: Mapped[str | None] = mapped_column(Text)            # the log: creation note and follow-ups
    photo_path: Mapped[str | None] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))  # None: raised by the system
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    park: Mapped[Park] = relationship()
    segment: Mapped[BerthSegment | None] = relationship()
    berth: Mapped[Berth | None] = relationship()
    assignee: Mapped[Staff | None] = relationship(foreign_keys=[assignee_id])
    created_by: Mapped[Staff | None] = relationship(foreign_keys=[created_by_id])

    def add_note(self, who: str, text_: str, at: datetime) -> None:
        line = f"[{at:%Y-%m-%d %H:%M} UTC] {who}: {text_.strip()}"
        self.note = f"{self.note}\n{line}" if self.note else line


class ViolationReport(ParkScopedMixin, db.Model):
    """违章 / 异常: what an inspector saw on patrol, where, with an optional photo."""

    __tablename__ = "violation_reports"
    __table_args__ = (Index("ix_violation_reports_park_created", "park_id", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("berth_segments.id"))
    berth_id: Mapped[int | None] = mapped_column(ForeignKey("berths.id"))
    kind: Mapped[str] = mapped_column(String(16))  # violation | anomaly
    plate: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(String(1000))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    photo_path: Mapped[str | None] = mapped_column(String(255))
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    inspector: Mapped[Staff] = relationship()
    segment: Mapped[BerthSegment | None] = relationship()
    berth: Mapped[Berth | None] = relationship()
