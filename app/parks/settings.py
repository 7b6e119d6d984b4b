"""Resolving the collector settings that apply to one person at one park."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.parks.models import CollectorSettings


def collector_settings(park, role_id: int | None = None) -> CollectorSettings:
    """The role's override, else the park's row, else the defaults (unsaved)."""
    rows = db.session.scalars(select(CollectorSettings).where(
        CollectorSettings.park_id == park.id,
        (CollectorSettings.role_id == role_id) | CollectorSettings.role_id.is_(None))).all()
    by_role = {row.role_id: row for row in rows}
    found = by_role.get(role_id) or by_role.get(None)
    if found is not None:
        return found
    defaults = CollectorSettings(park_id=park.id)
    for column in CollectorSettings.__table__.columns:  # column defaults apply only on insert
        if getattr(defaults, column.key) is None and column.default is not None and not callable(column.default.arg):
            setattr(defaults, column.key, column.default.arg)
    return defaults
