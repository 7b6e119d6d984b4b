"""Demo tariffs: every demo park gets a realistic rule (idempotent: a rule is found by park and name).
On-street parks bill like the old ParkingOS day/night table, off-street parks by banded hourly rates.
Rules of the Harbor City parks carry "Harbor" in their names; no other rule name does."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.extensions import db
from app.tariffs import services
from app.tariffs.models import ANY_CLASS, TariffRule
from app.tenancy.models import Park, ParkKind

EFFECTIVE = datetime(2024, 1, 1)  # park-local midnight; the demo's orders all fall after it
LARGE_CLASS_PARK = "Central Street"
HARBOR = "Harbor"


def street_rule(day_price: str = "1.50", night_price: str = "1", cap: str = "20", day_start: int = 7,
                day_end: int = 21, day_unit: int = 15) -> dict:
    """Day band: first 15 minutes free, then per unit; night per hour; a 24-hour cap."""
    return {
        "kind": "parkingos",
        "day": {"b_time": day_start, "e_time": day_end, "unit": day_unit, "price": day_price,
                "free_time": 15, "fpay_type": 1, "total24": cap, "is_fulldaytime": 0},
        "night": {"b_time": day_end, "e_time": day_start, "unit": 60, "price": night_price,
                  "free_time": 15, "fpay_type": 1},
    }


def garage_rule(hourly_fen: int = 300, free_minutes: int = 30, daily_cap_fen: int = 3000) -> dict:
    """First minutes free, then by the hour, capped per calendar day."""
    return {
        "kind": "banded",
        "rates": {"hourly": {"tiers": [{"from_minute": 0, "unit_minutes": free_minutes, "price_fen": 0},
                                       {"from_minute": free_minutes, "unit_minutes": 60,
                                        "price_fen": hourly_fen}]}},
        "schedule": [{"bands": [{"start": "00:00", "end": "24:00", "rate": "hourly"}]}],
        "caps": {"period": {"type": "day", "fen": daily_cap_fen}},
    }


def demo_rules(park: Park, harbor: bool) -> list[tuple[str, str, dict]]:
    """(name, vehicle class, document) of the rules a demo park gets."""
    if harbor:
        if park.kind == ParkKind.ON_STREET.value:
            return [(f"{HARBOR} street day/night", ANY_CLASS,
                     street_rule(day_price="2", night_price="1", cap="25", day_start=8, day_end=20, day_unit=30))]
        return [(f"{HARBOR} garage hourly", ANY_CLASS, garage_rule(hourly_fen=400, free_minutes=15,
                                                                   daily_cap_fen=4000))]
    if park.kind == ParkKind.ON_STREET.value:
        rules = [("Street day/night", ANY_CLASS, street_rule())]
        if park.name == LARGE_CLASS_PARK:
            rules.append(("Street day/night, large vehicles", "large",
                          street_rule(day_price="3", night_price="2", cap="40")))
        return rules
    return [("Garage hourly", ANY_CLASS, garage_rule())]


def seed_tariffs(nodes: dict) -> None:
    """`nodes` maps name paths (city, group, park) to the seeded objects, as app.demo builds it."""
    for path, node in nodes.items():
        if not isinstance(node, Park):
            continue
        for name, vehicle_class, document in demo_rules(node, harbor=HARBOR in path[0]):
            _ensure_rule(node, name, vehicle_class, document)
    db.session.flush()


def _ensure_rule(park: Park, name: str, vehicle_class: str, document: dict) -> None:
    exists = db.session.scalar(select(TariffRule.id).where(TariffRule.park_id == park.id, TariffRule.name == name))
    if exists is not None:
        return
    effective = EFFECTIVE.replace(tzinfo=ZoneInfo(park.timezone))
    services.create_rule(None, park, name=name, vehicle_class=vehicle_class, document=document,
                         effective_from=effective, note="demo", allow_past=True)
