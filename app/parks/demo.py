"""Demo park configuration: parameters and car types of the off-street parks (idempotent)."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.parks.models import CarType, ParkParameters, PlateCarType
from app.tenancy.models import Park, ParkKind

CAR_TYPES = (("Small car", "1", "small"), ("Large car", "2", "large"))
BOUND_PLATES = {"A88888": "2", "B66666": "2"}  # a coach company's buses, priced as large cars
PROVINCES = {"DEMO": "沪", "HARBOR": "浙"}


def seed_park_config() -> None:
    for park in db.session.scalars(select(Park).where(Park.kind == ParkKind.OFF_STREET.value).order_by(Park.id)):
        if db.session.scalar(select(ParkParameters.id).where(ParkParameters.park_id == park.id)) is not None:
            continue
        province = PROVINCES.get(park.city.code, "沪")
        db.session.add(ParkParameters(park_id=park.id, distinguish_vehicle_classes=True, plate_province=province,
                                      allow_pass_second_car=False))
        types = {code: CarType(park_id=park.id, name=name, code=code, vehicle_class=vehicle_class)
                 for name, code, vehicle_class in CAR_TYPES}
        db.session.add_all(types.values())
        db.session.add_all(PlateCarType(park_id=park.id, plate=province + plate, car_type=types[code],
                                        note="Coach company")
                           for plate, code in BOUND_PLATES.items())
        if park.site_type is None:
            park.site_type = "underground"
    db.session.flush()
