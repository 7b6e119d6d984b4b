"""Sign-in, CSRF, sign-out and password changes, as a manager sees them."""
from datetime import timedelta

import pytest

from sqlalchemy import select

from app.audit.models import AuditEntry
from tests.factories import PASSWORD


def _login(client, username, password):
    return client.post("/login", data={"username": username, "password": password})


def test_sign_in_shows_name_and_node(tree, client):
    response = _login(client, "parkp1", PASSWORD)
    assert response.status_code == 302
    page = client.get("/").get_data(as_text=True)
    assert "Alpha Street One" in page and tree.staff["parkp1"].display_name in page


def test_wrong_password_is_refused_with_a_message(tree, client):
    response = _login(client, "parkp1", "nope-nope-nope")
    assert response.status_code == 400
    assert "Wrong username or password" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_username_is_case_insensitive(tree, client):
    assert _login(client, "ParkP1", PASSWORD).status_code == 302


def test_failed_and_successful_logins_are_audited(app, tree, client, db):
    _login(client, "parkp1", "bad-password-1")
    _login(client, "parkp1", PASSWORD)
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.actor_name == "parkp1")
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["login_failed", "login"]
    # a name nobody has is counted per address (tests/test_sign_in_throttle.py), not audited
    unknown = _login(app.test_client(), "ghost", "whatever-123")
    assert unknown.status_code == 400
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.object_label == "ghost")) is None


def test_field_staff_cannot_sign_in_to_the_admin(tree, client):
    response = _login(client, "collectorp1", PASSWORD)
    assert response.status_code == 400
    assert "handheld" in response.get_data(as_text=True)


def test_disabled_account_cannot_sign_in(tree, client, db):
    tree.staff["parkp1"].active = False
    db.session.commit()
    assert "disabled" in _login(client, "parkp1", PASSWORD).get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(app, tree, client):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        response = _login(client, "parkp1", PASSWORD)
        assert response.status_code == 400
        assert "Reload the page" in response.get_data(as_text=True)
        assert client.get("/").status_code == 302  # not signed in
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_login_with_csrf_token_works(app, tree, client):
    import re

    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"username": "parkp1", "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302
        # a POST form without the token is refused even when signed in
        assert client.post("/account/password", data={}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_logout_needs_post_and_ends_the_session(tree, client_as):
    client = client_as("parkp1")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_password_change_ends_other_sessions(tree, client_as):
    laptop, phone = client_as("parkp1"), client_as("parkp1")
    response = laptop.post("/account/password", data={"current_password": PASSWORD, "new_password": "brand-new-pass-1",
                                                      "confirm": "brand-new-pass-1"})
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200      # this session goes on
    assert phone.get("/").status_code == 302       # the other one is signed out
    assert _login(phone, "parkp1", "brand-new-pass-1").status_code == 302


def test_password_change_checks_the_current_password(tree, client_as):
    client = client_as("parkp1")
    response = client.post("/account/password", data={"current_password": "wrong-one-1", "new_password":
                                                      "brand-new-pass-1", "confirm": "brand-new-pass-1"})
    assert response.status_code == 400
    assert "current password is wrong" in response.get_data(as_text=True)


def test_short_password_is_refused(tree, client_as):
    client = client_as("parkp1")
    response = client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short",
                                                      "confirm": "short"})
    assert response.status_code == 400 and "8 to 128" in response.get_data(as_text=True)


# `next` values (as sent in the query string) that try to leave the site; each must land on "/".
OFFSITE_NEXT = [
    "/%09/evil.com", "/%0a/evil.com", "/%0d%0a/evil.com", "%09//evil.com", "%20//evil.com", "/%20/evil.com",
    "//evil.com", "///evil.com", "//evil.com/staff", "%2f%2fevil.com", "/%2f%2fevil.com", "/%252f%252fevil.com",
    "%5c%5cevil.com", "/%5cevil.com", "/%5c/evil.com", "%5c/evil.com",
    "http://evil.com", "https:evil.com", "http:/evil.com", "HTTPS://evil.com", "javascript:alert(1)",
    "%0ajavascript:alert(1)", "data:text/html,x", "evil.com", "@evil.com",
    "/%E2%88%95evil.com", "%E2%88%95%E2%88%95evil.com", "/%EF%BC%8Fevil.com", "%EF%BC%8F%EF%BC%8Fevil.com",
    "/%EF%BC%BCevil.com", "/%E2%81%84evil.com", "/%E2%80%8B/evil.com", "/%C2%A0/evil.com", "/%E3%80%80/evil.com",
    "",
]


@pytest.mark.parametrize("target", OFFSITE_NEXT)
def test_login_never_redirects_off_the_site(tree, client, target):
    response = client.post(f"/login?next={target}", data={"username": "parkp1", "password": PASSWORD})
    assert response.status_code == 302, target
    assert response.headers["Location"] == "/", target


@pytest.mark.parametrize("target, location", [
    ("/staff", "/staff"), ("/staff%3Fq%3Dpark%26page%3D2", "/staff?q=park&page=2"),
    ("/orders?plate=%E4%BA%ACA12345", "/orders?plate=%E4%BA%ACA12345"), ("/sta%09ff", "/staff"),
    ("/%0d%0aSet-Cookie:%20a=b", "/Set-Cookie:a=b"),  # no header of its own: the newline is gone
])
def test_login_keeps_a_same_site_next_page(tree, client, target, location):
    response = client.post(f"/login?next={target}", data={"username": "parkp1", "password": PASSWORD})
    assert response.headers["Location"] == location
    assert all("a=b" not in cookie for cookie in response.headers.getlist("Set-Cookie"))


def test_the_sign_in_page_sends_a_stranger_back_to_the_page_they_asked_for(tree, client):
    asked = client.get("/staff?q=p1")
    assert asked.status_code == 302
    response = client.post(asked.headers["Location"], data={"username": "parkp1", "password": PASSWORD})
    assert response.headers["Location"] == "/staff?q=p1"


def test_security_headers_and_cookie_flags(tree, client):
    response = _login(client, "parkp1", PASSWORD)
    cookies = response.headers.getlist("Set-Cookie")
    assert {c.split("=")[0] for c in cookies} == {"session", "known_device"}
    assert all("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)
    page = client.get("/")
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_passwords_are_stored_hashed(tree):
    staff = tree.staff["parkp1"]
    assert PASSWORD not in staff.password_hash and staff.password_hash.startswith(("pbkdf2:", "scrypt:"))


def test_nul_bytes_in_forms_are_refused_not_crashing(tree, client):
    response = client.post("/login", data={"username": "park\x00p1", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/login?next=%00").status_code == 400
