from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.berths.models import Berth, BerthSegment
from app.core.partitions import KEYED
from app.core.types import UTCDateTime, utcnow
from app.extensions import db

# Read by the order pages, the reports and older imports from here; they belong to the ledger and to
# members (what covers a plate), on which orders build.
from app.ledger.models import LedgerEntry, LedgerKind  # noqa: F401
from app.members.models import PlateListEntry  # noqa: F401
from app.staff.models import Staff
from app.tenancy.models import Park, ParkScopedMixin

OPEN_ONLY = text("state = 'open'")
# The open state written into a statement rather than bound: a prepared statement's generic plan can
# then use the partial indexes above, where a bound value makes PostgreSQL plan every run afresh.
OPEN_STATE = literal_column("'open'")


class OrderState(str, enum.Enum):
    OPEN = "open"            # car in the berth
    SETTLED = "settled"      # paid (or released free) on leaving
    UNPAID = "unpaid"        # 逃单: left without paying; an arrear is open
    RECOVERED = "recovered"  # 追缴: the arrear was paid later


class PaymentMethod(str, enum.Enum):
    CASH = "cash"
    ELECTRONIC = "electronic"
    CARD = "card"
    PASS = "pass"
    FREE = "free"


class ParkingOrder(ParkScopedMixin, db.Model):
    __tablename__ = "parking_orders"
    __table_args__ = (
        # one open order per berth and per plate in a park, enforced by the database (on PostgreSQL by the
        # key table of the partitioned orders, app/core/partition_keys.py)
        Index("uq_orders_open_berth", "berth_id", unique=True, sqlite_where=OPEN_ONLY, postgresql_where=OPEN_ONLY,
              info={KEYED: True}),
        Index("uq_orders_open_plate", "park_id", "plate", unique=True, sqlite_where=OPEN_ONLY,
              postgresql_where=OPEN_ONLY, info={KEYED: True}),
        UniqueConstraint("receipt_no", name="uq_parking_orders_receipt_no", info={KEYED: True}),
        Index("ix_orders_park_entered", "park_id", "entered_at"),
        Index("ix_orders_entered_id", "entered_at", "id"),  # a group's or city's unfiltered list, newest first
        Index("ix_orders_park_left", "park_id", "left_at"),
        Index("ix_orders_plate_state", "plate", "state"),
        # the escaped orders still owing, by park and exit: today's unpaid figure reads only these, however
        # many debts the years left open
        Index("ix_orders_unpaid_park_left", "park_id", "left_at", sqlite_where=text("state = 'unpaid'"),
              postgresql_where=text("state = 'unpaid'")),
        {"info": {KEYED: True}},  # on PostgreSQL the foreign keys to orders point at parking_orders_keys
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("berth_segments.id"), index=True)
    berth_id: Mapped[int | None] = mapped_column(ForeignKey("berths.id"))
    plate: Mapped[str] = mapped_column(String(16))
    vehicle_class: Mapped[str] = mapped_column(String(32), default="small")
    state: Mapped[str] = mapped_column(String(16), default=OrderState.OPEN.value, index=True)
    entry_method: Mapped[str] = mapped_column(String(16), default="pos")
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    entry_received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    exit_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    tariff_version_id: Mapped[int | None] = mapped_column(ForeignKey("tariff_versions.id"))
    fee_fen: Mapped[int] = mapped_column(default=0)         # receivable computed by the engine
    prepaid_fen: Mapped[int] = mapped_column(default=0)
    paid_fen: Mapped[int] = mapped_column(default=0)        # net money kept (convenience; the ledger is the truth)
    reduction_fen: Mapped[int] = mapped_column(default=0)   # released free or reduced
    payment_method: Mapped[str | None] = mapped_column(String(16))
    free_reason: Mapped[str | None] = mapped_column(String(80))
    fee_lines: Mapped[list | None] = mapped_column(JSON)
    entry_collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    exit_collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    entry_shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    exit_shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    receipt_no: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    park: Mapped[Park] = relationship()
    segment: Mapped[BerthSegment | None] = relationship()
    berth: Mapped[Berth | None] = relationship()
    entry_collector: Mapped[Staff | None] = relationship(foreign_keys=[entry_collector_id])
    exit_collector: Mapped[Staff | None] = relationship(foreign_keys=[exit_collector_id])

    @property
    def berth_number(self) -> str | None:
        return self.berth.number if self.berth is not None else None

    @property
    def segment_name(self) -> str | None:
        return self.segment.name if self.segment is not None else None


class Arrear(ParkScopedMixin, db.Model):
    """欠费: what an unpaid order still owes, until someone recovers it (追缴)."""

    __tablename__ = "arrears"
    __table_args__ = (Index("ix_arrears_plate_state", "plate", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("parking_orders.id"), unique=True)
    plate: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | recovered
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recovered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    recovered_park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    recovered_method: Mapped[str | None] = mapped_column(String(16))
    order: Mapped[ParkingOrder] = relationship()
    park: Mapped[Park] = relationship(foreign_keys=[park_id])


class OrderPhoto(ParkScopedMixin, db.Model):
    __tablename__ = "order_photos"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("parking_orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # entry | exit | evidence
    path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    size_bytes: Mapped[int]
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delete_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
