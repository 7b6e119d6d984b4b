"""A monthly pass or a white-listed plate changes what the collector charges."""
from datetime import timedelta

from app.core.types import utcnow
from app.members.models import MonthlyPass, MonthlyProduct, PassPlate, PassRenewal
from app.orders.models import PlateListEntry
from tests.pos_api.conftest import ago, ref


def _pass(db, park, plate, **product):
    prod = MonthlyProduct(name="Monthly", price_fen=30000, **product)
    prod.anchor_at(park)
    today = utcnow().date()
    card = MonthlyPass(product=prod, holder_name="Holder", starts_on=today - timedelta(days=3),
                       ends_on=today + timedelta(days=27))
    card.anchor_at(park)
    card.plates.append(PassPlate(plate=plate))
    db.session.add_all([prod, card])
    db.session.flush()
    db.session.add(PassRenewal(pass_id=card.id, park_id=park.id, kind="sale", months=1, starts_on=card.starts_on,
                               ends_on=card.ends_on, receivable_fen=30000, paid_fen=30000, method="cash"))
    db.session.commit()


def _quote(street, token, plate, hours):
    order = street.car_in(token, "A001", plate, entered_at=ago(hours=hours, minutes=5)).get_json()["order"]
    return street.call("GET", f"/orders/{order['id']}/quote", token).get_json()["quote"]


def test_all_day_pass_parks_free(street, db, tree):
    _pass(db, tree.p1, "PASS001", kind="all_day")
    quote = _quote(street, street.signed_in(), "PASS001", 2)
    assert quote["fee_fen"] == 0
    assert any(line["kind"] == "pass" for line in quote["lines"])


def test_white_listed_plate_parks_free(street, db, tree):
    db.session.add(PlateListEntry(park_id=tree.p1.id, plate="WHITE01", kind="white", reason="Mayor"))
    db.session.commit()
    assert _quote(street, street.signed_in(), "WHITE01", 3)["fee_fen"] == 0


def test_pass_of_another_park_does_not_count(street, db, tree):
    _pass(db, tree.p2, "PASS002", kind="all_day")
    assert _quote(street, street.signed_in(), "PASS002", 2)["fee_fen"] == 600  # 3 started hours at ¥2


def test_free_hours_pass_charges_the_rest(street, db, tree):
    _pass(db, tree.p1, "PASS003", kind="free_hours", free_hours=1)
    quote = _quote(street, street.signed_in(), "PASS003", 2)
    assert 0 < quote["fee_fen"] < 600
