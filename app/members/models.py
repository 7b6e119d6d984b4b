from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import JSON, Date, ForeignKey, Index, LargeBinary, String, Time, and_, or_
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.staff.models import Staff
from app.tenancy.models import AnchoredMixin, Level, Park, ParkScopedMixin, TimestampMixin


class ProductKind(str, enum.Enum):
    ALL_DAY = "all_day"            # 全天
    DAY_WINDOW = "day_window"      # 日间
    NIGHT_WINDOW = "night_window"  # 夜间
    DISCOUNT = "discount"          # percent off inside the window
    FREE_HOURS = "free_hours"      # first N hours of each stay free


class CoversParksMixin(AnchoredMixin):
    """Anchored at a park, or at a group and then valid at every park of the group. Managers below
    the group (area, park) see the group's ones too, since they cover their parks; only a manager
    at or above the anchor may change one (`writable_in`), except for the actions in
    DESK_ACTIONS, which a covered park may take on it."""

    DESK_ACTIONS: frozenset[str] = frozenset()

    @classmethod
    def scope_clause(cls, scope):
        own = super().scope_clause(scope)
        if scope.level in (Level.AREA, Level.PARK):
            return or_(own, and_(cls.level == Level.GROUP.value, cls.group_id == scope.group_id))
        return own

    def writable_in(self, scope, action: str | None = None) -> bool:
        if action in self.DESK_ACTIONS or scope.level == Level.PLATFORM:
            return True
        return getattr(self, f"{scope.level.value}_id") == scope.node_id


class MonthlyProduct(CoversParksMixin, TimestampMixin, db.Model):
    """A monthly product sold at one park (anchored at the park) or at every park of a group."""

    __tablename__ = "monthly_products"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default=ProductKind.ALL_DAY.value)
    price_fen: Mapped[int]
    window_start: Mapped[time | None] = mapped_column(Time())
    window_end: Mapped[time | None] = mapped_column(Time())
    discount_percent: Mapped[int | None]
    free_hours: Mapped[int | None]
    vehicle_class: Mapped[str] = mapped_column(String(32), default="small")
    valid_until: Mapped[date | None] = mapped_column(Date())
    active: Mapped[bool] = mapped_column(default=True)


class MonthlyPass(CoversParksMixin, TimestampMixin, db.Model):
    """月卡: a holder's pass for one or more plates, valid from `starts_on` to `ends_on` inclusive
    (dates in the park's time zone). Anchored where its product is. A park's desk may renew a
    group pass (the money is taken at, and booked to, that park); holder, plates and cancellation
    stay with the group."""

    DESK_ACTIONS = frozenset({"renew"})

    __tablename__ = "monthly_passes"
    __table_args__ = (Index("ix_monthly_passes_ends_on", "ends_on"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("monthly_products.id"), index=True)
    holder_name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(32))
    starts_on: Mapped[date] = mapped_column(Date())
    ends_on: Mapped[date] = mapped_column(Date())
    state: Mapped[str] = mapped_column(String(16), default="active", index=True)  # active | cancelled
    note: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[MonthlyProduct] = relationship()
    plates: Mapped[list[PassPlate]] = relationship(cascade="all, delete-orphan", back_populates="pass_")


class PassPlate(db.Model):
    __tablename__ = "pass_plates"
    __table_args__ = (Index("ix_pass_plates_plate", "plate"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("monthly_passes.id", ondelete="CASCADE"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    pass_: Mapped[MonthlyPass] = relationship(back_populates="plates")


class PassRenewal(ParkScopedMixin, db.Model):
    """续费记录: one sale or renewal of a pass; its money is also one ledger row (kind pass_sale)."""

    __tablename__ = "pass_renewals"
    id: Mapped[int] = mapped_column(primary_key=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("monthly_passes.id"), index=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)  # where the money was taken
    kind: Mapped[str] = mapped_column(String(16))  # sale | renewal
    months: Mapped[int]
    starts_on: Mapped[date] = mapped_column(Date())
    ends_on: Mapped[date] = mapped_column(Date())
    receivable_fen: Mapped[int]
    paid_fen: Mapped[int]
    method: Mapped[str] = mapped_column(String(16))
    sold_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    pass_: Mapped[MonthlyPass] = relationship()
    park: Mapped[Park] = relationship()
    sold_by: Mapped[Staff | None] = relationship()


class PlateListEntry(ParkScopedMixin, db.Model):
    """白名单 / 黑名单: plates free in a park for a period, or blocked / warned with a reason."""

    __tablename__ = "plate_list_entries"
    __table_args__ = (Index("ix_plate_list_park_plate", "park_id", "plate"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    plate: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(8))  # white | black
    reason: Mapped[str | None] = mapped_column(String(200))
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ImportJob(AnchoredMixin, db.Model):
    """An import too large for the request, run by the worker; anchored at the requester's node, so
    only their subtree sees it. The upload waits in the row (at most 5 MB; web and worker need not
    share a disk) and is dropped when the job ends. Progress while it runs is in a small file
    (`import_jobs`): the import's own transaction cannot commit until the end."""

    __tablename__ = "import_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # passes | white | black
    file_name: Mapped[str] = mapped_column(String(255), default="")
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    ip: Mapped[str | None] = mapped_column(String(45))
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_done: Mapped[int] = mapped_column(default=0)
    imported: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(500))  # the file as a whole was refused
    report: Mapped[list | None] = mapped_column(JSON)  # [[row, column, message], ...] when rows were refused
    report_count: Mapped[int] = mapped_column(default=0)  # refusals in all (the report keeps the first 1,000)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
