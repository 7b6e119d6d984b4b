"""The one Excel writer every export goes through, and the life of an export job.

`write_workbook` streams rows into an xlsxwriter workbook in constant-memory mode: each row is
written and flushed in order, so memory stays flat however many rows the spec's `rows` iterator
yields (specs fetch from the database in batches with `yield_per`). Money (integer fen) is written
as a number of yuan with a 0.00 format, times in the export's zone, and a new sheet starts when a
sheet is full (1,048,575 data rows under the header)."""
from __future__ import annotations

import itertools
import json
import logging
import os
import re
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import xlsxwriter
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.audit.services import record
from app.core.types import utcnow
from app.exports.models import ExportJob
from app.exports.registry import CODE, DATE, DATETIME, EXPORTS, INT, MINUTES, MONEY, PERCENT, TEXT, ExportSpec
from app.exports.tasks import enqueue_export
from app.extensions import db
from app.i18n import locale_code
from app.reports.queries import node_timezone
from app.staff.models import Staff
from app.tenancy.scope import Scope

log = logging.getLogger(__name__)

MAX_DATA_ROWS = 1_048_575          # Excel's 1,048,576 rows minus the header
PROGRESS_EVERY = 5_000
PROGRESS_STEPS = 100                # with a known total, progress is written about once per percent
COUNTERS: dict = {}                 # kind -> counter(scope, params) -> int, optional, for a real percentage


def register_counter(kind: str, counter) -> None:
    """A list may say how many rows an export will hold, so the progress bar shows a percentage."""
    COUNTERS[kind] = counter


# ------------------------------------------------------------------------------------------------------ writer

def _sheet_name(title: str, n: int) -> str:
    base = re.sub(r"[\[\]:*?/\\']", " ", str(title)).strip() or "Export"
    suffix = f" ({n})" if n > 1 else ""
    return base[: 31 - len(suffix)] + suffix


def _cell_writers(columns, formats, zone: ZoneInfo):
    """One small function per column, chosen once, so the row loop does no type dispatch."""
    writers = []
    for _header, kind in columns:
        if kind == MONEY:
            fmt = formats["money"]
            writers.append(lambda ws, r, c, v, fmt=fmt: ws.write_number(r, c, v / 100, fmt))
        elif kind in (INT, MINUTES):
            fmt = formats["int"]
            writers.append(lambda ws, r, c, v, fmt=fmt: ws.write_number(r, c, v, fmt))
        elif kind == PERCENT:
            fmt = formats["percent"]
            writers.append(lambda ws, r, c, v, fmt=fmt: ws.write_number(r, c, v, fmt))
        elif kind == DATETIME:
            fmt = formats["datetime"]

            def write_dt(ws, r, c, v, fmt=fmt):
                if isinstance(v, datetime) and v.tzinfo is not None:
                    v = v.astimezone(zone).replace(tzinfo=None)
                ws.write_datetime(r, c, v, fmt)
            writers.append(write_dt)
        elif kind == DATE:
            fmt = formats["date"]

            def write_date(ws, r, c, v, fmt=fmt):
                if isinstance(v, datetime):
                    v = (v.astimezone(zone) if v.tzinfo else v).date()
                if isinstance(v, date):
                    ws.write_datetime(r, c, datetime.combine(v, time()), fmt)
                else:
                    ws.write_string(r, c, str(v))
            writers.append(write_date)
        elif kind in (TEXT, CODE):
            writers.append(lambda ws, r, c, v: ws.write_string(r, c, v if isinstance(v, str) else str(v)))
        else:  # any other kind: numbers stay numbers (two decimals), the rest is text
            fmt = formats["float"]

            def write_any(ws, r, c, v, fmt=fmt):
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(r, c, v, fmt)
                else:
                    ws.write_string(r, c, str(v))
            writers.append(write_any)
    return writers


def _header(header, kind: str) -> str:
    return _("%(header)s (min)", header=header) if kind == MINUTES else str(header)


def _width(kind: str, header: str) -> int:
    return max(len(header) + 2, {DATETIME: 19, DATE: 12, MONEY: 12, TEXT: 16}.get(kind, 10))


def write_workbook(path, title: str, columns, rows, zone: ZoneInfo, progress=None,
                   every: int = PROGRESS_EVERY, max_rows: int = MAX_DATA_ROWS) -> int:
    """Write `rows` (an iterator of sequences in column order) to `path`; return the number of rows."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    try:
        formats = {"header": wb.add_format({"bold": True, "bg_color": "#E9ECEF", "border": 1}),
                   "money": wb.add_format({"num_format": "0.00"}), "int": wb.add_format({"num_format": "0"}),
                   "percent": wb.add_format({"num_format": "0.00%"}),
                   "datetime": wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"}),
                   "date": wb.add_format({"num_format": "yyyy-mm-dd"}), "float": wb.add_format({"num_format": "0.00"})}
        headers = [_header(h, k) for h, k in columns]
        writers = _cell_writers(columns, formats, zone)
        sheets = 0

        def new_sheet():
            nonlocal sheets
            sheets += 1
            ws = wb.add_worksheet(_sheet_name(title, sheets))
            for c, (header, (_h, kind)) in enumerate(zip(headers, columns)):
                ws.set_column(c, c, _width(kind, header), None, {"hidden": kind == CODE})
            ws.write_row(0, 0, headers, formats["header"])
            ws.freeze_panes(1, 0)
            return ws

        ws = new_sheet()
        r = count = 0
        for row in rows:
            if r == max_rows:
                ws, r = new_sheet(), 0
            r += 1
            for c, (write, value) in enumerate(zip(writers, row)):
                if value is not None:
                    write(ws, r, c, value)
            count += 1
            if progress is not None and count % every == 0:
                progress(count)
    finally:
        wb.close()
    return count


# ------------------------------------------------------------------------------------------------------- jobs

def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_for(job: ExportJob) -> Path:
    return export_dir() / f"export-{job.id}.xlsx"


def _progress_file(job_id: int) -> Path:
    return export_dir() / f"export-{job_id}.progress"


def read_progress(job_id: int) -> dict:
    try:
        return json.loads(_progress_file(job_id).read_text())
    except (OSError, ValueError):
        return {}


def _write_progress(job_id: int, rows: int, total: int | None) -> None:
    # A small file beside the export, not a database row: the spec's rows iterator may hold an open
    # server-side cursor (or, on SQLite, a read lock), so the worker must not commit while it streams.
    tmp = _progress_file(job_id).with_suffix(".tmp")
    tmp.write_text(json.dumps({"rows": rows, "total": total}))
    os.replace(tmp, _progress_file(job_id))


def export_timezone(spec: ExportSpec, scope: Scope, params: dict) -> ZoneInfo:
    value = params.get(spec.timezone_param) if spec.timezone_param else None
    if value:
        if str(value).isdigit():
            return ZoneInfo(node_timezone(scope, int(value)))
        try:
            return ZoneInfo(str(value))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    park_id = params.get("park_id")
    return ZoneInfo(node_timezone(scope, int(park_id) if str(park_id or "").isdigit() else None))


def clean_params(args) -> dict:
    """Filters of the list, as strings; never ids of the scope (that comes from the job's anchor)."""
    out = {}
    for key, value in list(args.items())[:30]:
        if key in ("csrf_token", "page", "before") or value in (None, ""):
            continue
        out[str(key)[:40]] = str(value)[:200]
    return out


def create_job(staff: Staff, spec: ExportSpec, params: dict, ip: str | None = None) -> ExportJob:
    """A job anchored where the requester is anchored; who exported what is in the audit log."""
    job = ExportJob(requested_by_id=staff.id, kind=spec.kind, params=params, state="queued", progress=0,
                    locale=locale_code())
    job.level = staff.level
    for attr in ("city_id", "group_id", "area_id", "park_id"):
        setattr(job, attr, getattr(staff, attr))
    db.session.add(job)
    db.session.flush()
    record(staff, "create", job, object_type="ExportJob", label=f"{spec.kind} #{job.id}",
           after={"kind": spec.kind, "params": params}, ip=ip)
    db.session.commit()
    return job


def start(job: ExportJob) -> None:
    """Produce a small export right here (through the same writer); enqueue anything larger."""
    limit = current_app.config.get("EXPORT_INLINE_MAX_ROWS", 5000)
    spec = EXPORTS[job.kind]
    if limit > 0:
        scope = Scope.of(job)
        rows = iter(spec.rows(scope, dict(job.params or {})))
        head = list(itertools.islice(rows, limit + 1))
        close = getattr(rows, "close", None)
        if close is not None:
            close()
        if len(head) <= limit:
            _produce(job, spec, scope, iter(head))
            return

    enqueue_export(job.id)


def run_job(job_id: int) -> None:
    """The worker's side: rebuild the requester's scope from the job's anchor and write the file."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.state in ("done", "failed"):
        return
    spec = EXPORTS.get(job.kind)
    staff = db.session.get(Staff, job.requested_by_id)
    if spec is None or staff is None or not staff.active or not staff.can(spec.permission):
        with force_locale(job.locale or current_app.config["DEFAULT_LOCALE"]):
            _fail(job, _("The export is no longer allowed for this account."))
        return
    scope = Scope.of(job)
    params = dict(job.params or {})
    job.state = "running"
    db.session.commit()
    total = _count(job.kind, spec, scope, params)
    _write_progress(job.id, 0, total)
    _produce(job, spec, scope, spec.rows(scope, params), total)


def _count(kind: str, spec: ExportSpec, scope: Scope, params: dict) -> int | None:
    """The rows to come, counted first so the bar moves: the spec's count query, else one dry pass over
    the rows (specs without a count query are the reports, computed in memory and small)."""
    counter = spec.count or COUNTERS.get(kind)
    try:
        if counter is not None:
            return int(counter(scope, params))
        rows = iter(spec.rows(scope, params))
        try:
            return sum(1 for _row in rows)
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()
    except Exception:  # a count is a nicety; the export goes on without it
        log.exception("export counter of %s failed", kind)
        db.session.rollback()
        return None


def progress_every(total: int | None) -> int:
    if not total:
        return PROGRESS_EVERY
    return max(1, min(PROGRESS_EVERY, total // PROGRESS_STEPS))


def _produce(job: ExportJob, spec: ExportSpec, scope: Scope, rows, total: int | None = None) -> None:
    job_id = job.id
    path = file_for(job)
    try:
        zone = export_timezone(spec, scope, dict(job.params or {}))
        # headers, sheet names and labels in the language of the person who asked, also in the worker
        with force_locale(job.locale or current_app.config["DEFAULT_LOCALE"]):
            count = write_workbook(path, spec.title, spec.columns, rows, zone, every=progress_every(total),
                                   progress=lambda n: _write_progress(job_id, n, total))
    except Exception as exc:
        log.exception("export %s (%s) failed", job_id, spec.kind)
        db.session.rollback()
        job = db.session.get(ExportJob, job_id)
        _fail(job, f"{type(exc).__name__}: {exc}")
        path.unlink(missing_ok=True)
        return
    db.session.rollback()  # end the read transaction the rows were streamed in
    job = db.session.get(ExportJob, job_id)
    job.state, job.progress, job.row_count = "done", 100, count
    job.file_path, job.finished_at = path.name, utcnow()
    db.session.commit()
    _progress_file(job_id).unlink(missing_ok=True)


def _fail(job: ExportJob, message: str) -> None:
    job.state, job.error, job.finished_at = "failed", message[:500], utcnow()
    db.session.commit()


def status(job: ExportJob) -> dict:
    rows, percent = job.row_count, job.progress
    if job.state == "running":
        p = read_progress(job.id)
        rows = p.get("rows", 0)
        percent = min(99, int(100 * rows / p["total"])) if p.get("total") else None
    elif job.state == "queued":
        percent = 0
    return {"id": job.id, "state": job.state, "rows": rows, "percent": percent, "error": job.error}


def job_zone(job: ExportJob) -> ZoneInfo:
    """The zone of the requester's node: the job's times and its file name are read there."""
    return ZoneInfo(node_timezone(Scope.of(job)))


def download_name(job: ExportJob) -> str:
    created = job.created_at.astimezone(job_zone(job))
    return f"{EXPORTS[job.kind].title}-{created:%Y%m%d-%H%M}.xlsx".replace("/", "-")


def jobs_in_scope(scope: Scope, staff: Staff):
    kinds = [k for k, s in EXPORTS.items() if staff.can(s.permission)]
    return scope.select(ExportJob).where(ExportJob.kind.in_(kinds)).order_by(ExportJob.id.desc())


__all__ = ["write_workbook", "create_job", "start", "run_job", "status", "register_counter"]
