"""Pass coverage cases (月卡).  Day 0 = Monday 2026-03-02, Asia/Shanghai; fen."""
from cases_banded import RULES as BANDED
from cases_parkingos import RULES as LEGACY

RULES = {
    "two": BANDED["two"],
    "two_capped": BANDED["capped_day_0600"],
    "standard": BANDED["standard"],
    "legacy_dn": LEGACY["dn_15m1.5_60m1"],
    "legacy_visit": LEGACY["visit_flat5"],
    "legacy_allday": LEGACY["allday_60m_2y"],
}

# (id, rule, pass spec, entered, left, expected fen)
CASES = [
    ("all_day_covers_everything", "two", {"kind": "all_day"}, "0 08:00", "0 10:00", 0),
    ("all_day_expired", "two", {"kind": "all_day", "valid_until": "2026-03-01"}, "0 08:00", "0 10:00", 400),
    ("all_day_not_yet_valid", "two", {"kind": "all_day", "valid_from": "2026-03-03"}, "0 08:00", "0 10:00", 400),
    ("all_day_validity_ends_mid_stay", "two", {"kind": "all_day", "valid_until": "2026-03-02"},
     "0 20:00", "1 02:00", 200),
    ("all_day_validity_starts_mid_stay", "two", {"kind": "all_day", "valid_from": "2026-03-03"},
     "0 22:00", "1 02:00", 200),
    ("night_window_covers_night", "two", {"kind": "night_window", "start": "21:00", "end": "07:00"},
     "0 20:00", "1 08:00", 400),
    ("night_window_inside_only", "two", {"kind": "night_window", "start": "21:00", "end": "07:00"},
     "0 22:00", "1 06:00", 0),
    ("day_window_edges_charged", "two", {"kind": "day_window", "start": "08:00", "end": "18:00"},
     "0 07:00", "0 19:00", 400),
    ("day_window_split_uncovered_parts_round_separately", "two",
     {"kind": "day_window", "start": "08:00", "end": "18:00"}, "0 07:59", "0 18:01", 400),
    ("day_window_multi_day", "two", {"kind": "day_window", "start": "07:00", "end": "21:00"},
     "0 07:00", "2 07:00", 2000),
    ("discount_half_all_day", "two", {"kind": "discount", "percent": 50}, "0 08:00", "0 10:00", 200),
    ("discount_window_quarter", "two", {"kind": "discount", "percent": 25, "start": "09:00", "end": "10:00"},
     "0 08:00", "0 10:00", 350),
    ("discount_full", "two", {"kind": "discount", "percent": 100}, "0 08:00", "0 10:00", 0),
    ("free_hours_two", "two", {"kind": "free_hours", "hours": 2}, "0 08:00", "0 11:00", 200),
    ("free_hours_longer_than_stay", "two", {"kind": "free_hours", "hours": 5}, "0 08:00", "0 11:00", 0),
    ("free_hours_keeps_tier_clock", "standard", {"kind": "free_hours", "hours": 1}, "0 09:00", "0 11:00", 400),
    ("pass_with_day_cap", "two_capped", {"kind": "night_window", "start": "21:00", "end": "07:00"},
     "0 08:00", "1 08:00", 1700),
    ("legacy_night_window", "legacy_dn", {"kind": "night_window", "start": "21:00", "end": "07:00"},
     "0 20:00", "1 08:00", 1200),
    ("legacy_free_hours", "legacy_dn", {"kind": "free_hours", "hours": 1}, "0 08:00", "0 10:00", 600),
    ("legacy_discount", "legacy_allday", {"kind": "discount", "percent": 50}, "0 08:00", "0 11:00", 300),
    ("legacy_all_day_expired", "legacy_allday", {"kind": "all_day", "valid_until": "2026-03-01"},
     "0 08:00", "0 11:00", 600),
    ("pass_never_dearer_than_no_pass", "legacy_visit", {"kind": "day_window", "start": "10:00", "end": "12:00"},
     "0 08:00", "0 14:00", 500),
]
