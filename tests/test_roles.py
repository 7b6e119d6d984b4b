"""Roles: delegation is strictly 'you can only grant what you hold'."""
from sqlalchemy import select

from app.staff.models import Role, RoleKind, Staff
from app.tenancy.models import Level
from tests.factories import PASSWORD


def _role_form(name, codes, level="park", kind="admin"):
    return {"name": name, "kind": kind, "target_level": level, "description": "", "codes": codes}


def test_group_admin_creates_a_role_with_codes_they_hold(tree, client_as, db):
    client = client_as("groupa1")
    response = client.post("/roles/new", data=_role_form("Park clerk", ["parks.view", "staff.view"]))
    assert response.status_code == 302
    role = db.session.scalar(select(Role).where(Role.name == "Park clerk"))
    assert role.codes == {"parks.view", "staff.view"} and role.group_id == tree.a1.id
    assert "Park clerk" in client.get("/roles").get_data(as_text=True)


def test_granting_a_code_you_do_not_hold_is_refused(tree, make, client_as, db):
    limited_role = make.role(tree.a1, "Limited", codes={"roles.view", "roles.add", "parks.view"})
    make.staff(tree.a1, "limited", role=limited_role)
    client = client_as("limited")
    response = client.post("/roles/new", data=_role_form("Escalated", ["parks.view", "staff.add"]))
    assert response.status_code == 400
    assert "permissions you do not hold" in response.get_data(as_text=True)
    assert db.session.scalar(select(Role).where(Role.name == "Escalated")) is None
    ok = client.post("/roles/new", data=_role_form("Viewer", ["parks.view"]))
    assert ok.status_code == 302


def test_a_level_specific_code_cannot_be_forged_into_a_lower_role(tree, client_as, db):
    client = client_as("groupa1")
    response = client.post("/roles/new", data=_role_form("Sneaky", ["groups.add"], level="park"))
    assert response.status_code == 400
    assert db.session.scalar(select(Role).where(Role.name == "Sneaky")) is None


def test_role_for_a_level_above_your_own_is_refused(tree, client_as, db):
    response = client_as("parkp1").post("/roles/new", data=_role_form("Up", ["parks.view"], level="city"))
    assert response.status_code == 400
    assert db.session.scalar(select(Role).where(Role.name == "Up")) is None


def test_assigning_a_role_stronger_than_yourself_is_refused(tree, make, client_as, db):
    hr_role = make.role(tree.a1, "HR", codes={"staff.view", "staff.add"})
    make.staff(tree.a1, "hr", role=hr_role)
    admin_role_id = db.session.scalar(select(Role.id).where(Role.builtin.is_(True), Role.target_level == "park",
                                                            Role.kind == "admin"))
    response = client_as("hr").post("/staff/new", data={
        "username": "newboss", "display_name": "New Boss", "node": f"park:{tree.p1.id}",
        "role_id": admin_role_id, "password": "long-enough-1"})
    assert response.status_code == 400
    assert db.session.scalar(select(Staff).where(Staff.username == "newboss")) is None


def test_builtin_roles_cannot_be_edited(tree, client_as, db):
    builtin = db.session.scalar(select(Role).where(Role.builtin.is_(True), Role.target_level == "park"))
    response = client_as("root").post(f"/roles/{builtin.id}/edit", data=_role_form("Hacked", ["parks.view"]))
    assert response.status_code == 400
    db.session.refresh(builtin)
    assert builtin.name != "Hacked"


def test_a_custom_role_limits_pages_and_navigation(tree, make, client_as):
    role = make.role(tree.p1, "Watcher", codes={"dashboard.view", "parks.view"})
    make.staff(tree.p1, "watcher", role=role)
    client = client_as("watcher")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/org/parks"' in page and 'href="/staff"' not in page and 'href="/audit"' not in page
    assert client.get("/staff").status_code == 403
    assert client.get("/audit").status_code == 403


def test_field_role_at_a_park(tree, client_as, db):
    client = client_as("parkp1")
    response = client.post("/roles/new", data=_role_form("Night collector", [], level="park", kind="collector"))
    assert response.status_code == 302
    role = db.session.scalar(select(Role).where(Role.name == "Night collector"))
    assert role.role_kind == RoleKind.COLLECTOR and Level(role.target_level) == Level.PARK


def test_field_role_at_city_level_is_refused(tree, client_as):
    response = client_as("citya").post("/roles/new", data=_role_form("City collector", [], level="city",
                                                                          kind="collector"))
    assert response.status_code == 400
    assert "park or an operating group" in response.get_data(as_text=True)


def test_disabling_a_role_stops_its_staff(tree, make, client_as, app):
    role = make.role(tree.p1, "Temp", codes={"dashboard.view"})
    make.staff(tree.p1, "temp", role=role)
    client_as("parkp1").post(f"/roles/{role.id}/active")
    response = app.test_client().post("/login", data={"username": "temp", "password": PASSWORD})
    assert response.status_code == 400 and "disabled" in response.get_data(as_text=True)
