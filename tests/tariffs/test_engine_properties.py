"""Hypothesis properties of the fee engine over random rules and stays."""
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings, strategies as st

from app.tariffs.engine import banded as banded_module
from app.tariffs.engine import parse_rule, quote

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York"]
BASE = datetime(2026, 3, 1, tzinfo=timezone.utc)  # stays cross the March DST changes
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hhmm(hour: int) -> str:
    return f"{hour:02d}:00"


@st.composite
def rates(draw, name):
    unit = draw(st.sampled_from([1, 15, 30, 45, 60, 120]))
    rounding = draw(st.sampled_from(["up", "down", "nearest"]))
    price = draw(st.integers(0, 800))
    if draw(st.booleans()):
        free = draw(st.sampled_from([15, 30, 60]))
        return {"rounding": rounding, "tiers": [
            {"from_minute": 0, "unit_minutes": free, "price_fen": 0},
            {"from_minute": free, "unit_minutes": unit, "price_fen": price},
            {"from_minute": free + 120, "unit_minutes": unit, "price_fen": price + draw(st.integers(0, 300))}]}
    return {"unit_minutes": unit, "price_fen": price, "rounding": rounding}


@st.composite
def banded_rules(draw, grace=True):
    start = draw(st.integers(1, 11))
    end = draw(st.integers(start + 1, 23))
    caps = {}
    if draw(st.booleans()):
        caps["stay_fen"] = draw(st.integers(0, 20000))
    period = draw(st.sampled_from([None, "day", "rolling_24h"]))
    if period == "day":
        caps["period"] = {"type": "day", "fen": draw(st.integers(0, 5000)), "reset": hhmm(draw(st.integers(0, 23)))}
    elif period:
        caps["period"] = {"type": "rolling_24h", "fen": draw(st.integers(0, 5000))}
    return {
        "kind": "banded",
        "boundary": draw(st.sampled_from(["split", "start"])),
        "grace_minutes": draw(st.integers(0, 30)) if grace else 0,
        "entry_fee_fen": draw(st.sampled_from([0, 0, 300])),
        "rates": {"day": draw(rates("day")), "night": draw(rates("night"))},
        "schedule": [{"bands": [{"start": "00:00", "end": hhmm(start), "rate": "night"},
                                {"start": hhmm(start), "end": hhmm(end), "rate": "day"},
                                {"start": hhmm(end), "end": "24:00", "rate": "night"}]}],
        "caps": caps,
    }


@st.composite
def legacy_rules(draw, all_day=False, first_period=True):
    def row(hours):
        values = {"b_time": hours[0], "e_time": hours[1], "unit": draw(st.sampled_from([15, 30, 45, 60, 120])),
                  "price": f"{draw(st.integers(0, 500)) / 100:.2f}",
                  "free_time": draw(st.sampled_from([0, 0, 15, 30])), "fpay_type": draw(st.sampled_from([0, 1])),
                  "is_fulldaytime": draw(st.sampled_from([0, 1])),
                  "total24": draw(st.sampled_from(["0", "0", "20", "45.50"]))}
        if first_period:
            values.update(first_times=draw(st.sampled_from([0, 30, 60, 90])),
                          fprice=f"{draw(st.integers(0, 300)) / 100:.2f}")
        return values
    begin = 0 if all_day else draw(st.integers(0, 12))
    finish = 24 if all_day else draw(st.integers(begin + 1, 24))
    doc = {"kind": "parkingos", "day": row((begin, finish)),
           "minprice_unit": draw(st.sampled_from(["0", "0.5", "1"]))}
    if not all_day and draw(st.booleans()):
        doc["night"] = row((finish, begin))
    if draw(st.booleans()) and "night" not in doc:
        doc["assist"] = {"assist_unit": draw(st.sampled_from([30, 60, 120])), "assist_price": "3"}
    return doc


stays = st.tuples(st.integers(0, 40 * 86400), st.integers(0, 12 * 86400), st.sampled_from(ZONES))
passes = st.one_of(
    st.just({"kind": "all_day", "valid_until": "2026-03-20"}),
    st.builds(lambda h: {"kind": "night_window", "start": hhmm(h), "end": "07:00"}, st.integers(18, 23)),
    st.builds(lambda h: {"kind": "day_window", "start": hhmm(h), "end": "18:00"}, st.integers(6, 12)),
    st.builds(lambda p: {"kind": "discount", "percent": p, "start": "08:00", "end": "20:00"}, st.integers(1, 100)),
    st.builds(lambda n: {"kind": "free_hours", "hours": n}, st.integers(1, 30)),
)


def stay_times(stay):
    offset, length, _ = stay
    return BASE + timedelta(seconds=offset), BASE + timedelta(seconds=offset + length)


def check_lines(fee):
    assert fee.total_fen >= 0
    assert sum(line.amount_fen for line in fee.lines) == fee.total_fen


@SETTINGS
@given(banded_rules(), stays)
def test_banded_never_negative_lines_add_up_caps_hold(doc, stay):
    entered, left = stay_times(stay)
    fee = quote(doc, entered, left, park_timezone=stay[2])
    check_lines(fee)
    caps = doc["caps"]
    if "stay_fen" in caps:
        assert fee.total_fen <= caps["stay_fen"]
    if "period" in caps:
        windows = -(-stay[1] // 86400) + 2
        assert fee.total_fen <= caps["period"]["fen"] * windows


@SETTINGS
@given(banded_rules(grace=False), stays, st.integers(1, 3 * 86400))
def test_banded_longer_stay_never_cheaper(doc, stay, extra):
    tariff = parse_rule(doc)
    entered, left = stay_times(stay)
    shorter = quote(tariff, entered, left, park_timezone=stay[2]).total_fen
    assert quote(tariff, entered, left + timedelta(seconds=extra), park_timezone=stay[2]).total_fen >= shorter


@SETTINGS
@given(banded_rules(), stays)
def test_banded_day_folding_changes_nothing(doc, stay):
    tariff = parse_rule(doc)
    entered, left = stay_times(stay)
    left += timedelta(days=4)
    folded = quote(tariff, entered, left, park_timezone=stay[2])
    banded_module.FOLD_DAYS = False
    try:
        plain = quote(tariff, entered, left, park_timezone=stay[2])
    finally:
        banded_module.FOLD_DAYS = True
    assert folded.total_fen == plain.total_fen
    check_lines(plain)


@SETTINGS
@given(st.one_of(banded_rules(), legacy_rules()), stays, passes)
def test_pass_never_costs_more(doc, stay, spec):
    tariff = parse_rule(doc)
    entered, left = stay_times(stay)
    with_pass = quote(tariff, entered, left, park_timezone=stay[2], pass_=spec)
    check_lines(with_pass)
    assert with_pass.total_fen <= quote(tariff, entered, left, park_timezone=stay[2]).total_fen


@SETTINGS
@given(legacy_rules(), stays)
def test_legacy_never_negative_and_cap_bound(doc, stay):
    entered, left = stay_times(stay)
    fee = quote(doc, entered, left, park_timezone=stay[2])
    check_lines(fee)
    cap = parse_rule(doc).default.cap_fen
    if cap:
        assert fee.total_fen <= cap * max(1, -(-stay[1] // 86400))


@SETTINGS
@given(legacy_rules(all_day=True, first_period=False), stays, st.integers(1, 3 * 86400))
def test_legacy_all_day_longer_stay_never_cheaper(doc, stay, extra):
    tariff = parse_rule(doc)
    entered, left = stay_times(stay)
    shorter = quote(tariff, entered, left).total_fen
    assert quote(tariff, entered, left + timedelta(seconds=extra)).total_fen >= shorter
