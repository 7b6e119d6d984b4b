"""A street ready for work: park p1 with two segments, berths, an approved handheld, a collector,
and an all-day tariff of ¥2 per started hour (so the arithmetic in tests stays readable)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from app.berths.models import Berth, BerthSegment
from app.devices.models import Handheld
from app.staff.models import RoleKind
from app.tariffs.models import TariffRule, TariffVersion
from pos_api.contract import document
from tests.factories import PASSWORD
from tests.openapi_support import check_answer

HOURLY_2_YUAN = {"kind": "parkingos", "day": {"b_time": 0, "b_minute": 0, "e_time": 24, "e_minute": 0, "unit": 60,
                                              "price": "2.00", "first_times": 0, "fprice": "0", "free_time": 0,
                                              "fpay_type": 0, "total24": "0", "is_fulldaytime": 1},
                 "night": None, "minprice_unit": "0", "assist": None}


def ref() -> str:
    return str(uuid.uuid4())


def ago(**kw) -> str:
    return (datetime.now(timezone.utc) - timedelta(**kw)).isoformat()


@dataclass
class Street:
    client: object
    segments: list = field(default_factory=list)
    berths: dict = field(default_factory=dict)   # number -> id
    handhelds: dict = field(default_factory=dict)

    def login(self, username, serial="POS-P1-A", password=PASSWORD):
        response = self.call("POST", "/session", None, json={"username": username, "password": password,
                                                             "device_serial": serial})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]

    def call(self, method, url, token, **kw):
        """The request, its answer checked against the generated document (status, shape, error code)."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = self.client.open(f"/pos/v1{url}", method=method, headers=headers, **kw)
        if response.is_json:
            check_answer(pos_document(), "/pos/v1", method, f"/pos/v1{url}", response.status_code,
                         response.get_json())
        return response


    def signed_in(self, username="collectorp1", segment=0, serial="POS-P1-A"):
        token = self.login(username, serial)
        response = self.call("POST", "/shifts", token, json={"client_ref": ref(),
                                                             "segment_id": self.segments[segment]})
        assert response.status_code == 201, response.get_json()
        return token

    def car_in(self, token, berth, plate, **extra):
        body = {"client_ref": ref(), "berth_id": self.berths[berth], "plate": plate, **extra}
        return self.call("POST", "/orders", token, json=body)


def add_tariff(db, park, document=HOURLY_2_YUAN, effective=None):
    rule = TariffRule(park_id=park.id, name="Hourly", vehicle_class="any")
    rule.versions.append(TariffVersion(version=1, kind=document["kind"], document=document,
                                       effective_from=effective or datetime(2020, 1, 1, tzinfo=timezone.utc)))
    db.session.add(rule)
    db.session.commit()
    return rule


@pytest.fixture
def street(app, tree, make, db):
    street = Street(app.test_client())
    for park_key, prefix in (("p1", "A"), ("p2", "C")):
        park = tree.nodes[park_key]
        for s, name in enumerate(("North", "South")):
            seg = BerthSegment(park_id=park.id, name=f"{park.name} {name}")
            db.session.add(seg)
            db.session.flush()
            if park_key == "p1":
                street.segments.append(seg.id)
            for n in range(1, 4):
                number = f"{prefix if s == 0 else chr(ord(prefix) + 1)}{n:03d}"
                berth = Berth(park_id=park.id, segment_id=seg.id, number=number)
                db.session.add(berth)
                db.session.flush()
                street.berths[number] = berth.id
        handheld = Handheld(serial=f"POS-{park_key.upper()}-A", status="approved")
        handheld.anchor_at(park)
        db.session.add(handheld)
        street.handhelds[park_key] = handheld
    db.session.commit()
    add_tariff(db, tree.p1)
    add_tariff(db, tree.p2)
    make.staff(tree.p1, "collector2p1", kind=RoleKind.COLLECTOR)
    make.staff(tree.p2, "collectorp2", kind=RoleKind.COLLECTOR)
    make.staff(tree.p1, "inspectorp1", kind=RoleKind.INSPECTOR)
    return street


_DOCUMENT: dict = {}


def pos_document() -> dict:
    if not _DOCUMENT:
        _DOCUMENT.update(document())
    return _DOCUMENT
