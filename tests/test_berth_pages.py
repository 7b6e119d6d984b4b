"""Berth segments and berths pages: scoped lists with occupancy, bulk numbering all-or-nothing."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.berths import services
from app.berths.models import Berth, BerthSegment
from app.orders.models import ParkingOrder


def _segment(db, park, name="North side", **kw):
    segment = BerthSegment(park_id=park.id, name=name, **kw)
    db.session.add(segment)
    db.session.commit()
    return segment


def _berths(db, segment, *numbers, active=True):
    rows = [Berth(park_id=segment.park_id, segment_id=segment.id, number=n, active=active) for n in numbers]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _open_order(db, berth, plate):
    order = ParkingOrder(park_id=berth.park_id, segment_id=berth.segment_id, berth_id=berth.id, plate=plate,
                         entered_at=datetime(2024, 5, 1, 1, 0, tzinfo=timezone.utc))
    db.session.add(order)
    db.session.commit()
    return order


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# --- segments ---------------------------------------------------------------------------------

def test_create_segment_in_an_on_street_park(tree, client_as, db):
    response = client_as("groupa1").post("/street/segments/new", data={
        "park_id": tree.p1.id, "name": "Market Road", "address": "Market Road 1-40",
        "latitude": "31.23", "longitude": "121.47"})
    assert response.status_code == 302
    segment = db.session.scalar(select(BerthSegment).where(BerthSegment.name == "Market Road"))
    assert (segment.park_id, segment.latitude, segment.active) == (tree.p1.id, 31.23, True)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "BerthSegment"))
    assert entry.action == "create" and entry.park_id == tree.p1.id and entry.actor_name == "groupa1"


def test_segment_park_choices_are_on_street_parks_of_the_scope(tree, client_as, db):
    client = client_as("citya")
    body = client.get("/street/segments/new").get_data(as_text=True)
    assert "Alpha Street One" in body and "Alpha Garage Three" not in body  # p3 is off-street
    response = client.post("/street/segments/new", data={"park_id": tree.p3.id, "name": "Garage seg"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = client_as("groupa1").post("/street/segments/new", data={"park_id": tree.hp.id, "name": "Forged"})
    assert response.status_code == 400
    assert _count(db, BerthSegment) == 0


@pytest.mark.parametrize("change, message", [
    ({"name": ""}, "This field is required"),
    ({"name": "x" * 81}, "Field cannot be longer than 80"),
    ({"latitude": "91"}, "Number must be between -90"),
    ({"longitude": "east"}, "Not a valid float"),
    ({"park_id": "abc"}, "This field is required"),
])
def test_bad_segment_input_is_a_field_error(tree, client_as, db, change, message):
    data = {"park_id": tree.p1.id, "name": "Bad seg", **change}
    response = client_as("groupa1").post("/street/segments/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(db, BerthSegment) == 0


def test_segment_name_is_unique_within_a_park_only(tree, client_as, db):
    _segment(db, tree.p1, "Market Road")
    client = client_as("groupa1")
    response = client.post("/street/segments/new", data={"park_id": tree.p1.id, "name": "Market Road"})
    assert response.status_code == 400 and "already has that name" in response.get_data(as_text=True)
    assert client.post("/street/segments/new", data={"park_id": tree.p2.id, "name": "Market Road"}).status_code == 302
    assert _count(db, BerthSegment) == 2


def test_edit_segment_is_audited(tree, client_as, db):
    segment = _segment(db, tree.p1)
    response = client_as("parkp1").post(f"/street/segments/{segment.id}/edit", data={
        "park_id": tree.p1.id, "name": "North side", "address": "New address"})
    assert response.status_code == 302
    db.session.refresh(segment)
    assert segment.address == "New address"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update"))
    assert entry.before == {"address": None} and entry.after == {"address": "New address"}


def test_segment_with_berths_cannot_move_to_another_park(tree, client_as, db):
    segment = _segment(db, tree.p1)
    _berths(db, segment, "A1")
    response = client_as("groupa1").post(f"/street/segments/{segment.id}/edit", data={
        "park_id": tree.p2.id, "name": "North side"})
    assert response.status_code == 400 and "cannot move" in response.get_data(as_text=True)
    db.session.refresh(segment)
    assert segment.park_id == tree.p1.id


def test_disable_and_enable_a_segment(tree, client_as, db):
    segment = _segment(db, tree.p1)
    client = client_as("parkp1")
    assert client.post(f"/street/segments/{segment.id}/active").status_code == 302
    db.session.refresh(segment)
    assert segment.active is False
    assert "North side" in client.get("/street/segments?status=disabled").get_data(as_text=True)
    assert "North side" not in client.get("/street/segments?status=active").get_data(as_text=True)
    client.post(f"/street/segments/{segment.id}/active")
    db.session.refresh(segment)
    assert segment.active is True
    assert _count(db, AuditEntry, AuditEntry.object_type == "BerthSegment") == 2


def test_segment_list_counts_berths_and_occupied_berths(tree, client_as, db):
    segment = _segment(db, tree.p1)
    berths = _berths(db, segment, "A1", "A2", "A3")
    _open_order(db, berths[0], "沪A12345")
    closed = _open_order(db, berths[1], "沪B00001")
    closed.state = "settled"
    db.session.commit()
    body = client_as("parkp1").get("/street/segments").get_data(as_text=True)
    assert "North side" in body
    assert services.segment_counts([segment.id]) == {segment.id: (3, 1)}
    assert '<td class="text-end">3</td>' in body and '<td class="text-end">1</td>' in body


def test_segment_list_filters(tree, client_as, db):
    _segment(db, tree.p1, "North side")
    _segment(db, tree.p2, "South side")
    client = client_as("groupa1")
    body = client.get(f"/street/segments?park_id={tree.p2.id}").get_data(as_text=True)
    assert "South side" in body and "North side" not in body
    body = client.get("/street/segments?q=nort").get_data(as_text=True)
    assert "North side" in body and "South side" not in body
    body = client_as("parkp1").get("/street/segments").get_data(as_text=True)
    assert "North side" in body and "South side" not in body
    # a foreign park id in the filter is not a choice: the filter is ignored, nothing foreign shows
    response = client_as("parkp1").get(f"/street/segments?park_id={tree.p2.id}")
    assert response.status_code == 200 and "South side" not in response.get_data(as_text=True)


# --- berths -----------------------------------------------------------------------------------

def test_bulk_creation_from_a_range_expression(tree, client_as, db):
    segment = _segment(db, tree.p1)
    response = client_as("parkp1").post("/street/berths/bulk", data={"segment_id": segment.id,
                                                                     "expression": "A001–A120"})
    assert response.status_code == 302
    numbers = db.session.scalars(select(Berth.number).where(Berth.segment_id == segment.id)
                                 .order_by(Berth.number)).all()
    assert len(numbers) == 120 and numbers[0] == "A001" and numbers[-1] == "A120"
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Berth")).all()
    assert len(entries) == 1 and entries[0].after["count"] == 120 and entries[0].park_id == tree.p1.id


def test_bulk_creation_from_prefix_start_end_and_padding(tree, client_as, db):
    segment = _segment(db, tree.p1)
    response = client_as("groupa1").post("/street/berths/bulk", data={
        "segment_id": segment.id, "prefix": "b", "start": "7", "end": "12", "width": "3"})
    assert response.status_code == 302
    numbers = db.session.scalars(select(Berth.number).order_by(Berth.number)).all()
    assert numbers == ["B007", "B008", "B009", "B010", "B011", "B012"]
    assert all(b.park_id == tree.p1.id for b in db.session.scalars(select(Berth)))


def test_bulk_creation_refuses_existing_numbers_and_creates_nothing(tree, client_as, db):
    segment = _segment(db, tree.p1)
    other = _segment(db, tree.p1, "Other side")
    _berths(db, other, "A005", "A010")
    response = client_as("parkp1").post("/street/berths/bulk", data={"segment_id": segment.id,
                                                                     "expression": "A001-A020"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "already exist" in body and "A005" in body and "A010" in body
    assert _count(db, Berth) == 2  # all or nothing
    assert _count(db, AuditEntry, AuditEntry.object_type == "Berth") == 0


def test_same_numbers_in_another_park_are_fine(tree, client_as, db):
    _berths(db, _segment(db, tree.p2), "A001")
    segment = _segment(db, tree.p1)
    response = client_as("groupa1").post("/street/berths/bulk", data={"segment_id": segment.id,
                                                                      "expression": "A001-A003"})
    assert response.status_code == 302
    assert _count(db, Berth, Berth.park_id == tree.p1.id) == 3


@pytest.mark.parametrize("data, message", [
    ({"expression": "A001-A1001"}, "at most 1000"),
    ({"prefix": "A", "start": "1", "end": "1001"}, "at most 1000"),
    ({"expression": "A010-A001"}, "smaller than the first"),
    ({"expression": "A001-B010"}, "same prefix"),
    ({"expression": "hello world"}, "Write a range like"),
    ({}, "Give a range like"),
    ({"prefix": "A B", "start": "1", "end": "3"}, "Letters, digits"),
    ({"prefix": "A", "start": "x", "end": "3"}, "Not a valid integer"),
    ({"prefix": "ABCDEFGHIJKL", "start": "1", "end": "2", "width": "8"}, "at most 16"),
])
def test_bad_bulk_input_is_refused(tree, client_as, db, data, message):
    segment = _segment(db, tree.p1)
    response = client_as("parkp1").post("/street/berths/bulk", data={"segment_id": segment.id, **data})
    assert response.status_code == 400, data
    assert message in response.get_data(as_text=True), data
    assert _count(db, Berth) == 0


def test_bulk_creation_accepts_exactly_one_thousand(tree, client_as, db):
    segment = _segment(db, tree.p1)
    response = client_as("parkp1").post("/street/berths/bulk", data={"segment_id": segment.id,
                                                                     "expression": "C0001-C1000"})
    assert response.status_code == 302
    assert _count(db, Berth) == 1000


def test_bulk_creation_into_a_foreign_or_disabled_segment_is_refused(tree, client_as, db):
    foreign = _segment(db, tree.p2)
    disabled = _segment(db, tree.p1, "Closed", active=False)
    client = client_as("parkp1")
    for segment in (foreign, disabled):
        response = client.post("/street/berths/bulk", data={"segment_id": segment.id, "expression": "A1-A3"})
        assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    assert _count(db, Berth) == 0


def test_expand_range_padding_rules(app):
    with app.test_request_context():
        assert services.expand_range("A1-A3") == ["A1", "A2", "A3"]
        assert services.expand_range("a08~a10") == ["A08", "A09", "A10"]
        assert services.expand_range("B7") == ["B7"]
        assert services.expand_range("98-101") == ["98", "99", "100", "101"]
        assert services.expand_range(None, prefix="", start=1, end=2, width=0) == ["1", "2"]


def test_berth_list_shows_occupancy_with_plate_and_filters(tree, client_as, db):
    segment = _segment(db, tree.p1)
    a1, a2, _a3 = _berths(db, segment, "A1", "A2", "A3")
    _open_order(db, a1, "沪A12345")
    client = client_as("parkp1")
    body = client.get("/street/berths").get_data(as_text=True)
    assert "沪A12345" in body and "A2" in body
    body = client.get("/street/berths?occupancy=occupied").get_data(as_text=True)
    assert "沪A12345" in body and ">A2<" not in body
    body = client.get("/street/berths?occupancy=free").get_data(as_text=True)
    assert ">A2<" in body and ">A1<" not in body
    body = client.get("/street/berths?q=a3").get_data(as_text=True)
    assert ">A3<" in body and ">A2<" not in body


def test_berth_list_per_segment_and_park(tree, client_as, db):
    north = _segment(db, tree.p1, "North side")
    south = _segment(db, tree.p2, "South side")
    _berths(db, north, "N1")
    _berths(db, south, "S1")
    client = client_as("groupa1")
    body = client.get(f"/street/berths?segment_id={north.id}").get_data(as_text=True)
    assert ">N1<" in body and ">S1<" not in body
    body = client.get(f"/street/berths?park_id={tree.p2.id}").get_data(as_text=True)
    assert ">S1<" in body and ">N1<" not in body
    body = client_as("parkp1").get("/street/berths").get_data(as_text=True)
    assert ">N1<" in body and ">S1<" not in body and "South side" not in body


def test_edit_berth_number_and_segment_within_its_park(tree, client_as, db):
    north = _segment(db, tree.p1, "North side")
    east = _segment(db, tree.p1, "East side")
    foreign = _segment(db, tree.p2, "South side")
    berth, _other = _berths(db, north, "A1", "A2")
    client = client_as("groupa1")
    response = client.post(f"/street/berths/{berth.id}/edit", data={"number": "A2", "segment_id": north.id})
    assert response.status_code == 400 and "has that number" in response.get_data(as_text=True)
    response = client.post(f"/street/berths/{berth.id}/edit", data={"number": "A1", "segment_id": foreign.id})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    response = client.post(f"/street/berths/{berth.id}/edit", data={"number": "A1 !", "segment_id": north.id})
    assert response.status_code == 400
    response = client.post(f"/street/berths/{berth.id}/edit", data={"number": "e01", "segment_id": east.id})
    assert response.status_code == 302
    db.session.refresh(berth)
    assert (berth.number, berth.segment_id) == ("E01", east.id)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "Berth"))
    assert entry.before == {"number": "A1", "segment_id": north.id} and entry.object_label == "E01"


def test_disable_and_enable_a_berth(tree, client_as, db):
    (berth,) = _berths(db, _segment(db, tree.p1), "A1")
    client = client_as("parkp1")
    assert client.post(f"/street/berths/{berth.id}/active").status_code == 302
    db.session.refresh(berth)
    assert berth.active is False
    assert ">A1<" in client.get("/street/berths?status=disabled").get_data(as_text=True)
    client.post(f"/street/berths/{berth.id}/active")
    db.session.refresh(berth)
    assert berth.active is True


def test_a_role_without_the_code_gets_403(tree, make, client_as, db):
    segment = _segment(db, tree.p1)
    (berth,) = _berths(db, segment, "A1")
    viewer = make.role(tree.p1, "Berth viewer", codes=["berths.view", "dashboard.view"])
    make.staff(tree.p1, "berthviewer", role=viewer)
    client = client_as("berthviewer")
    assert client.get("/street/berths").status_code == 200
    assert client.get("/street/segments").status_code == 200
    assert client.get("/street/segments/new").status_code == 403
    assert client.post("/street/berths/bulk", data={"segment_id": segment.id, "expression": "A2"}).status_code == 403
    assert client.post(f"/street/berths/{berth.id}/edit", data={"number": "Z", "segment_id": segment.id}) \
        .status_code == 403
    assert client.post(f"/street/berths/{berth.id}/active").status_code == 403
    nobody = make.role(tree.p1, "Nobody", codes=["dashboard.view"])
    make.staff(tree.p1, "nobody", role=nobody)
    assert client_as("nobody").get("/street/berths").status_code == 403
    assert _count(db, Berth) == 1


def test_navigation_lists_the_street_pages(tree, client_as):
    body = client_as("parkp1").get("/street/segments").get_data(as_text=True)
    assert "Street operations" in body and "/street/berths" in body and "/street/handhelds" in body
