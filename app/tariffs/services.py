"""Choosing the tariff version that applies to a stay, and quoting with it.
Plain functions: the admin preview, the handheld API and the reports all call these."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _
from sqlalchemy import BindParameter, bindparam, case, select

from app.audit import services as audit
from app.core.errors import Invalid
from app.core.refs import ParkRef
from app.core.types import utcnow
from app.extensions import db
from app.tariffs.engine import Fee, parse_rule, quote
from app.tariffs.models import ANY_CLASS, TariffRule, TariffVersion
from app.tenancy.models import Park


def _in_force(*columns):
    """Selects the version in force at :at of park :park_id's active rule for :vehicle_class (or of its
    'any' rule); built once, run with parameters."""
    vehicle_class: BindParameter[str] = bindparam("vehicle_class")
    exact = TariffRule.vehicle_class == vehicle_class
    return (select(*columns).join(TariffRule)
            .where(TariffRule.park_id == bindparam("park_id"), TariffRule.active.is_(True),
                   TariffRule.vehicle_class.in_([vehicle_class, ANY_CLASS]),
                   TariffVersion.effective_from <= bindparam("at"))
            .order_by(case((exact, 0), else_=1), TariffVersion.effective_from.desc(), TariffVersion.version.desc())
            .limit(1))


_VERSION_IN_FORCE = _in_force(TariffVersion)
VERSION_ID_IN_FORCE = _in_force(TariffVersion.id)  # the id alone, for a new order; parameters as above
_DOCUMENT = select(TariffVersion.document).where(TariffVersion.id == bindparam("version_id"))


def applicable_version(park_id: int, vehicle_class: str, at: datetime) -> TariffVersion | None:
    """The version in force at `at` of the park's active rule for the class (or of its 'any' rule)."""
    return db.session.scalar(_VERSION_IN_FORCE, {"park_id": park_id, "vehicle_class": vehicle_class, "at": at})


@lru_cache(maxsize=1024)
def _parse_document(document_json: str):
    return parse_rule(json.loads(document_json))


def parsed_rule(version: TariffVersion):
    """Parse each distinct document once per process; versions never change once written."""
    return _parse_document(json.dumps(version.document, sort_keys=True))


def rule_of_version(version_id: int | None, document: dict | None = None):
    """The parsed rule of a version by id (None: no tariff), from its `document` if the caller read it along
    with something else (an order), else reading only the document."""
    if version_id is None:
        return None
    if document is None:
        document = db.session.scalar(_DOCUMENT, {"version_id": version_id})
    return None if document is None else _parse_document(json.dumps(document, sort_keys=True))


def quote_stay(park: Park, version: TariffVersion | None, entered_at: datetime, left_at: datetime,
               vehicle_class: str = "small", pass_=None) -> Fee:
    """The fee of a stay under a given version; a park without any tariff charges nothing."""
    return quote_rule(park, parsed_rule(version) if version is not None else None, entered_at, left_at,
                      vehicle_class, pass_)


def quote_rule(park: ParkRef, rule, entered_at: datetime, left_at: datetime, vehicle_class: str = "small",
               pass_=None) -> Fee:
    """`quote_stay` with the rule already parsed (see `rule_of_version`)."""
    if rule is None:
        return Fee(0, ())
    return quote(rule, entered_at, left_at, vehicle_class, park.timezone, pass_=pass_)


# ---------------------------------------------------------------- rule pages (admin writes)

class TariffInputError(Invalid, ValueError):
    """Input the pages must show next to fields: `fields` maps a field path to a message."""
    code = "tariff_input_invalid"

    def __init__(self, fields: dict):
        # messages are lazy: translated when shown, in the reader's language
        super().__init__(self.code, next(iter(fields.values()), ""), dict(fields))

    def __str__(self) -> str:
        return "; ".join(f"{path}: {message}" for path, message in self.fields.items())


RULE_FIELDS = ("park_id", "name", "vehicle_class", "active")
MAX_PREVIEW_STAY = timedelta(days=366)


def local_to_utc(naive: datetime, zone: str) -> datetime:
    """A wall-clock time of the park (as typed in a form) to aware UTC; a time that does
    not exist on that day (clock moved forward) is refused."""
    tz = ZoneInfo(zone)
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(timezone.utc).astimezone(tz).replace(tzinfo=None) != naive:
        raise ValueError(_("That local time does not exist (the clock jumps over it)."))
    return aware.astimezone(timezone.utc)


def utc_to_local(moment: datetime, zone: str) -> datetime:
    """Aware UTC to the park's naive wall clock, for prefilling forms."""
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)


def version_at(rule: TariffRule, at: datetime) -> TariffVersion | None:
    """The version of this one rule in force at `at` (same order as applicable_version)."""
    eligible = [v for v in rule.versions if v.effective_from <= at]
    return max(eligible, key=lambda v: (v.effective_from, v.version)) if eligible else None


def scheduled_versions(rule: TariffRule, at: datetime) -> list[TariffVersion]:
    return [v for v in rule.versions if v.effective_from > at]


def check_document(document) -> str:
    """Validate a rule document with the engine; returns its kind, raises RuleError."""
    return parse_rule(document).kind


def _check_effective(effective_from: datetime, now: datetime, allow_past: bool) -> datetime:
    """A tariff never starts in the past (open stays would be repriced); the current
    minute, as typed in a form, means "now"."""
    if allow_past:
        return effective_from
    if effective_from < now.replace(second=0, microsecond=0):
        raise TariffInputError({"effective_from": _("Must not be in the past: stays already running would be "
                                                    "charged by it. Leave it empty for “now”.")})
    return max(effective_from, now)


def _lock(model, object_id: int) -> None:
    """Serialise writers of the same park or rule (PostgreSQL row lock; SQLite writes one at a time)."""
    db.session.execute(select(model.id).where(model.id == object_id).with_for_update())


def _active_twin(park_id: int, vehicle_class: str, exclude_id: int | None = None) -> TariffRule | None:
    stmt = select(TariffRule).where(TariffRule.park_id == park_id, TariffRule.vehicle_class == vehicle_class,
                                    TariffRule.active.is_(True))
    if exclude_id is not None:
        stmt = stmt.where(TariffRule.id != exclude_id)
    return db.session.scalar(stmt.limit(1))


def _twin_error(twin: TariffRule) -> TariffInputError:
    return TariffInputError({"vehicle_class": _("The park already has an active rule for this class "
                                                "(“%(name)s”): add a version to it instead.", name=twin.name)})


def _version_snapshot(version: TariffVersion | None) -> dict:
    if version is None:
        return {}
    return {"version": version.version, "kind": version.kind, "effective_from": version.effective_from.isoformat(),
            "note": version.note, "document": version.document}


def create_rule(actor, park: Park, *, name: str, vehicle_class: str, document: dict,
                effective_from: datetime | None = None, note: str | None = None, ip: str | None = None,
                now: datetime | None = None, allow_past: bool = False) -> TariffRule:
    """A new rule with its version 1, audited; the caller commits. Raises RuleError or TariffInputError."""
    now = now or utcnow()
    kind = check_document(document)
    effective_from = _check_effective(effective_from or now, now, allow_past)
    _lock(Park, park.id)
    twin = _active_twin(park.id, vehicle_class)
    if twin is not None:
        raise _twin_error(twin)
    rule = TariffRule(park_id=park.id, name=name.strip(), vehicle_class=vehicle_class, active=True)
    version = TariffVersion(version=1, kind=kind, document=document, effective_from=effective_from,
                            note=note or None, created_by_id=getattr(actor, "id", None))
    rule.versions.append(version)
    db.session.add(rule)
    db.session.flush()
    audit.record(actor, "create", rule, anchor=park, label=rule.name, ip=ip,
                 after={**audit.snapshot(rule, RULE_FIELDS), **_version_snapshot(version)})
    return rule


def add_version(actor, rule: TariffRule, *, document: dict, effective_from: datetime | None = None,
                note: str | None = None, ip: str | None = None, now: datetime | None = None,
                allow_past: bool = False) -> TariffVersion:
    """Version N+1 of a rule (an edit never changes a version an order may have used)."""
    now = now or utcnow()
    kind = check_document(document)
    effective_from = _check_effective(effective_from or now, now, allow_past)
    _lock(TariffRule, rule.id)
    latest = db.session.scalar(select(TariffVersion).where(TariffVersion.rule_id == rule.id)
                               .order_by(TariffVersion.version.desc()).limit(1))
    if latest is not None and effective_from < latest.effective_from:
        raise TariffInputError({"effective_from": _("Must not be earlier than the latest version's effective "
                                                    "time: versions take effect in order.")})
    version = TariffVersion(rule_id=rule.id, version=(latest.version if latest else 0) + 1, kind=kind,
                            document=document, effective_from=effective_from, note=note or None,
                            created_by_id=getattr(actor, "id", None))
    rule.versions.append(version)
    db.session.flush()
    audit.record(actor, "update", rule, anchor=rule.park, label=rule.name, ip=ip,
                 before=_version_snapshot(latest), after=_version_snapshot(version))
    return version


def set_rule_active(actor, rule: TariffRule, active: bool, *, ip: str | None = None) -> None:
    """Disable (the park falls back to its 'any' rule, or charges nothing) or enable a rule."""
    if active:
        _lock(Park, rule.park_id)
        twin = _active_twin(rule.park_id, rule.vehicle_class, exclude_id=rule.id)
        if twin is not None:
            raise _twin_error(twin)
    before = audit.snapshot(rule, ("active",))
    rule.active = active
    audit.record(actor, "enable" if active else "disable", rule, anchor=rule.park, label=rule.name, ip=ip,
                 before=before, after=audit.snapshot(rule, ("active",)))


# ---------------------------------------------------------------- pasted legacy rows (price_tb)

LEGACY_INT_KEYS = ("pay_type", "b_time", "b_minute", "e_time", "e_minute", "unit", "first_times", "free_time",
                   "fpay_type", "is_fulldaytime", "state")
LEGACY_YUAN_KEYS = ("price", "fprice", "total24")
ROW_KEYS = ("b_time", "b_minute", "e_time", "e_minute", "unit", "price", "first_times", "fprice", "free_time",
            "fpay_type", "total24", "is_fulldaytime")


def document_from_paste(pasted, minprice_unit: str | None = None) -> dict:
    """A rule document from what an operator pasted: a document with "kind" as it is, or old
    price_tb row(s) converted the way the old engine picked them (the row with e_time > b_time is
    the day row, another one the night row; pay_type 1 is a per-visit rule; state 1 rows are off)."""
    if isinstance(pasted, dict) and "kind" in pasted:
        return pasted
    rows = [pasted] if isinstance(pasted, dict) else pasted
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise TariffInputError({"pasted": _("Paste a rule document with “kind”, or a list of one or two "
                                            "rows of the old price table (objects with b_time, e_time, unit, "
                                            "price…).")})
    rows = [_legacy_row(row, index) for index, row in enumerate(rows)]
    rows = [row for row in rows if row.get("state", 0) == 0]
    timed = [row for row in rows if row.get("pay_type", 0) == 0]
    if not timed:
        visits = [row for row in rows if row.get("pay_type") == 1]
        if not visits:
            raise TariffInputError({"pasted": _("No row is in force (every row has state 1).")})
        return {"kind": "parkingos_per_visit", "unit": visits[0].get("unit", 0), "price": visits[0].get("price")}
    if len(timed) > 2:
        raise TariffInputError({"pasted": _("A time-based rule has at most two rows (day and night).")})
    day = next((row for row in timed if _is_day(row)), timed[0])
    night = next((row for row in timed if row is not day and not _is_day(row)), None)
    if len(timed) == 2 and night is None:
        raise TariffInputError({"pasted": _("Both rows are day rows (their end hour is after their start "
                                            "hour); the night row ends at or before its start hour.")})
    document = {"kind": "parkingos", "day": _row_only(day), "night": _row_only(night) if night else None}
    if minprice_unit:
        document["minprice_unit"] = minprice_unit
    return document


def _is_day(row: dict) -> bool:
    b, e = row.get("b_time"), row.get("e_time")
    return isinstance(b, int) and isinstance(e, int) and e > b


def _row_only(row: dict) -> dict:
    return {key: row[key] for key in ROW_KEYS if row.get(key) is not None}


def _legacy_row(row: dict, index: int) -> dict:
    """Old dumps hold numbers as floats or strings: whole numbers become int, money a yuan string."""
    out = dict(row)
    for key in LEGACY_INT_KEYS:
        value = out.get(key)
        if isinstance(value, float) and value.is_integer():
            out[key] = int(value)
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            out[key] = int(value.strip())
    for key in LEGACY_YUAN_KEYS:
        value = out.get(key)
        if isinstance(value, float):
            out[key] = format(Decimal(str(value)).normalize(), "f")
        elif isinstance(value, int) and not isinstance(value, bool):
            out[key] = str(value)
    return out


# ---------------------------------------------------------------- previews

def check_stay(entered_at: datetime, left_at: datetime) -> None:
    if left_at <= entered_at:
        raise TariffInputError({"left_at": _("Must be later than the entry.")})
    if left_at - entered_at > MAX_PREVIEW_STAY:
        raise TariffInputError({"left_at": _("Try a stay of at most 366 days.")})


def preview_document(document, park: Park, entered_at: datetime, left_at: datetime,
                     vehicle_class: str = "small", pass_=None) -> Fee:
    """The fee of a sample stay under a rule document (saved or not). Raises RuleError."""
    check_stay(entered_at, left_at)
    return quote(parse_rule(document), entered_at, left_at, vehicle_class, park.timezone, pass_=pass_)


def preview_version(rule: TariffRule, version: TariffVersion, entered_at: datetime, left_at: datetime,
                    vehicle_class: str = "small", pass_=None) -> Fee:
    check_stay(entered_at, left_at)
    return quote(parsed_rule(version), entered_at, left_at, vehicle_class, rule.park.timezone, pass_=pass_)


def preview_park(park: Park, vehicle_class: str, entered_at: datetime, left_at: datetime,
                 pass_=None) -> tuple[TariffVersion | None, Fee]:
    """What an order of this class entering at `entered_at` would pay, with the version it gets."""
    check_stay(entered_at, left_at)
    version = applicable_version(park.id, vehicle_class, entered_at)
    return version, quote_stay(park, version, entered_at, left_at, vehicle_class, pass_=pass_)
