"""Sign-in throttling on the handheld's POST /pos/v1/session: the same protections as the admin form, in JSON."""
import sys
from datetime import timedelta

import pytest
from sqlalchemy import update

from app.auth.models import SignInFailures
from app.core.types import utcnow
from app.staff.models import Staff
from tests.factories import PASSWORD
from tests.pos_api.conftest import ago
from tests.sign_in_support import hash_slowly, median_times

WRONG = "not-the-password-1"


def _sign_in(client, username, password, ip="127.0.0.1", **extra):
    return client.post("/pos/v1/session", json={"username": username, "password": password,
                                                "device_serial": "POS-P1-A", **extra},
                       environ_base={"REMOTE_ADDR": ip})


@pytest.fixture
def delays(app, monkeypatch):
    for key, value in {"LOGIN_DELAY_AFTER_FAILURES": 3, "LOGIN_DELAY_FIRST_SECONDS": 10,
                       "LOGIN_DELAY_MAX_SECONDS": 40}.items():
        monkeypatch.setitem(app.config, key, value)


def test_unknown_and_known_names_take_as_long_to_refuse(app, street, tree, db, monkeypatch):
    hash_slowly(app, monkeypatch, db, tree.staff["collectorp1"])
    medians = median_times({"known": lambda: _sign_in(street.client, "collectorp1", WRONG),
                            "unknown": lambda: _sign_in(street.client, "nobody-here", WRONG)})
    slow, fast = max(medians.values()), min(medians.values())
    assert slow < 2 * fast, medians  # it was 2.6 ms against 101 ms with the production hash


def test_every_wrong_guess_gets_one_code(street, db):
    db.session.execute(update(Staff).where(Staff.username == "collector2p1").values(active=False))
    db.session.commit()
    answers = [_sign_in(street.client, name, WRONG) for name in ("nobody-here", "collectorp1", "collector2p1")]
    assert {a.status_code for a in answers} == {401}
    assert {a.get_data(as_text=True) for a in answers} == {answers[0].get_data(as_text=True)}
    assert answers[0].get_json()["error"]["code"] == "bad_credentials"
    right = _sign_in(street.client, "collector2p1", PASSWORD)  # only the right password learns why
    assert right.status_code == 403 and right.get_json()["error"]["code"] == "account_disabled"


def test_too_many_failures_from_an_address_are_429_in_json(app, street, sign_in_limit):
    token = street.signed_in()  # a collector at work behind the address under attack
    sign_in_limit("3 per minute")
    app.test_client().post("/login", data={"username": "guess-0", "password": WRONG})  # one budget for both forms
    for n in (1, 2):
        assert _sign_in(street.client, f"guess-{n}", WRONG).status_code == 401
    refused = _sign_in(street.client, "collector2p1", PASSWORD)
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    error = refused.get_json()["error"]
    assert error["code"] == "too_many_requests" and error["retry_after"] == int(refused.headers["Retry-After"])
    assert error["message"] and error["fields"] == {}
    assert _sign_in(app.test_client(), "collector2p1", PASSWORD, ip="10.0.0.2").status_code == 201
    car_in = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=1))  # the car cycle goes on
    assert car_in.status_code == 201, car_in.get_json()
    order = car_in.get_json()["order"]["id"]
    quote = street.call("GET", f"/orders/{order}/quote", token)
    assert quote.status_code == 200
    settle = street.call("POST", f"/orders/{order}/settle", token, json={
        "client_ref": "settle-0001", "left_at": ago(seconds=1), "method": "cash",
        "amount_fen": quote.get_json()["quote"]["due_fen"]})
    assert settle.status_code == 200, settle.get_json()
    assert street.client.get("/pos/v1/time").status_code == 200


def test_a_name_under_delay_answers_429_and_its_handheld_still_signs_in(app, street, db, delays):
    device_key = street.client.post("/pos/v1/session", json={
        "username": "collectorp1", "password": PASSWORD, "device_serial": "POS-P1-A"}).get_json()["device_key"]
    attacker = app.test_client()
    for _ in range(3):
        assert _sign_in(attacker, "collectorp1", WRONG, ip="10.9.9.9").status_code == 401
    early = _sign_in(attacker, "collectorp1", PASSWORD, ip="10.9.9.9")  # right, but too early
    assert early.status_code == 429 and early.headers["Retry-After"] == "10"
    assert early.get_json()["error"]["code"] == "too_many_requests" and early.get_json()["error"]["retry_after"] == 10
    assert early.get_json() == _sign_in(attacker, "collectorp1", WRONG, ip="10.9.9.9").get_json()
    assert _sign_in(street.client, "collectorp1", PASSWORD, device_key=device_key).status_code == 201
    assert _sign_in(street.client, "collectorp1", PASSWORD, device_key="forged").status_code == 429
    db.session.execute(update(SignInFailures).values(delayed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert _sign_in(attacker, "collectorp1", PASSWORD, ip="10.9.9.9").status_code == 201


def test_only_the_sign_in_routes_run_the_limiter(street):
    """Flask-Limiter's request hooks cost about a hundred Python calls: no other request pays them."""
    def limiter_calls(request):
        calls = []

        def profile(frame, event, _arg):
            if event == "call" and "flask_limiter" in frame.f_code.co_filename:
                calls.append(frame.f_code.co_name)

        sys.setprofile(profile)
        try:
            request()
        finally:
            sys.setprofile(None)
        return calls

    token = street.login("collectorp1")
    assert limiter_calls(lambda: street.call("GET", "/berths", token)) == []
    assert limiter_calls(lambda: street.client.get("/pos/v1/time")) == []
    assert limiter_calls(lambda: _sign_in(street.client, "collectorp1", WRONG))  # where it does run
