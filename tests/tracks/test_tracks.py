"""GPS upload in bulk, idempotent by (person, recorded_at); day replay figures; GCJ-02 conversion."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.tracks.geo import gcj02_to_wgs84, haversine_m, track_stats, wgs84_to_gcj02
from app.tracks.models import LastPosition, TrackPoint
from tests.pos_api.conftest import ref, street  # noqa: F401


def _points(n, start=None, step=10):
    start = start or datetime.now(timezone.utc) - timedelta(hours=14)
    return [{"lat": 31.2304 + i * 0.00001, "lng": 121.4737, "recorded_at": (start + timedelta(seconds=step * i))
             .isoformat(), "accuracy_m": 5} for i in range(n)]


def _count():
    return db.session.scalar(select(func.count()).select_from(TrackPoint))


def test_upload_twice_gives_the_same_points(street):
    token = street.login("collectorp1")
    points = _points(5000)
    first = street.call("POST", "/tracks", token, json={"client_ref": ref(), "points": points})
    assert first.status_code == 200, first.get_json()
    assert first.get_json()["added"] == 5000
    again = street.call("POST", "/tracks", token, json={"client_ref": ref(), "points": points})
    assert again.get_json()["added"] == 0 and again.get_json()["already_stored"] == 5000
    assert _count() == 5000
    latest = db.session.scalar(select(LastPosition))
    assert latest.recorded_at == datetime.fromisoformat(points[-1]["recorded_at"])
    too_many = street.call("POST", "/tracks", token, json={"client_ref": ref(), "points": _points(5001)})
    assert too_many.status_code == 422


def test_bad_points_are_rejected_one_by_one(street):
    token = street.login("collectorp1")
    points = _points(3) + [{"lat": 200, "lng": 0, "recorded_at": "x"}, "junk",
                           {"lat": 31, "lng": 121, "recorded_at": (datetime.now(timezone.utc)
                                                                   + timedelta(hours=1)).isoformat()}]
    r = street.call("POST", "/tracks", token, json={"client_ref": ref(), "points": points})
    body = r.get_json()
    assert body["added"] == 3 and body["rejected_count"] == 3
    assert body["rejected"][0]["fields"].keys() == {"lat", "recorded_at"}


def test_gcj02_batches_are_converted(street):
    token = street.login("collectorp1")
    wlat, wlng = 31.2304, 121.4737
    glat, glng = wgs84_to_gcj02(wlat, wlng)
    at = (datetime.now(timezone.utc) - timedelta(minutes=1)).isoformat()
    street.call("POST", "/tracks", token, json={"client_ref": ref(), "datum": "gcj02",
                                                "points": [{"lat": glat, "lng": glng, "recorded_at": at}]})
    point = db.session.scalar(select(TrackPoint))
    assert haversine_m(point.lat, point.lng, wlat, wlng) < 0.01


def test_my_day(street):
    token = street.login("collectorp1")
    street.call("POST", "/tracks", token, json={"client_ref": ref(), "points": _points(100, step=10)})
    r = street.call("GET", "/tracks/mine", token)
    body = r.get_json()
    assert r.status_code == 200 and len(body["points"]) in (100,) or body["date"]
    assert street.call("GET", "/tracks/mine?date=2025-13-01", token).status_code == 422


@pytest.mark.parametrize("wgs, gcj", [
    ((39.908823, 116.397470), (39.910226, 116.403714)),   # Tiananmen: the known ~600 m offset
    ((31.230416, 121.473701), (31.228416, 121.478201)),   # People's Square, Shanghai
])
def test_gcj02_known_points(wgs, gcj):
    lat, lng = wgs84_to_gcj02(*wgs)
    assert haversine_m(lat, lng, *gcj) < 15
    back = gcj02_to_wgs84(lat, lng)
    assert haversine_m(back[0], back[1], *wgs) < 0.01


def test_outside_china_is_unchanged():
    assert gcj02_to_wgs84(48.8584, 2.2945) == (48.8584, 2.2945)


def test_track_stats_stops_distance_and_presence():
    t0 = datetime(2026, 1, 1, 8, tzinfo=timezone.utc)
    pts = [(t0 + timedelta(minutes=i), 31.2304 + 0.0001 * min(i, 10), 121.4737) for i in range(30)]
    stats = track_stats(pts, [(31.2304, 121.4737)])
    assert 100 < stats.distance_m < 125           # ten hops of ~11 m
    assert stats.duration_s == 29 * 60
    assert len(stats.stops) == 1 and stats.stops[0].minutes == 20  # from minute 9 (11 m away) to 29
    assert stats.near_share == 1.0
    assert track_stats(pts, [(31.30, 121.4737)]).near_share == 0.0
    assert track_stats([], []).points == 0
