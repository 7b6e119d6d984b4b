"""Park parameters: collector settings (收费设置), free-release reasons (免费原因), work hours (上班时间).

Plain functions: they flush and audit; the caller commits once per request."""
from __future__ import annotations

import re
from datetime import time
from decimal import Decimal, InvalidOperation

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import generate_password_hash

from app.audit import services as audit
from app.core.errors import Invalid, Refused
from app.core.plates import normalize_plate
from app.core.types import utcnow
from app.extensions import db, on_postgresql
from app.parks.models import CarType, CollectorSettings, FreeReason, ParkParameters, PlateCarType
from app.parks.settings import DEFAULTS, SETTINGS_FIELDS, applying_row, find_row, park_parameters, resolved_values
from app.sensors.services import settings_for as sensor_settings_for
from app.shifts.models import WorkHours
from app.staff.models import Role, RoleKind
from app.tenancy.models import City, Level, Park

MAX_PRESETS = 8
MAX_PRESET_FEN = 100_000  # 1,000 yuan
YUAN_RE = re.compile(r"^\d{1,6}(?:\.\d{1,2})?$")


class SettingsError(Refused, ValueError):
    """A refused change of a park's settings; `field` names the form field it belongs to."""
    code = "settings_refused"


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
    """What a park without a settings row gets (app.parks.settings.DEFAULTS)."""
    return dict(DEFAULTS)


def settings_for(park: Park, role_id: int | None = None) -> CollectorSettings:
    """The row to edit: the park's (or the role's override), or an unsaved one holding what applies now."""
    row = find_row(park.id, role_id)
    if row is None:
        row = CollectorSettings(park_id=park.id, role_id=role_id, signout_password_hash=None,
                                **resolved_values(park.id))
    return row


def effective_settings(park_id: int, role_id: int | None) -> CollectorSettings | None:
    """What a collector of `role_id` at the park works with (None: the defaults)."""
    return applying_row(park_id, role_id)


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
    park = db.session.get_one(Park, row.park_id)
    creating = row.id is None
    if creating:
        _lock(park)
        if find_row(row.park_id, row.role_id) is not None:
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
    park = db.session.get_one(Park, row.park_id)
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
    if on_postgresql():
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
    return _store_named(actor, reason, creating, park, before, REASON_FIELDS,
                        _("This park has that reason already."), ip)


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
    park = db.session.get_one(Park, hours.park_id)
    audit.record(actor, "delete", hours, anchor=park, label=f"{park.name} / {hours.role.name}",
                 before=_hours_snapshot(hours), ip=ip)
    db.session.delete(hours)
    db.session.flush()


def _hours_snapshot(hours: WorkHours) -> dict:
    return {"park_id": hours.park_id, "role_id": hours.role_id,
            "starts_at": hours.starts_at.strftime("%H:%M") if hours.starts_at else None,
            "ends_at": hours.ends_at.strftime("%H:%M") if hours.ends_at else None,
            "grace_minutes": hours.grace_minutes}


# --- park parameters (参数设置) ------------------------------------------------------------------

PARAMETER_FIELDS = ("distinguish_vehicle_classes", "allow_free_settlement", "entry_when_full", "allow_non_pass_cars",
                    "allow_pass_second_car", "lift_on_recognition", "plate_province")


def lane_allows(park_value: bool, lane_value: bool | None) -> bool:
    """A lane's own rule (allow/refuse) wins over the park default; None follows the park."""
    return park_value if lane_value is None else lane_value


COLLECTOR_PARAMETERS = ("hide_amounts", "photo_retention_days")  # stored in the park's CollectorSettings
SENSOR_PARAMETERS = ("auto_escape_unattended",)                  # stored in the park's SensorSettings


def _sensor_settings(park_id: int):
    return sensor_settings_for(park_id)


def parameters_form_data(park: Park) -> dict:
    """Every parameter shown on the parameters page, wherever it is stored."""
    params, collector, sensor = park_parameters(park.id), settings_for(park), _sensor_settings(park.id)
    data = {f: getattr(params, f) for f in PARAMETER_FIELDS}
    data.update({f: getattr(collector, f) for f in COLLECTOR_PARAMETERS})
    data.update({f: getattr(sensor, f) for f in SENSOR_PARAMETERS})
    return data


def parameters_payload(park_id: int) -> dict:
    """The parameters as the on-site system receives them (sync feed)."""
    park = db.session.get_one(Park, park_id)
    data = parameters_form_data(park)
    city = db.session.get(City, park.city_id)
    data.update({f: getattr(city, f) for f in CITY_RULE_FIELDS})
    return data


def save_parameters(actor, park: Park, values: dict, ip: str | None = None) -> ParkParameters:
    """Save the page's parameters: each in the row that owns it, audited where something changed."""
    province = (values.get("plate_province") or "").strip() or None
    if province is not None and len(province) != 1:
        raise SettingsError(_("Choose one province character."), "plate_province")
    values = {**values, "plate_province": province}
    params = park_parameters(park.id)
    changed = _save_fields(actor, park, params, PARAMETER_FIELDS, values, ip, always=True)
    collector = settings_for(park)
    if collector.id is None and _differs(collector, COLLECTOR_PARAMETERS, values):
        _lock(park)
    elsewhere = _save_fields(actor, park, collector, COLLECTOR_PARAMETERS, values, ip, snapshot=_settings_snapshot)
    elsewhere |= _save_fields(actor, park, _sensor_settings(park.id), SENSOR_PARAMETERS, values, ip)
    if elsewhere and not changed:
        _touch([params])
    return params


def _touch(rows) -> None:
    """Mark parameters rows changed, so the on-site feed sends them again (with what is stored elsewhere)."""
    now = utcnow()
    for row in rows:
        row.updated_at = now
    db.session.flush()


def _differs(row, fields, values) -> bool:
    return any(f in values and getattr(row, f) != values[f] for f in fields)


def _save_fields(actor, park, row, fields, values, ip, *, always=False, snapshot=None) -> bool:
    """Write `fields` of `values` into `row` (adding it when new) and audit it, if anything changed."""
    if not (always and row.id is None) and not _differs(row, fields, values):
        return False
    snap = snapshot or (lambda r: audit.snapshot(r, fields))
    creating = row.id is None
    before = None if creating else snap(row)
    for field in fields:
        if field in values:
            setattr(row, field, values[field])
    if creating:
        db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError as exc:  # another request created the row first
        db.session.rollback()
        raise SettingsError(_("These parameters were saved meanwhile; reload the page.")) from exc
    audit.record(actor, "create" if creating else "update", row, anchor=park, label=park.name,
                 before=before, after=snap(row), ip=ip)
    return True


# --- city rules -------------------------------------------------------------------------------

CITY_RULE_FIELDS = ("citywide_arrears", "plate_in_two_parks", "reentry_min_minutes", "reentry_resume_minutes")


def save_city_rules(actor, city: City, values: dict, ip: str | None = None) -> City:
    for field in ("reentry_min_minutes", "reentry_resume_minutes"):
        if not 0 <= int(values.get(field) or 0) <= 1440:
            raise SettingsError(_("Between 0 and 1440 minutes."), field)
    before = audit.snapshot(city, CITY_RULE_FIELDS)
    for field in CITY_RULE_FIELDS:
        if field in values:
            setattr(city, field, values[field])
    db.session.flush()
    after = audit.snapshot(city, CITY_RULE_FIELDS)
    if after != before:
        _touch(db.session.scalars(select(ParkParameters).join(Park, Park.id == ParkParameters.park_id)
                                  .where(Park.city_id == city.id)))
    audit.record(actor, "update", city, object_type="CityRules", label=city.name, before=before, after=after, ip=ip)
    return city


# --- car types (车型) and plate bindings (绑定车型) -----------------------------------------------

CAR_TYPE_FIELDS = ("park_id", "name", "code", "vehicle_class", "active")
VEHICLE_CLASSES = ("small", "large", "other")
MAX_PASTED_PLATES = 500


def save_car_type(actor, car_type: CarType, *, park: Park, name: str, code: str | None, vehicle_class: str,
                  ip: str | None = None) -> CarType:
    creating = car_type.id is None
    name, code = name.strip(), (code or "").strip() or None
    if vehicle_class not in VEHICLE_CLASSES:
        raise SettingsError(_("Choose a vehicle class."), "vehicle_class")
    if not creating and car_type.park_id != park.id and _bindings_of(car_type.id):
        raise SettingsError(_("Plates are bound to this car type; it cannot move to another park."), "park_id")
    with db.session.no_autoflush:
        if _car_type_taken(park.id, CarType.name == name, car_type.id):
            raise SettingsError(_("This park has a car type of that name already."), "name")
        if code is not None and _car_type_taken(park.id, CarType.code == code, car_type.id):
            raise SettingsError(_("This park has a car type with that code already."), "code")
        code = code or _next_code(park.id)
    before = None if creating else audit.snapshot(car_type, CAR_TYPE_FIELDS)
    car_type.park_id, car_type.name, car_type.code, car_type.vehicle_class = park.id, name, code, vehicle_class
    return _store_named(actor, car_type, creating, park, before, CAR_TYPE_FIELDS,
                        _("This park has a car type of that name or code already."), ip)


def _store_named(actor, row, creating: bool, park: Park, before, fields, clash: str, ip):
    """Insert or update a park's named row; a name taken meanwhile by another request is a form error."""
    if creating:
        row.active = True
        db.session.add(row)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise SettingsError(clash, "name") from exc
    audit.record(actor, "create" if creating else "update", row, anchor=park, before=before,
                 after=audit.snapshot(row, fields), ip=ip)
    return row


def _car_type_taken(park_id: int, clause, exclude_id: int | None) -> bool:
    stmt = select(CarType.id).where(CarType.park_id == park_id, clause)
    if exclude_id is not None:
        stmt = stmt.where(CarType.id != exclude_id)
    return db.session.scalar(stmt.limit(1)) is not None


def _next_code(park_id: int) -> str:
    used = set(db.session.scalars(select(CarType.code).where(CarType.park_id == park_id)))
    number = len(used) + 1
    while str(number) in used:
        number += 1
    return str(number)


def _bindings_of(car_type_id: int) -> int:
    return db.session.scalar(select(func.count(PlateCarType.id)).where(PlateCarType.car_type_id == car_type_id)) or 0


def set_car_type_active(actor, car_type: CarType, active: bool, ip: str | None = None) -> None:
    before = audit.snapshot(car_type, ("active",))
    car_type.active = active
    audit.record(actor, "enable" if active else "disable", car_type, anchor=db.session.get(Park, car_type.park_id),
                 before=before, after=audit.snapshot(car_type, ("active",)), ip=ip)


def parse_plates(text: str) -> list[str]:
    """Pasted plates -> normalised, without repeats. Refuses the whole paste if one plate is bad."""
    plates, bad = [], []
    for raw in (p for p in re.split(r"[,，;；\s]+", text or "") if p):
        try:
            plate = normalize_plate(raw)
        except Invalid:
            bad.append(raw)
            continue
        if plate not in plates:
            plates.append(plate)
    if bad:
        raise SettingsError(_("Not plates: %(plates)s. Nothing was saved.", plates=", ".join(bad[:10])), "plates")
    if not plates:
        raise SettingsError(_("Give at least one plate."), "plates")
    if len(plates) > MAX_PASTED_PLATES:
        raise SettingsError(_("At most %(max)d plates at once.", max=MAX_PASTED_PLATES), "plates")
    return plates


BINDING_FIELDS = ("park_id", "plate", "car_type_id", "note")


def bind_plates(actor, car_type: CarType, text: str, note: str | None = None,
                ip: str | None = None) -> dict[str, int]:
    """Bind the pasted plates to `car_type` at its park; a plate bound to another type moves.
    Returns how many were added, moved and already bound."""
    if not car_type.active:
        raise SettingsError(_("This car type is disabled; enable it or choose another."), "car_type_id")
    plates = parse_plates(text)
    park = db.session.get_one(Park, car_type.park_id)
    note = (note or "").strip() or None
    existing = {b.plate: b for b in db.session.scalars(select(PlateCarType).where(
        PlateCarType.park_id == park.id, PlateCarType.plate.in_(plates)))}
    counts = {"added": 0, "moved": 0, "unchanged": 0}
    for plate in plates:
        binding = existing.get(plate)
        if binding is not None and binding.car_type_id == car_type.id and (note is None or binding.note == note):
            counts["unchanged"] += 1
            continue
        before = audit.snapshot(binding, BINDING_FIELDS) if binding else None
        if binding is None:
            binding = PlateCarType(park_id=park.id, plate=plate)
            db.session.add(binding)
            counts["added"] += 1
        else:
            counts["moved"] += 1
        binding.car_type_id, binding.note = car_type.id, note or binding.note
        audit.record(actor, "update" if before else "create", binding, anchor=park, label=plate, before=before,
                     after=audit.snapshot(binding, BINDING_FIELDS), ip=ip)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent paste bound one of the plates first
        db.session.rollback()
        raise SettingsError(_("Some plates were bound meanwhile; paste them again."), "plates") from exc
    return counts


def delete_binding(actor, binding: PlateCarType, ip: str | None = None) -> None:
    audit.record(actor, "delete", binding, anchor=db.session.get(Park, binding.park_id), label=binding.plate,
                 before=audit.snapshot(binding, BINDING_FIELDS), ip=ip)
    db.session.delete(binding)
    db.session.flush()


def car_type_of(park_id: int, plate: str) -> CarType | None:
    """The car type a plate is bound to at the park (active types only), else None."""
    return db.session.scalar(select(CarType).join(PlateCarType, PlateCarType.car_type_id == CarType.id).where(
        PlateCarType.park_id == park_id, PlateCarType.plate == plate, CarType.active.is_(True)))


def active_car_types(park_id: int) -> list[CarType]:
    """The park's car types a collector may choose from at car in, by code."""
    return list(db.session.scalars(select(CarType).where(CarType.park_id == park_id, CarType.active.is_(True))
                                   .order_by(CarType.code)))
