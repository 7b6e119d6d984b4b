"""Data tables for the "parkingos" compatibility kinds.

Rules are named like the legacy rule sets of tariff-legacy.md; times are
"day HH:MM[:SS]" with day 0 = 2018-06-20 (Asia/Shanghai, +08:00).  Expected
amounts are fen, from the old engine's documented output where it exists.
"""

def row(b, e, unit, price, **extra):
    return {"b_time": b, "b_minute": 0, "e_time": e, "e_minute": 0, "unit": unit, "price": price, **extra}


def rule(day, night=None, **extra):
    return {"kind": "parkingos", "day": day, "night": night, **extra}


RULES = {
    "allday_60m_2y": rule(row(0, 24, 60, "2")),
    "dn_15m1.5_60m1": rule(row(7, 21, 15, "1.5"), row(21, 7, 60, "1")),
    "dn_15m1.5_60m1_nofill": rule(row(7, 21, 15, "1.5", is_fulldaytime=1), row(21, 7, 60, "1")),
    "dn_first_nondivisible": rule(row(7, 21, 60, "4", first_times=30, fprice="2"), row(21, 7, 60, "1")),
    "dn_30m2_60m1_free15_fpt0": rule(row(7, 21, 30, "2", free_time=15), row(21, 7, 60, "1", free_time=15)),
    "dn_30m2_60m1_free15_fpt1": rule(row(7, 21, 30, "2", free_time=15, fpay_type=1),
                                     row(21, 7, 60, "1", free_time=15, fpay_type=1)),
    "dn_45m2_60m1.5": rule(row(7, 21, 45, "2"), row(21, 7, 60, "1.5")),
    "allday_15m_first_free_cap25_min05": rule(row(0, 24, 15, "1.5", first_times=60, fprice="1", free_time=15,
                                                  total24="25"), minprice_unit="0.5"),
    "dn_60m1_120m0.5_first60free_cap20": rule(row(7, 21, 60, "1", first_times=60, fprice="0", total24="20"),
                                              row(21, 7, 120, "0.5")),
    "dn_60m1_120m0.5_free60_fpt1_cap20": rule(row(7, 21, 60, "1", free_time=60, fpay_type=1, total24="20"),
                                              row(21, 7, 120, "0.5")),
    "dayonly_7to21_assist60_3y": rule(row(7, 21, 30, "2"), assist={"assist_unit": 60, "assist_price": "3"}),
    "dn_15m1.25_60m0.75_min1": rule(row(7, 21, 15, "1.25"), row(21, 7, 60, "0.75"), minprice_unit="1"),
    "dn_15m1.25_60m0.75_min05": rule(row(7, 21, 15, "1.25"), row(21, 7, 60, "0.75"), minprice_unit="0.5"),
    "dn_15m1.25_60m0.75_min01": rule(row(7, 21, 15, "1.25"), row(21, 7, 60, "0.75"), minprice_unit="0.1"),
    "dayonly_7to21_30m2_no_night_row": rule(row(7, 21, 30, "2")),
    "allday_60m_0.5y_assist120_3y_cap20": rule(row(0, 24, 60, "0.5", total24="20"),
                                               assist={"assist_unit": 120, "assist_price": "3"}),
    "allday_60m_0.5y_assist120_3y": rule(row(0, 24, 60, "0.5"), assist={"assist_unit": 120, "assist_price": "3"}),
    "dn_night_first_60m": rule(row(7, 21, 60, "3"), row(21, 7, 60, "2", first_times=90, fprice="1")),
    "dn_day_first_90m": rule(row(7, 21, 60, "3", first_times=90, fprice="1"), row(21, 7, 60, "2")),
    "dn_cap10_night_total": rule(row(7, 21, 60, "2", total24="-1"), row(21, 7, 60, "1", total24="10")),
    "dn_0to21": rule(row(0, 21, 60, "2"), row(21, 0, 60, "1")),
    "dn_7to24": rule(row(7, 24, 60, "2"), row(0, 7, 60, "1")),
    "dn_fill_45": rule(row(7, 21, 45, "3"), row(21, 7, 60, "1")),
    "dayonly_assist_free10_fpt1": rule(row(7, 21, 30, "2", free_time=10, fpay_type=1),
                                       assist={"assist_unit": 60, "assist_price": "3"}),
    "dn_assist_ignored_with_night": rule(row(7, 21, 30, "2"), row(21, 7, 60, "1"),
                                         assist={"assist_unit": 60, "assist_price": "3"}),
    "allday_cap_branch2": rule(row(0, 24, 60, "0.5", first_times=120, fprice="0", total24="20")),
    "allday_30m_1y_cap15": rule(row(0, 24, 30, "1", total24="15")),
    "visit_flat5": {"kind": "parkingos_per_visit", "unit": 0, "price": "5.00"},
    "visit_60m_3": {"kind": "parkingos_per_visit", "unit": 60, "price": "3"},
    "classes_large": {**rule(row(7, 21, 60, "2"), row(21, 7, 60, "1")),
                      "classes": {"large": {"day": row(7, 21, 60, "4"), "night": row(21, 7, 60, "2")},
                                  "42": {"day": row(0, 24, 60, "1")}}},
}

# (id, rule, entered, left, expected fen[, vehicle class])
CASES = [
    # worked example 1: all-day, 60 s minimum, 0 s
    ("ex1_allday_59s_is_one_unit", "allday_60m_2y", "0 07:00:00", "0 07:00:59", 200),
    ("ex1_allday_zero_length", "allday_60m_2y", "0 07:00", "0 07:00", 0),
    ("allday_1s", "allday_60m_2y", "0 07:00:00", "0 07:00:01", 200),
    ("allday_60m_exact", "allday_60m_2y", "0 07:00", "0 08:00", 200),
    ("allday_61m", "allday_60m_2y", "0 07:00", "0 08:01", 400),
    ("allday_61m_minus_1s", "allday_60m_2y", "0 07:00:00", "0 08:00:59", 200),
    ("allday_over_midnight_no_edges", "allday_60m_2y", "0 23:30", "1 00:30", 200),
    ("allday_end_before_start", "allday_60m_2y", "0 09:00", "0 08:00", 0),
    ("allday_3_days", "allday_60m_2y", "0 00:00", "3 00:00", 14400),
    # worked example 2
    ("ex2_night_start_then_day", "dn_15m1.5_60m1", "0 21:01", "1 13:01", 4750),
    ("ex2_day_night_day", "dn_15m1.5_60m1", "0 20:00", "1 08:00", 2200),
    ("day_band_minute_before_edge", "dn_15m1.5_60m1", "0 20:00", "0 20:59", 600),
    ("day_band_up_to_edge", "dn_15m1.5_60m1", "0 20:00", "0 21:00", 600),
    ("day_band_minute_after_edge", "dn_15m1.5_60m1", "0 20:00", "0 21:01", 700),
    ("night_minute_before_morning_edge", "dn_15m1.5_60m1", "0 06:00", "0 06:59", 100),
    ("night_to_morning_edge", "dn_15m1.5_60m1", "0 06:00", "0 07:00", 100),
    ("night_minute_after_morning_edge", "dn_15m1.5_60m1", "0 06:00", "0 07:01", 250),
    ("night_across_midnight", "dn_15m1.5_60m1", "0 23:30", "1 00:30", 100),
    ("full_day_from_7", "dn_15m1.5_60m1", "0 07:00", "1 07:00", 9400),
    ("two_full_days_from_7", "dn_15m1.5_60m1", "0 07:00", "2 07:00", 18800),
    ("start_exactly_on_day_edge", "dn_15m1.5_60m1", "0 07:00", "0 07:15", 150),
    ("start_exactly_on_night_edge", "dn_15m1.5_60m1", "0 21:00", "0 21:30", 100),
    # worked example 3: fill borrows from the last segment
    ("ex3_fill_borrows_from_last", "dn_15m1.5_60m1", "0 20:50", "0 22:04", 250),
    ("ex3_nofill", "dn_15m1.5_60m1_nofill", "0 20:50", "0 22:04", 350),
    ("fill_takes_whole_short_last", "dn_15m1.5_60m1", "0 20:50", "0 21:03", 150),
    ("fill_end_in_day_with_night_block", "dn_fill_45", "0 20:30", "1 08:00", 1600),
    ("fill_end_in_day_short_last_eats_night", "dn_fill_45", "0 20:30", "1 07:10", 1300),
    ("nofill_end_in_day", "dn_15m1.5_60m1_nofill", "0 20:50", "1 07:10", 1300),
    # worked example 4: per-segment floor of seconds, 60 s minimum, edge end
    ("ex4_29s_single_segment", "dn_15m1.5_60m1", "0 06:59:30", "0 06:59:59", 100),
    ("ex4_30s_ends_on_edge", "dn_15m1.5_60m1", "0 06:59:30", "0 07:00:00", 0),
    ("ex4_59s_across_edge", "dn_15m1.5_60m1", "0 20:59:30", "0 21:00:29", 0),
    ("edge_cross_61s_each_side", "dn_15m1.5_60m1", "0 20:58:59", "0 21:01:01", 150),
    ("single_segment_59s_day", "dn_15m1.5_60m1", "0 12:00:00", "0 12:00:59", 150),
    # worked example 5: first period not a multiple of unit
    ("ex5_29min_first_period", "dn_first_nondivisible", "0 07:00", "0 07:29", 200),
    ("ex5_30min_first_period_floor_zero", "dn_first_nondivisible", "0 07:00", "0 07:30", 0),
    ("ex5_31min_after_first_period", "dn_first_nondivisible", "0 07:00", "0 07:31", 400),
    ("first_period_then_2h", "dn_first_nondivisible", "0 07:00", "0 09:00", 800),
    # night first period uses >, day uses >=
    ("night_first_period_equal_uses_fprice", "dn_night_first_60m", "0 22:00", "0 23:30", 200),
    ("night_first_period_exceeded", "dn_night_first_60m", "0 22:00", "0 23:31", 300),
    ("day_first_period_equal", "dn_day_first_90m", "0 08:00", "0 09:30", 100),
    ("day_first_period_exceeded", "dn_day_first_90m", "0 08:00", "0 09:31", 400),
    ("day_first_period_short", "dn_day_first_90m", "0 08:00", "0 08:30", 100),
    # worked example 6: free time on the first segment only
    ("ex6_free_time_day_only", "dn_30m2_60m1_free15_fpt0", "0 20:30", "0 20:44", 0),
    ("ex6_free_time_first_segment_only", "dn_30m2_60m1_free15_fpt0", "0 06:50", "0 07:04", 200),
    ("free_time_exact_fpt0_charges_all", "dn_30m2_60m1_free15_fpt0", "0 12:00", "0 12:15", 200),
    ("free_time_exceeded_fpt0", "dn_30m2_60m1_free15_fpt0", "0 12:00", "0 12:45", 400),
    ("free_time_exceeded_fpt1_deducts", "dn_30m2_60m1_free15_fpt1", "0 12:00", "0 12:45", 200),
    ("free_time_exact_fpt1_zero", "dn_30m2_60m1_free15_fpt1", "0 12:00", "0 12:15", 0),
    ("free_time_fpt1_night", "dn_30m2_60m1_free15_fpt1", "0 22:00", "0 23:16", 200),
    # worked example 7: floor of full day blocks when starting at night
    ("ex7_night_start_day_last_ceil", "dn_45m2_60m1.5", "0 21:00", "1 20:59", 5300),
    ("ex7_night_start_full_day_floor", "dn_45m2_60m1.5", "0 21:00", "1 21:00", 5100),
    ("ex7_midnight_start_last_day", "dn_45m2_60m1.5", "0 00:00", "0 20:59", 4850),
    ("ex7_midnight_start_full_day", "dn_45m2_60m1.5", "0 00:00", "0 21:00", 4650),
    ("day_start_full_day_block_ceil", "dn_45m2_60m1.5", "0 20:00", "1 22:00", 5850),
    # worked example 8: cap, first window above the cap
    ("ex8_cap_remainder_under_free", "allday_15m_first_free_cap25_min05", "0 12:00", "1 12:10", 2500),
    ("ex8_cap_remainder_first_period", "allday_15m_first_free_cap25_min05", "0 12:00", "1 12:20", 2700),
    ("cap_exactly_24h", "allday_15m_first_free_cap25_min05", "0 12:00", "1 12:00", 2500),
    ("cap_three_windows", "allday_15m_first_free_cap25_min05", "0 12:00", "3 12:20", 7700),
    ("cap_under_24h", "allday_15m_first_free_cap25_min05", "0 12:00", "0 15:00", 1600),
    ("cap_not_reached_short", "allday_15m_first_free_cap25_min05", "0 12:00", "0 13:00", 400),
    # worked example 9: cap, first window under the cap, discounts dropped later
    ("ex9_first_window_under_cap", "dn_60m1_120m0.5_first60free_cap20", "0 12:00", "2 12:00", 3200),
    ("ex9_free_time_variant", "dn_60m1_120m0.5_free60_fpt1_cap20", "0 12:00", "2 12:00", 3200),
    ("ex9_single_window", "dn_60m1_120m0.5_first60free_cap20", "0 12:00", "1 12:00", 1550),
    ("ex9_three_windows", "dn_60m1_120m0.5_first60free_cap20", "0 12:00", "3 12:00", 4850),
    ("ex9_remainder_1h", "dn_60m1_120m0.5_first60free_cap20", "0 12:00", "2 13:00", 3300),
    ("cap_from_night_row", "dn_cap10_night_total", "0 08:00", "0 20:00", 1000),
    ("allday_cap_branch2_drops_first_period", "allday_cap_branch2", "0 00:00", "2 00:00", 2300),
    ("allday_cap_hit_each_window", "allday_30m_1y_cap15", "0 00:00", "2 03:00", 3600),
    # worked example 10: assist price
    ("ex10_assist_30s_free", "dayonly_7to21_assist60_3y", "0 12:00:00", "0 12:00:30", 0),
    ("ex10_assist_exact_unit", "dayonly_7to21_assist60_3y", "0 12:00", "0 13:00", 300),
    ("ex10_assist_plus_one_minute", "dayonly_7to21_assist60_3y", "0 12:00", "0 13:01", 500),
    ("assist_1min", "dayonly_7to21_assist60_3y", "0 12:00", "0 12:01", 300),
    ("assist_free_time_fpt1_extends", "dayonly_assist_free10_fpt1", "0 12:00", "0 13:10", 300),
    ("assist_free_time_within", "dayonly_assist_free10_fpt1", "0 12:00", "0 12:10", 0),
    ("assist_ignored_with_night_row", "dn_assist_ignored_with_night", "0 12:00", "0 13:00", 400),
    # assist re-applied per 24 h window when capped
    ("assist_cap_24h", "allday_60m_0.5y_assist120_3y_cap20", "0 12:00", "1 12:00", 1400),
    ("assist_cap_24h_1min_pays_assist_again", "allday_60m_0.5y_assist120_3y_cap20", "0 12:00", "1 12:01", 1700),
    ("assist_cap_48h", "allday_60m_0.5y_assist120_3y_cap20", "0 12:00", "2 12:00", 2800),
    ("assist_nocap_48h", "allday_60m_0.5y_assist120_3y", "0 12:00", "2 12:00", 2600),
    # worked example 11: minprice_unit
    ("ex11_min1_truncates", "dn_15m1.25_60m0.75_min1", "0 21:00", "0 22:00", 0),
    ("ex11_min01_quirk", "dn_15m1.25_60m0.75_min01", "0 07:00", "1 07:00", 7710),
    ("ex11_min01_short", "dn_15m1.25_60m0.75_min01", "0 07:00:00", "0 07:00:59", 110),
    ("min1_truncates_1.25", "dn_15m1.25_60m0.75_min1", "0 07:00", "0 07:15", 100),
    ("min05_floors_to_half", "dn_15m1.25_60m0.75_min05", "0 07:00", "0 07:45", 350),
    ("min05_keeps_exact_half", "dn_15m1.25_60m0.75_min05", "0 07:00", "0 07:30", 250),
    ("min05_day_and_night", "dn_15m1.25_60m0.75_min05", "0 07:00", "1 07:00", 7750),
    # worked example 12: no night row -> nights free
    ("ex12_night_free", "dayonly_7to21_30m2_no_night_row", "0 20:00", "1 08:00", 800),
    ("no_night_row_night_only", "dayonly_7to21_30m2_no_night_row", "0 22:00", "1 06:00", 0),
    ("no_night_row_fill_bills_night_at_day_price", "dayonly_7to21_30m2_no_night_row", "0 20:50", "0 22:00", 200),
    # band hours other than 7-21
    ("day_from_midnight_night_after_21", "dn_0to21", "0 20:00", "0 22:00", 300),
    ("day_from_midnight_crossing_midnight", "dn_0to21", "0 23:00", "1 01:00", 300),
    ("day_until_24_night_after_midnight", "dn_7to24", "0 23:00", "1 01:00", 300),
    # per-visit
    ("visit_flat_once", "visit_flat5", "0 08:00", "0 20:00", 500),
    ("visit_flat_multi_day", "visit_flat5", "0 08:00", "3 20:00", 500),
    ("visit_per_unit_under_60s_free", "visit_60m_3", "0 08:00:00", "0 08:00:59", 0),
    ("visit_per_unit_1min", "visit_60m_3", "0 08:00", "0 08:01", 300),
    ("visit_per_unit_2h1m", "visit_60m_3", "0 08:00", "0 10:01", 900),
    ("visit_zero_length", "visit_flat5", "0 08:00", "0 08:00", 0),
    # vehicle classes
    ("class_small_default", "classes_large", "0 08:00", "0 10:00", 400, "small"),
    ("class_large_override", "classes_large", "0 08:00", "0 10:00", 800, "large"),
    ("class_custom_code", "classes_large", "0 22:00", "1 00:00", 200, "42"),
    ("class_unknown_uses_default", "classes_large", "0 08:00", "0 10:00", 400, "new_energy"),
]
