"""GPS tracks: a handheld uploads points in batches; the person reads back a day."""
from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from flask import g, jsonify, request

from app.core.errors import Invalid
from app.core.types import utcnow
from app.tracks import services
from pos_api import bp
from pos_api.openapi import CLIENT_REF, OBJ, _body, _err, _json, register_paths
from pos_api.support import Body, device_login_required, idempotent, iso

BEARER = [{"bearer": []}]


@bp.post("/tracks")
@device_login_required()
@idempotent
def upload_track():
    body = Body()
    body.client_ref()
    datum = body.str("datum", required=False, choices=services.DATUMS) or "wgs84"
    points = body.data.get("points")
    if not isinstance(points, list) or not 1 <= len(points) <= services.MAX_POINTS:
        body.errors["points"] = f"a list of 1 to {services.MAX_POINTS} points"
    body.check()
    now = utcnow()
    rows, problems = services.parse_points(points, now, datum)
    added = services.store_points(g.staff.id, g.park.id, g.handheld_id, rows, now)
    return {"received": len(points), "added": added, "already_stored": len(rows) - added,
            "rejected": problems[:100], "rejected_count": len(problems)}, 200


@bp.get("/tracks/mine")
@device_login_required()
def my_track():
    raw = request.args.get("date")
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


POINT = {"type": "object", "required": ["lat", "lng", "recorded_at"], "properties": {
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "lng": {"type": "number", "minimum": -180, "maximum": 180},
    "recorded_at": {"type": "string", "format": "date-time"}, "accuracy_m": {"type": "number", "minimum": 0},
    "speed_mps": {"type": "number", "minimum": 0}}}

register_paths({
    "/tracks": {"post": {
        "summary": "Upload GPS points (WGS-84, or datum gcj02 to convert) in a batch of up to 5,000; points already "
                   "stored for the same recorded_at are skipped, so a re-sent batch adds nothing", "security": BEARER,
        "requestBody": _body({"client_ref": CLIENT_REF, "datum": {"enum": ["wgs84", "gcj02"]},
                              "points": {"type": "array", "minItems": 1, "maxItems": 5000, "items": POINT}},
                             ["client_ref", "points"]),
        "responses": {"200": _json(OBJ), **_err(400, 401, 422)}}},
    "/tracks/mine": {"get": {
        "summary": "My points of a day (park time) with distance, duration and stops", "security": BEARER,
        "parameters": [{"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}}],
        "responses": {"200": _json(OBJ), **_err(400, 401, 422)}}},
})
