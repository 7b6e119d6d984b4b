"""The on-site server of an off-street park and what travels over its link."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.crypto import EncryptedString
from app.core.partitions import KEYED
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.tenancy.models import ParkScopedMixin


class SiteServer(ParkScopedMixin, db.Model):
    """现场服务器: one per off-street park; holds the link's secret and the feed position."""

    __tablename__ = "site_servers"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), unique=True)
    secret: Mapped[str] = mapped_column(EncryptedString())
    secret_hint: Mapped[str] = mapped_column(String(8))
    secret_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    last_heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    device_status: Mapped[dict | None] = mapped_column(JSON)
    last_seq: Mapped[int] = mapped_column(default=0)   # last change written to the park's feed
    acked_seq: Mapped[int] = mapped_column(default=0)  # last change the site confirmed
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncChange(ParkScopedMixin, db.Model):
    """One admin change for one park's site, numbered without gaps per park."""

    __tablename__ = "sync_changes"
    __table_args__ = (UniqueConstraint("park_id", "seq", name="uq_sync_changes_park_seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    seq: Mapped[int]
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int]
    op: Mapped[str] = mapped_column(String(8))  # upsert | delete
    payload: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SyncNonce(db.Model):
    """Request ids seen inside the replay window; an identical request sent again is refused."""

    __tablename__ = "sync_nonces"
    __table_args__ = (UniqueConstraint("park_id", "nonce", name="uq_sync_nonces_park_nonce"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class LaneUpload(ParkScopedMixin, db.Model):
    """One item the site uploaded (entry, exit, settlement, lift, pass sale), keyed by the site's own id.
    Keeps the lane-level detail an order has no column for, and the first answer for retries.
    No foreign keys (like sensor_events): the upload is its only writer and copies the authenticated site's
    park and the ids of orders it has just read or written in the same transaction (nothing deletes parks
    or orders); the key checks, one per row and reference, cost almost half of the batch's insert."""

    __tablename__ = "lane_uploads"
    __table_args__ = (UniqueConstraint("park_id", "kind", "site_ref", name="uq_lane_uploads_site_ref",
                                       info={KEYED: True}),  # PostgreSQL: lane_uploads_keys
                      Index("ix_lane_uploads_park_received", "park_id", "received_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))      # entry | exit | settlement | lift | pass_sale
    site_ref: Mapped[str] = mapped_column(String(64))  # the site's own id of the item
    order_site_ref: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))     # ok | refused (a refused item may be sent again)
    fingerprint: Mapped[str | None] = mapped_column(String(32))  # digest of the item as sent (null before 0008)
    order_id: Mapped[int | None]  # the order of an entry, exit or settlement (ParkingOrder.id)
    lane_id: Mapped[int | None]
    plate: Mapped[str | None] = mapped_column(String(16))
    photo_path: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict | None] = mapped_column(JSON)
    response: Mapped[dict] = mapped_column(JSON)
    occurred_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class BarrierCommand(ParkScopedMixin, db.Model):
    """A lift or lower of a lane's barrier asked from the admin, queued until the site fetches it."""

    __tablename__ = "barrier_commands"
    __table_args__ = (Index("ix_barrier_commands_park_state", "park_id", "state"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    lane_id: Mapped[int] = mapped_column(ForeignKey("lanes.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))   # lift | lower
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued | delivered | done | failed
    reason: Mapped[str | None] = mapped_column(String(200))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result_message: Mapped[str | None] = mapped_column(String(200))
