"""Inspector (巡查员) endpoints: nearby segments, berths with sensor next to order, tasks, reports, photos."""
from __future__ import annotations

import math

from flask import g, jsonify, request
from sqlalchemy import select

from app.berths.models import BerthSegment
from app.core.errors import Invalid, NotFound
from app.core.types import utcnow
from app.extensions import db
from app.inspections import services
from app.inspections.models import InspectionTask, ViolationReport
from app.kerb.board import segment_board
from app.sensors.services import on_duty
from app.staff.models import Staff
from pos_api import bp
from pos_api.openapi import CLIENT_REF, ID, OBJ, TIME, _body, _err, _json, register_paths
from pos_api.support import Body, device_login_required, existing_id, idempotent, iso, now_or, photo_body

INSPECTOR = "inspector"
BEARER = [{"bearer": []}]


def _coordinate(name: str, limit: float) -> float:
    raw = request.args.get(name, "")
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or abs(value) > limit:
        raise Invalid("validation_failed", "lat and lng are decimal degrees (WGS-84).",
                      {name: f"degrees between -{limit:g} and {limit:g}"})
    return value


def _float(body: Body, name: str, limit: float):
    value = body.data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or abs(value) > limit:
        body.errors[name] = f"degrees between -{limit:g} and {limit:g}"
        return None
    return float(value)


@bp.get("/inspector/segments")
@device_login_required(INSPECTOR)
def nearby_segments():
    lat, lng = _coordinate("lat", 90), _coordinate("lng", 180)
    found = services.nearby_segments(g.park.id, lat, lng)
    return jsonify({"radius_m": services.NEARBY_METRES, "segments": [
        {"id": s.id, "name": s.name, "address": s.address, "latitude": s.latitude, "longitude": s.longitude,
         "distance_m": round(metres, 1)} for s, metres in found]})


@bp.get("/inspector/segments/<int:segment_id>/berths")
@device_login_required(INSPECTOR)
def segment_berths(segment_id):
    segment = db.session.scalar(select(BerthSegment).where(BerthSegment.id == existing_id(segment_id),
                                                           BerthSegment.park_id == g.park.id))
    if segment is None:
        raise NotFound("segment_not_found", "No such segment in your park.")
    collectors = on_duty([segment.id]).get(segment.id, [])
    names = db.session.scalars(select(Staff.display_name).where(Staff.id.in_(collectors))).all() if collectors else []
    return jsonify({"segment": {"id": segment.id, "name": segment.name}, "collectors_on_duty": list(names),
                    "berths": segment_board(segment)})


def task_dict(task: InspectionTask) -> dict:
    return {"id": task.id, "kind": task.kind, "label": services.TASK_LABELS.get(task.kind, task.kind),
            "state": task.state, "outcome": task.outcome, "segment_id": task.segment_id,
            "segment": task.segment.name if task.segment else None, "berth_id": task.berth_id,
            "berth": task.berth.number if task.berth else None, "order_id": task.order_id,
            "assigned_to_me": task.assignee_id == g.staff.id, "note": task.note, "has_photo": bool(task.photo_path),
            "created_at": iso(task.created_at), "resolved_at": iso(task.resolved_at)}


@bp.get("/inspector/tasks")
@device_login_required(INSPECTOR)
def my_tasks():
    state = request.args.get("state", "open")
    if state not in ("open", "resolved", "all"):
        raise Invalid("validation_failed", "state is open, resolved or all.", {"state": "open, resolved or all"})
    stmt = services.visible_tasks(g.staff, g.park.id, None if state == "all" else state)
    rows = db.session.scalars(stmt.order_by(InspectionTask.created_at.desc()).limit(200)).all()
    return jsonify({"tasks": [task_dict(t) for t in rows]})


@bp.post("/inspector/tasks/<int:task_id>/resolve")
@device_login_required(INSPECTOR)
@idempotent
def resolve_task(task_id):
    body = Body()
    body.client_ref()
    note = body.str("note", required=False, max_len=1000)
    outcome = body.str("outcome", required=False, choices=("done", "failed")) or "done"
    body.check()
    task = services.my_task(g.staff, g.park.id, existing_id(task_id))
    services.resolve(g.staff, task, note, outcome, utcnow())
    return {"task": task_dict(task)}, 200


def _photo():
    upload = request.files.get("photo")
    if upload is None:
        raise Invalid("validation_failed", "Send the file in a field named 'photo'.", {"photo": "required"})
    return upload.read(services.MAX_BYTES + 1)


@bp.post("/inspector/tasks/<int:task_id>/photos")
@photo_body
@device_login_required(INSPECTOR)
@idempotent(form=True)
def task_photo(task_id):
    task = services.my_task(g.staff, g.park.id, existing_id(task_id))
    task.photo_path = services.store_photo(task.park_id, _photo())
    return {"task_id": task.id, "photo": True}, 201


@bp.post("/inspector/reports")
@device_login_required(INSPECTOR)
@idempotent
def create_report():
    body = Body()
    body.client_ref()
    kind = body.str("kind", choices=("violation", "anomaly"))
    note = body.str("note", required=False, max_len=1000)
    plate = body.str("plate", required=False, max_len=16)
    segment_id = body.int("segment_id", required=False, minimum=1)
    berth_id = body.int("berth_id", required=False, minimum=1)
    observed_at = body.time("observed_at")
    lat, lng = _float(body, "lat", 90), _float(body, "lng", 180)
    if (lat is None) != (lng is None) and not body.errors:
        body.errors["lat" if lat is None else "lng"] = "send lat and lng together"
    body.check()
    report = services.create_report(g.staff, g.park.id, kind=kind, note=note, lat=lat, lng=lng,
                                    segment_id=segment_id, berth_id=berth_id, plate=plate,
                                    observed_at=now_or(observed_at))
    return {"report": {"id": report.id, "kind": report.kind, "plate": report.plate, "segment_id": report.segment_id,
                       "berth_id": report.berth_id, "latitude": report.latitude, "longitude": report.longitude,
                       "observed_at": iso(report.observed_at)}}, 201


@bp.post("/inspector/reports/<int:report_id>/photos")
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


def _path_id(name):
    return {"name": name, "in": "path", "required": True, "schema": ID}


PHOTO_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["client_ref", "photo"],
    "properties": {"client_ref": CLIENT_REF, "photo": {"type": "string", "format": "binary"}}}}}}
DEG = {"type": "number", "minimum": -180, "maximum": 180}

register_paths({
    "/inspector/segments": {"get": {
        "summary": "Segments of my park within 500 m of a WGS-84 point, nearest first", "security": BEARER,
        "parameters": [{"name": "lat", "in": "query", "required": True,
                        "schema": {"type": "number", "minimum": -90, "maximum": 90}},
                       {"name": "lng", "in": "query", "required": True, "schema": DEG}],
        "responses": {"200": _json(OBJ), **_err(400, 401, 403, 422)}}},
    "/inspector/segments/{segment_id}/berths": {"get": {
        "summary": "Berths of a segment: sensor state next to order state", "security": BEARER,
        "parameters": [_path_id("segment_id")],
        "responses": {"200": _json(OBJ), **_err(401, 403, 404)}}},
    "/inspector/tasks": {"get": {
        "summary": "My tasks: assigned to me, or unassigned on segments my groups patrol", "security": BEARER,
        "parameters": [{"name": "state", "in": "query", "schema": {"enum": ["open", "resolved", "all"]}}],
        "responses": {"200": _json(OBJ), **_err(400, 401, 403, 422)}}},
    "/inspector/tasks/{task_id}/resolve": {"post": {
        "summary": "Resolve a task (done or failed) with a note", "security": BEARER,
        "parameters": [_path_id("task_id")],
        "requestBody": _body({"client_ref": CLIENT_REF, "note": {"type": "string", "maxLength": 1000},
                              "outcome": {"enum": ["done", "failed"]}}, ["client_ref"]),
        "responses": {"200": _json(OBJ), **_err(400, 401, 403, 404, 409, 422)}}},
    "/inspector/tasks/{task_id}/photos": {"post": {
        "summary": "Attach a JPEG or PNG photo to a task (at most 5 MB)", "security": BEARER,
        "parameters": [_path_id("task_id")], "requestBody": PHOTO_BODY,
        "responses": {"201": _json(OBJ), **_err(400, 401, 403, 404, 422)}}},
    "/inspector/reports": {"post": {
        "summary": "Report a violation or anomaly with its position", "security": BEARER,
        "requestBody": _body({"client_ref": CLIENT_REF, "kind": {"enum": ["violation", "anomaly"]},
                              "note": {"type": "string", "maxLength": 1000},
                              "plate": {"type": "string", "maxLength": 16}, "segment_id": ID, "berth_id": ID,
                              "observed_at": TIME, "lat": {"type": "number", "minimum": -90, "maximum": 90},
                              "lng": DEG}, ["client_ref", "kind"]),
        "responses": {"201": _json(OBJ), **_err(400, 401, 403, 404, 422)}}},
    "/inspector/reports/{report_id}/photos": {"post": {
        "summary": "Attach a JPEG or PNG photo to my report (at most 5 MB)", "security": BEARER,
        "parameters": [_path_id("report_id")], "requestBody": PHOTO_BODY,
        "responses": {"201": _json(OBJ), **_err(400, 401, 403, 404, 422)}}},
})
