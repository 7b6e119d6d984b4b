"""Plain geometry on WGS-84 points: distances, GCJ-02 conversion, and the figures of a day's track."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

EARTH_RADIUS_M = 6_371_008.8
# Krasovsky 1940 ellipsoid, used by the GCJ-02 ("Mars coordinates") offset that Chinese map SDKs apply
_A = 6378245.0
_EE = 0.00669342162296594323


def haversine_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def outside_china(lat: float, lng: float) -> bool:
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lat: float, lng: float) -> tuple[float, float]:
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if outside_china(lat, lng):
        return lat, lng
    dlat, dlng = _offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float, tolerance_deg: float = 1e-9) -> tuple[float, float]:
    """Invert the GCJ-02 offset by fixed-point iteration (to well under a centimetre);
    points outside China are not offset and come back unchanged."""
    if outside_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < tolerance_deg and abs(dlng) < tolerance_deg:
            break
    return wlat, wlng


@dataclass
class Stop:
    started_at: datetime
    ended_at: datetime
    lat: float
    lng: float

    @property
    def minutes(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() / 60


@dataclass
class TrackStats:
    points: int
    distance_m: float
    duration_s: float
    stops: list
    near_share: float | None  # share of the time within `near_m` of a reference point (None: no reference)


def track_stats(points: list[tuple[datetime, float, float]], references: list[tuple[float, float]] = (),
                *, stop_min: timedelta = timedelta(minutes=5), stop_radius_m: float = 30.0,
                near_m: float = 500.0, max_gap: timedelta = timedelta(minutes=10)) -> TrackStats:
    """Figures of a time-ordered track [(recorded_at, lat, lng)]:
    distance (sum of hops), duration (first to last point), stops (≥ `stop_min` within `stop_radius_m`
    of where the stop began) and the time share spent within `near_m` of any reference point (each
    interval counts for its first point, capped at `max_gap` so a switched-off phone does not count)."""
    if not points:
        return TrackStats(0, 0.0, 0.0, [], None)
    distance = sum(haversine_m(a[1], a[2], b[1], b[2]) for a, b in zip(points, points[1:]))
    duration = (points[-1][0] - points[0][0]).total_seconds()
    stops, anchor = [], 0
    for i in range(1, len(points) + 1):
        if i < len(points) and haversine_m(points[anchor][1], points[anchor][2], points[i][1], points[i][2]) \
                <= stop_radius_m:
            continue
        last = points[i - 1]
        if last[0] - points[anchor][0] >= stop_min:
            stops.append(Stop(points[anchor][0], last[0], points[anchor][1], points[anchor][2]))
        anchor = i
    near_share = None
    if references:
        near = total = 0.0
        for a, b in zip(points, points[1:]):
            span = min((b[0] - a[0]).total_seconds(), max_gap.total_seconds())
            total += span
            if any(haversine_m(a[1], a[2], r[0], r[1]) <= near_m for r in references):
                near += span
        if total > 0:
            near_share = near / total
        elif len(points) == 1:
            near_share = 1.0 if any(haversine_m(points[0][1], points[0][2], r[0], r[1]) <= near_m
                                    for r in references) else 0.0
    return TrackStats(len(points), distance, duration, stops, near_share)
