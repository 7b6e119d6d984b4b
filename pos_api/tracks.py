"""GPS tracks: a handheld uploads points in batches; the person reads back a day."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import g, jsonify

from app.core.api.models import body, query
from app.core.errors import Invalid
from app.core.types import utcnow
from app.tracks import services
from pos_api import contract as c
from pos_api.contract import api
from pos_api.support import device_login_required, idempotent, iso

TAGS = ["Tracks"]


@api.route("/tracks", "POST", tags=TAGS, body=c.TrackUpload, answers={200: c.TrackStored}, idempotent=True,
           summary="Upload GPS points in a batch of up to 5,000",
           description="WGS-84, or datum gcj02 to convert. Points already stored for the same recorded_at are "
                       "skipped, so a re-sent batch adds nothing; a wrong point is rejected, not the batch.",
           example={"received": 2, "added": 1, "already_stored": 0, "rejected_count": 1,
                    "rejected": [{"index": 1, "fields": {"lat": "degrees between -90 and 90"}}]})
@device_login_required()
@idempotent
def upload_track():
    sent = body(c.TrackUpload)
    points = sent.points
    now = utcnow()
    rows, problems = services.parse_points(points, now, sent.datum)
    added = services.store_points(g.staff.id, g.park.id, g.handheld_id, rows, now)
    return {"received": len(points), "added": added, "already_stored": len(rows) - added,
            "rejected": problems[:100], "rejected_count": len(problems)}, 200


@api.route("/tracks/mine", "GET", summary="My points of a day (park time) with distance, duration and stops",
           tags=TAGS, query=c.DayQuery, answers={200: c.DayTrack},
           example={"date": "2026-05-01", "points": [{"lat": 22.54, "lng": 114.05,
                                                      "recorded_at": "2026-05-01T08:00:00+08:00", "accuracy_m": 5.0,
                                                      "speed_mps": 0.8}],
                    "distance_m": 0.0, "duration_s": 0, "stops": 0, "near_segment_share": 1.0})
@device_login_required()
def my_track():
    raw = query(c.DayQuery).date
    tz = ZoneInfo(g.park.timezone)
    try:
        day = date.fromisoformat(raw) if raw else utcnow().astimezone(tz).date()
    except ValueError:
        raise Invalid("validation_failed", "date is YYYY-MM-DD.", {"date": "YYYY-MM-DD"}) from None
    report = services.day_report(g.staff, g.park.timezone, day)
    stats = report["stats"]
    return jsonify({"date": day.isoformat(), "points": [
        {"lat": p.lat, "lng": p.lng, "recorded_at": iso(p.recorded_at), "accuracy_m": p.accuracy_m,
         "speed_mps": p.speed_mps} for p in report["points"]],
        "distance_m": round(stats.distance_m, 1), "duration_s": stats.duration_s, "stops": len(stats.stops),
        "near_segment_share": stats.near_share})
