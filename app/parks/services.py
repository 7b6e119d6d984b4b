"""Park parameters: collector settings (收费设置), free-release reasons (免费原因), work hours (上班时间).

Plain functions: they flush and audit; the caller commits once per request."""
from __future__ import annotations

import re
from datetime import time
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from app.audit import services as audit
from app.extensions import db
from app.parks.models import CollectorSettings, FreeReason
from app.shifts.models import WorkHours
from app.staff.models import Role, RoleKind
from app.tenancy.models import Level, Park

SETTINGS_FIELDS = ("photo_required_entry", "photo_required_exit", "prepay_allowed", "prepay_presets",
                   "receipt_header", "receipt_footer", "hide_amounts", "refuse_blacklisted", "use_sensor_time",
                   "photo_retention_days", "note")
MAX_PRESETS = 8
MAX_PRESET_FEN = 100_000  # 1,000 yuan
YUAN_RE = re.compile(r"^\d{1,6}(?:\.\d{1,2})?$")


class SettingsError(ValueError):
    """A refused change; `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- field roles ------------------------------------------------------------------------------

def field_roles(scope) -> list[Role]:
    """Collector and inspector roles a manager may configure: built-in ones and custom ones in scope."""
    return list(db.session.scalars(
        select(Role).where(Role.kind != RoleKind.ADMIN.value, Role.active.is_(True),
                           Role.builtin.is_(True) | scope.clause(Role))
        .order_by(Role.builtin.desc(), Role.name, Role.target_level)))


def role_label(role: Role) -> str:
    kind = _("collector") if role.kind == RoleKind.COLLECTOR.value else _("inspector")
    level = _("park staff") if role.target_level == Level.PARK.value else _("group staff")
    return f"{role.name} ({kind}, {level})"


def role_fits_park(role: Role | None, park: Park) -> bool:
    """A field role applies at a park when it is built-in or hangs at the park or one of its ancestors."""
    if role is None or role.kind == RoleKind.ADMIN.value:
        return False
    if role.builtin:
        return True
    level = Level(role.level)
    if level == Level.PLATFORM:
        return True
    return getattr(role, f"{level.value}_id") == getattr(park, f"{level.value}_id")


# --- collector settings -----------------------------------------------------------------------

def defaults() -> dict:
    """The column defaults of a settings row (what a park without a row gets)."""
    values = {}
    for column in CollectorSettings.__table__.columns:
        if column.key in SETTINGS_FIELDS and column.default is not None and column.default.is_scalar:
            values[column.key] = column.default.arg
    values.setdefault("note", None)
    return values


def find_settings(park_id: int, role_id: int | None = None) -> CollectorSettings | None:
    stmt = select(CollectorSettings).where(CollectorSettings.park_id == park_id)
    stmt = stmt.where(CollectorSettings.role_id.is_(None) if role_id is None else CollectorSettings.role_id == role_id)
    return db.session.scalars(stmt.order_by(CollectorSettings.id).limit(1)).first()


def settings_for(park: Park, role_id: int | None = None) -> CollectorSettings:
    """The park's row (or the role's override), or an unsaved row filled with the defaults."""
    row = find_settings(park.id, role_id)
    if row is None:
        base = find_settings(park.id) if role_id is not None else None
        values = {f: getattr(base, f) for f in SETTINGS_FIELDS} if base is not None else defaults()
        row = CollectorSettings(park_id=park.id, role_id=role_id, signout_password_hash=None, **values)
    return row


def effective_settings(park_id: int, role_id: int | None) -> CollectorSettings | None:
    """What a collector of `role_id` at the park works with: the role's override, else the park's row
    (None means the defaults)."""
    return (find_settings(park_id, role_id) if role_id is not None else None) or find_settings(park_id)


def parse_presets(text: str | None) -> str:
    """'5, 10, 20' (yuan) -> '500,1000,2000' (fen). Empty gives ''."""
    parts = [p for p in re.split(r"[,，;\s]+", (text or "").strip()) if p]
    if len(parts) > MAX_PRESETS:
        raise SettingsError(_("At most %(max)d amounts.", max=MAX_PRESETS), "prepay_presets")
    fen = []
    for part in parts:
        if not YUAN_RE.match(part):
            raise SettingsError(_("“%(value)s” is not an amount in yuan (like 5 or 7.50).", value=part),
                                "prepay_presets")
        try:
            amount = int(Decimal(part) * 100)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already refuses these
            raise SettingsError(_("“%(value)s” is not an amount in yuan.", value=part), "prepay_presets") from exc
        if amount <= 0 or amount > MAX_PRESET_FEN:
            raise SettingsError(_("Amounts are between 0.01 and %(max)d yuan.", max=MAX_PRESET_FEN // 100),
                                "prepay_presets")
        if amount in fen:
            raise SettingsError(_("%(value)s yuan appears twice.", value=part), "prepay_presets")
        fen.append(amount)
    return ",".join(str(a) for a in fen)


def presets_text(stored: str | None) -> str:
    """'500,1000,250' (fen) -> '5, 10, 2.50' (yuan) for the form."""
    out = []
    for part in (stored or "").split(","):
        if part.strip().isdigit():
            fen = int(part)
            out.append(str(fen // 100) if fen % 100 == 0 else f"{fen // 100}.{fen % 100:02d}")
    return ", ".join(out)


def _settings_snapshot(row: CollectorSettings) -> dict:
    snap = audit.snapshot(row, ("park_id", "role_id") + SETTINGS_FIELDS)
    snap["signout_password"] = "set" if row.signout_password_hash else "none"  # never the hash itself
    return snap


def save_settings(actor, row: CollectorSettings, values: dict, *, signout_password: str | None = None,
                  clear_signout: bool = False, ip: str | None = None) -> CollectorSettings:
    """Save a park's row or a role override. `values` holds SETTINGS_FIELDS with presets in yuan text."""
    park = db.session.get(Park, row.park_id)
    creating = row.id is None
    if creating:
        _lock(park)
        if find_settings(row.park_id, row.role_id) is not None:
            raise SettingsError(_("These settings exist already; reload the page."), "role_id"
                                if row.role_id else None)
    if row.role_id is not None and not role_fits_park(db.session.get(Role, row.role_id), park):
        raise SettingsError(_("Choose a collector or inspector role of this park."), "role_id")
    values = dict(values)
    values["prepay_presets"] = parse_presets(values.get("prepay_presets"))
    if values.get("prepay_allowed") and not values["prepay_presets"]:
        raise SettingsError(_("Give at least one amount, or do not allow prepayment."), "prepay_presets")
    before = None if creating else _settings_snapshot(row)
    for key in SETTINGS_FIELDS:
        if key in values:
            value = values[key]
            setattr(row, key, value.strip() if isinstance(value, str) else value)
    row.note = row.note or None
    if signout_password:
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        row.signout_password_hash = generate_password_hash(signout_password, method=method)
    elif clear_signout:
        row.signout_password_hash = None
    if creating:
        db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise SettingsError(_("These settings exist already; reload the page."), "role_id") from exc
    audit.record(actor, "create" if creating else "update", row, anchor=park, object_type="CollectorSettings",
                 label=_settings_label(row, park), before=before, after=_settings_snapshot(row), ip=ip)
    return row


def delete_override(actor, row: CollectorSettings, ip: str | None = None) -> None:
    if row.role_id is None:
        raise SettingsError(_("A park's own settings cannot be deleted; edit them instead."))
    park = db.session.get(Park, row.park_id)
    audit.record(actor, "delete", row, anchor=park, label=_settings_label(row, park),
                 before=_settings_snapshot(row), ip=ip)
    db.session.delete(row)
    db.session.flush()


def _settings_label(row: CollectorSettings, park: Park) -> str:
    if row.role_id is None:
        return park.name
    role = db.session.get(Role, row.role_id)
    return f"{park.name} / {role.name if role else row.role_id}"


def _lock(park: Park) -> None:
    """Serialise creations for one park (PostgreSQL); the NULL role of a park's own row is not
    covered by the unique index."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Park.id).where(Park.id == park.id).with_for_update())


# --- free-release reasons ---------------------------------------------------------------------

REASON_FIELDS = ("park_id", "name", "active")


def save_free_reason(actor, reason: FreeReason, *, park: Park, name: str, ip: str | None = None) -> FreeReason:
    creating = reason.id is None
    name = name.strip()
    stmt = select(FreeReason.id).where(FreeReason.park_id == park.id, FreeReason.name == name)
    if not creating:
        stmt = stmt.where(FreeReason.id != reason.id)
    with db.session.no_autoflush:
        if db.session.scalar(stmt.limit(1)) is not None:
            raise SettingsError(_("This park has that reason already."), "name")
    before = None if creating else audit.snapshot(reason, REASON_FIELDS)
    reason.park_id, reason.name = park.id, name
    if creating:
        reason.active = True
        db.session.add(reason)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise SettingsError(_("This park has that reason already."), "name") from exc
    audit.record(actor, "create" if creating else "update", reason, anchor=park, before=before,
                 after=audit.snapshot(reason, REASON_FIELDS), ip=ip)
    return reason


def set_free_reason_active(actor, reason: FreeReason, active: bool, ip: str | None = None) -> None:
    before = audit.snapshot(reason, ("active",))
    reason.active = active
    audit.record(actor, "enable" if active else "disable", reason, anchor=db.session.get(Park, reason.park_id),
                 before=before, after=audit.snapshot(reason, ("active",)), ip=ip)


def active_free_reasons(park_id: int) -> list[FreeReason]:
    return list(db.session.scalars(select(FreeReason).where(FreeReason.park_id == park_id,
                                                            FreeReason.active.is_(True))
                                   .order_by(FreeReason.name)))


# --- work hours -------------------------------------------------------------------------------

HOURS_FIELDS = ("park_id", "role_id", "starts_at", "ends_at", "grace_minutes")


def save_work_hours(actor, hours: WorkHours, *, park: Park, role: Role, starts_at: time, ends_at: time,
                    grace_minutes: int, ip: str | None = None) -> WorkHours:
    if not role_fits_park(role, park):
        raise SettingsError(_("Choose a collector or inspector role of this park."), "role_id")
    if starts_at == ends_at:
        raise SettingsError(_("The end must differ from the start (an end before the start runs past "
                              "midnight)."), "ends_at")
    creating = hours.id is None
    stmt = select(WorkHours.id).where(WorkHours.park_id == park.id, WorkHours.role_id == role.id)
    if not creating:
        stmt = stmt.where(WorkHours.id != hours.id)
    with db.session.no_autoflush:
        if db.session.scalar(stmt.limit(1)) is not None:
            raise SettingsError(_("This role has work hours at this park already; edit them."), "role_id")
    before = None if creating else _hours_snapshot(hours)
    hours.park_id, hours.role_id = park.id, role.id
    hours.starts_at, hours.ends_at, hours.grace_minutes = starts_at, ends_at, grace_minutes
    if creating:
        db.session.add(hours)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise SettingsError(_("This role has work hours at this park already; edit them."), "role_id") from exc
    audit.record(actor, "create" if creating else "update", hours, anchor=park,
                 label=f"{park.name} / {role.name}", before=before, after=_hours_snapshot(hours), ip=ip)
    return hours


def delete_work_hours(actor, hours: WorkHours, ip: str | None = None) -> None:
    park = db.session.get(Park, hours.park_id)
    audit.record(actor, "delete", hours, anchor=park, label=f"{park.name} / {hours.role.name}",
                 before=_hours_snapshot(hours), ip=ip)
    db.session.delete(hours)
    db.session.flush()


def _hours_snapshot(hours: WorkHours) -> dict:
    return {"park_id": hours.park_id, "role_id": hours.role_id,
            "starts_at": hours.starts_at.strftime("%H:%M") if hours.starts_at else None,
            "ends_at": hours.ends_at.strftime("%H:%M") if hours.ends_at else None,
            "grace_minutes": hours.grace_minutes}
