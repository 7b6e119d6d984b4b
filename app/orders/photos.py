"""Order photos: JPEG or PNG only, size-limited, kept on disk outside the database for the
park's retention days."""
from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from app.core.errors import Invalid
from app.core.types import utcnow
from app.extensions import db
from app.orders.models import OrderPhoto, ParkingOrder
from app.parks.settings import collector_settings

KINDS = ("entry", "exit", "evidence")
MAX_BYTES = 5 * 1024 * 1024
SIGNATURES = {b"\xff\xd8\xff": ("image/jpeg", ".jpg"), b"\x89PNG\r\n\x1a\n": ("image/png", ".png")}


def sniff(data: bytes) -> tuple[str, str] | None:
    """Trust the bytes, not the file name or the declared type."""
    return next((v for sig, v in SIGNATURES.items() if data.startswith(sig)), None)


def photo_root() -> Path:
    return Path(current_app.config.get("PHOTO_DIR") or Path(current_app.instance_path) / "photos")


def store(order: ParkingOrder, kind: str, data: bytes, taken_by) -> OrderPhoto:
    if len(data) > MAX_BYTES:
        raise Invalid("photo_too_large", "A photo may be at most 5 MB.", {"photo": "too large"})
    found = sniff(data)
    if not data or found is None:
        raise Invalid("bad_photo", "Only JPEG or PNG photos are accepted.", {"photo": "not JPEG or PNG"})
    content_type, ext = found
    now = utcnow()
    relative = Path(str(order.park_id)) / now.strftime("%Y/%m") / f"{uuid.uuid4().hex}{ext}"
    target = photo_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    retention = collector_settings(order.park, getattr(taken_by, "role_id", None)).photo_retention_days
    photo = OrderPhoto(park_id=order.park_id, order_id=order.id, kind=kind, path=str(relative),
                       content_type=content_type, size_bytes=len(data), taken_by_id=getattr(taken_by, "id", None),
                       delete_after=now + timedelta(days=retention))
    db.session.add(photo)
    db.session.flush()
    return photo


def file_of(photo: OrderPhoto) -> Path | None:
    """The photo's file on disk; None when it is gone (purged, or a path that leaves the root)."""
    root = photo_root().resolve()
    target = (root / photo.path).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        return None
    return target


def purge_expired(now=None) -> int:
    """Delete photos past their retention; returns how many went."""
    now = now or utcnow()
    expired = db.session.scalars(select(OrderPhoto).where(OrderPhoto.delete_after <= now)).all()
    for photo in expired:
        (photo_root() / photo.path).unlink(missing_ok=True)
        db.session.delete(photo)
    return len(expired)
