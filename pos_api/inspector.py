"""Inspector (巡查员) endpoints: nearby segments, berths with sensor next to order, tasks, reports, photos."""
from __future__ import annotations

import math
from base64 import urlsafe_b64decode, urlsafe_b64encode
from datetime import datetime, timezone

from flask import g, jsonify, request
from sqlalchemy import and_, or_, select

from app.berths.models import BerthSegment
from app.core.api.models import MAX_ID, body, query
from app.core.errors import Invalid, NotFound
from app.core.types import utcnow
from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionTask, ViolationReport
from app.kerb.board import segment_board
from app.sensors.services import on_duty
from app.staff.models import Staff
from pos_api import contract as c
from pos_api.contract import api
from pos_api.support import device_login_required, existing_id, idempotent, iso, iso_text, now_or, photo_body

INSPECTOR = "inspector"
TAGS = ["Inspectors"]
TASK_EXAMPLE = {"id": 31, "kind": "car_no_order", "label": "Car present, no order", "state": "open",
                "outcome": None, "segment_id": 7, "segment": "Renmin Rd North", "berth_id": 51, "berth": "A001",
                "order_id": None, "assigned_to_me": True, "note": "Sensor: car present since 08:00, no order.",
                "has_photo": False, "created_at": "2026-05-01T08:10:00+08:00", "resolved_at": None}


@api.route("/inspector/segments", "GET", summary="Segments of my park within 500 m of a point, nearest first",
           tags=TAGS, query=c.NearbyQuery, answers={200: c.NearbySegments}, errors=("wrong_role",),
           example={"radius_m": 500, "segments": [{"id": 7, "name": "Renmin Rd North", "address": "Renmin Rd 1-99",
                                                   "latitude": 22.54, "longitude": 114.05, "distance_m": 120.4}]})
@device_login_required(INSPECTOR)
def nearby_segments():
    point = query(c.NearbyQuery)
    if not (math.isfinite(point.lat) and math.isfinite(point.lng)):
        raise Invalid("validation_failed", "lat and lng are decimal degrees (WGS-84).", {"lat": "degrees"})
    found = services.nearby_segments(g.park.id, point.lat, point.lng)
    return jsonify({"radius_m": services.NEARBY_METRES, "segments": [
        {"id": s.id, "name": s.name, "address": s.address, "latitude": s.latitude, "longitude": s.longitude,
         "distance_m": round(metres, 1)} for s, metres in found]})


@api.route("/inspector/segments/<int:segment_id>/berths", "GET", summary="Berths of a segment: sensor next to order",
           tags=TAGS, answers={200: c.SegmentBoard}, errors=("wrong_role", "segment_not_found"),
           example={"segment": {"id": 7, "name": "Renmin Rd North"}, "collectors_on_duty": ["Wang Fang"], "berths": [
               {"id": 51, "number": "A001", "sensor": {"serial": "S-0001", "state": "occupied", "online": True,
                                                      "low_battery": False, "battery_mv": 3600,
                                                      "since": "2026-05-01T08:00:00+08:00"},
                "order": None, "mismatch": True}]})
@device_login_required(INSPECTOR)
def segment_berths(segment_id):
    segment = db.session.scalar(select(BerthSegment).where(BerthSegment.id == existing_id(segment_id),
                                                           BerthSegment.park_id == g.park.id))
    if segment is None:
        raise NotFound("segment_not_found", "No such segment in your park.")
    collectors = on_duty([segment.id]).get(segment.id, [])
    names = db.session.scalars(select(Staff.display_name).where(Staff.id.in_(collectors))).all() if collectors else []
    return jsonify({"segment": {"id": segment.id, "name": segment.name}, "collectors_on_duty": list(names),
                    "berths": [_local_board(b) for b in segment_board(segment)]})


def _local_board(berth: dict) -> dict:
    sensor, order = berth["sensor"], berth["order"]
    return {**berth, "sensor": sensor and {**sensor, "since": iso_text(sensor["since"])},
            "order": order and {**order, "entered_at": iso_text(order["entered_at"])}}


def task_dict(task: InspectionTask) -> dict:
    return {"id": task.id, "kind": task.kind, "label": services.TASK_LABELS.get(task.kind, task.kind),
            "state": task.state, "outcome": task.outcome, "segment_id": task.segment_id,
            "segment": task.segment.name if task.segment else None, "berth_id": task.berth_id,
            "berth": task.berth.number if task.berth else None, "order_id": task.order_id,
            "assigned_to_me": task.assignee_id == g.staff.id, "note": task.note, "has_photo": bool(task.photo_path),
            "created_at": iso(task.created_at), "resolved_at": iso(task.resolved_at)}


@api.route("/inspector/tasks", "GET", summary="My tasks: assigned to me, or unassigned on segments my groups patrol",
           tags=TAGS, query=c.TasksQuery, answers={200: c.TaskPage}, errors=("wrong_role",),
           description="Newest first, a page at a time: ask again with after=<next> until next is null.",
           example={"tasks": [TASK_EXAMPLE], "next": None})
@device_login_required(INSPECTOR)
def my_tasks():
    asked = query(c.TasksQuery)
    stmt = services.visible_tasks(g.staff, g.park.id, None if asked.state == "all" else asked.state)
    if asked.after:
        at, last_id = _read_cursor(asked.after)
        created = InspectionTask.created_at
        stmt = stmt.where(or_(created < at, and_(created == at, InspectionTask.id < last_id)))
    rows = db.session.scalars(stmt.order_by(InspectionTask.created_at.desc(), InspectionTask.id.desc())
                              .limit(asked.limit + 1)).all()
    page = rows[:asked.limit]
    last = page[-1] if len(rows) > asked.limit else None
    return jsonify({"tasks": [task_dict(t) for t in page], "next": _cursor(last) if last else None})


def _cursor(task: InspectionTask) -> str:
    return urlsafe_b64encode(f"{task.created_at.astimezone(timezone.utc).isoformat()}|{task.id}".encode()).decode()


def _read_cursor(raw: str) -> tuple[datetime, int]:
    try:
        at, last_id = urlsafe_b64decode(raw.encode()).decode().split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not 0 < int(last_id) <= MAX_ID:
            raise ValueError(raw)
        return parsed, int(last_id)
    except (ValueError, UnicodeError):
        raise Invalid("validation_failed", "after is the next cursor of a page.",
                      {"after": "the `next` of the previous page"}) from None


@api.route("/inspector/tasks/<int:task_id>/resolve", "POST", summary="Resolve a task (done or failed) with a note",
           tags=TAGS, body=c.ResolveTask, answers={200: c.TaskAnswer}, idempotent=True,
           errors=("wrong_role", "task_not_found", "task_resolved"),
           example={"task": {**TASK_EXAMPLE, "state": "resolved", "outcome": "done",
                             "resolved_at": "2026-05-01T08:20:00+08:00"}})
@device_login_required(INSPECTOR)
@idempotent
def resolve_task(task_id):
    sent = body(c.ResolveTask)
    task = services.my_task(g.staff, g.park.id, existing_id(task_id))
    services.resolve(g.staff, task, sent.note, sent.outcome, utcnow())
    return {"task": task_dict(task)}, 200


def _photo():
    upload = request.files.get("photo")
    if upload is None:
        raise Invalid("validation_failed", "Send the file in a field named 'photo'.", {"photo": "required"})
    return upload.read(services.MAX_BYTES + 1)


@api.route("/inspector/tasks/<int:task_id>/photos", "POST", summary="Attach a JPEG or PNG photo to a task (5 MB)",
           tags=TAGS, form=c.Photo, answers={201: c.TaskPhoto}, idempotent=True,
           errors=("wrong_role", "task_not_found", "bad_photo", "photo_too_large"),
           example={"task_id": 31, "photo": True})
@photo_body
@device_login_required(INSPECTOR)
@idempotent(form=True)
def task_photo(task_id):
    task = services.my_task(g.staff, g.park.id, existing_id(task_id))
    task.photo_path = services.store_photo(task.park_id, _photo())
    return {"task_id": task.id, "photo": True}, 201


@api.route("/inspector/reports", "POST", summary="Report a violation or anomaly with its position", tags=TAGS,
           body=c.Report, answers={201: c.ReportAnswer}, idempotent=True,
           errors=("wrong_role", "segment_not_found", "berth_not_found", "bad_plate"),
           example={"report": {"id": 4, "kind": "violation", "plate": "粤B12345", "segment_id": 7, "berth_id": None,
                               "latitude": 22.54, "longitude": 114.05, "observed_at": "2026-05-01T08:12:00+08:00"}})
@device_login_required(INSPECTOR)
@idempotent
def create_report():
    sent = body(c.Report)
    report = services.create_report(g.staff, g.park.id, kind=sent.kind, note=sent.note, lat=sent.lat, lng=sent.lng,
                                    segment_id=sent.segment_id, berth_id=sent.berth_id, plate=sent.plate,
                                    observed_at=now_or(sent.observed_at))
    return {"report": {"id": report.id, "kind": report.kind, "plate": report.plate, "segment_id": report.segment_id,
                       "berth_id": report.berth_id, "latitude": report.latitude, "longitude": report.longitude,
                       "observed_at": iso(report.observed_at)}}, 201


@api.route("/inspector/reports/<int:report_id>/photos", "POST", summary="Attach a JPEG or PNG photo to my report",
           tags=TAGS, form=c.Photo, answers={201: c.ReportPhoto}, idempotent=True,
           errors=("wrong_role", "report_not_found", "bad_photo", "photo_too_large"),
           example={"report_id": 4, "photo": True})
@photo_body
@device_login_required(INSPECTOR)
@idempotent(form=True)
def report_photo(report_id):
    report = db.session.scalar(select(ViolationReport).where(ViolationReport.id == existing_id(report_id),
                                                             ViolationReport.park_id == g.park.id,
                                                             ViolationReport.inspector_id == g.staff.id))
    if report is None:
        raise NotFound("report_not_found", "No such report of yours.")
    report.photo_path = services.store_photo(report.park_id, _photo())
    return {"report_id": report.id, "photo": True}, 201
