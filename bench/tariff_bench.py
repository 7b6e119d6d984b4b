"""Fee engine throughput: quotes per second for short and month-long stays.

Run from the project root: python bench/tariff_bench.py
Single core, rules parsed once, time.perf_counter.  Prints a table, then one
RESULT line per headline figure (goals: >= 20000 one-hour quotes/s and a
30-day quote costing less than 10x a one-hour quote).
"""
from __future__ import annotations

import os
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from app.tariffs.engine import parse_rule, quote  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
DAY_NIGHT = {
    "kind": "parkingos",
    "day": {"b_time": 7, "e_time": 21, "unit": 15, "price": "1.50", "first_times": 60, "fprice": "1.00",
            "free_time": 15, "fpay_type": 0, "total24": "0", "is_fulldaytime": 0},
    "night": {"b_time": 21, "e_time": 7, "unit": 60, "price": "1.00", "free_time": 15},
    "minprice_unit": "0.5",
}
BANDED = {
    "kind": "banded",
    "boundary": "split",
    "grace_minutes": 10,
    "rates": {
        "day": {"tiers": [{"from_minute": 0, "unit_minutes": 30, "price_fen": 0},
                          {"from_minute": 30, "unit_minutes": 30, "price_fen": 200},
                          {"from_minute": 120, "unit_minutes": 30, "price_fen": 300}]},
        "night": {"unit_minutes": 60, "price_fen": 100},
    },
    "schedule": [{"bands": [{"start": "00:00", "end": "07:00", "rate": "night"},
                            {"start": "07:00", "end": "21:00", "rate": "day"},
                            {"start": "21:00", "end": "24:00", "rate": "night"}]}],
    "caps": {"stay_fen": None, "period": {"type": "day", "reset": "06:00", "fen": 3000}},
}


def rate(tariff, hours: float, seconds: float = 1.5) -> float:
    """Quotes per second over about `seconds`, varying the arrival minute."""
    starts = [datetime(2026, 3, 2, 8, 0, tzinfo=TZ) + timedelta(minutes=7 * index) for index in range(500)]
    stays = [(start, start + timedelta(hours=hours)) for start in starts]
    for entered, left in stays[:50]:  # warm caches
        quote(tariff, entered, left)
    count, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        for entered, left in stays:
            quote(tariff, entered, left)
        count += len(stays)
    return count / (time.perf_counter() - began)


def main() -> None:
    rows = []
    for name, doc in (("parkingos day/night", DAY_NIGHT), ("banded", BANDED)):
        tariff = parse_rule(doc)
        short, month = rate(tariff, 1), rate(tariff, 24 * 30)
        rows.append((name, short, month, short / month))
    print(f"{'rule':<22}{'1 h quotes/s':>14}{'30 d quotes/s':>15}{'30d/1h cost':>13}")
    for name, short, month, ratio in rows:
        print(f"{name:<22}{short:>14,.0f}{month:>15,.0f}{ratio:>12.2f}x")
    (_, legacy_1h, _, legacy_ratio), (_, banded_1h, _, banded_ratio) = rows
    print(f"RESULT tariff_quote_1h value={legacy_1h:.0f} unit=quotes/s goal=>=20000")
    print(f"RESULT tariff_30d_cost_ratio value={legacy_ratio:.2f} unit=x goal=<10")
    print(f"RESULT tariff_banded_quote_1h value={banded_1h:.0f} unit=quotes/s goal=>=20000")
    print(f"RESULT tariff_banded_30d_cost_ratio value={banded_ratio:.2f} unit=x goal=<10")


if __name__ == "__main__":
    main()
