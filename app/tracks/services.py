"""GPS track upload in bulk, latest positions, and the replay figures of a person's day."""
from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.dialects import postgresql, sqlite

from app.berths.models import BerthSegment
from app.core.devicetime import AHEAD, TOO_OLD, window_problem
from app.core.types import utcnow
from app.extensions import db
from app.inspections.services import my_segment_ids
from app.shifts.models import Shift
from app.staff.models import RoleKind, Staff
from app.tracks.geo import gcj02_to_wgs84, track_stats
from app.tracks.models import LastPosition, TrackPoint

MAX_POINTS = 5000
CHUNK = 1000
WINDOW_PROBLEMS = {AHEAD: "more than 2 minutes in the future", TOO_OLD: "older than 48 hours"}
DATUMS = ("wgs84", "gcj02")


def _dialect_insert(table):
    name = db.session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    return insert(table)


def _number(value, low, high):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value) if low <= value <= high else None


def parse_points(raw_points: list, now: datetime, datum: str = "wgs84") -> tuple[list[dict], list[dict]]:
    """Valid points as rows (WGS-84, UTC), and the problems of the others by index."""
    rows, problems, seen = [], [], set()
    for index, raw in enumerate(raw_points):
        if not isinstance(raw, dict):
            problems.append({"index": index, "fields": {"": "an object"}})
            continue
        errors = {}
        lat, lng = _number(raw.get("lat"), -90, 90), _number(raw.get("lng"), -180, 180)
        if lat is None:
            errors["lat"] = "degrees between -90 and 90"
        if lng is None:
            errors["lng"] = "degrees between -180 and 180"
        accuracy = raw.get("accuracy_m")
        if accuracy is not None and (accuracy := _number(accuracy, 0, 100_000)) is None:
            errors["accuracy_m"] = "metres between 0 and 100000"
        speed = raw.get("speed_mps")
        if speed is not None and (speed := _number(speed, 0, 1000)) is None:
            errors["speed_mps"] = "metres per second between 0 and 1000"
        recorded = raw.get("recorded_at")
        at = None
        if not isinstance(recorded, str) or len(recorded) > 40:
            errors["recorded_at"] = "an ISO 8601 time with offset"
        else:
            try:
                at = datetime.fromisoformat(recorded.replace("Z", "+00:00"))
            except ValueError:
                errors["recorded_at"] = "an ISO 8601 time with offset"
            else:
                if at.tzinfo is None:
                    errors["recorded_at"] = "a time with its UTC offset"
                elif (problem := window_problem(at, now)) is not None:
                    errors["recorded_at"] = WINDOW_PROBLEMS[problem]
        if errors:
            problems.append({"index": index, "fields": errors})
            continue
        at = at.astimezone(timezone.utc)
        if at in seen:
            continue  # the same instant twice in one batch: the first one counts
        seen.add(at)
        if datum == "gcj02":
            lat, lng = gcj02_to_wgs84(lat, lng)
        rows.append({"recorded_at": at, "lat": lat, "lng": lng, "accuracy_m": accuracy, "speed_mps": speed})
    return rows, problems


def store_points(staff_id: int, park_id: int, handheld_id: int | None, rows: list[dict], now: datetime) -> int:
    """Insert in bulk; points already stored for (staff, recorded_at) are skipped. Returns how many were new."""
    if not rows:
        return 0
    for row in rows:
        row.update(staff_id=staff_id, park_id=park_id, handheld_id=handheld_id, received_at=now)
    stmt = _dialect_insert(TrackPoint.__table__).on_conflict_do_nothing(
        index_elements=["staff_id", "recorded_at"]).returning(TrackPoint.__table__.c.id)
    added = 0
    for start in range(0, len(rows), CHUNK):
        added += len(db.session.execute(stmt, rows[start:start + CHUNK]).all())
    newest = max(rows, key=lambda r: r["recorded_at"])
    upsert = _dialect_insert(LastPosition.__table__).values(
        staff_id=staff_id, park_id=park_id, recorded_at=newest["recorded_at"], lat=newest["lat"], lng=newest["lng"],
        accuracy_m=newest["accuracy_m"])
    excluded = upsert.excluded
    db.session.execute(upsert.on_conflict_do_update(
        index_elements=["staff_id"],
        set_={"park_id": excluded.park_id, "recorded_at": excluded.recorded_at, "lat": excluded.lat,
              "lng": excluded.lng, "accuracy_m": excluded.accuracy_m},
        where=LastPosition.__table__.c.recorded_at < excluded.recorded_at))
    return added


def day_bounds(tz_name: str, day: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(tz_name)
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)


def day_points(staff_id: int, start: datetime, end: datetime, limit: int = 20000) -> list[TrackPoint]:
    return list(db.session.scalars(select(TrackPoint).where(
        TrackPoint.staff_id == staff_id, TrackPoint.recorded_at >= start, TrackPoint.recorded_at < end)
        .order_by(TrackPoint.recorded_at).limit(limit)))


def reference_points(staff: Staff, start: datetime, end: datetime) -> list[tuple[float, float]]:
    """Where the person should be: the segments of the collector's shifts that day, or the segments
    of the inspector's groups."""
    if staff.role.kind == RoleKind.INSPECTOR.value:
        segment_ids = my_segment_ids(staff)
    else:
        segment_ids = select(Shift.segment_id).where(Shift.collector_id == staff.id, Shift.started_at < end,
                                                     (Shift.ended_at.is_(None)) | (Shift.ended_at > start))
    return [(s.latitude, s.longitude) for s in db.session.scalars(select(BerthSegment).where(
        BerthSegment.id.in_(segment_ids), BerthSegment.latitude.is_not(None), BerthSegment.longitude.is_not(None)))]


def day_report(staff: Staff, tz_name: str, day: date) -> dict:
    start, end = day_bounds(tz_name, day)
    points = day_points(staff.id, start, end)
    refs = reference_points(staff, start, end)
    stats = track_stats([(p.recorded_at, p.lat, p.lng) for p in points], refs)
    return {"points": points, "stats": stats, "references": refs, "start": start, "end": end}


def now() -> datetime:
    return utcnow()
