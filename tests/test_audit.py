"""The audit log: every write and sign-in, listed with filters, scoped like everything else."""
from sqlalchemy import select

from app.audit.models import AuditEntry


def test_staff_creation_is_audited_with_the_new_values(tree, client_as, db):
    role_id = tree.staff["parkp1"].role_id
    client_as("groupa1").post("/staff/new", data={"username": "audited", "display_name": "Audited", "node":
                                                  f"park:{tree.p1.id}", "role_id": role_id,
                                                  "password": "long-enough-1"})
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "create",
                                                       AuditEntry.object_type == "Staff"))
    assert entry.actor_name == "groupa1" and entry.object_label == "audited"
    assert entry.after["username"] == "audited" and "password_hash" not in entry.after
    assert entry.park_id == tree.p1.id


def test_audit_page_lists_and_filters_entries(tree, client_as):
    client_as("parkp1")
    client = client_as("groupa1")
    client.post(f"/org/parks/{tree.p2.id}/active")
    body = client.get("/audit").get_data(as_text=True)
    assert "disable" in body and "parkp1" in body
    body = client.get("/audit?action=disable").get_data(as_text=True)
    assert "Alpha Street Two" in body and "text-dark\">login<" not in body
    body = client.get("/audit?actor=parkp1").get_data(as_text=True)
    assert "Alpha Street Two" not in body


def test_audit_detail_shows_before_and_after(tree, client_as, db):
    client = client_as("groupa1")
    client.post(f"/org/parks/{tree.p2.id}/active")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "disable"))
    body = client.get(f"/audit/{entry.id}").get_data(as_text=True)
    assert "&#34;active&#34;: true" in body or '"active": true' in body
    assert "false" in body


def test_park_manager_does_not_see_group_level_entries(tree, client_as):
    client_as("groupa1").post(f"/org/groups/{tree.a1.id}/edit", data={"city_id": tree.city_a.id,
                                                                      "name": "Renamed Group"})
    body = client_as("parkp1").get("/audit").get_data(as_text=True)
    assert "Renamed Group" not in body


def test_audit_pages_through_older_entries(app, tree, client_as, db):
    for _ in range(3):
        client_as("parkp1")
    app.config["PAGE_SIZE"] = 2
    try:
        client = client_as("parkp1")
        first = client.get("/audit").get_data(as_text=True)
        assert "Older entries" in first
        import re
        older = re.search(r'href="(/audit\?before=\d+)"', first).group(1)
        assert client.get(older).status_code == 200
    finally:
        app.config["PAGE_SIZE"] = 50
