"""Actions on another person's account: an actor may act only on an account whose every permission they
could grant themselves, and never on one above their node (issue 14, part 1).

Generated from the URL map: every route of the staff blueprint that takes a `<staff_id>` acts on an
account, so each one is called by actors weaker than the target, with a form that would succeed for a
stronger actor. A new such route is covered here without anyone remembering."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.staff import services
from app.staff.models import Staff
from app.staff.permissions import areas_for_level, codes_for_level
from app.tenancy.models import Level
from tests.factories import PASSWORD

STAFF_CODES = {"staff.view", "staff.add", "staff.edit", "staff.delete"}


def account_routes(app):
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("staff.") and "staff_id" in r.arguments]
    return sorted(rules, key=lambda r: r.rule)


def _calls(app, target_id):
    for rule in account_routes(app):
        url = re.sub(r"<(?:[^:<>]+:)?staff_id>", str(target_id), rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


def _payload(tree, role_id):
    """Everything any account form asks for, valid: a stronger actor's request would succeed."""
    return {"display_name": "Taken over", "phone": "", "note": "", "node": f"park:{tree.p1.id}",
            "role_id": role_id, "new_password": "taken-over-99", "confirm": "taken-over-99"}


def _state(db, staff_id):
    db.session.expire_all()
    s = db.session.get(Staff, staff_id)
    return (s.password_hash, s.display_name, s.phone, s.note, s.role_id, s.active, s.level, s.park_id)


def _actors(make, tree):
    """Park roles at p1, each missing at least one code the park administrator holds: the issue's
    staff-only manager, and for every permission area a manager holding everything but one of its codes."""
    full = codes_for_level(Level.PARK)
    missing = [(a.codes()[-1],) for a in areas_for_level(Level.PARK) if a.code != "staff"]
    actors = {"staffonly": make.role(tree.p1, "Staff clerk", codes=STAFF_CODES)}
    for i, (code,) in enumerate(missing):
        actors[f"allbut{i}"] = make.role(tree.p1, f"All but {code}", codes=full - {code})
    for username, role in actors.items():
        make.staff(tree.p1, username, role=role)
    return actors


def test_the_walk_finds_every_action_on_an_account(app):
    endpoints = {r.endpoint for r in account_routes(app)}
    assert {"staff.edit_staff", "staff.reset_password", "staff.toggle_staff", "staff.end_staff_sessions"} <= endpoints


def test_an_actor_weaker_than_the_target_is_refused_and_nothing_changes(app, tree, make, db, client_as):
    actors = _actors(make, tree)
    target = tree.staff["parkp1"]  # the park's administrator: every park code
    target_session = client_as("parkp1")
    before = _state(db, target.id)
    checked = 0
    for username, role in actors.items():
        client = client_as(username)
        for method, url in _calls(app, target.id):
            response = client.open(url, method=method, data=_payload(tree, role.id))
            assert response.status_code == 403, f"{username} ({role.name}) {method} {url} -> {response.status_code}"
            checked += 1
        assert _state(db, target.id) == before, f"{username} changed the administrator's account"
        assert target_session.get("/").status_code == 200, f"{username} ended the administrator's sessions"
        written = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.actor_name == username, AuditEntry.action != "login"))
        assert written == 0, f"{username} left audit entries of a refused action"
    assert checked >= 6 * len(actors)


def test_the_refusal_says_why(tree, make, client_as):
    make.staff(tree.p1, "clerk", role=make.role(tree.p1, "Staff clerk", codes=STAFF_CODES))
    page = client_as("clerk").get(f"/staff/{tree.staff['parkp1'].id}/edit").get_data(as_text=True)
    assert "permissions you do not hold" in page


def test_an_actor_holding_every_code_of_the_target_may_act(app, tree, make, db, client_as):
    clerk_role = make.role(tree.p1, "Staff clerk", codes=STAFF_CODES)
    client = client_as("parkp1")
    for method, url_template in _calls(app, "{id}"):
        target = make.staff(tree.p1, role=clerk_role)  # a fresh one each time: a POST changes it
        response = client.open(url_template.replace("{id}", str(target.id)), method=method,
                               data=_payload(tree, clerk_role.id))
        assert response.status_code == (200 if method == "GET" else 302), f"{method} {url_template}"


def test_a_staff_manager_may_act_on_field_staff(tree, make, client_as, login, app):
    """Collectors hold field codes, which any staff manager may give (as when creating them)."""
    make.staff(tree.p1, "clerk", role=make.role(tree.p1, "Staff clerk", codes=STAFF_CODES))
    collector = tree.staff["collectorp1"]
    response = client_as("clerk").post(f"/staff/{collector.id}/password",
                                       data={"new_password": "handheld-99", "confirm": "handheld-99"})
    assert response.status_code == 302


def test_a_peer_with_the_same_codes_may_act(tree, make, client_as, db):
    peer = make.staff(tree.p1, "parkp1bis")  # a second administrator of the same park
    response = client_as("parkp1").post(f"/staff/{peer.id}/active")
    assert response.status_code == 302
    db.session.refresh(peer)
    assert not peer.active


def test_the_staff_list_offers_no_buttons_for_stronger_accounts(tree, make, client_as):
    make.staff(tree.p1, "clerk", role=make.role(tree.p1, "Staff clerk", codes=STAFF_CODES))
    collector = tree.staff["collectorp1"]
    page = client_as("clerk").get("/staff").get_data(as_text=True)
    admin_id = tree.staff["parkp1"].id
    assert f"/staff/{admin_id}/edit" not in page and f"/staff/{admin_id}/password" not in page
    assert f"/staff/{admin_id}/active" not in page
    assert f"/staff/{collector.id}/edit" in page and f"/staff/{collector.id}/password" in page


def test_the_rule_refuses_a_target_above_the_actor_node(tree, make, db):
    """Even a target whose codes the actor all holds, when anchored above the actor's node."""
    actor = make.staff(tree.p1, "clerk", role=make.role(tree.p1, "Staff clerk", codes=STAFF_CODES))
    above = make.staff(tree.a1, "groupclerk", role=make.role(tree.a1, "Group viewer", codes={"staff.view"}))
    with pytest.raises(services.StaffError):
        services.check_may_act_on(actor, above)
    with pytest.raises(services.StaffError):
        services.check_may_act_on(actor, tree.staff["parkp2"])  # a sibling park: outside the node
    services.check_may_act_on(tree.staff["groupa1"], above)  # the group's administrator may


def test_a_disabled_role_does_not_make_its_holders_fair_game(tree, make, db, client_as):
    """A disabled role grants nothing today, but enabling it again would: its codes still count."""
    make.staff(tree.p1, "clerk", role=make.role(tree.p1, "Staff clerk", codes=STAFF_CODES))
    strong = make.role(tree.p1, "Night boss", codes={"staff.view", "orders.settle"})
    boss = make.staff(tree.p1, "nightboss", role=strong)
    strong.active = False
    db.session.commit()
    response = client_as("clerk").post(f"/staff/{boss.id}/password",
                                       data={"new_password": "taken-over-99", "confirm": "taken-over-99"})
    assert response.status_code == 403
    assert db.session.get(Staff, boss.id).check_password(PASSWORD)
