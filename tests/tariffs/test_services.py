"""Tariff services: which version applies when, versions taking effect in order, pasted legacy rows,
local times, and the demo tariffs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.core.types import utcnow
from app.demo import seed_tree
from app.extensions import db
from app.tariffs import services
from app.tariffs.demo import seed_tariffs
from app.tariffs.engine import RuleError, quote
from app.tariffs.models import TariffRule, TariffVersion
from app.tenancy.models import City, Park

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _request(app):
    """Messages are translated for the reader: services run inside a request here, as behind a page."""
    with app.test_request_context():
        yield


def hourly(price_fen: int) -> dict:
    return {"kind": "banded", "rates": {"h": {"unit_minutes": 60, "price_fen": price_fen}},
            "schedule": [{"bands": [{"start": "00:00", "end": "24:00", "rate": "h"}]}]}


def _rule(db, park, price_fen=200, vehicle_class="any", name="Hourly", effective=T0):
    rule = services.create_rule(None, park, name=name, vehicle_class=vehicle_class, document=hourly(price_fen),
                                effective_from=effective, allow_past=True)
    db.session.commit()
    return rule


def test_future_version_waits_for_its_time(tree, db):
    rule = _rule(db, tree.p1)
    now = T0 + timedelta(days=1)
    later = now + timedelta(days=2)
    v2 = services.add_version(None, rule, document=hourly(300), effective_from=later, now=now)
    db.session.commit()
    assert v2.version == 2 and [v.version for v in rule.versions] == [1, 2]
    assert services.applicable_version(tree.p1.id, "small", now).version == 1
    assert services.applicable_version(tree.p1.id, "small", later - timedelta(seconds=1)).version == 1
    assert services.applicable_version(tree.p1.id, "small", later).version == 2
    assert services.applicable_version(tree.p1.id, "small", later + timedelta(days=30)).version == 2
    assert services.applicable_version(tree.p1.id, "small", T0 - timedelta(seconds=1)) is None


def test_stay_started_under_v1_keeps_v1_after_v2_lands(tree, db):
    rule = _rule(db, tree.p1, price_fen=200)
    entered = T0 + timedelta(hours=10)
    v2_time = entered + timedelta(hours=1)
    services.add_version(None, rule, document=hourly(500), effective_from=v2_time, now=entered)
    db.session.commit()
    left = v2_time + timedelta(hours=2)  # the car leaves after v2 is in force
    version = services.applicable_version(tree.p1.id, "small", entered)
    assert version.version == 1
    fee = services.quote_stay(tree.p1, version, entered, left)
    assert fee.total_fen == quote(hourly(200), entered, left, "small", "Asia/Shanghai").total_fen == 600
    newcomer = services.applicable_version(tree.p1.id, "small", v2_time + timedelta(minutes=5))
    assert services.quote_stay(tree.p1, newcomer, v2_time, left).total_fen == 1000


def test_versions_take_effect_in_order_and_not_in_the_past(tree, db):
    rule = _rule(db, tree.p1)
    now = T0 + timedelta(days=5)
    with pytest.raises(services.TariffInputError) as err:
        services.add_version(None, rule, document=hourly(300), effective_from=now - timedelta(hours=1), now=now)
    assert "effective_from" in err.value.fields
    services.add_version(None, rule, document=hourly(300), effective_from=now + timedelta(days=3), now=now)
    with pytest.raises(services.TariffInputError, match="earlier than the latest"):
        services.add_version(None, rule, document=hourly(400), effective_from=now + timedelta(days=1), now=now)
    same_minute = now.replace(second=30)
    assert services.add_version(None, rule, document=hourly(300), effective_from=now + timedelta(days=3),
                                now=same_minute).version == 3
    assert services._check_effective(now.replace(second=0), same_minute, False) == same_minute


def test_bad_documents_raise_rule_errors_with_paths(tree, db):
    with pytest.raises(RuleError) as err:
        services.create_rule(None, tree.p1, name="Bad", vehicle_class="any", document={"kind": "parkingos"})
    assert "day" in err.value.fields
    assert db.session.scalar(select(func.count()).select_from(TariffRule)) == 0


def test_class_rule_wins_and_disabled_rule_falls_back(tree, db):
    _rule(db, tree.p1, price_fen=200)
    large = _rule(db, tree.p1, price_fen=400, vehicle_class="large", name="Large")
    at = T0 + timedelta(days=1)
    assert services.applicable_version(tree.p1.id, "large", at).rule_id == large.id
    assert services.applicable_version(tree.p1.id, "small", at).rule.vehicle_class == "any"
    services.set_rule_active(None, large, False)
    db.session.commit()
    assert services.applicable_version(tree.p1.id, "large", at).rule.vehicle_class == "any"
    with pytest.raises(services.TariffInputError):
        services.create_rule(None, tree.p1, name="Twin", vehicle_class="any", document=hourly(1))


def test_version_at_and_scheduled(tree, db):
    rule = _rule(db, tree.p1)
    services.add_version(None, rule, document=hourly(300), effective_from=T0 + timedelta(days=2),
                         now=T0 + timedelta(days=1))
    assert services.version_at(rule, T0 + timedelta(days=1)).version == 1
    assert services.version_at(rule, T0 + timedelta(days=2)).version == 2
    assert services.version_at(rule, T0 - timedelta(days=1)) is None
    assert [v.version for v in services.scheduled_versions(rule, T0 + timedelta(days=1))] == [2]


def test_parsed_rule_is_cached_per_document(tree, db):
    version = _rule(db, tree.p1).latest
    assert services.parsed_rule(version) is services.parsed_rule(version)


# ---------------------------------------------------------------- pasted legacy rows

DAY = {"pay_type": 0, "b_time": 7, "e_time": 21, "unit": 15, "price": 1.5, "fprice": 0.0, "total24": -1,
       "free_time": 15, "fpay_type": 1, "countless": 0, "car_type": 0, "state": 0}
NIGHT = {"pay_type": "0", "b_time": "21", "e_time": "7", "unit": 60.0, "price": "1", "state": 0}


def test_paste_picks_day_and_night_rows_like_the_old_engine():
    document = services.document_from_paste([NIGHT, DAY], "1")
    assert document == {
        "kind": "parkingos", "minprice_unit": "1",
        "day": {"b_time": 7, "e_time": 21, "unit": 15, "price": "1.5", "fprice": "0", "total24": "-1",
                "free_time": 15, "fpay_type": 1},
        "night": {"b_time": 21, "e_time": 7, "unit": 60, "price": "1"},
    }
    assert services.document_from_paste(DAY)["night"] is None
    assert services.document_from_paste([DAY, {**NIGHT, "state": 1}])["night"] is None


def test_paste_per_visit_and_documents():
    assert services.document_from_paste([{"pay_type": 1, "unit": 30, "price": 2}]) == \
        {"kind": "parkingos_per_visit", "unit": 30, "price": "2"}
    document = {"kind": "banded", "rates": {}}
    assert services.document_from_paste(document) is document


@pytest.mark.parametrize("pasted, message", [
    ("text", "rows of the old price table"),
    ([], "rows of the old price table"),
    ([DAY, DAY], "Both rows are day rows"),
    ([DAY, NIGHT, NIGHT], "at most two rows"),
    ([{**DAY, "state": 1}], "No row is in force"),
])
def test_paste_refuses_what_it_cannot_read(pasted, message):
    with pytest.raises(services.TariffInputError, match=message):
        services.document_from_paste(pasted)


# ---------------------------------------------------------------- local times and previews

def test_local_times_round_trip_and_gaps():
    moment = services.local_to_utc(datetime(2026, 3, 2, 8, 0), "Asia/Shanghai")
    assert moment == datetime(2026, 3, 2, 0, 0, tzinfo=timezone.utc)
    assert services.utc_to_local(moment, "Asia/Shanghai") == datetime(2026, 3, 2, 8, 0)
    with pytest.raises(ValueError, match="does not exist"):
        services.local_to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Zurich")


def test_preview_refuses_backwards_and_endless_stays(tree, db):
    with pytest.raises(services.TariffInputError):
        services.preview_document(hourly(100), tree.p1, T0, T0)
    with pytest.raises(services.TariffInputError):
        services.preview_document(hourly(100), tree.p1, T0, T0 + timedelta(days=400))
    assert services.preview_document(hourly(100), tree.p1, T0, T0 + timedelta(minutes=61)).total_fen == 200


def test_preview_park_reports_the_version_used(tree, db):
    rule = _rule(db, tree.p1, price_fen=250)
    version, fee = services.preview_park(tree.p1, "small", T0, T0 + timedelta(hours=2))
    assert version.rule_id == rule.id and fee.total_fen == 500
    version, fee = services.preview_park(tree.p2, "small", T0, T0 + timedelta(hours=2))
    assert version is None and fee.total_fen == 0


# ---------------------------------------------------------------- demo tariffs

def _seed():
    """The demo tree and its tariffs (what seed_demo does for tariffs, without the street history)."""
    seed_tariffs(seed_tree())
    db.session.commit()


@pytest.fixture
def demo(db):
    _seed()
    return db


def test_demo_gives_every_park_an_active_rule(demo):
    now = utcnow()
    parks = demo.session.scalars(select(Park)).all()
    assert len(parks) >= 6
    for park in parks:
        version = services.applicable_version(park.id, "small", now)
        assert version is not None and version.rule.active, park.name
        fee = services.quote_stay(park, version, now, now + timedelta(hours=2))
        assert 0 < fee.total_fen <= 4000, park.name


def test_demo_tariffs_are_idempotent_and_named_per_tenant(demo):
    counts = [demo.session.scalar(select(func.count()).select_from(m)) for m in (TariffRule, TariffVersion)]
    _seed()
    assert [demo.session.scalar(select(func.count()).select_from(m)) for m in (TariffRule, TariffVersion)] == counts
    harbor = demo.session.scalar(select(City.id).where(City.name.contains("Harbor")))
    for rule in demo.session.scalars(select(TariffRule)):
        assert ("Harbor" in rule.name) == (rule.park.city_id == harbor), rule.name
    large = demo.session.scalar(select(TariffRule).where(TariffRule.vehicle_class == "large"))
    assert large is not None and large.latest.document["day"]["price"] == "3"


def test_demo_street_rule_prices_like_the_brief(demo):
    park = demo.session.scalar(select(Park).where(Park.name == "Central Street"))
    day = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
    small = services.applicable_version(park.id, "small", day)
    large = services.applicable_version(park.id, "large", day)
    assert services.quote_stay(park, small, day, day + timedelta(minutes=10)).total_fen == 0   # first 15 min free
    assert services.quote_stay(park, small, day, day + timedelta(minutes=75)).total_fen == 600  # 60 min billed
    assert services.quote_stay(park, large, day, day + timedelta(minutes=75), "large").total_fen == 1200
    assert services.quote_stay(park, small, day, day + timedelta(hours=30)).total_fen <= 2000 + 2000
    garage = demo.session.scalar(select(Park).where(Park.name == "Station Garage"))
    version = services.applicable_version(garage.id, "small", day)
    assert services.quote_stay(garage, version, day, day + timedelta(minutes=30)).total_fen == 0
    assert services.quote_stay(garage, version, day, day + timedelta(minutes=90)).total_fen == 300
    assert services.quote_stay(garage, version, day, day + timedelta(hours=14)).total_fen == 3000
