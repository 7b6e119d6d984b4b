"""What leaves the platform and what comes in from the alliance: the outbox, webhook subscriptions, the
alliance's settings per city and state per park, its payment notices and cross-platform records."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.crypto import EncryptedString
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.tenancy.models import AnchoredMixin, Level, ParkScopedMixin


class _CityScoped:
    """Rows of a city that may name a park: a city's managers see them all, a lower node those of its parks."""

    @classmethod
    def scope_clause(cls, scope):
        from sqlalchemy import select, true

        from app.tenancy.models import Park
        if scope.level == Level.PLATFORM:
            return true()
        if scope.level == Level.CITY:
            return cls.city_id == scope.node_id
        return cls.park_id.in_(select(Park.id).where(Park.scope_clause(scope)))



class OutboxMessage(_CityScoped, db.Model):
    """One event for one destination (the alliance, or a webhook subscription), written in the same
    transaction as the change that caused it and delivered by the worker, in id order per park and
    destination. `event_id` is the same for every destination of one event; receivers deduplicate by it."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_due", "state", "next_attempt_at"),
                      Index("ix_outbox_subscription", "subscription_id", "id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(index=True)
    park_id: Mapped[int | None]
    topic: Mapped[str] = mapped_column(String(32))  # order.opened ... or alliance.<call>
    subscription_id: Mapped[int | None]              # None: the alliance
    event_id: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict] = mapped_column(JSON)
    created: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    state: Mapped[str] = mapped_column(String(8), default="pending")  # pending | sent | dead
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300))
    response_code: Mapped[int | None]
    latency_ms: Mapped[int | None]
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebhookSubscription(AnchoredMixin, db.Model):
    """A receiver of signed events of a city or an operating group (never of another node)."""

    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str] = mapped_column(String(300))
    secret: Mapped[str] = mapped_column(EncryptedString())
    secret_hint: Mapped[str] = mapped_column(String(8))
    events: Mapped[list] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AllianceSettings(db.Model):
    """泊链: a city's vendor account (union_id, ukey) and where the alliance answers."""

    __tablename__ = "alliance_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), unique=True)
    union_id: Mapped[str] = mapped_column(String(40))
    ukey: Mapped[str] = mapped_column(EncryptedString())
    ukey_hint: Mapped[str] = mapped_column(String(8))
    server_id: Mapped[str | None] = mapped_column(String(40))
    base_url: Mapped[str] = mapped_column(String(300))
    enabled: Mapped[bool] = mapped_column(default=False)
    availability_seconds: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @classmethod
    def scope_clause(cls, scope):
        from sqlalchemy import true
        if scope.level == Level.PLATFORM:
            return true()
        return cls.city_id == scope.city_id


# union_state of the original: 0 not uploaded, 1 live, 2 pending review, 3 disabled
NOT_UPLOADED, LIVE, PENDING, DISABLED = 0, 1, 2, 3


class AlliancePark(ParkScopedMixin, db.Model):
    """A park's standing at the alliance (union_state, bolink_id) and its last upload."""

    __tablename__ = "alliance_parks"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), unique=True)
    alliance_park_id: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[int] = mapped_column(default=NOT_UPLOADED)
    last_upload_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
    availability_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AllianceNotice(_CityScoped, db.Model):
    """One payment notice from the alliance, kept once per trade number: what it said, what we did."""

    __tablename__ = "alliance_notices"
    __table_args__ = (UniqueConstraint("city_id", "trade_no", name="uq_alliance_notices_trade"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"), index=True)
    trade_no: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None]
    amount_fen: Mapped[int]
    outcome: Mapped[str] = mapped_column(String(16))  # settled | review
    reason: Mapped[str | None] = mapped_column(String(40))
    body: Mapped[dict] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


INCOME, EXPENSE = "income", "expense"


class AllianceRecord(_CityScoped, db.Model):
    """A cross-platform payment (bolink_order_tb / bolink_ccount_tb): income when another platform's member
    paid at one of our parks, expense when one of our members paid at another vendor's park."""

    __tablename__ = "alliance_records"
    __table_args__ = (UniqueConstraint("city_id", "direction", "trade_no", name="uq_alliance_records_trade"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"))
    direction: Mapped[str] = mapped_column(String(8))
    trade_no: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str | None] = mapped_column(String(16))
    park_name: Mapped[str | None] = mapped_column(String(120))
    amount_fen: Mapped[int]
    order_id: Mapped[int | None]
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
