"""Sensor fixtures for the tests of this package: a base station per park of the street fixture and a
sensor on each berth of p1 (S-A001 … S-B003) and of p2 (S-C001 …)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from app.sensors.models import BaseStation, Sensor
from app.sensors.services import hash_key
from tests.pos_api.conftest import Street, ago, ref, street  # noqa: F401  (fixtures used by the tests)


def at(**kw) -> datetime:
    return datetime.now(timezone.utc) - timedelta(**kw)


@dataclass
class Sensors:
    street: Street
    keys: dict = field(default_factory=dict)      # park key -> station key
    stations: dict = field(default_factory=dict)  # park key -> station id
    sensors: dict = field(default_factory=dict)   # serial -> sensor id

    def post(self, events, park="p1", key=None):
        return self.street.client.post("/pos/v1/sensor-events", json={"events": events},
                                       headers={"X-Station-Key": key or self.keys[park]})

    def event(self, serial, kind, when, **extra):
        return {"client_ref": ref(), "sensor_serial": serial, "kind": kind,
                "occurred_at": when.isoformat() if isinstance(when, datetime) else when, **extra}


@pytest.fixture
def sensored(street, tree, db):
    result = Sensors(street)
    for park_key in ("p1", "p2"):
        park = tree.nodes[park_key]
        key = f"bs_test_key_{park_key}_0123456789"
        station = BaseStation(park_id=park.id, serial=f"BS-{park_key.upper()}", key_hash=hash_key(key),
                              key_hint=key[:7])
        db.session.add(station)
        db.session.flush()
        result.keys[park_key], result.stations[park_key] = key, station.id
    for number, berth_id in street.berths.items():
        park_key = "p1" if number[0] in "AB" else "p2"
        sensor = Sensor(park_id=tree.nodes[park_key].id, serial=f"S-{number}", berth_id=berth_id,
                        station_id=result.stations[park_key])
        db.session.add(sensor)
        db.session.flush()
        result.sensors[sensor.serial] = sensor.id
    db.session.commit()
    return result
