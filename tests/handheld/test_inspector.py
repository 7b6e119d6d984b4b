"""The inspector on the handheld: a task resolved with a note and a photo, a segment's berths with sensor next
to order, a violation reported with a photo, and the positions of a mocked GPS arriving as the day's track."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.handheld.conftest import app_errors
from tests.handheld.test_collector_shift import CAMERA, PHOTO, sign_in, type_plate

pytestmark = pytest.mark.browser

WALK = [(31.2304, 121.4737), (31.2308, 121.4741), (31.2313, 121.4746)]  # a few steps along the street


def test_an_inspector_resolves_a_task_and_the_walk_arrives_as_a_track(live_app, live_server, phone):
    from app.core.types import utcnow
    from app.extensions import db
    from app.inspections.models import InspectionTask, ViolationReport
    from app.inspections.services import photo_file
    from app.staff.models import Staff
    from app.tenancy.models import Park
    from app.tracks.models import TrackPoint
    from app.tracks.services import day_report

    page = phone
    page.set_default_timeout(10_000)
    started = utcnow() - timedelta(seconds=1)  # the demo's own tracks end before now
    page.context.grant_permissions(["geolocation"], origin=live_server)
    page.context.set_geolocation({"latitude": WALK[0][0], "longitude": WALK[0][1], "accuracy": 8})
    sign_in(page, live_server, username="inspector1")
    task = page.locator("#tasks li").first
    task_id = int(task.get_attribute("data-task"))
    task.locator("button").click()
    page.fill("#task-note", "已联系收费员补录订单")
    page.set_input_files("#task-photo-input", files=[PHOTO])
    page.wait_for_selector("#task-photo-thumb:not(.hidden)")
    page.click("#task-done")
    expect(page.locator("#toast")).to_have_text("任务已处理")
    page.wait_for_selector("#no-tasks")  # the demo's one open task is done
    with live_app.app_context():
        resolved = db.session.get(InspectionTask, task_id)
        assert resolved.state == "resolved" and resolved.outcome == "done"
        assert "已联系收费员补录订单" in resolved.note
        assert photo_file(resolved.photo_path).read_bytes() == CAMERA

    page.click("[data-segment] >> text=Central North")
    page.wait_for_selector("#board [data-berth]")
    assert page.locator("#board [data-berth]").count() == 30

    for lat, lng in WALK[1:]:
        page.wait_for_timeout(300)
        page.context.set_geolocation({"latitude": lat, "longitude": lng, "accuracy": 8})
    page.wait_for_timeout(300)
    result = page.evaluate("() => window.parkingosFlushTrack().then((r) => r && r.status)")
    assert result == "done"
    with live_app.app_context():
        inspector_id = db.session.scalar(select(Staff.id).where(Staff.username == "inspector1"))
        points = db.session.execute(select(TrackPoint.lat, TrackPoint.lng).where(
            TrackPoint.staff_id == inspector_id, TrackPoint.recorded_at >= started)
            .order_by(TrackPoint.recorded_at)).all()
    assert [(round(p.lat, 4), round(p.lng, 4)) for p in points] == WALK

    # the day's track as the server holds it (the demo's morning walk and this one), drawn without a map
    page.click("#nav-track")
    page.wait_for_selector("#track-map polyline")
    with live_app.app_context():
        inspector = db.session.get(Staff, inspector_id)
        zone = db.session.scalar(select(Park.timezone).where(Park.name == "Central Street"))
        day = day_report(inspector, zone, utcnow().astimezone(ZoneInfo(zone)).date())
    drawn = page.get_attribute("#track-map polyline", "points").split(" ")
    assert len(drawn) == len(day["points"]) >= len(WALK)
    assert page.inner_text("#track-distance") == f"{day['stats'].distance_m / 1000:.2f} km"

    # a violation reported where the inspector stands
    page.click("#nav-home")
    page.click("#report")
    type_plate(page, "沪B12345")
    page.fill("#report-note", "占用消防通道")
    page.set_input_files("#report-photo-input", files=[PHOTO])
    page.wait_for_selector("#report-photo-thumb:not(.hidden)")
    page.click("#report-send")
    expect(page.locator("#toast")).to_have_text("已上报")
    with live_app.app_context():
        report = db.session.scalar(select(ViolationReport).where(ViolationReport.plate == "沪B12345"))
        assert (report.kind, report.note, report.inspector_id) == ("violation", "占用消防通道", inspector_id)
        assert (round(report.latitude, 4), round(report.longitude, 4)) == WALK[-1]
        assert photo_file(report.photo_path).read_bytes() == CAMERA  # sent after the report, to the report
    page.click("#nav-home")
    page.click("#sign-out")
    page.wait_for_selector("#signin")
    assert app_errors(page) == []
