"""Pages of inspection tasks (巡查事件), inspector groups (巡查组) and violation reports."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.audit.services import record
from app.berths.models import Berth, BerthSegment
from app.core.errors import DomainError
from app.core.types import utcnow
from app.core.web import client_ip, paginate, permission_required
from app.extensions import db
from app.inspections import services
from app.inspections.forms import KIND_CHOICES, AssignForm, FollowUpForm, GroupForm, TaskFilterForm, TaskForm
from app.inspections.models import InspectionTask, InspectorGroup, TaskState, ViolationReport
from app.staff.models import Staff
from app.staff.permissions import ADD, DELETE, EDIT, VIEW, PermissionArea, register_area
from app.tenancy.models import Level, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

TASK_KIND_LABELS = dict(KIND_CHOICES)

bp = Blueprint("inspections", __name__, url_prefix="/inspections")

register_area(PermissionArea("inspections", _l("Inspections"), (VIEW, ADD, EDIT, DELETE)))
add_nav("inspections", _l("Inspection tasks"), "inspections.list_tasks", "inspections.view", requires="on_street")
add_nav("inspections", _l("Inspector groups"), "inspections.list_groups", "inspections.view", requires="on_street")
add_nav("inspections", _l("Violation reports"), "inspections.list_reports", "inspections.view", requires="on_street")


def _actor():
    return current_user._get_current_object()


def _segments(scope):
    return db.session.scalars(scope.select(BerthSegment).join(Park, Park.id == BerthSegment.park_id).where(
        BerthSegment.active.is_(True)).order_by(Park.name, BerthSegment.name)).all()


def _inspector_choices(park_id: int):
    return [(s.id, s.display_name) for s in services.inspectors_of_park(park_id)]


# --- tasks -------------------------------------------------------------------------------------

@bp.route("/tasks")
@permission_required("inspections.view")
def list_tasks():
    scope = current_scope()
    form = TaskFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + [(p.id, p.name) for p in scope.nodes(Level.PARK)]
    stmt = scope.select(InspectionTask).order_by(InspectionTask.created_at.desc(), InspectionTask.id.desc())
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(InspectionTask.park_id == form.park_id.data)
        if form.state.data:
            stmt = stmt.where(InspectionTask.state == form.state.data)
        if form.kind.data:
            stmt = stmt.where(InspectionTask.kind == form.kind.data)
    return render_template("inspections/tasks.html", page=paginate(stmt), form=form, labels=TASK_KIND_LABELS)


@bp.route("/tasks/new", methods=["GET", "POST"])
@permission_required("inspections.add")
def new_task():
    scope = current_scope()
    form = TaskForm()
    segments = _segments(scope)
    form.segment_id.choices = [(s.id, f"{s.park.name} / {s.name}") for s in segments]
    inspectors = {}
    for park_id in {s.park_id for s in segments}:
        inspectors.update(dict(_inspector_choices(park_id)))
    form.assignee_id.choices = [("", _("— any inspector of the segment —"))] + sorted(inspectors.items(),
                                                                                      key=lambda kv: kv[1])
    if form.validate_on_submit():
        segment = scope.get(BerthSegment, form.segment_id.data)
        berth = None
        if form.berth_number.data:
            berth = db.session.scalar(select(Berth).where(Berth.segment_id == segment.id,
                                                          Berth.number == form.berth_number.data.strip()))
            if berth is None:
                form.berth_number.errors = [_("No such berth in this segment.")]
        assignee = None
        if form.assignee_id.data:
            assignee = next((s for s in services.inspectors_of_park(segment.park_id)
                             if s.id == form.assignee_id.data), None)
            if assignee is None:
                form.assignee_id.errors = [_("This inspector does not work at the segment's park.")]
        if not form.errors:
            task = services.raise_task(park_id=segment.park_id, segment_id=segment.id,
                                       berth_id=berth.id if berth else None, kind=form.kind.data,
                                       note=form.note.data or None, at=utcnow(), created_by=_actor(),
                                       assignee=assignee)

            record(_actor(), "create", task, anchor=segment.park, label=f"task {task.id}", ip=client_ip(),
                   after={"kind": task.kind, "segment_id": segment.id, "assignee_id": task.assignee_id})
            db.session.commit()
            flash(_("Task %(id)d created.", id=task.id), "success")
            return redirect(url_for("inspections.show_task", task_id=task.id))
    return render_template("inspections/task_form.html", form=form), 400 if form.errors else 200


def _task_forms(task):
    assign = AssignForm(prefix="assign")
    assign.assignee_id.choices = _inspector_choices(task.park_id)
    return assign, FollowUpForm(prefix="follow")


@bp.route("/tasks/<int:task_id>")
@permission_required("inspections.view")
def show_task(task_id):
    task = current_scope().get_or_404(InspectionTask, task_id)
    assign, follow = _task_forms(task)
    return render_template("inspections/task.html", task=task, assign=assign, follow=follow,
                           labels=TASK_KIND_LABELS)


@bp.route("/tasks/<int:task_id>/assign", methods=["POST"])
@permission_required("inspections.edit")
def assign_task(task_id):
    task = current_scope().get_or_404(InspectionTask, task_id)
    assign, follow = _task_forms(task)
    if assign.validate_on_submit():
        assignee = db.session.get(Staff, assign.assignee_id.data)
        try:
            services.assign(_actor(), task, assignee, utcnow(), ip=client_ip())
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        else:
            db.session.commit()
            flash(_("Task %(id)d assigned to %(name)s.", id=task.id, name=assignee.display_name), "success")
            return redirect(url_for("inspections.show_task", task_id=task.id))
    return render_template("inspections/task.html", task=task, assign=assign, follow=follow,
                           labels=TASK_KIND_LABELS), 400


@bp.route("/tasks/<int:task_id>/follow-up", methods=["POST"])
@permission_required("inspections.edit")
def follow_up_task(task_id):
    task = current_scope().get_or_404(InspectionTask, task_id)
    assign, follow = _task_forms(task)
    if follow.validate_on_submit():
        services.follow_up(_actor(), task, follow.note.data, utcnow(), close=follow.close.data == "close",
                           ip=client_ip())
        db.session.commit()
        flash(_("Note added to task %(id)d.", id=task.id), "success")
        return redirect(url_for("inspections.show_task", task_id=task.id))
    return render_template("inspections/task.html", task=task, assign=assign, follow=follow,
                           labels=TASK_KIND_LABELS), 400


@bp.route("/tasks/<int:task_id>/photo")
@permission_required("inspections.view")
def task_photo(task_id):
    task = current_scope().get_or_404(InspectionTask, task_id)
    path = services.photo_file(task.photo_path)
    if path is None:
        abort(404)
    return send_file(path)


# --- groups ------------------------------------------------------------------------------------

@bp.route("/groups")
@permission_required("inspections.view")
def list_groups():
    scope = current_scope()
    stmt = scope.select(InspectorGroup).join(Park, Park.id == InspectorGroup.park_id).order_by(Park.name,
                                                                                             InspectorGroup.name)
    return render_template("inspections/groups.html", page=paginate(stmt))


def _group_form(group: InspectorGroup | None):
    scope = current_scope()
    form = GroupForm(obj=group)
    parks = scope.nodes(Level.PARK)
    form.park_id.choices = [(p.id, p.name) for p in parks]
    park_id = form.park_id.data if form.is_submitted() else (group.park_id if group else (parks[0].id if parks else 0))
    segments = db.session.scalars(scope.select(BerthSegment).where(BerthSegment.park_id == park_id)
                                  .order_by(BerthSegment.name)).all() if park_id else []
    form.segment_ids.choices = [(s.id, s.name) for s in segments]
    form.inspector_ids.choices = _inspector_choices(park_id) if scope.get(Park, park_id) else []
    if group is not None and not form.is_submitted():
        form.segment_ids.data = [s.id for s in group.segments]
        form.inspector_ids.data = [s.id for s in group.inspectors]
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        chosen_segments = [s for s in segments if s.id in set(form.segment_ids.data or [])]
        allowed = {s.id: s for s in services.inspectors_of_park(park.id)}
        chosen_inspectors = [allowed[i] for i in form.inspector_ids.data or [] if i in allowed]
        try:
            saved = services.save_group(_actor(), group or InspectorGroup(), park_id=park.id, name=form.name.data,
                                        segments=chosen_segments, inspectors=chosen_inspectors, ip=client_ip())
        except DomainError as exc:
            db.session.rollback()
            form.name.errors = [exc.message]
        else:
            db.session.commit()
            flash(_("Inspector group “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("inspections.list_groups"))
    return render_template("inspections/group_form.html", form=form, group=group), 400 if form.errors else 200


@bp.route("/groups/new", methods=["GET", "POST"])
@permission_required("inspections.add")
def new_group():
    return _group_form(None)


@bp.route("/groups/<int:inspector_group_id>/edit", methods=["GET", "POST"])
@permission_required("inspections.edit")
def edit_group(inspector_group_id):
    return _group_form(current_scope().get_or_404(InspectorGroup, inspector_group_id))


# --- reports -----------------------------------------------------------------------------------

@bp.route("/reports")
@permission_required("inspections.view")
def list_reports():
    scope = current_scope()
    stmt = scope.select(ViolationReport).order_by(ViolationReport.created_at.desc(), ViolationReport.id.desc())
    return render_template("inspections/reports.html", page=paginate(stmt))


@bp.route("/reports/<int:report_id>/photo")
@permission_required("inspections.view")
def report_photo(report_id):
    report = current_scope().get_or_404(ViolationReport, report_id)
    path = services.photo_file(report.photo_path)
    if path is None:
        abort(404)
    return send_file(path)


__all__ = ["TaskState"]
