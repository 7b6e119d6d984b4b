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


_UNREAD = object()
_LABELS = [(column.key, f"settings_{column.key}") for column in _TABLE.columns]


def with_applying_settings(stmt, park_id, role_id):
    """`stmt` with the columns of the settings that apply to (`park_id`, `role_id`), two columns of its
    rows: at most two rows, the role's override first. `remember_applying` keeps the first row's
    settings for the next `collector_settings` call of the same transaction (a device write)."""
    return (stmt.add_columns(*(column.label(label) for column, (_, label) in zip(_TABLE.columns, _LABELS)))
            .outerjoin(_TABLE, (_TABLE.c.park_id == park_id) & ((_TABLE.c.role_id == role_id) | _TABLE.c.role_id.is_(None)))
            .order_by(_TABLE.c.role_id.is_(None)))


def remember_applying(row, park_id: int, role_id: int | None) -> None:
    values = row._mapping
    found = {key: values[label] for key, label in _LABELS} if values["settings_id"] is not None else None
    db.session.info.setdefault("collector_settings", {})[(park_id, role_id)] = found


def collector_settings(park, role_id: int | None = None) -> CollectorSettings:
    """The role's override, else the park's row, else the defaults: an unsaved copy to read, read
    afresh on each call (or read once with the request's first statement, see `with_applying_settings`)
    so a manager's edit applies to the next request."""
    found = db.session.info.get("collector_settings", {}).pop((park.id, role_id), _UNREAD)
    if found is _UNREAD:
        rows = db.session.execute(_ROWS, {"park_id": park.id, "role_id": role_id}).mappings().all()
        by_role = {row["role_id"]: row for row in rows}
        found = by_role.get(role_id) or by_role.get(None)
    if found is not None:
        return CollectorSettings(**found)
    return CollectorSettings(park_id=park.id, **_DEFAULTS)
