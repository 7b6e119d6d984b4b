"""Imports too large for the request (over IMPORT_INLINE_MAX_ROWS, 1,000 by default) run in the worker,
the way export jobs do: a job row anchored at the requester's node, the scope rebuilt from that anchor,
all or nothing in one transaction, progress in a small file beside the instance while it runs."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from app.audit.services import record
from app.core.types import utcnow
from app.core.worker import huey, run_now, task_context
from app.extensions import db
from app.members import imports
from app.members.models import ImportJob
from app.staff.models import Staff
from app.tenancy.scope import Scope

log = logging.getLogger(__name__)

REPORT_KEPT = 1000


def create_job(staff: Staff, kind: str, data: bytes, file_name: str, ip: str | None = None) -> ImportJob:
    job = ImportJob(requested_by_id=staff.id, kind=kind, data=data, file_name=(file_name or "")[:255], ip=ip,
                    state="queued")
    job.level = staff.level
    for attr in ("city_id", "group_id", "area_id", "park_id"):
        setattr(job, attr, getattr(staff, attr))
    db.session.add(job)
    db.session.flush()
    record(staff, "create", job, object_type="ImportJob", label=f"{kind} import #{job.id}",
           after={"kind": kind, "file_name": job.file_name, "bytes": len(data)}, ip=ip)
    db.session.commit()
    return job


def start(job: ImportJob) -> None:
    if run_now():
        import_task.call_local(job.id)  # tests: run now, in this process
    else:
        import_task(job.id)


@huey.task(retries=0)
def import_task(job_id: int) -> None:
    with task_context():  # in the worker, leaving the context removes the database session
        run_job(job_id)


def run_job(job_id: int) -> None:
    """The worker's side: the requester as actor, the scope from the job's anchor, one transaction."""
    job = db.session.get(ImportJob, job_id)
    if job is None or job.state != "queued":
        return
    staff = db.session.get(Staff, job.requested_by_id)
    if staff is None or not staff.active or not staff.can(imports.PERMISSIONS.get(job.kind, "-")):
        _end(job_id, "failed", error=_("The import is no longer allowed for this account."))
        return
    kind, data, ip, scope = job.kind, job.data or b"", job.ip, Scope.of(job)
    job.state = "running"
    db.session.commit()
    _write_progress(job_id, 0, 0)
    try:
        result = imports.import_file(staff, scope, kind, data, ip=ip,
                                     progress=lambda done, total: _write_progress(job_id, done, total))
    except imports.FileRefused as exc:
        db.session.rollback()
        _end(job_id, "failed", error=str(exc))
        return
    except Exception:
        log.exception("import job %s failed", job_id)
        db.session.rollback()
        _end(job_id, "failed", error=_("The import stopped on an unexpected error; nothing was imported."))
        return
    if not result.ok:  # imports rolled the rows back
        _end(job_id, "failed", report=[[e.row, e.column, e.message] for e in result.errors])
        return
    try:
        _end(job_id, "done", imported=result.imported)  # commits the imported rows with the job's new state
    except Exception:  # e.g. a concurrent sale took a plate between the check and the commit
        log.exception("import job %s could not commit", job_id)
        db.session.rollback()
        _end(job_id, "failed", error=_("The import could not be saved; nothing was imported. Try again."))


def _end(job_id: int, state: str, *, error: str | None = None, report: list | None = None,
         imported: int = 0) -> None:
    job = db.session.get(ImportJob, job_id)
    progress = read_progress(job_id)
    job.state, job.imported, job.finished_at, job.data = state, imported, utcnow(), None
    job.rows_total = progress.get("total") or job.rows_total
    job.rows_done = job.rows_total if state == "done" else progress.get("done", 0)
    job.error = error[:500] if error else None
    if report is not None:
        job.report, job.report_count = report[:REPORT_KEPT], len(report)
    db.session.commit()
    _progress_file(job_id).unlink(missing_ok=True)


def _progress_file(job_id: int) -> Path:
    path = Path(current_app.config["IMPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path / f"import-{job_id}.progress"


def read_progress(job_id: int) -> dict:
    try:
        return json.loads(_progress_file(job_id).read_text())
    except (OSError, ValueError):
        return {}


def _write_progress(job_id: int, done: int, total: int) -> None:
    tmp = _progress_file(job_id).with_suffix(".tmp")
    tmp.write_text(json.dumps({"done": done, "total": total}))
    os.replace(tmp, _progress_file(job_id))


def status(job: ImportJob) -> dict:
    done, total = job.rows_done, job.rows_total
    if job.state == "running":
        progress = read_progress(job.id)
        done, total = progress.get("done", 0), progress.get("total", 0)
    percent = 100 if job.state == "done" else min(99, 100 * done // total) if total else 0
    return {"id": job.id, "state": job.state, "rows": done, "total": total, "percent": percent,
            "imported": job.imported, "error": job.error}


def jobs_in_scope(scope: Scope, kind: str, limit: int = 10) -> list[ImportJob]:
    return list(db.session.scalars(scope.select(ImportJob).where(ImportJob.kind == kind)
                                   .order_by(ImportJob.id.desc()).limit(limit)))
