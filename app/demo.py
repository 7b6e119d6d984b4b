"""`flask seed-demo`: demo tenants and accounts, safe to run again (get-or-create by name)."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.core.types import utcnow
from app.extensions import db
from app.lanes.demo import seed_demo_lanes
from app.members.demo import seed_members
from app.members.models import PassRenewal
from app.orders.demo import seed_street
from app.staff.models import RoleKind, Staff
from app.staff.services import builtin_role, ensure_builtin_roles
from app.tariffs.demo import seed_tariffs
from app.tenancy.models import Area, City, Level, OperatingGroup, Park, ParkKind

DEMO_PASSWORD = "parkingos-demo"
# (south, west, north, east): every coordinate of Demo City (parks, segments, base stations, reports,
# the GPS of its staff) lies in this box, a few kilometres of one city centre
DEMO_CITY_BOX = (31.215, 121.450, 31.255, 121.495)

# city -> groups -> (areas, parks); park = (name, kind, area or None, capacity, address, lat, lng); an on-street
# park's capacity is its number of berths (app.orders.demo.STREETS)
TREE = {
    ("Demo City", "DEMO"): {
        "Demo Parking Group": {
            "areas": ["Central District"],
            "parks": [("Central Street", ParkKind.ON_STREET, "Central District", 60, "1 Central Street", 31.2304,
                       121.4737),
                      ("Market Road", ParkKind.ON_STREET, "Central District", 40, "Market Road 8-60", 31.2330,
                       121.4790),
                      ("Station Garage", ParkKind.OFF_STREET, None, 400, "2 Station Square", 31.2490, 121.4560)],
        },
        "Riverside Operations": {
            "areas": [],
            "parks": [("Riverside Lot", ParkKind.OFF_STREET, None, 150, "9 River Walk", 31.2200, 121.4900)],
        },
    },
    ("Harbor City", "HARBOR"): {
        "Harbor Parking Company": {
            "areas": ["Harbor Old Town"],
            "parks": [("Harbor Pier Street", ParkKind.ON_STREET, "Harbor Old Town", 20, "Pier Road", 30.2741, 120.1551),
                      ("Harbor Ferry Garage", ParkKind.OFF_STREET, None, 220, "Ferry Terminal", 30.2800, 120.1600)],
        },
    },
}

# username, display name, node path (city, group, park), level, role kind
ACCOUNTS = [
    ("admin", "Platform Administrator", (), Level.PLATFORM, RoleKind.ADMIN),
    ("city1", "Demo City Manager", ("Demo City",), Level.CITY, RoleKind.ADMIN),
    ("group1", "Demo Group Manager", ("Demo City", "Demo Parking Group"), Level.GROUP, RoleKind.ADMIN),
    ("park1", "Central Street Manager", ("Demo City", "Demo Parking Group", "Central Street"), Level.PARK,
     RoleKind.ADMIN),
    ("collector1", "Li Collector", ("Demo City", "Demo Parking Group", "Central Street"), Level.PARK,
     RoleKind.COLLECTOR),
    ("inspector1", "Wang Inspector", ("Demo City", "Demo Parking Group", "Central Street"), Level.PARK,
     RoleKind.INSPECTOR),
    ("city2", "Harbor City Manager", ("Harbor City",), Level.CITY, RoleKind.ADMIN),
    ("harborpark", "Harbor Pier Manager", ("Harbor City", "Harbor Parking Company", "Harbor Pier Street"), Level.PARK,
     RoleKind.ADMIN),
    ("harborcollector", "Harbor Pier Collector", ("Harbor City", "Harbor Parking Company", "Harbor Pier Street"),
     Level.PARK, RoleKind.COLLECTOR),
]


def _get_or_create(model, defaults=None, **keys):
    obj = db.session.scalar(select(model).filter_by(**keys))
    if obj is None:
        obj = model(**keys, **(defaults or {}))
        db.session.add(obj)
        db.session.flush()
    return obj


def seed_tree() -> dict:
    nodes = {}
    for (city_name, code), groups in TREE.items():
        city = _get_or_create(City, {"code": code}, name=city_name)
        nodes[(city_name,)] = city
        for group_name, content in groups.items():
            group = _get_or_create(OperatingGroup, name=group_name, city_id=city.id)
            nodes[(city_name, group_name)] = group
            areas = {a: _get_or_create(Area, {"city_id": city.id}, name=a, group_id=group.id) for a in content["areas"]}
            for name, kind, area, capacity, address, lat, lng in content["parks"]:
                park = _get_or_create(
                    Park, {"city_id": city.id, "kind": kind.value, "area_id": areas[area].id if area else None,
                           "capacity": capacity, "address": address, "latitude": lat, "longitude": lng},
                    name=name, group_id=group.id)
                nodes[(city_name, group_name, name)] = park
    return nodes


def seed_accounts(nodes: dict) -> None:
    for username, display, path, level, kind in ACCOUNTS:
        if db.session.scalar(select(Staff).where(Staff.username == username)):
            continue
        staff = Staff(username=username, display_name=display, role=builtin_role(level, kind))
        staff.anchor_at(nodes[path] if path else None)
        staff.set_password(DEMO_PASSWORD)
        db.session.add(staff)


def seed_demo(history_days: int = 30) -> None:
    first_entry = (db.session.scalar(select(func.max(AuditEntry.id))) or 0) + 1
    ensure_builtin_roles()
    nodes = seed_tree()
    seed_accounts(nodes)
    seed_tariffs(nodes)
    seed_street(DEMO_PASSWORD, history_days)
    from app.payments.demo import seed_payments

    seed_payments()  # before the sensors: the cars paid for by phone have left their berths
    seed_members()
    from app.kerb.demo import seed_sensors

    seed_sensors()
    seed_demo_lanes()
    from app.parks.demo import seed_park_config

    seed_park_config()
    from app.sync.demo import seed_lane_history

    seed_lane_history(history_days)
    from app.integrations.demo import seed_alliance

    seed_alliance()
    _date_setup_entries(first_entry, history_days)
    db.session.commit()


def _date_setup_entries(first_id: int, history_days: int) -> None:
    """The audit rows of the setup (products, tariffs, lists, the link) written by this run at the seed's
    own moment: spread over office hours of the day before the history starts, as a person would have
    typed them. Rows the demo dated itself (pass sales and renewals) keep their time."""
    db.session.flush()
    now = utcnow()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.id >= first_id, AuditEntry.at >= now
                                                          - timedelta(hours=1)).order_by(AuditEntry.id)).all()
    zone = ZoneInfo(current_zone())
    first_sale = db.session.scalar(select(func.min(PassRenewal.at)))
    start = min(now - timedelta(days=history_days), first_sale or now)
    day = start.astimezone(zone).date() - timedelta(days=1)
    moment = datetime.combine(day, time(9, 12), tzinfo=zone)
    rng = random.Random(17)
    for entry in entries:
        entry.at = moment
        moment += timedelta(minutes=rng.randint(2, 9), seconds=rng.randint(0, 59))


def current_zone() -> str:
    return db.session.scalar(select(City.timezone).where(City.name == "Demo City")) or "Asia/Shanghai"


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Create the demo cities, parks and accounts (idempotent)."""
    seed_demo()
    click.echo(f"Demo data ready. Accounts (password {DEMO_PASSWORD}): "
               + ", ".join(a[0] for a in ACCOUNTS))
