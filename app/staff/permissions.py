"""Permission codes: `<area>.<action>`. Each area says the lowest level it makes sense at;
a code valid at a level is valid at every level above it, so a higher administrator
always holds what a lower one can be given."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.tenancy.models import LEVEL_ORDER, Level

VIEW, ADD, EDIT, DELETE, EXPORT = "view", "add", "edit", "delete", "export"
SETTLE, RECOVER, WAIVE, COMMAND, RENEW = "settle", "recover", "waive", "command", "renew"
REFUND, RECONCILE = "refund", "reconcile"
# every action any area offers, in the words of the role editor
ACTION_LABELS = {
    VIEW: _l("View"), ADD: _l("Add"), EDIT: _l("Edit"), DELETE: _l("Disable"), EXPORT: _l("Export"),
    SETTLE: _l("Manual settlement"), RECOVER: _l("Recover debts"), WAIVE: _l("Waive debts (zero recovery)"),
    COMMAND: _l("Remote barrier"), RENEW: _l("Renew"),
    REFUND: _l("Refund payments"), RECONCILE: _l("Reconcile statements"),
}
# codes outside the areas (granted to field roles, checked by the device API)
CODE_LABELS = {"pos.free_release": _l("Handheld: free release")}


@dataclass(frozen=True)
class PermissionArea:
    code: str
    label: str
    actions: tuple[str, ...]
    lowest_level: Level = Level.PARK
    field: bool = False  # granted to field roles (handheld), not to admin pages

    def codes(self) -> list[str]:
        return [f"{self.code}.{action}" for action in self.actions]


AREAS: list[PermissionArea] = [
    PermissionArea("dashboard", _l("Dashboard"), (VIEW,)),
    PermissionArea("cities", _l("Cities"), (VIEW, ADD, EDIT, DELETE), Level.PLATFORM),
    PermissionArea("groups", _l("Operating groups"), (VIEW, ADD, EDIT, DELETE), Level.CITY),
    PermissionArea("areas", _l("Areas"), (VIEW, ADD, EDIT, DELETE), Level.GROUP),
    PermissionArea("parks", _l("Parks"), (VIEW, ADD, EDIT, DELETE)),
    PermissionArea("staff", _l("Staff"), (VIEW, ADD, EDIT, DELETE)),
    PermissionArea("roles", _l("Roles"), (VIEW, ADD, EDIT, DELETE)),
    PermissionArea("audit", _l("Audit log"), (VIEW, EXPORT)),
]


def register_area(area: PermissionArea) -> None:
    """Later domains add their areas (tariffs, orders...) when their package is imported."""
    if all(a.code != area.code for a in AREAS):
        AREAS.append(area)


def area_valid_at(area: PermissionArea, level: Level) -> bool:
    return LEVEL_ORDER.index(level) <= LEVEL_ORDER.index(area.lowest_level)


def codes_for_level(level: Level, field: bool = False) -> set[str]:
    return {c for a in AREAS if a.field == field and area_valid_at(a, level) for c in a.codes()}


def areas_for_level(level: Level, field: bool = False) -> list[PermissionArea]:
    return [a for a in AREAS if a.field == field and area_valid_at(a, level)]


def permission_label(code: str) -> str:
    """`members.renew` as a person reads it: "Members (monthly passes): Renew"."""
    if code in CODE_LABELS:
        return str(CODE_LABELS[code])
    area_code, _dot, action = code.partition(".")
    area = next((a for a in AREAS if a.code == area_code), None)
    if area is None or action not in ACTION_LABELS:
        return code
    return _("%(area)s: %(action)s", area=area.label, action=ACTION_LABELS[action])


def all_codes() -> set[str]:
    return {c for a in AREAS for c in a.codes()}
