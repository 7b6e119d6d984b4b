"""A group manager opens the overview and a report, switches to the chart, and downloads an export."""
import io

import openpyxl
import pytest

pytestmark = pytest.mark.browser


def _sign_in(page, live_server, username="group1"):
    page.goto(f"{live_server}/login")
    page.fill("#username", username)
    page.fill("#password", "parkingos-demo")
    page.click("#submit")
    page.wait_for_url(f"{live_server}/")


def test_dashboard_report_chart_and_export(live_server, page):
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, live_server)
    assert page.locator("#kpi-income").is_visible()
    assert "Central Street" in page.locator("#park-table").inner_text()
    page.wait_for_selector("#income-chart .main-svg, #income-chart.text-muted", timeout=15000)
    page.wait_for_selector("#traffic-chart .main-svg", timeout=15000)  # plotly, served by the app, drew it

    page.locator("#sidebar").get_by_role("link", name="Daily report").click()
    page.wait_for_url("**/reports/daily")
    table = page.locator("#report-table")
    assert table.is_visible() and "Total" in page.locator("#totals-row").inner_text()
    assert not page.locator("#report-chart").is_visible()
    page.click("#show-chart")
    page.wait_for_selector("#report-chart .main-svg", timeout=15000)
    assert not table.is_visible()
    page.click("#show-table")
    assert table.is_visible()
    rows_on_screen = page.locator("#report-table tbody tr").count()

    page.click("#export-link")
    page.click("#start-export")
    page.wait_for_selector("#download-link:not(.d-none)", timeout=20000)
    with page.expect_download() as info:
        page.click("#download-link")
    book = openpyxl.load_workbook(io.BytesIO(open(info.value.path(), "rb").read()))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "Day" and rows[-1][0] == "Total"
    assert len(rows) == 1 + rows_on_screen + 1
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
