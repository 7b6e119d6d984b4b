"""Creating and editing nodes of the tree; ancestors ids are derived here, never taken from a form."""
from __future__ import annotations

from datetime import time

from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.core.errors import Conflict
from app.core.signals import park_changed
from app.extensions import db
from app.tenancy.models import Area, City, OperatingGroup, Park

FIELDS = {
    City: ("name", "code", "timezone", "active"),
    OperatingGroup: ("name", "city_id", "contact", "phone", "active"),
    Area: ("name", "group_id", "active"),
    Park: ("name", "kind", "group_id", "area_id", "address", "latitude", "longitude", "capacity", "phone",
           "timezone", "site_type", "opens_at", "closes_at", "active"),
}


class DuplicateName(Conflict, ValueError):
    """Another node of the same parent already has this name (or code)."""

    def __init__(self, message: str):
        super().__init__("duplicate_name", message, {"name": message})

    def __str__(self) -> str:
        return str(self.message)


def save_node(actor, obj, values: dict, *, ip: str | None = None):
    """Apply `values` to a new or existing node, fix its ancestor ids, audit, flush."""
    creating = obj.id is None
    before = None if creating else _snapshot(obj)
    for key, value in values.items():
        setattr(obj, key, (value.strip() or None) if isinstance(value, str) else value)  # "" = not given
    _derive_ancestors(obj)
    if _name_taken(obj):
        db.session.rollback()
        raise DuplicateName(_("That name (or code) is already used here."))
    if creating:
        db.session.add(obj)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent request took the name between check and flush
        db.session.rollback()
        raise DuplicateName(_("That name (or code) is already used here.")) from exc
    audit.record(actor, "create" if creating else "update", obj, before=before, after=_snapshot(obj), ip=ip)
    if isinstance(obj, Park):
        park_changed.send(obj.id, created=creating)
    return obj


def _snapshot(obj) -> dict:
    snap = audit.snapshot(obj, FIELDS[type(obj)])
    return {k: v.strftime("%H:%M") if isinstance(v, time) else v for k, v in snap.items()}


UNIQUE_WITHIN = {City: None, OperatingGroup: "city_id", Area: "group_id", Park: "group_id"}


def _name_taken(obj) -> bool:
    model = type(obj)
    with db.session.no_autoflush:
        same = [model.name == obj.name]
        if model is City and obj.code:
            same = [or_(model.name == obj.name, model.code == obj.code)]
        parent = UNIQUE_WITHIN[model]
        if parent:
            same.append(getattr(model, parent) == getattr(obj, parent))
        if obj.id is not None:
            same.append(model.id != obj.id)
        return db.session.scalar(select(model.id).where(*same).limit(1)) is not None


def _derive_ancestors(obj) -> None:
    if isinstance(obj, OperatingGroup):
        return
    if isinstance(obj, Area):
        obj.city_id = db.session.get_one(OperatingGroup, obj.group_id).city_id
    elif isinstance(obj, Park):
        group = db.session.get_one(OperatingGroup, obj.group_id)
        obj.city_id = group.city_id
        if obj.area_id is not None and db.session.get_one(Area, obj.area_id).group_id != group.id:
            raise ValueError("area outside the park's group")


def set_active(actor, obj, active: bool, *, ip: str | None = None) -> None:
    before = audit.snapshot(obj, ("active",))
    obj.active = active
    audit.record(actor, "enable" if active else "disable", obj, before=before,
                 after=audit.snapshot(obj, ("active",)), ip=ip)
