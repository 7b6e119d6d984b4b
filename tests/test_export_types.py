"""Exports as a spreadsheet user meets them (issue 17.4): every column typed (money as numbers with 0.00,
dates as dates, counts and minutes as whole numbers), the file name and times in the requester's zone,
and a progress bar that moves through the rows instead of jumping from 0 to 100."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import openpyxl
import pytest
from sqlalchemy import select

from app.exports import services
from app.exports.models import ExportJob
from app.exports.registry import CODE, DATE, DATETIME, EXPORTS, INT, MINUTES, MONEY, PERCENT, TEXT
from app.staff.models import Staff
from app.tenancy.models import Park

NUMBER_FORMATS = {MONEY: "0.00", INT: "0", MINUTES: "0", PERCENT: "0.00%", DATETIME: "yyyy-mm-dd hh:mm:ss",
                  DATE: "yyyy-mm-dd"}


DEMO_HISTORY_DAYS = 2


@pytest.fixture
def demo(demo_seeded_once, db):
    return db


def _staff(db, username):
    return db.session.scalar(select(Staff).where(Staff.username == username))


def _run(app, db, staff, kind, params=None) -> tuple[ExportJob, openpyxl.Workbook]:
    with app.test_request_context():
        job = services.create_job(staff, EXPORTS[kind], params or {})
        services.run_job(job.id)  # the worker's path: count first, then stream
        db.session.refresh(job)
        assert job.state == "done", (kind, job.error)
        return job, openpyxl.load_workbook(services.export_dir() / job.file_path)


def _check_cell(kind_of_column, cell, where):
    if kind_of_column in (TEXT, CODE):
        assert cell.data_type == "s", where
    elif kind_of_column in (DATE, DATETIME):
        if cell.data_type == "s":  # the Total line of a report by day
            assert cell.value == "Total", where
            return
        assert isinstance(cell.value, datetime), where
        assert cell.number_format == NUMBER_FORMATS[kind_of_column], where
    elif kind_of_column in NUMBER_FORMATS:
        assert isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool), where
        assert cell.number_format == NUMBER_FORMATS[kind_of_column], where
        if kind_of_column in (INT, MINUTES):
            assert cell.value == int(cell.value), where
    else:  # report figures of another kind (averages): numbers, never text
        assert isinstance(cell.value, (int, float)), where


def test_every_export_types_every_column(demo, app):
    admin = _staff(demo, "admin")
    filled = set()
    for kind, spec in sorted(EXPORTS.items()):
        _job, wb = _run(app, demo, admin, kind)
        ws = wb.worksheets[0]
        for row in ws.iter_rows(min_row=2):
            for (_header, column_kind), cell in zip(spec.columns, row):
                if cell.value is not None:
                    _check_cell(column_kind, cell, (kind, cell.coordinate, cell.value))
                    filled.add(column_kind)
    # the demo fills every kind of column at least once, so the loop above checked each of them
    assert {TEXT, CODE, INT, MINUTES, MONEY, DATE, DATETIME} <= filled


def test_durations_are_minutes_as_numbers(demo, app):
    _job, wb = _run(app, demo, _staff(demo, "admin"), "orders", {"state": "settled"})
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert rows[0][5] == "Duration (min)"
    assert len(rows) > 20
    for row in rows[1:60]:
        minutes = row[5]
        assert isinstance(minutes, int) and minutes >= 0
        # Entered and Left are local times of the same zone, so their difference is the stay
        assert minutes == int((row[4] - row[3]).total_seconds() // 60)


def test_zh_cn_header_says_minutes(demo, app):
    staff = _staff(demo, "admin")
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        job = services.create_job(staff, EXPORTS["orders"], {})
        job.locale = "zh_CN"
        demo.session.commit()
        services.run_job(job.id)
        demo.session.refresh(job)
        header = next(openpyxl.load_workbook(services.export_dir() / job.file_path).worksheets[0]
                      .iter_rows(max_row=1, values_only=True))
    assert "分钟" in header[5]


def test_file_name_and_times_in_the_requesters_zone(demo, app, login):
    park = demo.session.scalar(select(Park).where(Park.name == "Central Street"))
    park.timezone = "Asia/Tokyo"  # not the platform default, so the zone shown must be the park's
    demo.session.commit()
    job, _wb = _run(app, demo, _staff(demo, "park1"), "orders")
    job.created_at = datetime(2026, 3, 1, 8, 52, tzinfo=timezone.utc)
    demo.session.commit()
    client = login(app.test_client(), "park1", "parkingos-demo")
    response = client.get(f"/exports/{job.id}/download")
    disposition = response.headers["Content-Disposition"]
    assert re.search(r"20260301-1752\.xlsx", disposition), disposition
    assert "2026-03-01 17:52" in client.get(f"/exports/{job.id}").get_data(as_text=True)
    assert "2026-03-01 17:52" in client.get("/exports/").get_data(as_text=True)


def test_progress_moves_through_the_rows(demo, app, monkeypatch):
    seen: list[dict] = []
    real = services._write_progress

    def record(job_id, rows, total):
        real(job_id, rows, total)
        job = demo.session.get(ExportJob, job_id)
        seen.append(services.status(job) if job.state == "running" else {"percent": None})

    monkeypatch.setattr(services, "_write_progress", record)
    job, wb = _run(app, demo, _staff(demo, "admin"), "orders")
    rows = wb.worksheets[0].max_row - 1
    assert rows == job.row_count and rows > 200
    percents = [s["percent"] for s in seen]
    # the total is known before the first row: the bar starts at 0 and climbs in small steps
    assert percents[0] == 0 and all(p is not None for p in percents)
    assert percents == sorted(percents) and len(set(percents)) >= 50
    assert max(b - a for a, b in zip(percents, percents[1:])) <= 2
    assert services.status(job)["percent"] == 100


def test_a_report_without_a_count_query_is_counted_first(demo, app, monkeypatch):
    totals = []
    monkeypatch.setattr(services, "_write_progress", lambda job_id, rows, total: totals.append(total))
    job, _wb = _run(app, demo, _staff(demo, "admin"), "report_daily")
    assert totals and totals[0] == job.row_count
