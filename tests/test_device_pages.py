"""Handheld pages: pending devices first, approval into a park of the scope, revocation ends sessions."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.devices.models import DeviceSession, Handheld


def _handheld(db, node, serial, status="pending", **kw):
    handheld = Handheld(serial=serial, status=status, **kw)
    handheld.anchor_at(node)
    db.session.add(handheld)
    db.session.commit()
    return handheld


def _session(db, handheld, staff, token="t"):
    now = datetime.now(timezone.utc)
    row = DeviceSession(token_hash=(token * 64)[:64], staff_id=staff.id, handheld_id=handheld.id,
                        expires_at=now + timedelta(hours=12))
    db.session.add(row)
    db.session.commit()
    return row


def test_list_shows_pending_first_with_who_saw_it(tree, client_as, db):
    _handheld(db, tree.p1, "AAA-approved", status="approved")
    _handheld(db, tree.a1, "ZZZ-pending", first_seen_by_id=tree.staff["collectorp1"].id)
    _handheld(db, tree.p2, "BBB-revoked", status="revoked")
    body = client_as("groupa1").get("/street/handhelds").get_data(as_text=True)
    assert body.index("ZZZ-pending") < body.index("AAA-approved") < body.index("BBB-revoked")
    assert "collectorp1" in body and "waits for approval" in body and "no park yet" in body


def test_status_filter_and_scope(tree, client_as, db):
    _handheld(db, tree.p1, "P1-approved", status="approved")
    _handheld(db, tree.p2, "P2-approved", status="approved")
    _handheld(db, tree.a1, "A1-pending")
    body = client_as("groupa1").get("/street/handhelds?status=pending").get_data(as_text=True)
    assert "A1-pending" in body and "P1-approved" not in body
    body = client_as("parkp1").get("/street/handhelds").get_data(as_text=True)
    assert "P1-approved" in body and "P2-approved" not in body and "A1-pending" not in body
    body = client_as("groupa1").get("/street/handhelds?q=p2-").get_data(as_text=True)
    assert "P2-approved" in body and "P1-approved" not in body


def test_approve_a_pending_handheld_anchored_at_the_group(tree, client_as, db):
    handheld = _handheld(db, tree.a1, "IMEI-1")
    client = client_as("groupa1")
    assert "Alpha Street One" in client.get(f"/street/handhelds/{handheld.id}/approve").get_data(as_text=True)
    response = client.post(f"/street/handhelds/{handheld.id}/approve", data={"park_id": tree.p1.id,
                                                                             "label": "Pos 7"})
    assert response.status_code == 302
    db.session.refresh(handheld)
    assert (handheld.status, handheld.level, handheld.park_id, handheld.group_id, handheld.label) == \
        ("approved", "park", tree.p1.id, tree.a1.id, "Pos 7")
    assert handheld.approved_by_id == tree.staff["groupa1"].id and handheld.approved_at is not None
    assert handheld.is_approved
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "approve"))
    assert entry.object_label == "IMEI-1" and entry.park_id == tree.p1.id


def test_approve_refuses_a_park_outside_the_scope(tree, client_as, db):
    handheld = _handheld(db, tree.a1, "IMEI-1")
    response = client_as("groupa1").post(f"/street/handhelds/{handheld.id}/approve", data={"park_id": tree.p3.id})
    assert response.status_code == 400 and "Not a valid choice" in response.get_data(as_text=True)
    db.session.refresh(handheld)
    assert handheld.status == "pending" and handheld.park_id is None


def test_revoke_ends_every_session_then_approve_again(tree, client_as, db):
    handheld = _handheld(db, tree.p1, "IMEI-2", status="approved")
    collector = tree.staff["collectorp1"]
    live = _session(db, handheld, collector, "a")
    earlier = datetime(2024, 1, 1, tzinfo=timezone.utc)
    old = _session(db, handheld, collector, "b")
    old.revoked_at = earlier
    other = _session(db, _handheld(db, tree.p1, "IMEI-3", status="approved"), collector, "c")
    db.session.commit()
    client = client_as("parkp1")
    assert client.post(f"/street/handhelds/{handheld.id}/revoke").status_code == 302
    db.session.expire_all()
    assert db.session.get(Handheld, handheld.id).status == "revoked"
    assert db.session.get(DeviceSession, live.id).revoked_at is not None
    assert db.session.get(DeviceSession, old.id).revoked_at == earlier  # kept as it was
    assert db.session.get(DeviceSession, other.id).revoked_at is None  # another device
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "revoke"))
    assert entry.after["sessions_ended"] == 1
    # revoking twice changes nothing
    assert client.post(f"/street/handhelds/{handheld.id}/revoke").status_code == 302
    assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "revoke")) == 1
    # and it can be approved again
    response = client.post(f"/street/handhelds/{handheld.id}/approve", data={"park_id": tree.p1.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Handheld, handheld.id).status == "approved"


def test_register_a_handheld_by_hand(tree, client_as, db):
    client = client_as("parkp1")
    response = client.post("/street/handhelds/new", data={"serial": "864209031234567", "label": "Spare",
                                                          "park_id": tree.p1.id})
    assert response.status_code == 302
    handheld = db.session.scalar(select(Handheld).where(Handheld.serial == "864209031234567"))
    assert (handheld.status, handheld.park_id, handheld.label) == ("approved", tree.p1.id, "Spare")
    response = client.post("/street/handhelds/new", data={"serial": "864209031234567", "park_id": tree.p1.id})
    assert response.status_code == 400 and "already registered" in response.get_data(as_text=True)


def test_serial_is_unique_across_tenants_without_saying_where(tree, client_as, db):
    _handheld(db, tree.hp, "SAME-1", status="approved")
    response = client_as("parkp1").post("/street/handhelds/new", data={"serial": "same-1", "park_id": tree.p1.id})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "already registered" in body and "Harbor" not in body


@pytest.mark.parametrize("data, message", [
    ({"serial": ""}, "This field is required"),
    ({"serial": "has space"}, "Letters, digits"),
    ({"serial": "x" * 65}, "Field cannot be longer than 64"),
    ({"label": "y" * 81}, "Field cannot be longer than 80"),
    ({"park_id": "nope"}, "This field is required"),
])
def test_bad_handheld_input(tree, client_as, db, data, message):
    response = client_as("parkp1").post("/street/handhelds/new", data={"serial": "OK-1", "park_id": tree.p1.id,
                                                                       **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Handheld)) == 0


def test_edit_label_and_move_to_another_park_ends_sessions(tree, client_as, db):
    handheld = _handheld(db, tree.p1, "IMEI-4", status="approved")
    session = _session(db, handheld, tree.staff["collectorp1"])
    client = client_as("groupa1")
    response = client.post(f"/street/handhelds/{handheld.id}/edit", data={"label": "Renamed", "park_id": tree.p1.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Handheld, handheld.id).label == "Renamed"
    assert db.session.get(DeviceSession, session.id).revoked_at is None
    response = client.post(f"/street/handhelds/{handheld.id}/edit", data={"label": "Renamed", "park_id": tree.p2.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Handheld, handheld.id).park_id == tree.p2.id
    assert db.session.get(DeviceSession, session.id).revoked_at is not None


def test_permissions(tree, make, client_as, db):
    handheld = _handheld(db, tree.p1, "IMEI-5")
    viewer = make.role(tree.p1, "Device viewer", codes=["devices.view"])
    make.staff(tree.p1, "deviceviewer", role=viewer)
    client = client_as("deviceviewer")
    assert client.get("/street/handhelds").status_code == 200
    assert client.post(f"/street/handhelds/{handheld.id}/approve", data={"park_id": tree.p1.id}).status_code == 403
    assert client.post(f"/street/handhelds/{handheld.id}/revoke").status_code == 403
    assert client.post("/street/handhelds/new", data={"serial": "N", "park_id": tree.p1.id}).status_code == 403
    assert client.get(f"/street/handhelds/{handheld.id}/edit").status_code == 403
    db.session.refresh(handheld)
    assert handheld.status == "pending"
