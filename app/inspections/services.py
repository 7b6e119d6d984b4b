"""Inspection tasks and inspector groups: raised by the sensor checks or a manager, resolved on the
handheld; violation reports with position and photo. Plain functions; the caller commits."""
from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import or_, select

from app.audit.services import record, snapshot
from app.berths.models import Berth, BerthSegment
from app.core.errors import Conflict, Invalid, NotFound
from app.core.plates import normalize_plate
from app.core.types import utcnow
from app.extensions import db
from app.inbox.models import send
from app.inspections.models import (
    InspectionTask,
    InspectorGroup,
    TaskKind,
    TaskState,
    ViolationReport,
    inspector_group_members,
    inspector_group_segments,
)
from app.orders.photos import MAX_BYTES, photo_root, sniff
from app.staff.models import Role, RoleKind, Staff
from app.tenancy.models import Park
from app.tracks.geo import haversine_m

NEARBY_METRES = 500
TASK_LABELS = {TaskKind.CAR_NO_ORDER: "Car present, no order", TaskKind.CAR_LEFT_OPEN: "Car left, order open",
               TaskKind.SENSOR_FAULT: "Sensor fault", TaskKind.COLLECTOR: "Collector anomaly",
               TaskKind.OTHER: "Other"}


def group_inspectors(segment_id: int | None) -> list[int]:
    """Inspectors of the active groups that patrol a segment."""
    if segment_id is None:
        return []
    return list(db.session.scalars(select(inspector_group_members.c.staff_id).distinct().join(
        InspectorGroup, InspectorGroup.id == inspector_group_members.c.group_id).join(
        inspector_group_segments, inspector_group_segments.c.group_id == InspectorGroup.id).where(
        inspector_group_segments.c.segment_id == segment_id, InspectorGroup.active.is_(True))))


def my_segment_ids(staff: Staff):
    return select(inspector_group_segments.c.segment_id).join(
        InspectorGroup, InspectorGroup.id == inspector_group_segments.c.group_id).join(
        inspector_group_members, inspector_group_members.c.group_id == InspectorGroup.id).where(
        inspector_group_members.c.staff_id == staff.id, InspectorGroup.active.is_(True))


def _notify(task: InspectionTask, recipients) -> None:
    for staff_id in recipients:
        send(staff_id, "inspection_task", f"Task: {TASK_LABELS.get(task.kind, task.kind)}",
             task.note.splitlines()[-1] if task.note else None,
             {"task_id": task.id, "kind": task.kind, "berth_id": task.berth_id, "segment_id": task.segment_id})


def raise_task(*, park_id: int, segment_id: int | None, berth_id: int | None, kind: str, note: str | None,
               at: datetime, created_by: Staff | None = None, assignee: Staff | None = None,
               session_id: int | None = None, sensor_id: int | None = None,
               order_id: int | None = None) -> InspectionTask:
    """A new task; the assignee, or else every inspector patrolling the segment, gets a message."""
    task = InspectionTask(park_id=park_id, segment_id=segment_id, berth_id=berth_id, kind=kind,
                          state=TaskState.ASSIGNED if assignee else TaskState.OPEN,
                          assignee_id=assignee.id if assignee else None, session_id=session_id,
                          sensor_id=sensor_id, order_id=order_id, created_by_id=created_by.id if created_by else None,
                          created_at=at)
    if note:
        task.add_note(created_by.display_name if created_by else "system", note, at)
    db.session.add(task)
    db.session.flush()
    _notify(task, [assignee.id] if assignee else group_inspectors(segment_id))
    return task


# --- handheld ----------------------------------------------------------------------------------

def visible_tasks(staff: Staff, park_id: int, state: str | None = None):
    """Mine: assigned to me, or open and unassigned on a segment my groups patrol."""
    stmt = select(InspectionTask).where(InspectionTask.park_id == park_id,
                                        or_(InspectionTask.assignee_id == staff.id,
                                            InspectionTask.assignee_id.is_(None)
                                            & InspectionTask.segment_id.in_(my_segment_ids(staff))))
    if state == "open":
        stmt = stmt.where(InspectionTask.state != TaskState.RESOLVED)
    elif state == "resolved":
        stmt = stmt.where(InspectionTask.state == TaskState.RESOLVED)
    return stmt


def my_task(staff: Staff, park_id: int, task_id: int) -> InspectionTask:
    task = db.session.scalar(visible_tasks(staff, park_id).where(InspectionTask.id == task_id))
    if task is None:
        raise NotFound("task_not_found", "No such task for you.")
    return task


def resolve(staff: Staff, task: InspectionTask, note: str | None, outcome: str, at: datetime) -> InspectionTask:
    if task.state == TaskState.RESOLVED:
        raise Conflict("task_resolved", "This task is already resolved.", extra={"outcome": task.outcome})
    if outcome not in ("done", "failed"):
        raise Invalid("validation_failed", "outcome is done or failed.", {"outcome": "done or failed"})
    before = snapshot(task, ("state", "outcome", "assignee_id"))
    task.state, task.outcome, task.resolved_at, task.resolved_by_id = TaskState.RESOLVED, outcome, at, staff.id
    if task.assignee_id is None:
        task.assignee_id = staff.id
    task.add_note(staff.display_name, f"{outcome}" + (f" — {note}" if note else ""), at)
    record(staff, "resolve", task, anchor=task.park, label=f"task {task.id}", before=before,
           after=snapshot(task, ("state", "outcome", "assignee_id")))
    return task


def store_photo(park_id: int, data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise Invalid("photo_too_large", "A photo may be at most 5 MB.", {"photo": "too large"})
    found = sniff(data)
    if not data or found is None:
        raise Invalid("bad_photo", "Only JPEG or PNG photos are accepted.", {"photo": "not JPEG or PNG"})
    relative = Path("inspections") / str(park_id) / utcnow().strftime("%Y/%m") / f"{uuid.uuid4().hex}{found[1]}"
    target = photo_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return str(relative)


def photo_file(path: str | None) -> Path | None:
    if not path:
        return None
    target = (photo_root() / path).resolve()
    if photo_root().resolve() not in target.parents or not target.is_file():
        return None
    return target


def create_report(staff: Staff, park_id: int, *, kind: str, note: str | None, lat: float | None, lng: float | None,
                  segment_id: int | None, berth_id: int | None, plate: str | None,
                  observed_at: datetime) -> ViolationReport:
    if segment_id is not None and db.session.scalar(select(BerthSegment.id).where(
            BerthSegment.id == segment_id, BerthSegment.park_id == park_id)) is None:
        raise NotFound("segment_not_found", "No such segment in your park.", {"segment_id": "unknown"})
    if berth_id is not None:
        berth = db.session.scalar(select(Berth).where(Berth.id == berth_id, Berth.park_id == park_id))
        if berth is None:
            raise NotFound("berth_not_found", "No such berth in your park.", {"berth_id": "unknown"})
        segment_id = segment_id or berth.segment_id
    if plate:

        plate = normalize_plate(plate)
    report = ViolationReport(park_id=park_id, inspector_id=staff.id, segment_id=segment_id, berth_id=berth_id,
                             kind=kind, plate=plate, note=note, latitude=lat, longitude=lng, observed_at=observed_at)
    db.session.add(report)
    db.session.flush()

    record(staff, "report", report, anchor=db.session.get(Park, park_id), label=f"{kind} {plate or ''}".strip(),
           after={"kind": kind, "plate": plate, "lat": lat, "lng": lng})
    return report


def nearby_segments(park_id: int, lat: float, lng: float, radius_m: float = NEARBY_METRES) -> list[tuple]:
    """Active segments of the park within `radius_m` of the point, nearest first: [(segment, metres)]."""
    found = []
    for segment in db.session.scalars(select(BerthSegment).where(
            BerthSegment.park_id == park_id, BerthSegment.active.is_(True), BerthSegment.latitude.is_not(None),
            BerthSegment.longitude.is_not(None))):
        metres = haversine_m(lat, lng, segment.latitude, segment.longitude)
        if metres <= radius_m:
            found.append((segment, metres))
    return sorted(found, key=lambda pair: (pair[1], pair[0].name))


# --- admin -------------------------------------------------------------------------------------

def inspectors_of_park(park_id: int) -> list[Staff]:
    park = db.session.get_one(Park, park_id)
    return list(db.session.scalars(select(Staff).join(Role, Role.id == Staff.role_id).where(
        Role.kind == RoleKind.INSPECTOR.value, Staff.active.is_(True),
        or_(Staff.park_id == park_id, (Staff.level == "group") & (Staff.group_id == park.group_id)))
        .order_by(Staff.display_name)))


def assign(actor: Staff, task: InspectionTask, assignee: Staff, at: datetime, *, ip=None) -> None:
    if task.state == TaskState.RESOLVED:
        raise Conflict("task_resolved", "This task is already resolved.")
    before = snapshot(task, ("state", "assignee_id"))
    task.assignee_id, task.state = assignee.id, TaskState.ASSIGNED
    task.add_note(actor.display_name, f"assigned to {assignee.display_name}", at)
    record(actor, "assign", task, anchor=task.park, label=f"task {task.id}", before=before,
           after=snapshot(task, ("state", "assignee_id")), ip=ip)
    _notify(task, [assignee.id])


def follow_up(actor: Staff, task: InspectionTask, note: str, at: datetime, *, close: bool = False, ip=None) -> None:
    before = snapshot(task, ("state", "outcome"))
    task.add_note(actor.display_name, note, at)
    if close and task.state != TaskState.RESOLVED:
        task.state, task.outcome, task.resolved_at, task.resolved_by_id = TaskState.RESOLVED, "done", at, actor.id
    record(actor, "follow_up", task, anchor=task.park, label=f"task {task.id}", before=before,
           after={**snapshot(task, ("state", "outcome")), "note": note[:200]}, ip=ip)


def save_group(actor: Staff, group: InspectorGroup, *, park_id: int, name: str, segments: list[BerthSegment],
               inspectors: list[Staff], ip=None) -> InspectorGroup:
    name = name.strip()
    clash = db.session.scalar(select(InspectorGroup.id).where(InspectorGroup.park_id == park_id,
                                                             InspectorGroup.name == name,
                                                             InspectorGroup.id != (group.id or 0)))
    if clash:
        raise Invalid("name_taken", "A group with this name exists in the park.", {"name": "taken"})
    creating = group.id is None
    before = None if creating else {"name": group.name, "segments": sorted(s.id for s in group.segments),
                                    "inspectors": sorted(s.id for s in group.inspectors)}
    group.park_id, group.name = park_id, name
    group.segments, group.inspectors = segments, inspectors
    db.session.add(group)
    db.session.flush()
    record(actor, "create" if creating else "update", group, anchor=group.park, label=name, before=before,
           after={"name": name, "segments": sorted(s.id for s in segments),
                  "inspectors": sorted(s.id for s in inspectors)}, ip=ip)
    return group
