"""Factories for every model of the foundation, and the two-city tree most tests use."""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import count

from app.staff.models import Role, RoleKind, Staff
from app.staff.services import builtin_role, ensure_builtin_roles
from app.tenancy.models import Area, City, Level, OperatingGroup, Park

PASSWORD = "correct-horse-9"
MARKER = "Harbor"
_seq = count(1)


class Factory:
    def __init__(self, db):
        self.db = db

    def _save(self, obj):
        self.db.session.add(obj)
        self.db.session.commit()
        return obj

    def city(self, name=None, **kw):
        return self._save(City(name=name or f"City {next(_seq)}", **kw))

    def group(self, city, name=None, **kw):
        return self._save(OperatingGroup(city_id=city.id, name=name or f"Group {next(_seq)}", **kw))

    def area(self, group, name=None, **kw):
        return self._save(Area(city_id=group.city_id, group_id=group.id, name=name or f"Area {next(_seq)}", **kw))

    def park(self, group, name=None, area=None, **kw):
        return self._save(Park(city_id=group.city_id, group_id=group.id, area_id=area.id if area else None,
                               name=name or f"Park {next(_seq)}", **kw))

    def role(self, node, name=None, codes=(), kind=RoleKind.ADMIN, target_level=None):
        role = Role(name=name or f"Role {next(_seq)}", kind=kind.value, builtin=False,
                    target_level=(target_level or (node.level if node is not None else Level.PLATFORM)).value)
        role.anchor_at(node)
        role.set_codes(codes)
        return self._save(role)

    def staff(self, node, username=None, role=None, kind=RoleKind.ADMIN, password=PASSWORD, display_name=None):
        ensure_builtin_roles()
        level = node.level if node is not None else Level.PLATFORM
        staff = Staff(username=username or f"user{next(_seq)}", display_name=display_name or f"Person {next(_seq)}",
                      role=role or builtin_role(level, kind))
        staff.anchor_at(node)
        staff.set_password(password)
        return self._save(staff)


@dataclass
class Tree:
    """Alpha City: groups a1 (area a1x; parks p1 in a1x, p2) and a2 (area a2x, park p3).
    Harbor City: group h1 (area h1x, park hp); every Harbor name and username says 'harbor'."""

    nodes: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.nodes[name]
        except KeyError:
            raise AttributeError(name) from None


def build_tree(make: Factory) -> Tree:
    t = Tree()
    n = t.nodes
    n["city_a"] = make.city("Alpha City")
    n["a1"] = make.group(n["city_a"], "Alpha Group One")
    n["a2"] = make.group(n["city_a"], "Alpha Group Two")
    n["a1x"] = make.area(n["a1"], "Alpha Old Town")
    n["p1"] = make.park(n["a1"], "Alpha Street One", area=n["a1x"])
    n["p2"] = make.park(n["a1"], "Alpha Street Two")
    n["a2x"] = make.area(n["a2"], "Alpha Riverside")
    n["p3"] = make.park(n["a2"], "Alpha Garage Three", area=n["a2x"], kind="off_street")
    n["city_h"] = make.city(f"{MARKER} City")
    n["h1"] = make.group(n["city_h"], f"{MARKER} Group")
    n["h1x"] = make.area(n["h1"], f"{MARKER} Area")
    n["hp"] = make.park(n["h1"], f"{MARKER} Pier", area=n["h1x"])
    for key, username in [(None, "root"), ("city_a", "citya"), ("a1", "groupa1"), ("a2", "groupa2"),
                          ("a1x", "areaa1x"), ("p1", "parkp1"), ("p2", "parkp2"), ("p3", "parkp3"),
                          ("city_h", "harborcity"), ("h1", "harborgroup"), ("hp", "harborpark")]:
        node = n[key] if key else None
        display = f"{MARKER} manager {username}" if "harbor" in username else None
        t.staff[username] = make.staff(node, username, display_name=display)
    t.staff["collectorp1"] = make.staff(n["p1"], "collectorp1", kind=RoleKind.COLLECTOR)
    t.staff["harborcollector"] = make.staff(n["hp"], "harborcollector", kind=RoleKind.COLLECTOR,
                                            display_name=f"{MARKER} collector")
    return t
