"""Rule documents that must be refused, each with the field path the operator must fix."""
import copy

import pytest

from app.tariffs.engine import RuleError, parse_rule, yuan_to_fen
from cases_banded import RULES as BANDED
from cases_parkingos import RULES as LEGACY


def legacy(**changes):
    doc = copy.deepcopy(LEGACY["dn_15m1.5_60m1"])
    for path, value in changes.items():
        _set(doc, path, value)
    return doc


def banded(**changes):
    doc = copy.deepcopy(BANDED["standard"])
    for path, value in changes.items():
        _set(doc, path, value)
    return doc


def _set(doc, path, value):
    keys = path.split("__")
    for key in keys[:-1]:
        doc = doc[int(key)] if isinstance(doc, list) else doc[key]
    last = keys[-1]
    if value is _DELETE:
        del doc[last]
    elif isinstance(doc, list):
        doc[int(last)] = value
    else:
        doc[last] = value


_DELETE = object()

BAD = [
    ("not_an_object", ["kind"], "(document)"),
    ("unknown_kind", {"kind": "hourly"}, "kind"),
    ("missing_kind", {"day": {}}, "kind"),
    ("legacy_missing_day", {"kind": "parkingos"}, "day"),
    ("legacy_missing_day_unit", legacy(day__unit=_DELETE), "day.unit"),
    ("legacy_day_unit_zero", legacy(day__unit=0), "day.unit"),
    ("legacy_night_unit_zero", legacy(night__unit=0), "night.unit"),
    ("legacy_negative_price", legacy(day__price="-1"), "day.price"),
    ("legacy_float_price", legacy(day__price=1.5), "day.price"),
    ("legacy_three_decimals", legacy(day__price="1.555"), "day.price"),
    ("legacy_price_not_a_number", legacy(day__price="abc"), "day.price"),
    ("legacy_day_band_reversed", legacy(day__b_time=21, day__e_time=7), "day.e_time"),
    ("legacy_hour_out_of_range", legacy(day__b_time=25), "day.b_time"),
    ("legacy_bad_fpay_type", legacy(day__fpay_type=2), "day.fpay_type"),
    ("legacy_bad_fill_flag", legacy(day__is_fulldaytime=3), "day.is_fulldaytime"),
    ("legacy_unknown_row_field", legacy(day__colour="red"), "day.colour"),
    ("legacy_negative_free_time", legacy(night__free_time=-5), "night.free_time"),
    ("legacy_min_unit_too_big", legacy(minprice_unit="2"), "minprice_unit"),
    ("legacy_assist_without_price", legacy(night=None, assist={"assist_unit": 60}), "assist.assist_price"),
    ("legacy_class_unit_zero", legacy(classes={"large": {"night": {"unit": 0, "price": "1"}}}),
     "classes.large.night.unit"),
    ("legacy_class_unknown_field", legacy(classes={"large": {"caps": {}}}), "classes.large.caps"),
    ("visit_missing_price", {"kind": "parkingos_per_visit", "unit": 0}, "price"),
    ("visit_negative_unit", {"kind": "parkingos_per_visit", "unit": -1, "price": "1"}, "unit"),
    ("banded_missing_rates", banded(rates=_DELETE), "rates"),
    ("banded_empty_rates", banded(rates={}), "rates"),
    ("banded_tier_unit_zero", banded(rates__day__tiers__0__unit_minutes=0), "rates.day.tiers[0].unit_minutes"),
    ("banded_first_tier_not_zero", banded(rates__day__tiers__0__from_minute=5), "rates.day.tiers[0].from_minute"),
    ("banded_tiers_not_increasing", banded(rates__day__tiers__1__from_minute=0), "rates.day.tiers[1].from_minute"),
    ("banded_negative_price", banded(rates__night__price_fen=-1), "rates.night.price_fen"),
    ("banded_price_as_string", banded(rates__night__price_fen="1.00"), "rates.night.price_fen"),
    ("banded_bad_rounding", banded(rates__night__rounding="sideways"), "rates.night.rounding"),
    ("banded_flat_with_unit", banded(rates__night={"flat_fen": 100, "unit_minutes": 60}), "rates.night.unit_minutes"),
    ("banded_bands_overlap", banded(schedule__2__bands__1__start="06:00"), "schedule[2].bands"),
    ("banded_bands_gap", banded(schedule__2__bands__1__start="08:00"), "schedule[2].bands"),
    ("banded_bands_short_of_24", banded(schedule__1__bands__0__end="23:00"), "schedule[1].bands"),
    ("banded_band_reversed", banded(schedule__1__bands__0__start="10:00", schedule__1__bands__0__end="09:00"),
     "schedule[1].bands[0].end"),
    ("banded_unknown_rate", banded(schedule__1__bands__0__rate="evening"), "schedule[1].bands[0].rate"),
    ("banded_bad_clock", banded(schedule__2__bands__0__end="7:00"), "schedule[2].bands[0].end"),
    ("banded_weekday_uncovered", banded(schedule__1__days=["sat"]), "schedule"),
    ("banded_bad_weekday", banded(schedule__1__days=["saturday"]), "schedule[1].days"),
    ("banded_empty_schedule", banded(schedule=[]), "schedule"),
    ("banded_bad_boundary", banded(boundary="middle"), "boundary"),
    ("banded_negative_grace", banded(grace_minutes=-1), "grace_minutes"),
    ("banded_bad_period_type", banded(caps={"period": {"type": "week", "fen": 100}}), "caps.period.type"),
    ("banded_rolling_with_reset", banded(caps={"period": {"type": "rolling_24h", "fen": 100, "reset": "06:00"}}),
     "caps.period.reset"),
    ("banded_period_without_amount", banded(caps={"period": {"type": "day"}}), "caps.period.fen"),
    ("banded_negative_stay_cap", banded(caps={"stay_fen": -1}), "caps.stay_fen"),
    ("banded_class_bad_price", banded(classes={"large": {"rates": {"night": {"unit_minutes": 60, "price_fen": -2}}}}),
     "classes.large.rates.night.price_fen"),
    ("banded_class_unknown_field", banded(classes={"large": {"bogus": 1}}), "classes.large.bogus"),
    ("banded_classes_not_object", banded(classes=["large"]), "classes"),
    ("banded_unknown_top_field", banded(currency="CNY"), "currency"),
]


@pytest.mark.parametrize("doc, field", [case[1:] for case in BAD], ids=[case[0] for case in BAD])
def test_bad_rule_names_the_field(doc, field):
    with pytest.raises(RuleError) as caught:
        parse_rule(doc)
    assert field in caught.value.fields, caught.value.fields
    assert caught.value.fields[field]  # a human message


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(RuleError) as caught:
        parse_rule(legacy(day__unit=0, night__price="x", minprice_unit="3"))
    assert {"day.unit", "night.price", "minprice_unit"} <= set(caught.value.fields)
    assert "day.unit" in str(caught.value)


def test_good_rules_parse_and_document_is_untouched():
    for doc in list(LEGACY.values()) + list(BANDED.values()):
        before = copy.deepcopy(doc)
        parse_rule(doc)
        assert doc == before


@pytest.mark.parametrize("text, fen", [("1.50", 150), ("2", 200), (3, 300), ("0.05", 5), ("-1", -100)],
                         ids=["two_decimals", "integer_string", "integer", "five_fen", "negative"])
def test_yuan_to_fen(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["1.005", 1.5, "1e3x", None, True], ids=["three_decimals", "float", "junk",
                                                                          "none", "bool"])
def test_yuan_to_fen_refuses(text):
    with pytest.raises(ValueError):
        yuan_to_fen(text)
