"""The search box (/search) and the plate page (/plates/<plate>): every kind found, inside the scope only."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.core.types import utcnow
from app.devices.models import Handheld
from app.extensions import db
from app.members.models import MonthlyPass, MonthlyProduct, PassPlate, PlateListEntry
from app.orders.models import Arrear, OrderPhoto, ParkingOrder


def _order(park, plate, *, receipt=None, state="settled", hours_ago=3):
    order = ParkingOrder(park_id=park.id, plate=plate, entered_at=utcnow() - timedelta(hours=hours_ago),
                         state=state, receipt_no=receipt)
    db.session.add(order)
    db.session.flush()
    return order


def _pass(park, plate, holder):
    product = MonthlyProduct(name=f"{holder} product", price_fen=10000)
    product.anchor_at(park)
    pass_ = MonthlyPass(holder_name=holder, starts_on=date.today(), ends_on=date.today() + timedelta(days=30),
                        product=product, plates=[PassPlate(plate=plate)])
    pass_.anchor_at(park)
    db.session.add(pass_)
    return pass_


@pytest.fixture
def plates(tree):
    """浙A12345 at p1 with every kind of record; the same plate and a receipt at Harbor's park."""
    seen = _order(tree.p1, "浙A12345", receipt="RC-P1-0001")
    unpaid = _order(tree.p1, "浙A12345", state="unpaid", hours_ago=30)
    db.session.add(Arrear(park_id=tree.p1.id, order_id=unpaid.id, plate="浙A12345", amount_fen=800))
    db.session.add(OrderPhoto(park_id=tree.p1.id, order_id=seen.id, kind="entry", path="p.png",
                              content_type="image/png", size_bytes=1, delete_after=utcnow() + timedelta(days=9)))
    _pass(tree.p1, "浙A12345", "Wang Holder")
    db.session.add(PlateListEntry(park_id=tree.p1.id, plate="浙A12345", kind="black", reason="Dodged twice"))
    _order(tree.p1, "浙A12399")
    _order(tree.p2, "浙A12346")
    harbor = _order(tree.hp, "浙A12345", receipt="RC-HB-0001")
    _order(tree.hp, "沪H77777")
    handheld = Handheld(serial="POS-SN-778899", label="Desk one")
    handheld.anchor_at(tree.p1)
    db.session.add(handheld)
    db.session.commit()
    return {"seen": seen, "unpaid": unpaid, "harbor": harbor, "handheld": handheld}


def _hits(client, q):
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_a_partial_plate_lists_the_plates_of_the_scope(plates, client_as):
    body = _hits(client_as("groupa1"), "a123")  # lower case, part of the plate
    assert "浙A12345" in body and "浙A12399" in body and "浙A12346" in body
    assert body.count("search-hit-plate") == 3
    assert "/plates/%E6%B5%99A12345" in body or "/plates/浙A12345" in body
    assert "浙A12346" not in _hits(client_as("parkp1"), "a123")  # p2's plate is outside park p1


def test_a_full_plate_with_spaces_goes_to_the_plate_page(plates, client_as):
    response = client_as("parkp1").get("/search", query_string={"q": "浙a 123-45"})
    assert response.status_code == 302 and "/plates/" in response.headers["Location"]
    page = client_as("parkp1").get(response.headers["Location"])
    assert page.status_code == 200


@pytest.mark.parametrize("q,kind,target", [
    ("RC-P1-0001", "receipt", "/orders/{seen}"),
    ("collectorp1", "staff", "/staff?q=collectorp1"),
    ("778899", "handheld", "/street/handhelds?q=POS-SN-778899"),
])
def test_each_kind_is_found_and_a_single_hit_opens_its_page(plates, client_as, q, kind, target):
    ids = {"seen": plates["seen"].id}
    response = client_as("citya").get("/search", query_string={"q": q.format(**ids)})
    assert response.status_code == 302, f"{kind}: {response.status_code}"
    assert response.headers["Location"].endswith(target.format(**ids))
    assert client_as("citya").get(response.headers["Location"]).status_code == 200


def test_an_order_number_is_found_among_other_hits(plates, tree, client_as):
    number = str(plates["seen"].id)
    other = Handheld(serial=f"POS-SN-{number}", label="Serial with the order's number")  # a second hit
    other.anchor_at(tree.p1)
    db.session.add(other)
    db.session.commit()
    body = _hits(client_as("citya"), number)
    assert "search-hit-handheld" in body
    assert f'class="search-hit-order"><td>Order no.</td><td><a href="/orders/{plates["seen"].id}"' in body


def test_staff_found_by_display_name_among_several(tree, client_as):
    body = _hits(client_as("citya"), "Person")  # the factory's display names
    assert body.count("search-hit-staff") >= 2 and "harbor" not in body.lower()


def test_another_tenants_data_is_not_found(plates, client_as):
    client = client_as("citya")
    assert "沪H77777" not in _hits(client, "H777")
    body = _hits(client, "RC-HB-0001")
    assert "search-hit-" not in body and "RC-HB-0001" in body  # echoed as the query, found nowhere
    foreign = client.get("/search", query_string={"q": str(plates["harbor"].id)})
    assert f'/orders/{plates["harbor"].id}"' not in foreign.get_data(as_text=True)
    assert not foreign.headers.get("Location", "").endswith(f'/orders/{plates["harbor"].id}')
    assert client.get("/plates/沪H77777").status_code == 404
    harbor = client_as("harborcity")
    assert harbor.get("/search", query_string={"q": "778899"}).get_data(as_text=True).count("search-hit") == 0
    assert "RC-P1-0001" not in harbor.get("/plates/浙A12345").get_data(as_text=True)


def test_the_plate_page_shows_orders_debts_passes_list_entries_and_photos(plates, client_as):
    body = client_as("parkp1").get("/plates/浙A12345").get_data(as_text=True)
    for order in (plates["seen"], plates["unpaid"]):
        assert f'href="/orders/{order.id}"' in body
    assert plates["harbor"].id != plates["seen"].id and f'href="/orders/{plates["harbor"].id}"' not in body
    assert "¥8.00" in body                                   # the debt
    assert "Wang Holder" in body and "/members/passes/" in body
    assert "Dodged twice" in body and "/members/black-list?plate=" in body
    photo = db.session.scalar(db.select(OrderPhoto.id))
    assert f"/orders/photos/{photo}" in body


def test_a_park_manager_sees_only_the_plates_park_a_city_manager_all_of_the_city(plates, client_as):
    assert client_as("parkp2").get("/plates/浙A12345").status_code == 404
    assert client_as("parkp2").get("/plates/浙A12346").status_code == 200
    city = client_as("citya").get("/plates/浙A12345").get_data(as_text=True)
    assert f'href="/orders/{plates["seen"].id}"' in city


def test_bad_input_answers_cleanly(tree, client_as):
    client = client_as("parkp1")
    for q in ("", "%", "_", "x" * 500, "99999999999999999999", "'; drop table staff; --"):
        assert client.get("/search", query_string={"q": q}).status_code == 200
    assert client.get("/plates/%25%25").status_code == 404


def test_the_header_has_the_search_box(tree, client_as):
    body = client_as("parkp1").get("/").get_data(as_text=True)
    assert 'id="search-box"' in body and 'action="/search"' in body
