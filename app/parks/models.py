from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.tenancy.models import ParkScopedMixin, TimestampMixin


class CollectorSettings(ParkScopedMixin, TimestampMixin, db.Model):
    """收费设置: how the handhelds of a park behave; a row with a role overrides the park's row."""

    __tablename__ = "collector_settings"
    __table_args__ = (Index("uq_collector_settings_park_role", "park_id", "role_id", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    photo_required_entry: Mapped[bool] = mapped_column(default=False)
    photo_required_exit: Mapped[bool] = mapped_column(default=False)
    prepay_allowed: Mapped[bool] = mapped_column(default=True)
    prepay_presets: Mapped[str] = mapped_column(String(100), default="500,1000,2000")  # fen, comma separated
    receipt_header: Mapped[str] = mapped_column(String(200), default="Welcome")
    receipt_footer: Mapped[str] = mapped_column(String(200), default="Thank you, drive safely")
    signout_password_hash: Mapped[str | None] = mapped_column(String(255))
    hide_amounts: Mapped[bool] = mapped_column(default=False)
    refuse_blacklisted: Mapped[bool] = mapped_column(default=True)
    use_sensor_time: Mapped[bool] = mapped_column(default=True)
    photo_retention_days: Mapped[int] = mapped_column(default=90)
    note: Mapped[str | None] = mapped_column(Text)

    @property
    def presets(self) -> list[int]:
        return [int(p) for p in self.prepay_presets.split(",") if p.strip().isdigit()]


class FreeReason(ParkScopedMixin, TimestampMixin, db.Model):
    """免费原因: why a car may leave without paying (police, disabled driver...)."""

    __tablename__ = "free_reasons"
    __table_args__ = (Index("uq_free_reasons_park_name", "park_id", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
