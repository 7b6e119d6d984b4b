"""Daily rollups (日汇总) of the figures, per park and local day of the park's zone: exact sums of the ledger,
the orders and the arrears of one closed day, which the figure functions read in place of the raw rows
(app/reports/rollups.py). `rollup_days` says which (park, day) is built; `rollup_dirty` queues the times of
rows written for the past (a late upload, a refund, a recovery, a waiver, an import), filled by triggers
on the raw tables, so a day whose rows changed after it was built is read raw until it is rebuilt."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, Index, Integer, Numeric, String, event, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.extensions import db

BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = BigInteger().with_variant(Integer(), "sqlite")
# dwell seconds summed exactly on PostgreSQL (numeric); SQLite's julianday arithmetic is a float anyway
Seconds = Numeric(20, 6).with_variant(Float(), "sqlite")


class RollupDay(db.Model):
    """A (park, local day) whose rollup rows are built from the raw rows as of `built_at`."""

    __tablename__ = "rollup_days"
    park_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    built_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RollupDirty(db.Model):
    """A row of `park_id` at time `at` was written, changed or deleted after `at` had passed: the local day
    of `at` is read raw and rebuilt by the worker, which then removes this row. Written by triggers (see
    rollups.TRIGGERS); no foreign keys, like the other append-only queues."""

    __tablename__ = "rollup_dirty"
    __table_args__ = (Index("ix_rollup_dirty_park_at", "park_id", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    park_id: Mapped[int]
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class _Keys:
    """The grouping columns of a rollup row (no foreign keys: rebuilt from the raw rows at will)."""

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    park_id: Mapped[int]
    day: Mapped[date] = mapped_column(Date)
    segment_id: Mapped[int | None]
    collector_id: Mapped[int | None]


class RollupIncome(_Keys, db.Model):
    """Ledger money of a day by kind and method (collector: who took the money)."""

    __tablename__ = "rollup_income"
    __table_args__ = (Index("ix_rollup_income_park_day", "park_id", "day"),)
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Money)
    entries: Mapped[int]


class RollupIncomePark(db.Model):
    """The same money per park, day, kind and method only (no segment, no collector): what a node's
    summary by park, group, day or month reads, a few rows per park and day whatever the staff count."""

    __tablename__ = "rollup_income_park"
    __table_args__ = (Index("ix_rollup_income_park_park_day", "park_id", "day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    park_id: Mapped[int]
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    method: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int] = mapped_column(Money)
    entries: Mapped[int]


class RollupCarsIn(_Keys, db.Model):
    """Orders that entered on the day (collector: the entry collector)."""

    __tablename__ = "rollup_cars_in"
    __table_args__ = (Index("ix_rollup_cars_in_park_day", "park_id", "day"),)
    cars: Mapped[int]


class RollupCarsOut(_Keys, db.Model):
    """Orders closed with the car leaving on the day (collector: the exit collector): how many, their
    receivable, reductions and summed dwell (seconds)."""

    __tablename__ = "rollup_cars_out"
    __table_args__ = (Index("ix_rollup_cars_out_park_day", "park_id", "day"),)
    orders: Mapped[int]
    receivable_fen: Mapped[int] = mapped_column(Money)
    reduction_fen: Mapped[int] = mapped_column(Money)
    dwell_seconds: Mapped[float] = mapped_column(Seconds)


class RollupHourly(db.Model):
    """Cars in and out per park, local day and local hour (0-23): what the hourly traffic and the
    occupancy by hour read for closed days."""

    __tablename__ = "rollup_hourly"
    __table_args__ = (Index("ix_rollup_hourly_park_day", "park_id", "day"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    park_id: Mapped[int]
    day: Mapped[date] = mapped_column(Date)
    hour: Mapped[int]
    cars_in: Mapped[int]
    cars_out: Mapped[int]


class RollupArrears(_Keys, db.Model):
    """Arrears of the orders that left on the day (park: the arrear's; collector: the order's exit
    collector): count, amount, recovered, waived and still open."""

    __tablename__ = "rollup_arrears"
    __table_args__ = (Index("ix_rollup_arrears_park_day", "park_id", "day"),)
    arrears: Mapped[int]
    amount_fen: Mapped[int] = mapped_column(Money)
    recovered_fen: Mapped[int] = mapped_column(Money)
    waived_fen: Mapped[int] = mapped_column(Money)
    open_fen: Mapped[int] = mapped_column(Money)
    open_arrears: Mapped[int]


@event.listens_for(db.metadata, "after_create")
def _create_triggers(target, connection, **kw):
    """create_all() (benches, scripts) gets the dirty-marking triggers the migration creates."""
    from app.reports.rollups import trigger_ddl

    if connection.dialect.name in ("postgresql", "sqlite"):
        for statement in trigger_ddl(connection.dialect.name):
            connection.execute(text(statement))
