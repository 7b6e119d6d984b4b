from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.partitions import KEYED
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.tenancy.models import ParkScopedMixin


class LedgerKind(str, enum.Enum):
    FEE = "fee"
    PREPAY = "prepay"
    PREPAY_REFUND = "prepay_refund"  # a negative amount
    RECOVERY = "recovery"            # 追缴: an arrear paid
    PASS_SALE = "pass_sale"          # a monthly pass sold or renewed


class LedgerEntry(ParkScopedMixin, db.Model):
    """流水: one movement of money. Refunds are negative. Reports sum these rows."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_park_occurred", "park_id", "occurred_at"),
        # a provider's trade is booked once per kind, however often its notice arrives
        Index("uq_ledger_trade", "provider", "trade_no", "kind", unique=True,
              sqlite_where=text("trade_no IS NOT NULL"), postgresql_where=text("trade_no IS NOT NULL"),
              info={KEYED: True}),  # on PostgreSQL held by ledger_entries_keys (app/core/partition_keys.py)
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("parking_orders.id"), index=True)
    arrear_id: Mapped[int | None] = mapped_column(ForeignKey("arrears.id"), index=True)
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("berth_segments.id"))
    berth_id: Mapped[int | None] = mapped_column(ForeignKey("berths.id"))
    method: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    provider: Mapped[str | None] = mapped_column(String(16))  # an online payment's: wechat, alipay, alliance…
    trade_no: Mapped[str | None] = mapped_column(String(64))  # the provider's trade (or refund) number
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
