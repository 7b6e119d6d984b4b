"""Collector settings, free-release reasons and work hours pages."""
from datetime import time

import pytest
from sqlalchemy import func, select
from werkzeug.security import check_password_hash

from app.audit.models import AuditEntry
from app.parks import services
from app.parks.models import CollectorSettings, FreeReason
from app.shifts.models import WorkHours
from app.staff.models import Role, RoleKind
from app.staff.services import builtin_role
from app.tenancy.models import Level


def _form(**change):
    data = {"photo_required_entry": "y", "prepay_allowed": "y", "prepay_presets": "5, 10, 20",
            "receipt_header": "Welcome to Alpha", "receipt_footer": "Drive safely", "refuse_blacklisted": "y",
            "use_sensor_time": "y", "photo_retention_days": "30", "signout_password": "", "note": ""}
    data.update(change)
    return {k: v for k, v in data.items() if v is not None}


def _count(db, model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _collector_role(db):
    return builtin_role(Level.PARK, RoleKind.COLLECTOR)


# --- collector settings -----------------------------------------------------------------------

def test_a_park_without_settings_shows_the_defaults(tree, client_as, db):
    client = client_as("parkp1")
    body = client.get("/park-settings/collector").get_data(as_text=True)
    assert "Alpha Street One" in body and "defaults" in body and "5, 10, 20" in body
    body = client.get(f"/park-settings/collector/park/{tree.p1.id}").get_data(as_text=True)
    assert "uses the defaults" in body and 'value="5, 10, 20"' in body and 'value="90"' in body
    assert _count(db, CollectorSettings) == 0


def test_saving_creates_the_row_with_presets_in_fen_and_a_hashed_password(tree, client_as, db):
    client = client_as("parkp1")
    response = client.post(f"/park-settings/collector/park/{tree.p1.id}",
                           data=_form(prepay_presets="5, 10，2.5", signout_password="s3cret-pw"))
    assert response.status_code == 302
    row = db.session.scalar(select(CollectorSettings))
    assert (row.park_id, row.role_id, row.prepay_presets, row.presets) == (tree.p1.id, None, "500,1000,250",
                                                                           [500, 1000, 250])
    assert row.photo_required_entry and not row.photo_required_exit and not row.hide_amounts
    assert row.photo_retention_days == 30 and row.receipt_header == "Welcome to Alpha"
    assert row.signout_password_hash != "s3cret-pw" and check_password_hash(row.signout_password_hash, "s3cret-pw")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "CollectorSettings"))
    assert entry.park_id == tree.p1.id and entry.after["signout_password"] == "set"
    assert "s3cret" not in str(entry.after) and row.signout_password_hash not in str(entry.after)
    body = client.get(f"/park-settings/collector/park/{tree.p1.id}").get_data(as_text=True)
    assert 'value="5, 10, 2.50"' in body and "s3cret" not in body and row.signout_password_hash not in body


def test_saving_again_updates_the_same_row_keeps_and_clears_the_password(tree, client_as, db):
    client = client_as("groupa1")
    url = f"/park-settings/collector/park/{tree.p1.id}"
    client.post(url, data=_form(signout_password="first-pw"))
    first_hash = db.session.scalar(select(CollectorSettings.signout_password_hash))
    assert client.post(url, data=_form(hide_amounts="y")).status_code == 302
    db.session.expire_all()
    row = db.session.scalar(select(CollectorSettings))
    assert _count(db, CollectorSettings) == 1 and row.hide_amounts and row.signout_password_hash == first_hash
    assert client.post(f"/park-settings/collector/{row.id}", data=_form(clear_signout_password="y")).status_code == 302
    db.session.expire_all()
    assert db.session.get(CollectorSettings, row.id).signout_password_hash is None


@pytest.mark.parametrize("change, message", [
    ({"prepay_presets": "5, ten"}, "is not an amount in yuan"),
    ({"prepay_presets": "5, 5"}, "appears twice"),
    ({"prepay_presets": "0"}, "Amounts are between"),
    ({"prepay_presets": "1.234"}, "is not an amount"),
    ({"prepay_presets": "1,2,3,4,5,6,7,8,9"}, "At most 8"),
    ({"prepay_presets": ""}, "Give at least one amount"),
    ({"photo_retention_days": "0"}, "Number must be between 1 and 3650"),
    ({"photo_retention_days": "3651"}, "Number must be between 1 and 3650"),
    ({"photo_retention_days": ""}, "This field is required"),
    ({"photo_retention_days": "many"}, "Not a valid integer"),
    ({"receipt_header": "x" * 201}, "Field cannot be longer than 200"),
    ({"signout_password": "abc"}, "Field must be between 4 and 64"),
    ({"signout_password": "abcd1234", "clear_signout_password": "y"}, "not both"),
])
def test_bad_settings_input_saves_nothing(tree, client_as, db, change, message):
    response = client_as("parkp1").post(f"/park-settings/collector/park/{tree.p1.id}", data=_form(**change))
    assert response.status_code == 400, change
    assert message in response.get_data(as_text=True), change
    assert _count(db, CollectorSettings) == 0
    assert _count(db, AuditEntry, AuditEntry.object_type == "CollectorSettings") == 0


def test_presets_may_be_empty_when_prepay_is_off(tree, client_as, db):
    response = client_as("parkp1").post(f"/park-settings/collector/park/{tree.p1.id}",
                                        data=_form(prepay_allowed=None, prepay_presets=""))
    assert response.status_code == 302
    row = db.session.scalar(select(CollectorSettings))
    assert row.prepay_allowed is False and row.prepay_presets == ""


def test_role_override_copies_the_park_then_replaces_it(tree, client_as, db):
    client = client_as("parkp1")
    client.post(f"/park-settings/collector/park/{tree.p1.id}", data=_form(prepay_presets="5"))
    role = _collector_role(db)
    body = client.get(f"/park-settings/collector/park/{tree.p1.id}/override").get_data(as_text=True)
    assert "Collector (collector, park staff)" in body and 'value="5"' in body
    response = client.post(f"/park-settings/collector/park/{tree.p1.id}/override",
                           data=_form(role_id=role.id, prepay_presets="8", hide_amounts="y"))
    assert response.status_code == 302
    override = db.session.scalar(select(CollectorSettings).where(CollectorSettings.role_id == role.id))
    assert override.prepay_presets == "800" and override.hide_amounts
    assert services.effective_settings(tree.p1.id, role.id).id == override.id
    assert services.effective_settings(tree.p1.id, None).prepay_presets == "500"
    # a second override for the same role is refused
    response = client.post(f"/park-settings/collector/park/{tree.p1.id}/override",
                           data=_form(role_id=role.id))
    assert response.status_code == 400 and "already" in response.get_data(as_text=True)
    # removing it
    assert client.post(f"/park-settings/collector/{override.id}/delete").status_code == 302
    assert _count(db, CollectorSettings, CollectorSettings.role_id.is_not(None)) == 0
    base = db.session.scalar(select(CollectorSettings))
    client.post(f"/park-settings/collector/{base.id}/delete")
    assert _count(db, CollectorSettings) == 1  # the park's own row is never deleted


def test_override_role_must_be_a_field_role_of_the_park(tree, make, client_as, db):
    admin_role = make.role(tree.p1, "Park helpers", codes=["dashboard.view"])
    other_park_role = make.role(tree.p2, "P2 collectors", kind=RoleKind.COLLECTOR)
    client = client_as("groupa1")
    for role in (admin_role, other_park_role):
        response = client.post(f"/park-settings/collector/park/{tree.p1.id}/override", data=_form(role_id=role.id))
        assert response.status_code == 400
    assert _count(db, CollectorSettings) == 0


def test_view_only_role_sees_settings_but_cannot_save(tree, make, client_as, db):
    viewer = make.role(tree.p1, "Settings viewer", codes=["park_settings.view"])
    make.staff(tree.p1, "settingsviewer", role=viewer)
    client = client_as("settingsviewer")
    assert client.get(f"/park-settings/collector/park/{tree.p1.id}").status_code == 200
    assert client.post(f"/park-settings/collector/park/{tree.p1.id}", data=_form()).status_code == 403
    assert client.get("/park-settings/free-reasons/new").status_code == 403
    assert client.post("/park-settings/work-hours/new").status_code == 403
    nobody = make.role(tree.p1, "Nobody", codes=["dashboard.view"])
    make.staff(tree.p1, "nobody", role=nobody)
    assert client_as("nobody").get("/park-settings/collector").status_code == 403
    assert _count(db, CollectorSettings) == 0


def test_presets_helpers():
    assert services.presets_text("500,1000,250") == "5, 10, 2.50"
    assert services.presets_text("") == ""


# --- free-release reasons ---------------------------------------------------------------------

def test_free_reasons_add_edit_disable_and_filter(tree, client_as, db):
    client = client_as("groupa1")
    assert client.post("/park-settings/free-reasons/new", data={"park_id": tree.p1.id, "name": "Police"}) \
        .status_code == 302
    assert client.post("/park-settings/free-reasons/new", data={"park_id": tree.p2.id, "name": "Police"}) \
        .status_code == 302
    response = client.post("/park-settings/free-reasons/new", data={"park_id": tree.p1.id, "name": "Police"})
    assert response.status_code == 400 and "already" in response.get_data(as_text=True)
    reason = db.session.scalar(select(FreeReason).where(FreeReason.park_id == tree.p1.id))
    assert client.post(f"/park-settings/free-reasons/{reason.id}/edit",
                       data={"park_id": tree.p1.id, "name": "Police car"}).status_code == 302
    assert client.post(f"/park-settings/free-reasons/{reason.id}/active").status_code == 302
    db.session.refresh(reason)
    assert (reason.name, reason.active) == ("Police car", False)
    body = client.get("/park-settings/free-reasons?status=disabled").get_data(as_text=True)
    assert "Police car" in body and ">Police<" not in body
    body = client.get(f"/park-settings/free-reasons?park_id={tree.p2.id}").get_data(as_text=True)
    assert ">Police<" in body and "Police car" not in body
    assert [r.name for r in services.active_free_reasons(tree.p2.id)] == ["Police"]
    body = client_as("parkp1").get("/park-settings/free-reasons").get_data(as_text=True)
    assert "Police car" in body and ">Police<" not in body
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "FreeReason")).all()
    assert sorted(actions) == ["create", "create", "disable", "update"]


def test_free_reason_bad_input(tree, client_as, db):
    client = client_as("parkp1")
    for data in ({"park_id": tree.p1.id, "name": ""}, {"park_id": tree.p1.id, "name": "x" * 81},
                 {"park_id": tree.p2.id, "name": "Forged"}):
        assert client.post("/park-settings/free-reasons/new", data=data).status_code == 400
    assert _count(db, FreeReason) == 0


# --- work hours -------------------------------------------------------------------------------

def test_work_hours_add_edit_delete(tree, make, client_as, db):
    collector = _collector_role(db)
    custom = make.role(tree.a1, "Night collectors", kind=RoleKind.COLLECTOR, target_level=Level.PARK)
    client = client_as("groupa1")
    body = client.get("/park-settings/work-hours/new").get_data(as_text=True)
    assert "Night collectors" in body and "Collector (collector, park staff)" in body
    assert "Park administrator" not in body
    response = client.post("/park-settings/work-hours/new", data={
        "park_id": tree.p1.id, "role_id": collector.id, "starts_at": "07:30", "ends_at": "19:00",
        "grace_minutes": "10"})
    assert response.status_code == 302
    hours = db.session.scalar(select(WorkHours))
    assert (hours.park_id, hours.role_id, hours.starts_at, hours.ends_at, hours.grace_minutes) == \
        (tree.p1.id, collector.id, time(7, 30), time(19, 0), 10)
    response = client.post("/park-settings/work-hours/new", data={
        "park_id": tree.p1.id, "role_id": collector.id, "starts_at": "08:00", "ends_at": "18:00",
        "grace_minutes": "5"})
    assert response.status_code == 400 and "already" in response.get_data(as_text=True)
    response = client.post("/park-settings/work-hours/new", data={
        "park_id": tree.p1.id, "role_id": custom.id, "starts_at": "21:00", "ends_at": "06:00",
        "grace_minutes": "0"})
    assert response.status_code == 302  # past midnight is fine
    body = client.get("/park-settings/work-hours").get_data(as_text=True)
    assert "07:30" in body and "next day" in body
    body = client.get(f"/park-settings/work-hours?role_id={custom.id}").get_data(as_text=True)
    assert "21:00" in body and "07:30" not in body
    assert client.post(f"/park-settings/work-hours/{hours.id}/edit", data={
        "park_id": tree.p1.id, "role_id": collector.id, "starts_at": "08:00", "ends_at": "20:00",
        "grace_minutes": "15"}).status_code == 302
    db.session.refresh(hours)
    assert (hours.starts_at, hours.grace_minutes) == (time(8, 0), 15)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.object_type == "WorkHours",
                                                       AuditEntry.action == "update"))
    assert entry.before["starts_at"] == "07:30" and entry.after["starts_at"] == "08:00"
    assert client.post(f"/park-settings/work-hours/{hours.id}/delete").status_code == 302
    assert _count(db, WorkHours) == 1


@pytest.mark.parametrize("change, message", [
    ({"starts_at": "25:00"}, "Not a valid time"),
    ({"starts_at": ""}, "This field is required"),
    ({"ends_at": "08:00"}, "must differ from the start"),
    ({"grace_minutes": "-1"}, "Number must be between 0 and 240"),
    ({"grace_minutes": "241"}, "Number must be between 0 and 240"),
    ({"role_id": "x"}, "This field is required"),
])
def test_work_hours_bad_input(tree, client_as, db, change, message):
    role = _collector_role(db)
    data = {"park_id": tree.p1.id, "role_id": role.id, "starts_at": "08:00", "ends_at": "18:00",
            "grace_minutes": "5", **change}
    response = client_as("parkp1").post("/park-settings/work-hours/new", data=data)
    assert response.status_code == 400, change
    assert message in response.get_data(as_text=True), change
    assert _count(db, WorkHours) == 0


def test_work_hours_role_choices_come_from_the_scope(tree, make, client_as, db):
    foreign = make.role(tree.p2, "P2 collectors", kind=RoleKind.COLLECTOR)
    group_role = make.role(tree.a1, "Group collectors", kind=RoleKind.COLLECTOR, target_level=Level.GROUP)
    client = client_as("parkp1")
    body = client.get("/park-settings/work-hours/new").get_data(as_text=True)
    assert "P2 collectors" not in body
    response = client.post("/park-settings/work-hours/new", data={
        "park_id": tree.p1.id, "role_id": foreign.id, "starts_at": "08:00", "ends_at": "18:00",
        "grace_minutes": "5"})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    # the group manager sees both roles but a p2 role does not fit p1
    response = client_as("groupa1").post("/park-settings/work-hours/new", data={
        "park_id": tree.p1.id, "role_id": foreign.id, "starts_at": "08:00", "ends_at": "18:00",
        "grace_minutes": "5"})
    assert response.status_code == 400 and "role of this park" in response.get_data(as_text=True)
    assert client_as("groupa1").post("/park-settings/work-hours/new", data={
        "park_id": tree.p1.id, "role_id": group_role.id, "starts_at": "08:00", "ends_at": "18:00",
        "grace_minutes": "5"}).status_code == 302
    assert db.session.scalar(select(Role).where(Role.name == "P2 collectors")) is not None
