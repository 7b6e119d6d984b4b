"""The demo seed: idempotent, every account signs in, the two cities stay apart, and what it shows is
believable (issue 17.5): one city in one place, capacities that are the berths, sensors that agree with the
orders, tasks that agree with both, photos, a history spread over believable hours."""
import io
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.berths.models import Berth, BerthSegment
from app.core.types import utcnow
from app.demo import DEMO_CITY_BOX, DEMO_PASSWORD
from app.inspections.models import InspectionTask, TaskKind, TaskState, ViolationReport
from app.orders.models import OrderPhoto, ParkingOrder
from app.orders.photos import photo_root
from app.sensors.models import BaseStation, OccupancySession, Sensor
from app.staff.models import Staff
from app.tenancy.models import Area, City, OperatingGroup, Park
from app.tracks.models import LastPosition, TrackPoint


@pytest.fixture
def demo(demo_seeded_once, db):
    return db


def _counts(db):
    return [db.session.scalar(select(func.count()).select_from(m)) for m in (City, OperatingGroup, Area, Park, Staff)]


def test_demo_city_has_on_and_off_street_parks(demo):
    kinds = demo.session.execute(select(Park.kind, func.count()).join(City, City.id == Park.city_id)
                                 .where(City.name == "Demo City").group_by(Park.kind)).all()
    kinds = dict(kinds)
    assert kinds["on_street"] >= 2 and kinds["off_street"] >= 1


def test_harbor_is_the_only_word_of_the_second_city(demo):
    harbor = demo.session.scalar(select(City).where(City.name.contains("Harbor")))
    names = [c.name for c in demo.session.scalars(select(City))]
    names += [g.name for g in demo.session.scalars(select(OperatingGroup))]
    names += [a.name for a in demo.session.scalars(select(Area))]
    names += [p.name for p in demo.session.scalars(select(Park))]
    staff = list(demo.session.scalars(select(Staff)))
    in_harbor = {s.display_name for s in staff if s.city_id == harbor.id}
    assert all("Harbor" in n for n in in_harbor)
    assert all("Harbor" not in s.display_name for s in staff if s.city_id != harbor.id)
    harbor_nodes = [n for n in names if "Harbor" in n]
    assert len(harbor_nodes) >= 4


@pytest.mark.parametrize("username", ["admin", "city1", "group1", "park1", "city2"])
def test_demo_managers_sign_in(demo, app, username):
    response = app.test_client().post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302


@pytest.mark.parametrize("username", ["collector1", "inspector1"])
def test_demo_field_staff_are_refused_by_the_admin(demo, app, username):
    response = app.test_client().post("/login", data={"username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 400


def test_demo_city_managers_never_see_harbor(demo, app, login):
    client = login(app.test_client(), "city1", DEMO_PASSWORD)
    for url in ("/", "/org/groups", "/org/areas", "/org/parks", "/staff", "/roles", "/audit"):
        assert "Harbor" not in client.get(url).get_data(as_text=True), url
    client = login(app.test_client(), "city2", DEMO_PASSWORD)
    assert "Harbor Pier Street" in client.get("/org/parks").get_data(as_text=True)


def test_demo_streets_have_berths_devices_and_history(demo):
    from app.berths.models import Berth
    from app.devices.models import Handheld
    from app.orders.models import LedgerEntry, ParkingOrder

    central = demo.session.scalar(select(Park).where(Park.name == "Central Street"))
    assert demo.session.scalar(select(func.count()).select_from(Berth).where(Berth.park_id == central.id)) == 60
    pos = demo.session.scalar(select(Handheld).where(Handheld.serial == "DEMO-POS-0001"))
    assert pos.status == "approved" and pos.park_id == central.id
    orders = demo.session.scalar(select(func.count()).select_from(ParkingOrder)
                                 .where(ParkingOrder.park_id == central.id))
    money = demo.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.park_id == central.id))
    assert orders > 50 and money > 0


# --- a believable demo (issue 17.5) ---------------------------------------------------------------------

def _open_session(db, sensor_id):
    return db.session.scalar(select(OccupancySession).where(OccupancySession.sensor_id == sensor_id,
                                                            OccupancySession.departed_at.is_(None)))


def test_every_open_order_stands_on_an_occupied_berth(demo):
    sensors = {s.berth_id: s for s in demo.session.scalars(select(Sensor).where(Sensor.berth_id.is_not(None)))}
    open_orders = demo.session.scalars(select(ParkingOrder).where(ParkingOrder.state == "open",
                                                                  ParkingOrder.berth_id.in_(sensors))).all()
    assert len(open_orders) >= 5
    for order in open_orders:
        sensor = sensors[order.berth_id]
        session = _open_session(demo, sensor.id)
        assert sensor.magnet is True and session is not None, order.plate
        assert session.order_id == order.id and session.arrived_at <= order.entered_at + timedelta(minutes=5)
    # and the other way round: a car the sensor sees has an order, or an open task says it has none
    open_by_berth = {o.berth_id for o in open_orders}
    for sensor in sensors.values():
        if sensor.magnet and sensor.berth_id not in open_by_berth:
            session = _open_session(demo, sensor.id)
            task = demo.session.scalar(select(InspectionTask).where(InspectionTask.session_id == session.id))
            assert task is not None and task.kind == TaskKind.CAR_NO_ORDER and task.state == TaskState.OPEN


def _order_open_at(demo, berth_id, moment):
    return demo.session.scalar(select(ParkingOrder).where(
        ParkingOrder.berth_id == berth_id, ParkingOrder.entered_at <= moment,
        (ParkingOrder.exit_received_at.is_(None)) | (ParkingOrder.exit_received_at > moment)).limit(1))


def test_no_inspection_task_contradicts_the_data(demo):
    tasks = demo.session.scalars(select(InspectionTask)).all()
    kinds = Counter((t.kind, t.state) for t in tasks)
    assert kinds[(TaskKind.CAR_NO_ORDER, TaskState.OPEN)] == 1 and kinds[(TaskKind.CAR_LEFT_OPEN, TaskState.RESOLVED)]
    for task in tasks:
        session = demo.session.get(OccupancySession, task.session_id)
        assert session is not None and session.berth_id == task.berth_id, task.id
        assert task.resolved_at is None or task.resolved_at >= task.created_at
        if task.kind == TaskKind.CAR_NO_ORDER:
            # the car was there when the task was raised, and no order covered the berth then
            assert session.order_id is None and session.arrived_at < task.created_at
            assert session.departed_at is None or session.departed_at > task.created_at
            assert _order_open_at(demo, task.berth_id, task.created_at) is None, task.id
            if task.state == TaskState.OPEN:
                sensor = demo.session.get(Sensor, session.sensor_id)
                assert sensor.magnet is True and session.departed_at is None
                assert _order_open_at(demo, task.berth_id, utcnow()) is None
        elif task.kind == TaskKind.CAR_LEFT_OPEN:
            # the car had left, its order was still open when the task was raised
            order = demo.session.get(ParkingOrder, task.order_id)
            assert session.order_id == order.id and session.departed_at <= task.created_at
            assert order.exit_received_at is None or order.exit_received_at > task.created_at
            if task.state == TaskState.RESOLVED:
                assert order.state != "open" and order.exit_received_at <= task.resolved_at


def test_every_coordinate_of_demo_city_is_inside_its_box(demo):
    south, west, north, east = DEMO_CITY_BOX
    city = demo.session.scalar(select(City).where(City.name == "Demo City"))
    parks = [p.id for p in demo.session.scalars(select(Park).where(Park.city_id == city.id))]
    staff = [s.id for s in demo.session.scalars(select(Staff).where(Staff.city_id == city.id))]
    points = [(p.latitude, p.longitude, p.name) for p in demo.session.scalars(select(Park).where(Park.id.in_(parks)))]
    points += [(s.latitude, s.longitude, s.name) for s in demo.session.scalars(
        select(BerthSegment).where(BerthSegment.park_id.in_(parks)))]
    points += [(b.latitude, b.longitude, b.serial) for b in demo.session.scalars(
        select(BaseStation).where(BaseStation.park_id.in_(parks)))]
    points += [(r.latitude, r.longitude, f"report {r.id}") for r in demo.session.scalars(
        select(ViolationReport).where(ViolationReport.park_id.in_(parks)))]
    points += [(lat, lng, f"track of {who}") for lat, lng, who in demo.session.execute(
        select(TrackPoint.lat, TrackPoint.lng, TrackPoint.staff_id).where(
            (TrackPoint.staff_id.in_(staff)) | (TrackPoint.park_id.in_(parks))))]
    points += [(p.lat, p.lng, f"last position of {p.staff_id}") for p in demo.session.scalars(
        select(LastPosition).where((LastPosition.staff_id.in_(staff)) | (LastPosition.park_id.in_(parks))))]
    assert len(points) > 1000 and all(lat is not None and lng is not None for lat, lng, _ in points)
    outside = [(lat, lng, what) for lat, lng, what in points if not (south <= lat <= north and west <= lng <= east)]
    assert outside == []


def test_on_street_capacity_is_the_number_of_berths(demo):
    on_street = demo.session.scalars(select(Park).where(Park.kind == "on_street")).all()
    assert len(on_street) >= 3
    for park in on_street:
        berths = demo.session.scalar(select(func.count()).select_from(Berth).where(Berth.park_id == park.id,
                                                                                   Berth.active.is_(True)))
        assert park.capacity == berths > 0, park.name


def test_photos_exist_and_open_as_jpeg(demo, app, login):
    photos = demo.session.scalars(select(OrderPhoto)).all()
    recent = demo.session.scalar(select(func.count()).select_from(ParkingOrder).where(
        ParkingOrder.berth_id.is_not(None), ParkingOrder.entered_at >= utcnow() - timedelta(days=2)))
    assert 0.05 * recent <= len({p.order_id for p in photos}) < recent  # a share of the orders, not all
    reports = demo.session.scalars(select(ViolationReport)).all()
    assert reports and all(r.photo_path for r in reports)
    for path in [p.path for p in photos] + [r.photo_path for r in reports]:
        with Image.open(photo_root() / path) as image:
            assert image.format == "JPEG" and image.size[0] >= 320
    client = login(app.test_client(), "park1", DEMO_PASSWORD)
    central = {p.id for p in demo.session.scalars(select(Park).where(Park.name == "Central Street"))}
    shown = next(p for p in photos if p.park_id in central)
    response = client.get(f"/orders/photos/{shown.id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(response.data)).format == "JPEG"
    response = client.get(f"/inspections/reports/{reports[0].id}/photo")
    assert response.status_code == 200 and Image.open(io.BytesIO(response.data)).format == "JPEG"


def test_history_is_spread_over_believable_hours(demo):
    from app.audit.models import AuditEntry
    from app.members.models import PassRenewal

    # the seeded history; the sign-ins of this module's other tests are audited at the moment they ran
    signing_in = ("login", "login_failed", "login_refused_field_staff", "login_refused_disabled", "logout")
    audit = [a.at for a in demo.session.scalars(select(AuditEntry).where(AuditEntry.action.not_in(signing_in)))]
    renewals = [r.at for r in demo.session.scalars(select(PassRenewal))]
    assert len(audit) > 50 and len(renewals) > 30
    for moments in (audit, renewals):  # no two rows in the same second, and over many days
        assert len({m.replace(microsecond=0) for m in moments}) == len(moments)
        assert (max(moments) - min(moments)).days >= 20
    zone = ZoneInfo("Asia/Shanghai")
    hours = Counter(m.astimezone(zone).hour for m in audit + renewals)
    assert set(hours) <= set(range(8, 21)), hours
    entries = [o.entered_at.astimezone(zone).hour for o in demo.session.scalars(  # the shifts' orders (the
        select(ParkingOrder).where(ParkingOrder.state != "open", ParkingOrder.entry_shift_id.is_not(None)))]  # cars
    # parked "now" stand at whatever hour the demo is seeded, and one of them is paid by phone)
    assert entries and set(entries) <= set(range(6, 23))


def test_the_pending_handheld_waits_in_the_handheld_alert(demo, app, login):
    client = login(app.test_client(), "park1", DEMO_PASSWORD)
    body = client.get("/street/handhelds").get_data(as_text=True)
    assert 'id="pending-note"' in body and "DEMO-POS-0099" in body
    assert "(collector2)" in body  # who tried to sign in on it, as the device API records it


def test_demo_shows_a_phone_payment_a_refund_and_a_reconciliation(demo, app, login):
    from app.inbox.models import Message
    from app.payments.models import Payment, PaymentRefund, Reconciliation

    paid = demo.session.scalars(select(Payment).where(Payment.booked.is_(True))).all()
    assert paid and all(p.state in ("paid", "refunded") for p in paid)
    assert demo.session.scalar(select(Message.id).where(Message.kind == "paid_online")) is not None
    refunds = demo.session.scalars(select(PaymentRefund)).all()
    assert {r.automatic for r in refunds} == {True, False}  # a manager's, and the one paid twice (cash first)
    [result] = demo.session.scalars(select(Reconciliation)).all()
    assert result.matched >= 2 and {d["flag"] for d in result.differences} == {"settled_already"}
    page = login(app.test_client(), "city1", DEMO_PASSWORD).get(f"/payments/reconciliations/{result.id}")
    assert page.status_code == 200 and 'data-kind="paid_not_booked"' in page.get_data(as_text=True)


def test_the_car_paid_by_phone_has_a_fee_due_at_any_hour(demo):
    """At some hours the segment's longest-parked car had prepaid in full, and the seed stopped on 'nothing
    due': the demo takes the longest-parked car with a fee due."""
    from app.orders.services import quote_order
    from app.payments.demo import LEFT_AGO, _open_order

    park, first = _open_order("Central Street", "Central South")
    first.prepaid_fen = 1_000_000  # the same car, prepaid in full
    demo.session.flush()
    found = _open_order("Central Street", "Central South")
    assert found is not None and found[1].id != first.id
    assert found[1].entered_at >= first.entered_at
    assert quote_order(found[1], utcnow() - LEFT_AGO, park).due_fen > 0
