"""The menu every admin page shows: sections, entries added by each domain, the conditions on what the
viewer's scope holds (no lane pages without off-street parks), the current entry and the breadcrumbs."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from flask import g, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.extensions import db
from app.tenancy.scope import Level, Park, Scope, current_scope

# the menu's sections, in the order they are shown: (key, label)
SECTIONS = [
    ("overview", _l("Overview")),
    ("organisation", _l("Organisation")),
    ("street", _l("Street operations")),
    ("orders", _l("Orders")),
    ("members", _l("Members")),
    ("inspections", _l("Inspections")),
    ("sensors", _l("Sensors")),
    ("off_street", _l("Off-street")),
    ("devices", _l("Devices")),
    ("park_settings", _l("Park settings")),
    ("reports", _l("Reports")),
    ("people", _l("People")),
    ("system", _l("System")),
]


class NavEntry(NamedTuple):
    section: str
    label: Any
    endpoint: str
    permission: str
    requires: str | None = None  # a condition on the scope's contents (NAV_CONDITIONS), or None


NAVIGATION = [
    NavEntry("overview", _l("Dashboard"), "dashboard.index", "dashboard.view"),
    NavEntry("organisation", _l("Cities"), "tenancy.list_cities", "cities.view"),
    NavEntry("organisation", _l("Operating groups"), "tenancy.list_groups", "groups.view"),
    NavEntry("organisation", _l("Areas"), "tenancy.list_areas", "areas.view"),
    NavEntry("organisation", _l("Parks"), "tenancy.list_parks", "parks.view"),
    NavEntry("people", _l("Staff"), "staff.list_staff", "staff.view"),
    NavEntry("people", _l("Roles"), "staff.list_roles", "roles.view"),
    NavEntry("system", _l("Audit log"), "audit.list_entries", "audit.view"),
]

# condition name -> function(scope) giving an SQL boolean: whether the scope holds what the pages are about
NAV_CONDITIONS: dict[str, Callable[[Scope], Any]] = {
    "on_street": lambda scope: scope.select(Park, Park.id).where(Park.kind == "on_street").exists(),
    "off_street": lambda scope: scope.select(Park, Park.id).where(Park.kind == "off_street").exists(),
}


def add_nav(section, label, endpoint, permission, requires: str | None = None) -> None:
    """Later domains add their pages here: `section` is a key of SECTIONS, `requires` a key of
    NAV_CONDITIONS when the page only makes sense for a scope that holds something (sensors, lanes)."""
    if any(e.endpoint == endpoint for e in NAVIGATION):  # one page, one entry
        return
    if not any(key == section for key, _label in SECTIONS):  # a section nobody ordered goes last
        SECTIONS.append((str(section), section))
    NAVIGATION.append(NavEntry(str(section), label, endpoint, permission, requires))


def add_nav_condition(name: str, exists: Callable[[Scope], Any]) -> None:
    NAV_CONDITIONS[name] = exists


def _conditions(names) -> dict[str, bool]:
    """Which conditions the viewer's scope meets, in one statement per request. The platform sees every
    page (it sets the parks up)."""
    cache = g.setdefault("nav_conditions", {})
    wanted = sorted(n for n in names if n not in cache)
    if wanted:
        scope = current_scope()
        if scope.level == Level.PLATFORM:
            cache.update(dict.fromkeys(wanted, True))
        else:
            row = db.session.execute(select(*(NAV_CONDITIONS[n](scope).label(n) for n in wanted))).one()
            cache.update({n: bool(v) for n, v in zip(wanted, row, strict=True)})
    return cache


def visible_entries() -> list[NavEntry]:
    if not current_user.is_authenticated:
        return []
    allowed = [e for e in NAVIGATION if current_user.can(e.permission)]
    met = _conditions({e.requires for e in allowed if e.requires})
    return [e for e in allowed if not e.requires or met[e.requires]]


def visible_navigation():
    """[(section key, section label, [(label, endpoint)])] in the order of SECTIONS."""
    entries = visible_entries()
    return [(key, label, [(e.label, e.endpoint) for e in entries if e.section == key])
            for key, label in SECTIONS if any(e.section == key for e in entries)]


def _prefix_match(entry_path: str, path: str) -> int:
    base = entry_path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        return len(base)
    return -1


def current_entry() -> tuple[NavEntry | None, bool]:
    """The menu entry the page belongs to, and whether the page is that entry itself: the endpoint,
    else the entry whose address is the longest start of the page's (/orders/12 -> /orders), else the
    first entry of the same blueprint (/lot/cameras -> lanes)."""
    endpoint = request.endpoint or ""
    entries = visible_entries()
    for e in entries:
        if e.endpoint == endpoint:
            return e, True
    scored = [(_prefix_match(url_for(e.endpoint), request.path), e) for e in entries]
    best = max(scored, key=lambda pair: pair[0], default=(-1, None))
    if best[0] > 0:
        return best[1], False
    blueprint = endpoint.partition(".")[0]
    return next((e for e in entries if e.endpoint.partition(".")[0] == blueprint), None), False


def breadcrumbs() -> dict | None:
    """Home › section › menu entry (a link unless it is this page); the page's title follows in the
    template."""
    if not current_user.is_authenticated:
        return None
    entry, is_entry = current_entry()
    section = dict(SECTIONS).get(entry.section) if entry else None
    return {"entry": entry, "is_entry": is_entry, "section": section,
            "home": request.endpoint != "dashboard.index"}
