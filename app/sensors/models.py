"""Sensors, base stations, raw events, occupancy sessions, outages and per-park sensor settings."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.berths.models import Berth
from app.core.partitions import KEYED
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.tenancy.models import Park, ParkScopedMixin, TimestampMixin

# big tables get 64-bit keys on PostgreSQL; SQLite only auto-increments INTEGER PRIMARY KEY
BigId = BigInteger().with_variant(Integer(), "sqlite")
OPEN_SESSION = text("departed_at IS NULL")
OPEN_OUTAGE = text("ended_at IS NULL")


class EventKind:
    ARRIVE = "arrive"
    DEPART = "depart"
    HEARTBEAT = "heartbeat"
    ALL = (ARRIVE, DEPART, HEARTBEAT)


class SensorSettings(ParkScopedMixin, TimestampMixin, db.Model):
    """地磁参数: how a park reads its sensors. Without a row the defaults apply."""

    __tablename__ = "sensor_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), unique=True)
    blip_seconds: Mapped[int] = mapped_column(default=60)          # shorter arrive/depart pairs are noise
    no_order_minutes: Mapped[int] = mapped_column(default=10)      # car present, no order → alert after
    offline_minutes: Mapped[int] = mapped_column(default=30)       # no heartbeat for → offline + outage
    low_battery_mv: Mapped[int] = mapped_column(default=3300)
    auto_escape_unattended: Mapped[bool] = mapped_column(default=False)  # nobody on duty: order → unpaid


class BaseStation(ParkScopedMixin, TimestampMixin, db.Model):
    """基站 / 集中器: relays its sensors' radio frames; authenticates with a key shown once."""

    __tablename__ = "base_stations"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(80))
    location: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    voltage_mv: Mapped[int | None]
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    online: Mapped[bool] = mapped_column(default=False)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_hint: Mapped[str] = mapped_column(String(16))  # the first characters, to tell keys apart
    key_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
    park: Mapped[Park] = relationship()


class Sensor(ParkScopedMixin, TimestampMixin, db.Model):
    """车检器: one in-ground sensor, bound to at most one berth."""

    __tablename__ = "sensors"
    __table_args__ = (Index("ix_sensors_park_serial", "park_id", "serial"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    serial: Mapped[str] = mapped_column(String(64), unique=True)
    berth_id: Mapped[int | None] = mapped_column(ForeignKey("berths.id"), unique=True)
    station_id: Mapped[int | None] = mapped_column(ForeignKey("base_stations.id"), index=True)
    battery_mv: Mapped[int | None]
    low_battery: Mapped[bool] = mapped_column(default=False)
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    online: Mapped[bool] = mapped_column(default=False, index=True)
    magnet: Mapped[bool | None]                                        # True = car present
    state_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # newest applied arrive/depart
    active: Mapped[bool] = mapped_column(default=True)
    park: Mapped[Park] = relationship()
    berth: Mapped[Berth | None] = relationship()
    station: Mapped[BaseStation | None] = relationship()


class SensorEvent(db.Model):
    """One report as received; (sensor, kind, occurred_at) is unique, so a repeat changes nothing.
    Append-only and the busiest table, hence no foreign keys: ingest, its only writer, copies the ids from
    the sensor rows it has just read and the authenticated station (nothing deletes sensors, stations or
    parks: they are deactivated). The key checks, one per row and reference, and their row locks (all the
    batches of a park lock its one row) cost more than the insert itself."""

    __tablename__ = "sensor_events"
    __table_args__ = (UniqueConstraint("sensor_id", "kind", "occurred_at"),
                      Index("ix_sensor_events_park_occurred", "park_id", "occurred_at"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    park_id: Mapped[int]
    sensor_id: Mapped[int]
    station_id: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    battery_mv: Mapped[int | None]
    magnet: Mapped[bool | None]


class OccupancySession(ParkScopedMixin, db.Model):
    """A car in a berth as the sensor saw it: arrival to departure, linked to the collector's order."""

    __tablename__ = "occupancy_sessions"
    __table_args__ = (
        Index("uq_occupancy_open_sensor", "sensor_id", unique=True, sqlite_where=OPEN_SESSION,
              postgresql_where=OPEN_SESSION, info={KEYED: True}),
        Index("ix_occupancy_berth_arrived", "berth_id", "arrived_at"),
        Index("ix_occupancy_park_arrived", "park_id", "arrived_at"),
        {"info": {KEYED: True}},  # on PostgreSQL the foreign keys to sessions point at occupancy_sessions_keys
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    berth_id: Mapped[int] = mapped_column(ForeignKey("berths.id"))
    sensor_id: Mapped[int] = mapped_column(ForeignKey("sensors.id"))
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime())
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("parking_orders.id"), index=True)
    no_order_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    left_open_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    berth: Mapped[Berth] = relationship()


class Outage(ParkScopedMixin, db.Model):
    """故障: a sensor or base station without heartbeat, from its last sign of life until the next."""

    __tablename__ = "sensor_outages"
    __table_args__ = (
        Index("ix_outages_park_started", "park_id", "started_at"),
        Index("ix_outages_open_sensor", "sensor_id", sqlite_where=OPEN_OUTAGE, postgresql_where=OPEN_OUTAGE),
        Index("ix_outages_open_station", "station_id", sqlite_where=OPEN_OUTAGE, postgresql_where=OPEN_OUTAGE),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    sensor_id: Mapped[int | None] = mapped_column(ForeignKey("sensors.id"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("base_stations.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sensor: Mapped[Sensor | None] = relationship()
    station: Mapped[BaseStation | None] = relationship()
