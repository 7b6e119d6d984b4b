"""Exports: the writer, jobs (inline and through the queue in immediate mode), scope and permissions."""
from __future__ import annotations

import io
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from app.exports import services
from app.exports.models import ExportJob
from app.exports.registry import DATE, DATETIME, EXPORTS, INT, MONEY, PERCENT, TEXT
from app.reports import BY_NAME, compute
from app.tenancy.scope import Scope
from tests.pos_api.conftest import street  # noqa: F401
from tests.test_reports import _range, activity  # noqa: F401


def _export(client, kind, query=""):
    response = client.post(f"/exports/new/{kind}{query}")
    assert response.status_code == 302, response.status_code
    job_url = response.headers["Location"]
    status = client.get(job_url + "/status").get_json()
    return job_url, status


def _sheet(response):
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    return wb, [list(r) for r in wb.worksheets[0].iter_rows(values_only=True)]


def test_writer_types_formats_zone_and_sheets(tmp_path):
    columns = [("Name", TEXT), ("Count", INT), ("Money", MONEY), ("When", DATETIME), ("Day", DATE), ("Rate", PERCENT)]
    at = datetime(2026, 3, 1, 16, 30, tzinfo=timezone.utc)
    rows = [(f"=row {i}", i, 12345, at, date(2026, 3, 2), 0.25) for i in range(7)] + [(None, None, None, None, None, None)]
    path = tmp_path / "x.xlsx"
    n = services.write_workbook(path, "A title: with/odd*chars", columns, iter(rows), ZoneInfo("Asia/Shanghai"),
                                max_rows=3)
    assert n == 8
    wb = openpyxl.load_workbook(path)
    assert len(wb.worksheets) == 3 and all(ws.max_column == 6 for ws in wb.worksheets)
    first = wb.worksheets[0]
    assert [c.value for c in first[1]] == ["Name", "Count", "Money", "When", "Day", "Rate"]
    name, count, money, when, day, rate = first[2]
    assert name.value == "=row 0" and name.data_type == "s"  # text stays text, never a formula
    assert money.value == 123.45 and money.number_format == "0.00"
    assert when.value == datetime(2026, 3, 2, 0, 30)  # 16:30 UTC is 00:30 next day in Shanghai
    assert rate.number_format == "0.00%" and count.value == 0
    assert [c.value for c in wb.worksheets[2][3]] == [None] * 6


def test_report_export_holds_exactly_the_rows_of_the_page(activity, client_as, app):
    tree = activity
    client = client_as("parkp1")
    d_from, d_to = _range()
    job_url, status = _export(client, "report_income_collector", f"?date_from={d_from}&date_to={d_to}")
    assert status["state"] == "done"
    wb, rows = _sheet(client.get(status["download_url"]))
    report = BY_NAME["income"]
    with app.test_request_context():
        _f, _by, page_rows, totals = compute(report, Scope.of(tree.staff["parkp1"]),
                                             {"by": "collector", "date_from": str(d_from), "date_to": str(d_to)})
    assert rows[0] == ["Collector"] + [str(c.header) for c in report.columns]
    assert [r[0] for r in rows[1:-1]] == [r["label"] for r in page_rows]
    for sheet_row, page_row in zip(rows[1:-1], page_rows):
        assert sheet_row[1:] == [page_row[c.key] / 100 for c in report.columns]
    assert rows[-1][0] == "Total" and rows[-1][1:] == [totals[c.key] / 100 for c in report.columns]
    assert wb.worksheets[0]["B2"].number_format == "0.00"
    page = client.get(job_url).get_data(as_text=True)
    assert 'id="download-link"' in page and "export-bar" in page


def test_daily_export_writes_days_as_dates(activity, client_as):
    client = client_as("groupa1")
    d_from, d_to = _range()
    _url, status = _export(client, "report_daily", f"?date_from={d_from}&date_to={d_to}")
    _wb, rows = _sheet(client.get(status["download_url"]))
    assert [r[0] for r in rows[1:]] == [datetime.combine(d_from, datetime.min.time()),
                                         datetime.combine(d_to, datetime.min.time()), "Total"]
    assert rows[-1][1] == 6  # closed orders of both parks


def test_audit_export_is_filtered_like_the_audit_page(tree, client_as, db):
    for username in ("parkp1", "parkp2", "harborpark"):
        client_as(username)
    client = client_as("groupa1")
    _url, status = _export(client, "audit", "?action=login")
    wb, rows = _sheet(client.get(status["download_url"]))
    page = client.get("/audit?action=login").get_data(as_text=True)
    assert rows[0] == ["When", "Who", "Action", "Object", "Node", "IP", "Action code", "Object type code",
                       "Level code"]
    assert sorted(r[1] for r in rows[1:]) == ["groupa1", "parkp1", "parkp2"]
    assert all(r[1] in page for r in rows[1:])
    # people read the action in words; the code stays in a hidden column for whoever processes the file
    assert all(r[2] == "Signed in" and r[6] == "login" for r in rows[1:])
    assert {r[4] for r in rows[1:]} == {"Operating group", "Park"}
    sheet = wb.worksheets[0]
    assert sheet.column_dimensions["G"].hidden and not sheet.column_dimensions["C"].hidden
    assert isinstance(rows[1][0], datetime)


def test_large_job_goes_through_the_queue_and_stays_in_scope(activity, client_as, app, db):
    app.config["EXPORT_INLINE_MAX_ROWS"] = 0  # everything through huey (immediate mode in tests)
    try:
        client = client_as("parkp1")
        job_url, status = _export(client, "report_daily")
    finally:
        app.config["EXPORT_INLINE_MAX_ROWS"] = 5000
    assert status["state"] == "done" and status["percent"] == 100
    job_id = int(job_url.rsplit("/", 1)[1])
    job = db.session.get(ExportJob, job_id)
    assert (job.level, job.park_id, job.kind) == ("park", activity.p1.id, "report_daily")
    assert client.get(status["download_url"]).status_code == 200
    assert client_as("citya").get(status["download_url"]).status_code == 200   # above the requester
    assert client_as("groupa2").get(status["download_url"]).status_code == 404  # a sibling
    assert client_as("harborcity").get(job_url + "/status").status_code == 404
    assert client_as("parkp2").get(job_url).status_code == 404
    listing = client_as("groupa1").get("/exports/").get_data(as_text=True)
    assert f"/exports/{job_id}" in listing
    assert f"/exports/{job_id}" not in client_as("groupa2").get("/exports/").get_data(as_text=True)


def test_the_worker_rebuilds_the_scope_from_the_job(activity, app, db):
    tree = activity
    with app.test_request_context():
        job = services.create_job(tree.staff["parkp1"], EXPORTS["report_income_park"],
                                  {"park_id": str(tree.p2.id), "by": "park"})  # a forged foreign park
        services.run_job(job.id)
        db.session.refresh(job)
        assert job.state == "done"
        wb = openpyxl.load_workbook(services.export_dir() / job.file_path)
        labels = [r[0] for r in wb.worksheets[0].iter_rows(min_row=2, values_only=True)]
        assert labels == ["Alpha Street One", "Total"]


def test_export_needs_the_permission(activity, client_as, make, db, app):
    tree = activity
    role = make.role(tree.p1, "Viewer", codes={"dashboard.view", "reports.view"})
    make.staff(tree.p1, "viewerp1", role=role)
    client = client_as("viewerp1")
    assert client.get("/exports/new/report_daily").status_code == 403
    assert client.post("/exports/new/report_daily").status_code == 403
    assert client.get("/exports/new/no-such-kind").status_code == 404
    assert "export-link" not in client.get("/reports/daily").get_data(as_text=True)
    with app.test_request_context():
        job = services.create_job(tree.staff["parkp1"], EXPORTS["report_daily"], {})
        tree.staff["parkp1"].role_id = role.id
        db.session.commit()
        services.run_job(job.id)  # the requester lost the permission before the worker ran
        db.session.refresh(job)
        assert job.state == "failed"


@pytest.mark.parametrize("kind", ["report_daily", "report_income_berth", "report_occupancy", "report_methods"])
def test_new_export_page_shows_what_will_be_exported(client_as, tree, kind):
    body = client_as("parkp1").get(f"/exports/new/{kind}?date_from=2026-01-01").get_data(as_text=True)
    assert "2026-01-01" in body and 'id="start-export"' in body and str(EXPORTS[kind].columns[1][0]) in body
