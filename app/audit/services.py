"""Writing audit entries. Callers add the entry in the same transaction as the change."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum

from app.audit.models import AuditEntry
from app.extensions import db


def snapshot(obj, fields) -> dict:
    """A JSON-safe copy of the named fields, for the before/after columns."""
    return {f: _plain(getattr(obj, f, None)) for f in fields}


def _plain(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def record(actor, action: str, obj=None, *, anchor=None, before=None, after=None,
           object_type: str | None = None, label: str | None = None, ip: str | None = None) -> AuditEntry:
    """Append one entry. `anchor` is the node the entry belongs to; by default the object's
    own node (for a tree node or anything anchored) or else the actor's."""
    entry = AuditEntry(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None),
        action=action,
        object_type=object_type or (type(obj).__name__ if obj is not None else None),
        object_id=getattr(obj, "id", None),
        object_label=label or _label(obj),
        before=_changed(before, after)[0] if before and after else before,
        after=_changed(before, after)[1] if before and after else after,
        ip=ip,
    )
    entry.anchor_at(_anchor_node(anchor if anchor is not None else (obj if _is_anchorable(obj) else actor)))
    db.session.add(entry)
    return entry


def _changed(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _is_anchorable(obj) -> bool:
    return obj is not None and hasattr(obj, "city_id") and hasattr(obj, "level")


def _anchor_node(thing):
    """Tree nodes anchor at themselves; anchored objects (staff, roles) at their node."""
    if thing is None:
        return None
    if hasattr(thing, "anchor_node"):
        return thing.anchor_node
    return thing


def _label(obj) -> str | None:
    if obj is None:
        return None
    for attr in ("name", "username", "display_name"):
        if getattr(obj, attr, None):
            return str(getattr(obj, attr))[:200]
    return None
