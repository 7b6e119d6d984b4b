"""Off-street devices (车场设备配置): booths, lanes and the cameras, barriers, LED screens,
video monitors and intercoms at them. Each row belongs to one park and remembers when the
on-site system last reported it (last_seen_at), from which online/offline is computed."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.core.crypto import EncryptedString
from app.core.types import UTCDateTime
from app.extensions import db
from app.tenancy.models import Park, ParkScopedMixin, TimestampMixin

DIRECTIONS = ("entry", "exit", "both")
NET_TYPES = ("broadband", "cellular")


class DeviceMixin(ParkScopedMixin, TimestampMixin):
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @declared_attr
    def park(cls) -> Mapped[Park]:
        return relationship(Park)


class Booth(DeviceMixin, db.Model):
    """工作站 / 岗亭: the workstation where a collector watches one or more lanes."""

    __tablename__ = "booths"
    __table_args__ = (Index("uq_booths_park_name", "park_id", "name", unique=True),)
    ip: Mapped[str | None] = mapped_column(String(45))
    net_type: Mapped[str] = mapped_column(String(16), default="broadband")
    description: Mapped[str | None] = mapped_column(String(200))


class Lane(DeviceMixin, db.Model):
    """通道: an entry, exit or two-way lane. The two overrides are None to follow the park's parameters."""

    __tablename__ = "lanes"
    __table_args__ = (Index("uq_lanes_park_name", "park_id", "name", unique=True),)
    booth_id: Mapped[int | None] = mapped_column(ForeignKey("booths.id"), index=True)
    code: Mapped[str | None] = mapped_column(String(32))  # the lane's id in the on-site system
    direction: Mapped[str] = mapped_column(String(8), default="entry")
    allow_non_pass_cars: Mapped[bool | None] = mapped_column()    # 非月卡车
    allow_pass_second_car: Mapped[bool | None] = mapped_column()  # 月卡第二辆车
    description: Mapped[str | None] = mapped_column(String(200))
    # the park link's last heartbeat: a device of the lane is online when that heartbeat named it
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booth: Mapped[Booth | None] = relationship()


class Camera(DeviceMixin, db.Model):
    """摄像头 (plate recognition). Credentials are encrypted at rest and never shown back."""

    __tablename__ = "cameras"
    lane_id: Mapped[int] = mapped_column(ForeignKey("lanes.id"), index=True)
    ip: Mapped[str] = mapped_column(String(45))
    port: Mapped[int] = mapped_column(default=554)
    maker: Mapped[str | None] = mapped_column(String(40))
    # deferred: lists never decrypt them (nor fail on them if the key is gone)
    username: Mapped[str | None] = mapped_column(EncryptedString(), deferred=True)
    password: Mapped[str | None] = mapped_column(EncryptedString(), deferred=True)
    lane: Mapped[Lane] = relationship()


class Barrier(DeviceMixin, db.Model):
    """道闸: the barrier arm of a lane, driven over a serial port or the network."""

    __tablename__ = "barriers"
    lane_id: Mapped[int] = mapped_column(ForeignKey("lanes.id"), index=True)
    model: Mapped[str | None] = mapped_column(String(40))
    serial_port: Mapped[str | None] = mapped_column(String(20))
    ip: Mapped[str | None] = mapped_column(String(45))
    lane: Mapped[Lane] = relationship()


class LedScreen(DeviceMixin, db.Model):
    """LED屏: a message screen at a lane, or a free-spaces display (余位屏)."""

    __tablename__ = "led_screens"
    lane_id: Mapped[int] = mapped_column(ForeignKey("lanes.id"), index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    port: Mapped[int | None] = mapped_column()
    screen_type: Mapped[str] = mapped_column(String(16), default="normal")  # normal | free_spaces
    material_uid: Mapped[str | None] = mapped_column(String(40))          # 素材UID
    content: Mapped[str | None] = mapped_column(String(200))              # 素材内容
    move_mode: Mapped[int] = mapped_column(default=0)     # 0 fit, 1–4 scroll, 5–13 unfold, 14 blink, 15 blinds
    move_speed: Mapped[int] = mapped_column(default=1)
    dwell_seconds: Mapped[int] = mapped_column(default=2)  # 0–5
    color_mode: Mapped[str] = mapped_column(String(8), default="single")  # single | dual (单/双基色)
    text_color: Mapped[str] = mapped_column(String(8), default="red")     # red | green | yellow
    typeface: Mapped[str] = mapped_column(String(16), default="song")     # song kai hei li xing
    type_size: Mapped[int] = mapped_column(default=16)                    # dots: 12 16 24 32 40 48 64 96
    width: Mapped[int] = mapped_column(default=128)
    height: Mapped[int] = mapped_column(default=32)
    link: Mapped[str] = mapped_column(String(8), default="rs485")          # rs232-1 | rs232-2 | rs485 | network
    lane: Mapped[Lane] = relationship()


class Monitor(DeviceMixin, db.Model):
    """监控 (video, play_url) or 对讲 (intercom, extension numbers); a lane is optional."""

    __tablename__ = "monitors"
    kind: Mapped[str] = mapped_column(String(8), default="video")  # video | intercom
    lane_id: Mapped[int | None] = mapped_column(ForeignKey("lanes.id"), index=True)
    play_url: Mapped[str | None] = mapped_column(String(300))
    shown: Mapped[bool] = mapped_column(default=True)    # on the central monitoring wall
    show_order: Mapped[int] = mapped_column(default=0)
    extension: Mapped[str | None] = mapped_column(String(20))   # 分机号
    park_phone: Mapped[str | None] = mapped_column(String(20))  # 车场主机号
    group_phone: Mapped[str | None] = mapped_column(String(20))  # 集团主机号
    lane: Mapped[Lane | None] = relationship()


DEVICE_MODELS = {"booth": Booth, "lane": Lane, "camera": Camera, "barrier": Barrier, "led": LedScreen,
                 "monitor": Monitor}
