"""Export pages: what will be exported, the job with its progress, my / my scope's jobs, the download."""
from __future__ import annotations

from flask import Blueprint, abort, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.core.labels import label
from app.core.web import client_ip, paginate
from app.exports import services, specs  # noqa: F401  (registers the audit export)
from app.exports.models import ExportJob
from app.exports.registry import EXPORTS
from app.extensions import db
from app.staff.models import Staff
from app.tenancy.scope import current_scope

bp = Blueprint("exports", __name__)


def _spec_or_404(kind: str):
    spec = EXPORTS.get(kind)
    if spec is None:
        abort(404)
    if not current_user.can(spec.permission):
        abort(403)
    return spec


def _job_or_404(job_id: int) -> ExportJob:
    job = current_scope().get_or_404(ExportJob, job_id)
    spec = EXPORTS.get(job.kind)
    if spec is None or not current_user.can(spec.permission):
        abort(403)
    return job


@bp.route("/exports/")
@login_required
def list_jobs():
    scope = current_scope()
    page = paginate(services.jobs_in_scope(scope, current_user))
    ids = {job.requested_by_id for job in page.items}
    names = dict(db.session.execute(select(Staff.id, Staff.username).where(
        Staff.id.in_(ids), scope.clause(Staff))).all())
    zones: dict = {}
    for job in page.items:  # one look-up per requester's node, not per job
        key = (job.level, job.city_id, job.park_id)
        if key not in zones:
            zones[key] = services.job_zone(job).key
    return render_template("exports/list.html", page=page, specs=EXPORTS, names=names, zones=zones)


@bp.route("/exports/new/<kind>", methods=["GET", "POST"])
@login_required
def new_job(kind):
    spec = _spec_or_404(kind)
    params = services.clean_params(request.args)
    if request.method == "POST":
        job = services.create_job(current_user, spec, params, ip=client_ip())
        services.start(job)
        return redirect(url_for("exports.show_job", job_id=job.id))
    return render_template("exports/new.html", spec=spec, params=params, kind=kind)


@bp.route("/exports/<int:job_id>")
@login_required
def show_job(job_id):
    job = _job_or_404(job_id)
    return render_template("exports/job.html", job=job, spec=EXPORTS[job.kind], status=services.status(job),
                           zone=services.job_zone(job).key)


@bp.route("/exports/<int:job_id>/status")
@login_required
def job_status(job_id):
    job = _job_or_404(job_id)
    data = services.status(job)
    data["state_label"] = label(data["state"], "export_state")
    if job.state == "done":
        data["download_url"] = url_for("exports.download", job_id=job.id)
    return jsonify(data)


@bp.route("/exports/<int:job_id>/download")
@login_required
def download(job_id):
    job = _job_or_404(job_id)
    if job.state != "done" or not job.file_path:
        abort(404)
    path = services.export_dir() / job.file_path
    if not path.is_file():
        abort(404)
    return send_file(path, as_attachment=True, download_name=services.download_name(job),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
