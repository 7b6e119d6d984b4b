"""Tariff rules (收费标准 / 时租价格) of a park. A rule keeps every version: an edit adds a version
with its effective time, and an order keeps the version it started under."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.tenancy.models import Park, ParkScopedMixin, TimestampMixin

ANY_CLASS = "any"


class TariffRule(ParkScopedMixin, TimestampMixin, db.Model):
    __tablename__ = "tariff_rules"
    __table_args__ = (Index("ix_tariff_rules_park_class", "park_id", "vehicle_class"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    vehicle_class: Mapped[str] = mapped_column(String(32), default=ANY_CLASS)
    active: Mapped[bool] = mapped_column(default=True)
    park: Mapped[Park] = relationship()
    versions: Mapped[list[TariffVersion]] = relationship(
        back_populates="rule", order_by="TariffVersion.version", cascade="all, delete-orphan")

    @property
    def latest(self) -> TariffVersion | None:
        return self.versions[-1] if self.versions else None


class TariffVersion(db.Model):
    __tablename__ = "tariff_versions"
    __table_args__ = (UniqueConstraint("rule_id", "version"),
                      Index("ix_tariff_versions_rule_effective", "rule_id", "effective_from"))
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("tariff_rules.id", ondelete="CASCADE"))
    version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    document: Mapped[dict] = mapped_column(JSON)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(200))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rule: Mapped[TariffRule] = relationship(back_populates="versions")
