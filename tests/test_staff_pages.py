"""Staff pages: create, edit, disable, reset password, filters; all inside the manager's node."""
from sqlalchemy import select

from app.staff.models import Role, Staff
from tests.factories import PASSWORD


def _builtin(db, level, kind="admin"):
    return db.session.scalar(select(Role.id).where(Role.builtin.is_(True), Role.target_level == level,
                                                   Role.kind == kind))


def _staff_form(node, role_id, username="newperson", **extra):
    data = {"username": username, "display_name": "New Person", "phone": "", "node": node,
            "role_id": role_id, "note": "", "password": "long-enough-1"}
    data.update(extra)
    return data


def test_group_manager_creates_a_collector_at_a_park(tree, client_as, db, app):
    client = client_as("groupa1")
    response = client.post("/staff/new", data=_staff_form(f"park:{tree.p2.id}", _builtin(db, "park", "collector"),
                                                          "coll2"))
    assert response.status_code == 302
    staff = db.session.scalar(select(Staff).where(Staff.username == "coll2"))
    assert (staff.park_id, staff.group_id, staff.city_id) == (tree.p2.id, tree.a1.id, tree.city_a.id)
    assert staff.password_hash != "long-enough-1"
    refused = app.test_client().post("/login", data={"username": "coll2", "password": "long-enough-1"})
    assert refused.status_code == 400  # collectors use the handheld


def test_new_manager_can_sign_in_and_sees_their_park(tree, client_as, db, login, app):
    client_as("groupa1").post("/staff/new", data=_staff_form(f"park:{tree.p2.id}", _builtin(db, "park"), "mgr2"))
    client = login(app.test_client(), "mgr2", "long-enough-1")
    assert "Alpha Street Two" in client.get("/org/parks").get_data(as_text=True)


def test_role_must_match_the_node_level(tree, client_as, db):
    response = client_as("groupa1").post("/staff/new", data=_staff_form(f"group:{tree.a1.id}",
                                                                         _builtin(db, "park")))
    assert response.status_code == 400
    assert "is for the park level" in response.get_data(as_text=True)


def test_node_outside_scope_is_refused(tree, client_as, db):
    for node in (f"park:{tree.p3.id}", f"group:{tree.a2.id}", f"city:{tree.city_a.id}", "platform", "park:x", ""):
        response = client_as("groupa1").post("/staff/new", data=_staff_form(node, _builtin(db, "park")))
        assert response.status_code == 400, node
    assert db.session.scalar(select(Staff).where(Staff.username == "newperson")) is None


def test_duplicate_username_is_refused_case_insensitively(tree, client_as, db):
    response = client_as("groupa1").post("/staff/new", data=_staff_form(f"park:{tree.p1.id}",
                                                                         _builtin(db, "park"), "ParkP1"))
    assert response.status_code == 400
    assert "already taken" in response.get_data(as_text=True)


def test_bad_username_and_password(tree, client_as, db):
    client = client_as("groupa1")
    for change, message in [({"username": "has space"}, "Letters, digits"), ({"username": "ab"}, "between 3"),
                            ({"password": "short"}, "8 to 128"), ({"display_name": ""}, "required")]:
        response = client.post("/staff/new", data=_staff_form(f"park:{tree.p1.id}", _builtin(db, "park"), **change))
        assert response.status_code == 400 and message in response.get_data(as_text=True), change


def test_edit_moves_staff_within_scope_and_audits(tree, client_as, db):
    staff = tree.staff["parkp2"]
    response = client_as("groupa1").post(f"/staff/{staff.id}/edit", data={
        "display_name": "Moved", "phone": "123", "node": f"park:{tree.p1.id}", "role_id": _builtin(db, "park"),
        "note": ""})
    assert response.status_code == 302
    db.session.refresh(staff)
    assert staff.park_id == tree.p1.id and staff.display_name == "Moved"


def test_nobody_changes_their_own_role(tree, client_as, db):
    me = tree.staff["groupa1"]
    response = client_as("groupa1").post(f"/staff/{me.id}/edit", data={
        "display_name": "Me", "node": f"park:{tree.p1.id}", "role_id": _builtin(db, "park"), "note": ""})
    assert response.status_code == 400
    db.session.refresh(me)
    assert me.level == "group"


def test_disable_ends_the_sessions_of_that_account(tree, client_as, db):
    victim = client_as("parkp2")
    assert victim.get("/").status_code == 200
    client_as("groupa1").post(f"/staff/{tree.staff['parkp2'].id}/active")
    assert victim.get("/").status_code == 302


def test_cannot_disable_yourself(tree, client_as, db):
    client_as("groupa1").post(f"/staff/{tree.staff['groupa1'].id}/active")
    db.session.refresh(tree.staff["groupa1"])
    assert tree.staff["groupa1"].active


def test_reset_password_ends_their_sessions(tree, client_as, login, app):
    victim = client_as("parkp2")
    response = client_as("groupa1").post(f"/staff/{tree.staff['parkp2'].id}/password",
                                         data={"new_password": "reset-pass-99", "confirm": "reset-pass-99"})
    assert response.status_code == 302
    assert victim.get("/").status_code == 302
    login(app.test_client(), "parkp2", "reset-pass-99")


def test_staff_filters(tree, client_as):
    client = client_as("citya")
    body = client.get("/staff?q=parkp").get_data(as_text=True)
    assert "parkp1" in body and "groupa1" not in body
    body = client.get("/staff?status=disabled").get_data(as_text=True)
    assert "No staff match" in body


def test_bad_filter_values_do_not_break_the_page(tree, client_as):
    assert client_as("citya").get("/staff?role_id=abc&status=weird&page=-4").status_code == 200
    assert client_as("citya").get("/audit?date_from=notadate&before=x").status_code == 200
