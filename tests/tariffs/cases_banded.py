"""Data tables for the "banded" rule kind.  Day 0 = Monday 2026-03-02 unless a
case gives a full date; times "day HH:MM[:SS]"; expected amounts in fen."""

WEEKDAY_BANDS = [{"start": "00:00", "end": "07:00", "rate": "night"},
                 {"start": "07:00", "end": "21:00", "rate": "day"},
                 {"start": "21:00", "end": "24:00", "rate": "night"}]


def two_rates(day=None, night=None, **extra):
    """Day 07-21 2 yuan/h, night 1 yuan/h, every day."""
    return {
        "kind": "banded",
        "rates": {"day": day or {"unit_minutes": 60, "price_fen": 200},
                  "night": night or {"unit_minutes": 60, "price_fen": 100}},
        "schedule": [{"bands": WEEKDAY_BANDS}],
        **extra,
    }


STANDARD = {
    "kind": "banded",
    "boundary": "split",
    "grace_minutes": 10,
    "rates": {
        "day": {"tiers": [{"from_minute": 0, "unit_minutes": 30, "price_fen": 0},
                          {"from_minute": 30, "unit_minutes": 30, "price_fen": 200},
                          {"from_minute": 120, "unit_minutes": 30, "price_fen": 300}]},
        "night": {"unit_minutes": 60, "price_fen": 100},
        "weekend": {"unit_minutes": 60, "price_fen": 100},
        "free": {"unit_minutes": 60, "price_fen": 0},
    },
    "schedule": [
        {"calendar": "holiday", "bands": [{"start": "00:00", "end": "24:00", "rate": "free"}]},
        {"days": ["sat", "sun"], "bands": [{"start": "00:00", "end": "24:00", "rate": "weekend"}]},
        {"days": ["mon", "tue", "wed", "thu", "fri"], "bands": WEEKDAY_BANDS},
    ],
    "classes": {
        "large": {"rates": {"day": {"tiers": [{"from_minute": 0, "unit_minutes": 30, "price_fen": 0},
                                              {"from_minute": 30, "unit_minutes": 30, "price_fen": 400}]}},
                  "grace_minutes": 5},
        "T7": {"entry_fee_fen": 300},
    },
}

RULES = {
    "standard": STANDARD,
    "standard_start": {**STANDARD, "boundary": "start"},
    "two": two_rates(),
    "two_start": two_rates(boundary="start"),
    "two_down": two_rates(day={"unit_minutes": 60, "price_fen": 200, "rounding": "down"},
                          night={"unit_minutes": 60, "price_fen": 100, "rounding": "down"}),
    "two_nearest": two_rates(day={"unit_minutes": 60, "price_fen": 200, "rounding": "nearest"},
                             night={"unit_minutes": 60, "price_fen": 100, "rounding": "nearest"}),
    "two_start_down": two_rates(boundary="start", night={"unit_minutes": 60, "price_fen": 100, "rounding": "down"}),
    "capped_day_0600": two_rates(caps={"stay_fen": 4000, "period": {"type": "day", "reset": "06:00", "fen": 1500}}),
    "capped_day_0000": two_rates(caps={"period": {"type": "day", "fen": 400}}),
    "capped_rolling": two_rates(caps={"period": {"type": "rolling_24h", "fen": 1500}}),
    "capped_stay": two_rates(caps={"stay_fen": 1000}),
    "entry": two_rates(entry_fee_fen=500, grace_minutes=10),
    "flat_first_8h": two_rates(day={"tiers": [{"from_minute": 0, "flat_fen": 1000},
                                              {"from_minute": 480, "unit_minutes": 60, "price_fen": 200}]}),
    "per_class_caps": two_rates(caps={"stay_fen": 1000},
                                classes={"large": {"caps": {"stay_fen": 3000},
                                                   "rates": {"day": {"unit_minutes": 60, "price_fen": 400}}}}),
    "gap_0230": {"kind": "banded",
                 "rates": {"a": {"unit_minutes": 60, "price_fen": 100}, "b": {"unit_minutes": 60, "price_fen": 200}},
                 "schedule": [{"bands": [{"start": "00:00", "end": "02:30", "rate": "a"},
                                         {"start": "02:30", "end": "24:00", "rate": "b"}]}]},
}

HOLIDAYS = {"holiday": {"2026-03-04", "2026-10-01"}}

# (id, rule, entered, left, expected fen[, vehicle class])
CASES = [
    # grace and progressive tiers (first 30 min free, 2 yuan/30 min to 2 h, then 3 yuan/30 min)
    ("grace_just_under", "standard", "0 09:00:00", "0 09:09:59", 0),
    ("grace_reached_first_tier_free", "standard", "0 09:00", "0 09:10", 0),
    ("tier1_full", "standard", "0 09:00", "0 09:30", 0),
    ("tier2_first_minute", "standard", "0 09:00", "0 09:31", 200),
    ("tier2_end", "standard", "0 09:00", "0 11:00", 600),
    ("tier3_first_minute", "standard", "0 09:00", "0 11:01", 900),
    ("tier3_hour", "standard", "0 09:00", "0 12:00", 1200),
    ("night_one_hour", "standard", "0 22:00", "0 23:00", 100),
    ("night_across_midnight_merged", "standard", "0 23:30", "1 00:30", 100),
    ("day_to_night_split", "standard", "0 20:00", "0 21:30", 300),
    ("night_to_day_tier_measured_from_arrival", "standard", "0 06:00", "0 08:00", 500),
    ("weekend_all_day_rate", "standard", "5 10:00", "5 12:00", 200),
    ("friday_night_into_saturday", "standard", "4 23:00", "5 01:00", 200),
    ("holiday_free_with_calendar", "standard", "2 10:00", "2 12:00", 0),
    ("weekday_boundary_before_holiday", "standard", "1 20:00", "2 01:00", 500),
    # band transitions: split vs start
    ("split_unit_cut_at_21", "two", "0 20:30", "0 21:30", 300),
    ("start_unit_priced_by_start_band", "two_start", "0 20:30", "0 21:30", 200),
    ("split_then_full_night_hour", "two", "0 20:30", "0 22:00", 300),
    ("start_then_partial_night", "two_start", "0 20:30", "0 22:00", 300),
    ("start_minute_after_first_unit", "two_start", "0 20:30", "0 21:31", 300),
    ("start_down_rounding_final_partial", "two_start_down", "0 20:30", "0 22:00", 200),
    ("start_down_whole_units", "two_start_down", "0 20:30", "0 22:30", 300),
    ("start_tiers_standard", "standard_start", "0 20:00", "0 21:30", 300),
    ("start_tiers_unit_crosses_21", "standard_start", "0 20:15", "0 21:30", 300),
    ("split_tiers_unit_crosses_21", "standard", "0 20:15", "0 21:30", 300),
    # rounding of partial units per band
    ("round_up_1min", "two", "0 08:00", "0 08:01", 200),
    ("round_down_split", "two_down", "0 20:30", "0 21:30", 0),
    ("round_down_whole_and_partial", "two_down", "0 20:00", "0 21:30", 200),
    ("round_nearest_half_rounds_up", "two_nearest", "0 20:30", "0 21:30", 300),
    ("round_nearest_under_half", "two_nearest", "0 20:31", "0 21:29", 0),
    ("round_nearest_over_half", "two_nearest", "0 08:00", "0 09:31", 400),
    # multi-day
    ("two_full_days", "two", "0 08:00", "2 08:00", 7600),
    ("one_week", "two", "0 07:00", "7 07:00", 26600),
    ("midnight_to_midnight", "two", "0 00:00", "1 00:00", 3800),
    # caps
    ("day_cap_one_day", "capped_day_0600", "0 08:00", "0 20:00", 1500),
    ("day_cap_reset_0600", "capped_day_0600", "0 08:00", "1 08:00", 1800),
    ("day_cap_and_stay_cap", "capped_day_0600", "0 08:00", "3 08:00", 4000),
    ("day_cap_midnight_reset", "capped_day_0000", "0 20:00", "1 02:00", 600),
    ("rolling_cap_24h", "capped_rolling", "0 08:00", "1 08:00", 1500),
    ("rolling_cap_second_window", "capped_rolling", "0 08:00", "1 09:00", 1700),
    ("stay_cap", "capped_stay", "0 08:00", "0 20:00", 1000),
    ("stay_cap_not_reached", "capped_stay", "0 08:00", "0 10:00", 400),
    # entry fee and grace
    ("entry_fee_plus_hour", "entry", "0 08:00", "0 09:00", 700),
    ("entry_fee_waived_in_grace", "entry", "0 08:00", "0 08:05", 0),
    ("entry_fee_at_grace", "entry", "0 08:00", "0 08:10", 700),
    # flat tier
    ("flat_first_8h", "flat_first_8h", "0 09:00", "0 12:00", 1000),
    ("flat_then_hourly", "flat_first_8h", "0 09:00", "0 17:30", 1200),
    ("flat_charged_once_over_days", "flat_first_8h", "0 09:00", "1 09:00", 1000 + 4 * 200 + 10 * 100 + 2 * 200),
    # vehicle classes
    ("class_large_tier_price", "standard", "0 09:00", "0 10:00", 400, "large"),
    ("class_large_grace_5", "standard", "0 09:00", "0 09:06", 0, "large"),
    ("class_new_energy_uses_default", "standard", "0 09:00", "0 10:00", 200, "new_energy"),
    ("class_park_code_entry_fee", "standard", "0 09:00", "0 10:00", 500, "T7"),
    ("class_caps_override", "per_class_caps", "0 08:00", "0 20:00", 3000, "large"),
    ("class_caps_default", "per_class_caps", "0 08:00", "0 20:00", 1000, "small"),
]

# (id, rule, tz, entered ISO, left ISO, expected fen)
DST_CASES = [
    ("berlin_spring_night_is_9h", "two", "Europe/Berlin", "2026-03-28T20:00", "2026-03-29T08:00", 1300),
    ("berlin_fall_night_is_11h", "two", "Europe/Berlin", "2026-10-24T20:00", "2026-10-25T08:00", 1500),
    ("newyork_spring_night_is_9h", "two", "America/New_York", "2026-03-07T20:00", "2026-03-08T08:00", 1300),
    ("newyork_fall_night_is_11h", "two", "America/New_York", "2026-10-31T20:00", "2026-11-01T08:00", 1500),
    ("newyork_band_edge_in_gap", "gap_0230", "America/New_York", "2026-03-08T00:00", "2026-03-08T04:00", 400),
    ("berlin_rolling_cap_across_dst", "capped_rolling", "Europe/Berlin", "2026-03-28T08:00", "2026-03-29T08:00", 1500),
    ("berlin_day_cap_short_day", "capped_day_0000", "Europe/Berlin", "2026-03-28T22:00", "2026-03-29T05:00", 600),
    ("shanghai_no_dst", "two", "Asia/Shanghai", "2026-03-28T20:00", "2026-03-29T08:00", 1400),
]
