"""Table-driven cases for the parkingos compatibility kinds (worked examples and quirks)."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.tariffs.engine import parse_rule, quote
from cases_parkingos import CASES, RULES

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2018, 6, 20, tzinfo=SHANGHAI)


def at(text: str) -> datetime:
    day, clock = text.split(" ")
    parts = [int(part) for part in clock.split(":")] + [0]
    return DAY0 + timedelta(days=int(day), hours=parts[0], minutes=parts[1], seconds=parts[2])


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_parkingos_fee(case):
    _, rule_name, entered, left, expected, *vehicle = case
    fee = quote(RULES[rule_name], at(entered), at(left), vehicle_class=vehicle[0] if vehicle else "small")
    assert fee.total_fen == expected
    assert sum(line.amount_fen for line in fee.lines) == fee.total_fen


def test_cap_branch_does_not_mutate_the_document():
    doc = RULES["dn_60m1_120m0.5_first60free_cap20"]
    before = repr(doc)
    tariff = parse_rule(doc)
    assert quote(tariff, at("0 12:00"), at("2 12:00")).total_fen == 3200
    assert quote(tariff, at("0 12:00"), at("0 21:00")).total_fen == 800  # first hour still free
    assert repr(doc) == before


def test_utc_input_gives_same_fee():
    utc = ZoneInfo("UTC")
    fee = quote(RULES["dn_15m1.5_60m1"], at("0 21:01").astimezone(utc), at("1 13:01").astimezone(utc))
    assert fee.total_fen == 4750


def test_lines_explain_fill_and_segments():
    fee = quote(RULES["dn_15m1.5_60m1"], at("0 20:50"), at("0 22:04"))
    kinds = [(line.kind, line.minutes, line.units, line.amount_fen) for line in fee.lines]
    assert kinds == [("band", 15, 1, 150), ("band", 59, 1, 100)]
    assert "borrowed" in fee.lines[0].label
    assert fee.lines[0].start == at("0 20:50") and fee.lines[1].end == at("0 22:04")


def test_cap_and_rounding_lines_are_negative():
    fee = quote(RULES["dn_15m1.25_60m0.75_min01"], at("0 07:00"), at("1 07:00"))
    assert fee.lines[-1].kind == "rounding" and fee.lines[-1].amount_fen == -40
    capped = quote(RULES["allday_15m_first_free_cap25_min05"], at("0 12:00"), at("0 15:00"))
    assert capped.total_fen == 1600
    capped = quote(RULES["allday_30m_1y_cap15"], at("0 08:00"), at("0 20:00"))
    assert [line.kind for line in capped.lines][-1] == "cap" and capped.lines[-1].amount_fen == -900


def test_to_dict_is_json_ready():
    fee = quote(RULES["allday_60m_2y"], at("0 07:00"), at("0 08:30"))
    data = fee.to_dict()
    assert data["total_fen"] == 400
    assert data["lines"][0]["start"] == "2018-06-20T07:00:00+08:00"


def test_naive_datetime_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        quote(RULES["allday_60m_2y"], datetime(2018, 6, 20, 7), at("0 08:00"))
