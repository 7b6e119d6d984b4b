"""Permission codes: `<area>.<action>`. Each area says the lowest level it makes sense at;
a code valid at a level is valid at every level above it, so a higher administrator
always holds what a lower one can be given."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from app.tenancy.models import LEVEL_ORDER, Level

VIEW, ADD, EDIT, DELETE, EXPORT = "view", "add", "edit", "delete", "export"
ACTION_LABELS = {
    VIEW: _l("View"), ADD: _l("Add"), EDIT: _l("Edit"), DELETE: _l("Disable"), EXPORT: _l("Export"),
}


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


def all_codes() -> set[str]:
    return {c for a in AREAS for c in a.codes()}
