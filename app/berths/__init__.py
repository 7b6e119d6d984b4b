"""Berth segments (泊位段) and berths (泊位) of on-street parks."""
