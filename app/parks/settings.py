"""The one resolver of collector settings (收费设置): what applies to a person of a role at a park is the
role's override row, else the park's row, else DEFAULTS. The admin pages, the handheld's reads and the SQL
that the device writes join (`join_settings`) all resolve through this module, from one table of defaults.
Park parameters (参数设置) are resolved here too."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, literal, select
from sqlalchemy.orm import aliased

from app.core.refs import ParkRef
from app.extensions import db
from app.parks.models import CollectorSettings, ParkParameters

SETTINGS_FIELDS = ("photo_required_entry", "photo_required_exit", "prepay_allowed", "prepay_presets",
                   "receipt_header", "receipt_footer", "hide_amounts", "refuse_blacklisted", "use_sensor_time",
                   "photo_retention_days", "note")
_TABLE = CollectorSettings.__table__
# What a park without a row gets: the columns' defaults (they apply only on insert; an unsaved row gets
# them here).
DEFAULTS = {**{column.key: column.default.arg for column in _TABLE.columns
               if column.key in SETTINGS_FIELDS and column.default is not None and column.default.is_scalar},
            "note": None}
# Plain rows of the table rather than entities: every car in and every receipt reads these. The lowest id
# wins where a park has two rows for one role (what `find_row` answers).
_ROWS = select(*_TABLE.columns).where(
    _TABLE.c.park_id == bindparam("park_id"), (_TABLE.c.role_id == bindparam("role_id")) | _TABLE.c.role_id.is_(None)
).order_by(_TABLE.c.id.desc())


def find_row(park_id: int, role_id: int | None = None) -> CollectorSettings | None:
    """The park's own row (role None) or the role's override row, exactly; None if there is none."""
    stmt = select(CollectorSettings).where(CollectorSettings.park_id == park_id)
    stmt = stmt.where(CollectorSettings.role_id.is_(None) if role_id is None else CollectorSettings.role_id == role_id)
    return db.session.scalars(stmt.order_by(CollectorSettings.id).limit(1)).first()


def applying_row(park_id: int, role_id: int | None) -> CollectorSettings | None:
    """The row whose settings apply to the role at the park (None: the defaults)."""
    return (find_row(park_id, role_id) if role_id is not None else None) or find_row(park_id)


def collector_settings(park: ParkRef, role_id: int | None = None) -> CollectorSettings:
    """The settings that apply to the role at the park: an unsaved copy to read, read afresh on each call
    so a manager's edit applies to the next request."""
    rows = db.session.execute(_ROWS, {"park_id": park.id, "role_id": role_id}).mappings().all()
    by_role = {row["role_id"]: row for row in rows}
    found = by_role.get(role_id) or by_role.get(None)
    if found is not None:
        return CollectorSettings(**found)
    return CollectorSettings(park_id=park.id, **DEFAULTS)


def resolved_values(park_id: int, role_id: int | None = None) -> dict:
    """SETTINGS_FIELDS as they apply to the role at the park (see collector_settings)."""
    row = applying_row(park_id, role_id)
    return {f: getattr(row, f) for f in SETTINGS_FIELDS} if row is not None else dict(DEFAULTS)


# For a query that knows the park and the role (the device token's): the settings a device write reads,
# from the role's row, else the park's row, else the defaults (the columns are NOT NULL, so a
# coalesce per column picks the same row), with that query's round trip instead of one of their own.
_ROLE_ROW = aliased(CollectorSettings, name="role_settings")
_PARK_ROW = aliased(CollectorSettings, name="park_settings")
WRITE_FIELDS = ("prepay_allowed", "refuse_blacklisted", "use_sensor_time", "receipt_header", "receipt_footer")


def join_settings(statement, park_id, role_id):
    """`statement` with the WRITE_FIELDS of the settings of (park_id, role_id); see settings_in_row."""
    return statement.outerjoin(_ROLE_ROW, (_ROLE_ROW.park_id == park_id) & (_ROLE_ROW.role_id == role_id)) \
        .outerjoin(_PARK_ROW, (_PARK_ROW.park_id == park_id) & _PARK_ROW.role_id.is_(None)) \
        .add_columns(*(func.coalesce(getattr(_ROLE_ROW, f), getattr(_PARK_ROW, f), literal(DEFAULTS[f]))
                       .label(f"settings_{f}") for f in WRITE_FIELDS))


@dataclass(frozen=True)
class WriteSettings:
    """The collector settings a device write reads (see join_settings)."""
    prepay_allowed: bool
    refuse_blacklisted: bool
    use_sensor_time: bool
    receipt_header: str
    receipt_footer: str


def settings_in_row(row) -> WriteSettings:
    mapping = row._mapping
    return WriteSettings(*(mapping["settings_" + f] for f in WRITE_FIELDS))


# --- park parameters (参数设置) ---------------------------------------------------------------------

def with_defaults(row):
    """`row` with the column defaults filled in where it holds None (they apply only on insert)."""
    for column in type(row).__table__.columns:
        if getattr(row, column.key) is None and column.default is not None and column.default.is_scalar:
            setattr(row, column.key, column.default.arg)
    return row


def park_parameters(park_id: int) -> ParkParameters:
    """The park's parameters row, or an unsaved one holding the defaults."""
    row = db.session.scalar(select(ParkParameters).where(ParkParameters.park_id == park_id))
    return row or with_defaults(ParkParameters(park_id=park_id))
