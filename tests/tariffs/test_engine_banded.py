"""Table-driven cases for the banded rule kind: bands, tiers, rounding, caps, classes, DST."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.tariffs.engine import parse_rule, quote
from cases_banded import CASES, DST_CASES, HOLIDAYS, RULES

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 3, 2, tzinfo=SHANGHAI)  # a Monday
CALENDAR = {name: {date.fromisoformat(day) for day in days} for name, days in HOLIDAYS.items()}


def at(text: str) -> datetime:
    day, clock = text.split(" ")
    parts = [int(part) for part in clock.split(":")] + [0]
    return DAY0 + timedelta(days=int(day), hours=parts[0], minutes=parts[1], seconds=parts[2])


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_banded_fee(case):
    _, rule_name, entered, left, expected, *vehicle = case
    fee = quote(RULES[rule_name], at(entered), at(left), vehicle_class=vehicle[0] if vehicle else "small",
                calendar=CALENDAR)
    assert fee.total_fen == expected
    assert sum(line.amount_fen for line in fee.lines) == fee.total_fen


@pytest.mark.parametrize("case", DST_CASES, ids=[case[0] for case in DST_CASES])
def test_banded_dst(case):
    _, rule_name, zone, entered, left, expected = case
    tz = ZoneInfo(zone)
    fee = quote(RULES[rule_name], datetime.fromisoformat(entered).replace(tzinfo=tz),
                datetime.fromisoformat(left).replace(tzinfo=tz), park_timezone=zone)
    assert fee.total_fen == expected


def test_holiday_needs_calendar():
    assert quote(RULES["standard"], at("2 10:00"), at("2 12:00")).total_fen == 600


def test_lines_show_bands_and_caps():
    fee = quote(RULES["capped_day_0600"], at("0 08:00"), at("1 08:00"))
    assert [line.kind for line in fee.lines] == ["band", "band", "band", "cap"]
    cap = fee.lines[-1]
    assert cap.amount_fen == -2000 and cap.start == at("0 08:00") and cap.end == at("1 06:00")


def test_month_folded_lines_add_up():
    tariff = parse_rule(RULES["capped_day_0600"])
    fee = quote(tariff, at("0 08:00"), at("30 08:00"))
    assert fee.total_fen == 4000
    month = quote(parse_rule(RULES["two"]), at("0 07:00"), at("30 07:00"))
    assert month.total_fen == 30 * 3800
    assert sum(line.amount_fen for line in month.lines) == month.total_fen
    assert any("x" in line.label for line in month.lines)


def test_dst_line_minutes_are_real_minutes():
    tz = ZoneInfo("Europe/Berlin")
    fee = quote(RULES["two"], datetime(2026, 3, 28, 22, tzinfo=tz), datetime(2026, 3, 29, 6, tzinfo=tz),
                park_timezone="Europe/Berlin")
    assert fee.lines[0].minutes == 7 * 60 and fee.total_fen == 700
