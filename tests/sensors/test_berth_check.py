"""Sensors beside orders (车检器订单): each disagreement kind flagged on the page and in its exports, the day's
sensor sessions beside the orders with the fee the sensor's time implies, all made through the device API."""
from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from app.exports.registry import EXPORTS
from app.tenancy.scope import Scope
from tests.sensors.helpers import at, ref, sensored, street  # noqa: F401


def _street_day(s):
    """Through the device API: A001 a car and no order; A002 an earlier stay (sensor 3 h → 1 h 50 ago, order
    3 h → 2 h 30 ago, ¥2 charged) and now an order with the berth empty; A003 a car since 40 min with an
    order entered 5 min ago; A004 has no sensor on p1 (B001 … : see below); B001 silent (offline); B002 free."""
    token = s.street.signed_in()
    assert s.post([s.event("S-A001", "arrive", at(minutes=30)),
                   s.event("S-A002", "arrive", at(hours=3)), s.event("S-A002", "depart", at(hours=1, minutes=50)),
                   s.event("S-A003", "arrive", at(minutes=40)),
                   s.event("S-B002", "heartbeat", at(minutes=1))]).status_code == 200
    earlier = s.street.car_in(token, "A002", "沪A00002", entered_at=at(hours=3).isoformat()).get_json()["order"]
    settled = s.street.call("POST", f"/orders/{earlier['id']}/settle", token, json={
        "client_ref": ref(), "left_at": at(hours=2, minutes=30).isoformat(), "method": "cash", "amount_fen": 200})
    assert settled.status_code == 200, settled.get_json()
    assert settled.get_json()["receipt"]["fee_fen"] == 200
    for berth, plate, minutes in (("A002", "沪A00022", 20), ("A003", "沪A00003", 5)):
        response = s.street.car_in(token, berth, plate, entered_at=at(minutes=minutes).isoformat())
        assert response.status_code == 201, response.get_json()
    return earlier


def _rows(body: str, table: str) -> dict[str, str]:
    part = body[body.index(f'id="{table}"'):]
    part = part[:part.index("</table>")]
    return {m.group(1): m.group(0) for m in re.finditer(r'<tr data-berth="(\w+)".*?</tr>', part, re.S)}


def test_each_disagreement_is_flagged_beside_sensor_and_order(sensored, client_as, tree):
    _street_day(sensored)
    client = client_as("parkp1")
    body = client.get("/orders/berth-check").get_data(as_text=True)
    assert "Sensors are not connected yet" not in body
    rows = _rows(body, "berth-check-table")
    assert 'data-flag="car_no_order"' in rows["A001"] and "occupied" in rows["A001"]
    assert 'data-flag="order_no_car"' in rows["A002"] and "沪A00022" in rows["A002"] and "free" in rows["A002"]
    assert 'data-flag="times_apart"' in rows["A003"] and "35 min from arrival" in rows["A003"]
    assert tree.staff["collectorp1"].display_name in rows["A003"]
    assert 'data-flag="offline"' in rows["B001"] and "offline" in rows["B001"]
    assert "data-flag" not in rows["B002"] and "free" in rows["B002"]
    # a wider tolerance accepts A003's 35 minutes; flagged only leaves the berths that disagree
    rows = _rows(client.get("/orders/berth-check?minutes=60&flagged=y").get_data(as_text=True), "berth-check-table")
    assert set(rows) == {"A001", "A002", "B001", "B003"}  # B003's sensor never reported either
    # one segment
    segment = sensored.street.segments[0]
    rows = _rows(client.get(f"/orders/berth-check?segment_id={segment}").get_data(as_text=True), "berth-check-table")
    assert set(rows) == {"A001", "A002", "A003"}


def test_the_day_puts_sensor_sessions_beside_orders_with_both_fees(sensored, client_as, tree):
    _street_day(sensored)
    zone = ZoneInfo(tree.p1.timezone)
    client = client_as("parkp1")

    def day_rows(*times):  # the stays of the local days of these times (3 h ago and 40 min ago may be two)
        return [row for day in sorted({t.astimezone(zone).date().isoformat() for t in times}) for row in _day(day)]

    def _day(day):
        body = client.get(f"/orders/berth-check?day={day}").get_data(as_text=True)
        assert f"Sensor sessions and orders of {day}" in body
        part = body[body.index('id="session-table"'):]
        return [m.group(0) for m in re.finditer(r'<tr data-berth="\w+".*?</tr>', part[:part.index("</table>")], re.S)]

    rows = day_rows(at(hours=3))
    # 70 sensor minutes at ¥2 per started hour = ¥4; the order charged 30 minutes = ¥2
    [earlier] = [r for r in rows if "沪A00002" in r]
    assert 'data-berth="A002"' in earlier and "4.00" in earlier and "2.00" in earlier
    assert re.search(r'class="text-end difference"><span[^>]*>¥2\.00', earlier)
    # the car at A001 has no order, the order at A002 now no sensor session; A003's car is still there
    rows = day_rows(at(minutes=40), at(minutes=20))
    assert any('data-berth="A001"' in r and "no order" in r for r in rows)
    assert any("沪A00022" in r and "no sensor session" in r for r in rows)
    assert any("沪A00003" in r and "still there" in r for r in rows)


def test_exports_hold_the_flags_and_the_fees(sensored, tree, app):
    _street_day(sensored)
    scope = Scope.of(tree.staff["parkp1"])
    with app.test_request_context():
        checks = {row[2]: row for row in EXPORTS["berth_check"].rows(scope, {"park_id": str(tree.p1.id)})}
        day = at(hours=3).astimezone(ZoneInfo(tree.p1.timezone)).date().isoformat()
        sessions = list(EXPORTS["sensor_sessions"].rows(scope, {"park_id": str(tree.p1.id), "day": day}))
    assert checks["A001"][-1] == "car present, no order" and checks["A003"][-2] == 35
    assert checks["B002"][-1] == "" and checks["A002"][6] == "沪A00022"
    [stay] = [r for r in sessions if r[6] == "沪A00002"]
    assert stay[4] == 70 and stay[5] == 400 and stay[10] == 200 and stay[11] == 200


def test_a_foreign_park_or_segment_shows_nothing(sensored, client_as, street):
    client = client_as("parkp2")
    body = client.get(f"/orders/berth-check?segment_id={street.segments[0]}").get_data(as_text=True)
    assert "A001" not in body



def test_the_page_exports_through_the_exporter(sensored, client_as, tree):
    import io

    import openpyxl

    _street_day(sensored)
    client = client_as("parkp1")
    page = client.get("/orders/berth-check?flagged=y").get_data(as_text=True)
    assert "/exports/new/berth_check?flagged=y" in page and "/exports/new/sensor_sessions" in page
    response = client.post("/exports/new/berth_check?flagged=y")
    assert response.status_code == 302
    job_url = response.headers["Location"]
    assert client.get(job_url + "/status").get_json()["state"] == "done"
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(job_url + "/download").data)).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert rows[0][:3] == ["Park", "Segment", "Berth"] and rows[0][-1] == "Differences"
    flagged = {r[2]: r[-1] for r in rows[1:]}
    assert flagged["A001"] == "car present, no order" and flagged["A003"] == "arrival and entry apart"
    assert "B002" not in flagged


def test_the_collectors_berths_show_what_each_sensor_says(sensored):
    """The handheld's berth list marks the berths where the sensor disagrees with the orders, so the
    collector walks to them first (the same rule as the inspector's board)."""
    _street_day(sensored)
    token = sensored.street.login("collectorp1", "POS-P1-A")  # the same person, still on segment A
    answer = sensored.street.call("GET", "/berths", token)
    assert answer.status_code == 200, answer.get_json()
    berths = {b["number"]: b for b in answer.get_json()["berths"]}
    assert berths["A001"]["sensor"]["state"] == "occupied" and berths["A001"]["order"] is None
    assert berths["A001"]["mismatch"] is True
    assert berths["A002"]["sensor"]["state"] == "free" and berths["A002"]["order"]["plate"] == "沪A00022"
    assert berths["A002"]["mismatch"] is True
    assert berths["A003"]["sensor"]["state"] == "occupied" and berths["A003"]["mismatch"] is False
    assert berths["A003"]["sensor"]["since"].endswith("+08:00")
    assert all(b["sensor"] is None and b["mismatch"] is False for n, b in berths.items() if not n.startswith("A00"))
