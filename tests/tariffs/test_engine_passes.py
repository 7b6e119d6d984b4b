"""Monthly pass coverage: what a pass pays for, and that it never makes a stay dearer."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.tariffs.engine import PassCoverage, RuleError, quote
from cases_passes import CASES, RULES

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = datetime(2026, 3, 2, tzinfo=SHANGHAI)


def at(text: str) -> datetime:
    day, clock = text.split(" ")
    hours, minutes = (int(part) for part in clock.split(":"))
    return DAY0 + timedelta(days=int(day), hours=hours, minutes=minutes)


@pytest.mark.parametrize("case", CASES, ids=[case[0] for case in CASES])
def test_pass_fee(case):
    _, rule_name, spec, entered, left, expected = case
    fee = quote(RULES[rule_name], at(entered), at(left), pass_=spec)
    assert fee.total_fen == expected
    assert sum(line.amount_fen for line in fee.lines) == fee.total_fen
    assert fee.total_fen <= quote(RULES[rule_name], at(entered), at(left)).total_fen


def test_dataclass_spec_and_lines():
    spec = PassCoverage(kind="night_window", start="21:00", end="07:00", valid_from=date(2026, 3, 1),
                        valid_until=date(2026, 3, 31))
    fee = quote(RULES["two"], at("0 20:00"), at("1 08:00"), pass_=spec)
    assert fee.total_fen == 400
    passes = [line for line in fee.lines if line.kind == "pass"]
    assert passes and passes[0].start == at("0 21:00") and passes[0].end == at("1 07:00")


def test_no_saving_falls_back_to_normal_fee():
    fee = quote(RULES["legacy_visit"], at("0 08:00"), at("0 14:00"),
                pass_={"kind": "day_window", "start": "10:00", "end": "12:00"})
    assert fee.lines[-1].kind == "pass" and "no saving" in fee.lines[-1].label


@pytest.mark.parametrize("spec, field", [
    ({"kind": "weekly"}, "pass.kind"),
    ({"kind": "day_window", "start": "18:00", "end": "08:00"}, "pass.end"),
    ({"kind": "day_window", "start": "8:00", "end": "18:00"}, "pass.start"),
    ({"kind": "night_window", "start": "21:00"}, "pass.end"),
    ({"kind": "discount", "percent": 0}, "pass.percent"),
    ({"kind": "discount", "percent": 150}, "pass.percent"),
    ({"kind": "free_hours", "hours": 0}, "pass.hours"),
    ({"kind": "all_day", "valid_from": "2026-03-10", "valid_until": "2026-03-01"}, "pass.valid_until"),
    ({"kind": "all_day", "valid_from": "March"}, "pass.valid_from"),
    ({"kind": "all_day", "colour": "red"}, "pass.colour"),
], ids=["bad_kind", "day_window_reversed", "bad_time", "missing_end", "zero_percent", "over_100_percent",
        "zero_hours", "validity_reversed", "bad_date", "unknown_field"])
def test_bad_pass(spec, field):
    with pytest.raises(RuleError) as caught:
        quote(RULES["two"], at("0 08:00"), at("0 10:00"), pass_=spec)
    assert field in caught.value.fields
