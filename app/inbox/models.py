from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.types import UTCDateTime, utcnow
from app.extensions import db


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_recipient_id", "recipient_id", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(String(2000))
    payload: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def send(recipient_id: int, kind: str, title: str, body: str | None = None, payload: dict | None = None) -> Message:
    message = Message(recipient_id=recipient_id, kind=kind, title=title, body=body, payload=payload)
    db.session.add(message)
    return message
