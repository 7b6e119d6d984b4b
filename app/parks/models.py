from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class ParkParameters(ParkScopedMixin, TimestampMixin, db.Model):
    """参数设置: how the park's on-site system and staff treat cars. Without a row the defaults apply
    (see app.parks.services.park_parameters). Hiding amounts and photo retention live in the park's
    CollectorSettings, auto-escape in SensorSettings: the parameters page edits them there."""

    __tablename__ = "park_parameters"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), unique=True)
    distinguish_vehicle_classes: Mapped[bool] = mapped_column(default=False)  # 区分大小车
    allow_free_settlement: Mapped[bool] = mapped_column(default=True)         # 免费结算订单
    entry_when_full: Mapped[bool] = mapped_column(default=True)               # 车位满进场
    allow_non_pass_cars: Mapped[bool] = mapped_column(default=True)           # 非月卡车 (lanes may override)
    allow_pass_second_car: Mapped[bool] = mapped_column(default=True)         # 月卡第二辆车 (lanes may override)
    lift_on_recognition: Mapped[bool] = mapped_column(default=False)          # 离场设置: 识别就抬杆
    plate_province: Mapped[str | None] = mapped_column(String(4))             # 优先识别省份, e.g. 粤


class CarType(ParkScopedMixin, TimestampMixin, db.Model):
    """车型: a class of vehicle a park prices apart (small car, large car, ...)."""

    __tablename__ = "car_types"
    __table_args__ = (Index("uq_car_types_park_name", "park_id", "name", unique=True),
                      Index("uq_car_types_park_code", "park_id", "code", unique=True))
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(32))  # 收费系统编号: the id in the on-site system
    vehicle_class: Mapped[str] = mapped_column(String(16), default="small")  # small | large | other
    active: Mapped[bool] = mapped_column(default=True)


class PlateCarType(ParkScopedMixin, TimestampMixin, db.Model):
    """绑定车型: a plate that is always priced as one car type at the park."""

    __tablename__ = "plate_car_types"
    __table_args__ = (Index("uq_plate_car_types_park_plate", "park_id", "plate", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    car_type_id: Mapped[int] = mapped_column(ForeignKey("car_types.id"), index=True)
    note: Mapped[str | None] = mapped_column(String(200))
    car_type: Mapped[CarType] = relationship()
