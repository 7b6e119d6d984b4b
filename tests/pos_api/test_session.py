"""Handheld sign-in: only field staff, only on an approved device of their park, one live token."""
from datetime import timedelta

from sqlalchemy import select

from app.core.types import utcnow
from app.devices.models import DeviceSession, Handheld
from tests.factories import PASSWORD


def _sign_in(street, username, serial="POS-P1-A", password=PASSWORD):
    return street.client.post("/pos/v1/session", json={"username": username, "password": password,
                                                       "device_serial": serial})


def test_collector_signs_in_and_gets_park_and_segments(street):
    body = _sign_in(street, "collectorp1").get_json()
    assert body["park"]["name"] == "Alpha Street One" and body["park"]["timezone"] == "Asia/Shanghai"
    assert [s["name"] for s in body["segments"]] == ["Alpha Street One North", "Alpha Street One South"]
    assert body["user"]["role"] == "collector" and body["token"] and body["expires_at"]
    assert body["settings"]["prepay_allowed"] is True and body["open_shift"] is None


def test_wrong_password_is_401_with_error_shape(street):
    response = _sign_in(street, "collectorp1", password="wrong-password")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_credentials"


def test_missing_fields_are_422_with_fields(street):
    response = street.client.post("/pos/v1/session", json={"username": "collectorp1"})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"password", "device_serial"}
    assert street.client.post("/pos/v1/session", data="not json").status_code == 400


def test_managers_cannot_sign_in_on_a_handheld(street):
    response = _sign_in(street, "parkp1")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "not_field_staff"


def test_unknown_device_is_recorded_as_pending(street, db):
    response = _sign_in(street, "collectorp1", serial="NEW-DEVICE-9")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "device_pending"
    handheld = db.session.scalar(select(Handheld).where(Handheld.serial == "NEW-DEVICE-9"))
    assert handheld.status == "pending" and handheld.park_id == street.handhelds["p1"].park_id
    assert _sign_in(street, "collectorp1", serial="NEW-DEVICE-9").status_code == 403


def test_device_of_another_park_is_refused(street):
    response = _sign_in(street, "collectorp1", serial="POS-P2-A")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "device_other_park"


def test_revoked_device_and_its_tokens_are_refused(street, db):
    token = street.login("collectorp1")
    handheld = db.session.get(Handheld, street.handhelds["p1"].id)
    handheld.status = "revoked"
    db.session.commit()
    assert street.call("GET", "/messages", token).status_code == 401
    response = _sign_in(street, "collectorp1")
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "device_revoked"


def test_new_sign_in_revokes_the_previous_token(street):
    first = street.login("collectorp1")
    second = street.login("collectorp1")
    assert street.call("GET", "/messages", first).status_code == 401
    assert street.call("GET", "/messages", second).status_code == 200


def test_sign_out_revokes_the_token(street):
    token = street.login("collectorp1")
    assert street.call("DELETE", "/session", token).status_code == 200
    response = street.call("GET", "/messages", token)
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "invalid_token"


def test_expired_token_is_refused(street, db):
    token = street.login("collectorp1")
    session = db.session.scalar(select(DeviceSession).where(DeviceSession.revoked_at.is_(None)))
    session.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert street.call("GET", "/messages", token).status_code == 401


def test_tokens_are_stored_hashed(street, db):
    token = street.login("collectorp1")
    stored = db.session.scalar(select(DeviceSession.token_hash))
    assert token not in stored and len(stored) == 64


def test_disabled_collector_loses_access(street, tree, db):
    token = street.login("collectorp1")
    tree.staff["collectorp1"].active = False
    db.session.commit()
    assert street.call("GET", "/messages", token).status_code == 401


def test_no_token_and_garbage_token(street):
    assert street.client.get("/pos/v1/berths").status_code == 401
    response = street.client.get("/pos/v1/berths", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401 and response.get_json()["error"]["message"]


def test_control_characters_and_bad_unicode_are_field_errors(street):
    for username in ("\x00", "abc\x07", "\ud800x"):
        response = street.client.post("/pos/v1/session", json={"username": username, "password": "x",
                                                               "device_serial": "POS-P1-A"})
        assert response.status_code == 422 and "username" in response.get_json()["error"]["fields"]


def test_the_device_api_keeps_no_cookie_session_but_the_admin_does(street, client_as):
    browser = client_as("parkp1")  # a signed-in admin's cookie must neither work nor be renewed here
    answer = browser.get("/pos/v1/orders")
    assert answer.status_code == 401 and "Set-Cookie" not in answer.headers
    assert "Cookie" not in answer.headers.get("Vary", "")
    assert answer.headers["X-Content-Type-Options"] == "nosniff" and "frame-ancestors 'none'" in \
        answer.headers["Content-Security-Policy"]
    signed_in = street.client.post("/login", data={"username": "parkp1", "password": PASSWORD})
    assert signed_in.status_code == 302 and any(
        c.startswith("session=") for c in signed_in.headers.getlist("Set-Cookie"))


def test_sign_in_lists_the_free_reasons_that_settle_accepts(street, db, tree):
    from app.parks.models import FreeReason

    park = tree.nodes["p1"]
    db.session.add_all([FreeReason(park_id=park.id, name="Ambulance"),
                        FreeReason(park_id=park.id, name="Retired", active=False),
                        FreeReason(park_id=tree.nodes["p2"].id, name="Other park's reason")])
    db.session.commit()
    assert _sign_in(street, "collectorp1").get_json()["settings"]["free_reasons"] == ["Ambulance"]
