"""Cities, groups, areas and parks pages: create and edit within scope, bad input refused."""
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.tenancy.models import Area, City, OperatingGroup, Park


def _park_form(group, name="New Street", **extra):
    data = {"group_id": group.id, "area_id": "", "name": name, "kind": "on_street", "address": "1 Road",
            "latitude": "31.2", "longitude": "121.4", "capacity": "40", "phone": "", "timezone": "Asia/Shanghai"}
    data.update(extra)
    return data


def test_platform_creates_a_city(tree, client_as, db):
    response = client_as("root").post("/org/cities/new", data={"name": "Gamma City", "code": "GAMMA",
                                                               "timezone": "Asia/Shanghai"})
    assert response.status_code == 302
    assert db.session.scalar(select(City).where(City.name == "Gamma City")).code == "GAMMA"


def test_city_manager_cannot_create_cities(tree, client_as):
    assert client_as("citya").get("/org/cities/new").status_code == 403


def test_city_manager_creates_group_area_and_park(tree, client_as, db):
    client = client_as("citya")
    assert client.post("/org/groups/new", data={"city_id": tree.city_a.id, "name": "Alpha Three"}).status_code == 302
    group = db.session.scalar(select(OperatingGroup).where(OperatingGroup.name == "Alpha Three"))
    assert client.post("/org/areas/new", data={"group_id": group.id, "name": "North"}).status_code == 302
    area = db.session.scalar(select(Area).where(Area.name == "North"))
    assert area.city_id == tree.city_a.id
    response = client.post("/org/parks/new", data=_park_form(group, area_id=area.id))
    assert response.status_code == 302
    park = db.session.scalar(select(Park).where(Park.name == "New Street"))
    assert (park.city_id, park.group_id, park.area_id, park.capacity) == (tree.city_a.id, group.id, area.id, 40)
    assert "New Street" in client.get("/org/parks").get_data(as_text=True)


def test_group_manager_creates_a_park_in_their_group(tree, client_as, db):
    response = client_as("groupa1").post("/org/parks/new", data=_park_form(tree.a1, "Group Street"))
    assert response.status_code == 302
    assert db.session.scalar(select(Park.group_id).where(Park.name == "Group Street")) == tree.a1.id


def test_forged_parent_outside_scope_is_refused(tree, client_as, db):
    before = db.session.scalar(select(func.count()).select_from(Park))
    response = client_as("groupa1").post("/org/parks/new", data=_park_form(tree.a2, "Forged"))
    assert response.status_code == 400
    assert "Not a valid choice" in response.get_data(as_text=True)
    response = client_as("groupa1").post("/org/parks/new", data=_park_form(tree.a1, "Forged", area_id=tree.a2x.id))
    assert response.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(Park)) == before


def test_area_of_another_group_in_scope_is_refused(tree, client_as):
    response = client_as("citya").post("/org/parks/new", data=_park_form(tree.a1, "Mixed", area_id=tree.a2x.id))
    assert response.status_code == 400
    assert "another operating group" in response.get_data(as_text=True)


def test_bad_park_input_shows_field_errors(tree, client_as, db):
    client = client_as("groupa1")
    cases = [
        ({"name": ""}, "This field is required"),
        ({"name": "x" * 81}, "Field cannot be longer than 80"),
        ({"latitude": "95"}, "Number must be between -90"),
        ({"capacity": "-3"}, "Number must be between 0"),
        ({"capacity": "many"}, "Not a valid integer"),
        ({"timezone": "Mars/Olympus"}, "Unknown time zone"),
        ({"phone": "call me"}, "Digits"),
        ({"kind": "underground"}, "Not a valid choice"),
    ]
    for change, message in cases:
        response = client.post("/org/parks/new", data=_park_form(tree.a1, **{"name": "Bad", **change}))
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
    assert db.session.scalar(select(Park).where(Park.name == "Bad")) is None


def test_duplicate_park_name_in_a_group_is_a_field_error(tree, client_as):
    response = client_as("groupa1").post("/org/parks/new", data=_park_form(tree.a1, "Alpha Street One"))
    assert response.status_code == 400
    assert "already used" in response.get_data(as_text=True)


def test_edit_park_is_audited_with_before_and_after(tree, client_as, db):
    client = client_as("groupa1")
    response = client.post(f"/org/parks/{tree.p2.id}/edit", data=_park_form(tree.a1, "Alpha Street Two", capacity=99))
    assert response.status_code == 302
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update",
                                                       AuditEntry.object_type == "Park"))
    assert entry.before == {"capacity": 0, "latitude": None, "longitude": None, "address": None} or \
        entry.before["capacity"] == 0
    assert entry.after["capacity"] == 99 and entry.park_id == tree.p2.id and entry.actor_name == "groupa1"


def test_disable_and_enable_a_park(tree, client_as, db):
    client = client_as("groupa1")
    assert client.post(f"/org/parks/{tree.p2.id}/active").status_code == 302
    db.session.refresh(tree.p2)
    assert tree.p2.active is False
    assert "disabled" in client.get("/org/parks?status=disabled").get_data(as_text=True)
    client.post(f"/org/parks/{tree.p2.id}/active")
    db.session.refresh(tree.p2)
    assert tree.p2.active is True


def test_park_manager_cannot_disable_their_own_park(tree, client_as, db):
    client = client_as("parkp1")
    assert client.post(f"/org/parks/{tree.p1.id}/active").status_code in (302, 403)
    db.session.refresh(tree.p1)
    assert tree.p1.active is True


def test_park_manager_sees_only_their_park(tree, client_as):
    body = client_as("parkp1").get("/org/parks").get_data(as_text=True)
    assert "Alpha Street One" in body and "Alpha Street Two" not in body


def test_list_filters_by_name(tree, client_as):
    body = client_as("citya").get("/org/parks?q=garage").get_data(as_text=True)
    assert "Alpha Garage Three" in body and "Alpha Street One" not in body


def test_empty_list_says_what_to_do(make, client_as):
    city = make.city("Empty City")
    make.staff(city, "emptycity")
    body = client_as("emptycity").get("/org/parks").get_data(as_text=True)
    assert "Nothing here yet" in body and "New park" in body


def test_park_manager_edits_the_profile_of_their_park(tree, client_as, db):
    client = client_as("parkp1")
    data = _park_form(tree.a1, "Alpha Street One", site_type="underground", opens_at="07:30", closes_at="01:00",
                      phone="020-1234 5678", timezone="Asia/Urumqi")
    assert client.post(f"/org/parks/{tree.p1.id}/edit", data=data).status_code == 302
    db.session.refresh(tree.p1)
    park = tree.p1
    assert (park.site_type, park.opens_at.strftime("%H:%M"), park.closes_at.strftime("%H:%M")) == \
        ("underground", "07:30", "01:00")
    assert park.timezone == "Asia/Urumqi" and park.phone == "020-1234 5678"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "update", AuditEntry.object_type == "Park"))
    assert entry.after["opens_at"] == "07:30" and entry.before["opens_at"] is None
    body = client.get(f"/org/parks/{tree.p1.id}").get_data(as_text=True)
    assert "07:30–01:00" in body and "Underground" in body
    assert "07:30–01:00" in client.get("/org/parks").get_data(as_text=True)
    data.update(opens_at="", closes_at="", site_type="")
    assert client.post(f"/org/parks/{tree.p1.id}/edit", data=data).status_code == 302
    db.session.refresh(park)
    assert (park.opens_at, park.site_type) == (None, None)
    assert "Open day and night" in client.get(f"/org/parks/{tree.p1.id}").get_data(as_text=True)


def test_bad_profile_input_is_refused_field_by_field(tree, client_as, db):
    client = client_as("parkp1")
    cases = [
        ({"latitude": "", "longitude": "121.4"}, "Give both latitude and longitude"),
        ({"latitude": "0", "longitude": "0"}, "0, 0 is not a place"),
        ({"longitude": "181"}, "Number must be between -180"),
        ({"opens_at": "08:00"}, "Give both opening and closing times"),
        ({"opens_at": "08:00", "closes_at": "08:00"}, "Closing must differ"),
        ({"opens_at": "25:00", "closes_at": "08:00"}, "Not a valid time"),
        ({"timezone": "CST"}, "Unknown time zone"),
        ({"site_type": "cave"}, "Not a valid choice"),
    ]
    for change, message in cases:
        response = client.post(f"/org/parks/{tree.p1.id}/edit", data=_park_form(tree.a1, "Renamed", **change))
        assert response.status_code == 400, change
        assert message in response.get_data(as_text=True), change
    db.session.refresh(tree.p1)
    assert tree.p1.name == "Alpha Street One"
