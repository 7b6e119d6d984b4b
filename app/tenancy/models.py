"""Nodes of the tenant tree. Every node below the city keeps the ids of all its ancestors,
so "everything under node X" is one indexed equality, whatever the level of X."""
from __future__ import annotations

import enum
from datetime import datetime, time

from sqlalchemy import ForeignKey, Index, String, func, select, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.types import UTCDateTime, utcnow
from app.extensions import db


class Level(str, enum.Enum):
    PLATFORM = "platform"
    CITY = "city"
    GROUP = "group"
    AREA = "area"
    PARK = "park"

    @property
    def depth(self) -> int:
        return LEVEL_ORDER.index(self)

    def is_above(self, other: Level) -> bool:
        return self.depth < other.depth


LEVEL_ORDER = [Level.PLATFORM, Level.CITY, Level.GROUP, Level.AREA, Level.PARK]


class ParkKind(str, enum.Enum):
    ON_STREET = "on_street"    # 路内 / 道路停车
    OFF_STREET = "off_street"  # 路外 / 封闭车场


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class City(TimestampMixin, db.Model):
    """城市 / 厂商: a city tenant."""

    __tablename__ = "cities"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    citywide_arrears: Mapped[bool] = mapped_column(default=False)  # 跨集团追缴: recover debts of any group
    plate_in_two_parks: Mapped[bool] = mapped_column(default=True)  # 重复入场: one plate parked in two parks at once
    reentry_min_minutes: Mapped[int] = mapped_column(default=0)     # refuse a plate's new entry sooner (0 = never)
    reentry_resume_minutes: Mapped[int] = mapped_column(default=0)  # re-entry this soon after exit continues the order
    active: Mapped[bool] = mapped_column(default=True)

    level = Level.CITY

    @property
    def city_id(self) -> int:
        return self.id

    group_id = area_id = park_id = None

    @classmethod
    def scope_clause(cls, scope):
        if scope.level == Level.PLATFORM:
            return true()
        return cls.id == scope.city_id


class OperatingGroup(TimestampMixin, db.Model):
    """运营集团: an operating company running parks in one city."""

    __tablename__ = "operating_groups"
    __table_args__ = (Index("uq_group_city_name", "city_id", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    contact: Mapped[str | None] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    city: Mapped[City] = relationship()

    level = Level.GROUP
    area_id = park_id = None

    @property
    def group_id(self) -> int:
        return self.id

    @classmethod
    def scope_clause(cls, scope):
        if scope.level == Level.PLATFORM:
            return true()
        if scope.level == Level.CITY:
            return cls.city_id == scope.city_id
        return cls.id == scope.group_id


class Area(TimestampMixin, db.Model):
    """区域: an optional grouping of parks inside an operating group."""

    __tablename__ = "areas"
    __table_args__ = (Index("uq_area_group_name", "group_id", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("operating_groups.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(default=True)
    group: Mapped[OperatingGroup] = relationship()

    level = Level.AREA
    park_id = None

    @property
    def area_id(self) -> int:
        return self.id

    @classmethod
    def scope_clause(cls, scope):
        if scope.level == Level.PLATFORM:
            return true()
        if scope.level == Level.CITY:
            return cls.city_id == scope.city_id
        if scope.level == Level.GROUP:
            return cls.group_id == scope.group_id
        return cls.id == scope.area_id


class Park(TimestampMixin, db.Model):
    """车场: a car park, on-street (berth segments) or off-street (lanes and barriers)."""

    __tablename__ = "parks"
    __table_args__ = (Index("uq_park_group_name", "group_id", "name", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("operating_groups.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16), default=ParkKind.ON_STREET.value)
    address: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    capacity: Mapped[int] = mapped_column(default=0)
    phone: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    site_type: Mapped[str | None] = mapped_column(String(16))  # 车场类型: ground, underground, indoor...
    opens_at: Mapped[time | None]   # business hours in local time; both empty = open all day
    closes_at: Mapped[time | None]  # before opens_at = runs past midnight
    active: Mapped[bool] = mapped_column(default=True)
    group: Mapped[OperatingGroup] = relationship()
    area: Mapped[Area | None] = relationship()
    city: Mapped[City] = relationship()

    level = Level.PARK

    @property
    def park_id(self) -> int:
        return self.id

    @classmethod
    def scope_clause(cls, scope):
        if scope.level == Level.PLATFORM:
            return true()
        if scope.level == Level.PARK:
            return cls.id == scope.park_id
        return getattr(cls, f"{scope.level.value}_id") == scope.node_id


class AnchoredMixin:
    """Something that hangs at one node of the tree (staff, roles, audit entries).
    It carries the ids of that node and of all its ancestors."""

    level: Mapped[str] = mapped_column(String(16), index=True)
    city_id: Mapped[int | None] = mapped_column(ForeignKey("cities.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("operating_groups.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"), index=True)

    @classmethod
    def scope_clause(cls, scope):
        if scope.level == Level.PLATFORM:
            return true()
        return getattr(cls, f"{scope.level.value}_id") == scope.node_id

    def anchor_at(self, node) -> None:
        """Hang this object at `node` (None = platform)."""
        self.level = (node.level if node is not None else Level.PLATFORM).value
        for attr in ("city_id", "group_id", "area_id", "park_id"):
            setattr(self, attr, getattr(node, attr, None) if node is not None else None)

    @property
    def anchor_level(self) -> Level:
        return Level(self.level)

    @property
    def anchor_node(self):
        level = self.anchor_level
        if level == Level.PLATFORM:
            return None
        model = NODE_MODELS[level]
        return db.session.get(model, getattr(self, f"{level.value}_id"))


class ParkScopedMixin:
    """Something that belongs to one park (berths, devices, orders...)."""

    @classmethod
    def scope_clause(cls, scope):
        if scope.level == Level.PLATFORM:
            return true()
        if scope.level == Level.PARK:
            return cls.park_id == scope.park_id
        return cls.park_id.in_(select(Park.id).where(Park.scope_clause(scope)))


NODE_MODELS = {Level.CITY: City, Level.GROUP: OperatingGroup, Level.AREA: Area, Level.PARK: Park}


def node_path(node) -> list:
    """The node and its ancestors, top first (platform excluded)."""
    if node is None:
        return []
    chain = []
    for level in (Level.CITY, Level.GROUP, Level.AREA, Level.PARK):
        node_id = getattr(node, f"{level.value}_id", None)
        if node_id is not None:
            chain.append(db.session.get(NODE_MODELS[level], node_id))
        if level == node.level:
            break
    return chain


def count_rows(stmt) -> int:
    return db.session.scalar(select(func.count()).select_from(stmt.subquery()))
