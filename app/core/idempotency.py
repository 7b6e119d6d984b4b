"""Stored first answers of device writes, keyed by (device identity, client_ref), with the fingerprint of
the request that got them (app/core/bodies.py): the same ref with another request is refused."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.extensions import db


class IdempotentRequest(db.Model):
    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("actor_key", "client_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    actor_key: Mapped[str] = mapped_column(String(64))   # e.g. "staff:12" or "station:4"
    client_ref: Mapped[str] = mapped_column(String(64))
    endpoint: Mapped[str] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(32))  # null: kept before fingerprints (0008)
    status_code: Mapped[int]
    response: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
