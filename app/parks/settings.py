"""Resolving the collector settings that apply to one person at one park."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from app.extensions import db
from app.parks.models import CollectorSettings

_TABLE = CollectorSettings.__table__
# Plain rows of the table rather than entities: every car in and every receipt reads these.
_ROWS = select(*_TABLE.columns).where(
    _TABLE.c.park_id == bindparam("park_id"), (_TABLE.c.role_id == bindparam("role_id")) | _TABLE.c.role_id.is_(None))
# Column defaults apply only on insert; an unsaved object gets them here.
_DEFAULTS = {column.key: column.default.arg for column in _TABLE.columns
             if column.default is not None and not callable(column.default.arg)}


def collector_settings(park, role_id: int | None = None) -> CollectorSettings:
    """The role's override, else the park's row, else the defaults: an unsaved copy to read, read
    afresh on each call so a manager's edit applies to the next request."""
    rows = db.session.execute(_ROWS, {"park_id": park.id, "role_id": role_id}).mappings().all()
    by_role = {row["role_id"]: row for row in rows}
    found = by_role.get(role_id) or by_role.get(None)
    if found is not None:
        return CollectorSettings(**found)
    return CollectorSettings(park_id=park.id, **_DEFAULTS)
