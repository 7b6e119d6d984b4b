"""Sign-in throttling on the admin form: no name enumeration (time, message, delay), per-address limits,
a growing per-username delay that a known browser skips, unknown names counted rather than audited."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.audit.models import AuditEntry
from app.auth import throttle
from app.auth.models import SignInFailures, UnknownSignIns
from app.auth.services import change_password
from app.core.types import utcnow
from tests.factories import PASSWORD
from tests.sign_in_support import hash_slowly, median_times

WRONG = "not-the-password-1"


def _login(client, username, password, ip="127.0.0.1"):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def _flash(response) -> str:
    return re.search(r'<div class="alert[^"]*"[^>]*>\s*(.*?)\s*(?:<button|</div>)', response.get_data(as_text=True),
                     re.S).group(1).strip()


@pytest.fixture
def delays(app, monkeypatch):
    """A short ladder: 3 free failures, then 10 s, 20 s, capped at 40 s."""
    for key, value in {"LOGIN_DELAY_AFTER_FAILURES": 3, "LOGIN_DELAY_FIRST_SECONDS": 10,
                       "LOGIN_DELAY_MAX_SECONDS": 40}.items():
        monkeypatch.setitem(app.config, key, value)


def _let_the_delay_pass(db):
    db.session.execute(update(SignInFailures).values(delayed_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()


# --- no enumeration ---------------------------------------------------------------------------------------

def test_unknown_and_known_names_take_as_long_to_refuse(app, tree, client, db, monkeypatch):
    hash_slowly(app, monkeypatch, db, tree.staff["parkp1"])
    medians = median_times({"known": lambda: _login(client, "parkp1", WRONG),
                            "unknown": lambda: _login(client, "nobody-here", WRONG)})
    slow, fast = max(medians.values()), min(medians.values())
    assert slow < 2 * fast, medians  # before the dummy hash: about 3 ms against 25 ms


def test_every_wrong_guess_gets_the_same_answer(tree, client, db):
    tree.staff["parkp2"].active = False
    db.session.commit()
    answers = [_login(client, *guess) for guess in (("nobody-here", WRONG), ("parkp1", WRONG), ("parkp2", WRONG))]
    assert {(a.status_code, _flash(a)) for a in answers} == {(400, "Wrong username or password.")}


def test_a_disabled_account_is_told_only_to_its_right_password(tree, client, db):
    tree.staff["parkp2"].active = False
    db.session.commit()
    response = _login(client, "parkp2", PASSWORD)
    assert response.status_code == 400 and "disabled" in _flash(response)
    assert client.get("/").status_code == 302


# --- per address (Flask-Limiter) --------------------------------------------------------------------------

def test_failed_sign_ins_from_one_address_are_throttled(app, tree, client, client_as, sign_in_limit):
    sign_in_limit("3 per minute")
    signed_in = client_as("parkp1")  # a manager working from the same address all along
    for n in range(3):
        assert _login(client, f"guess-{n}", WRONG, ip="10.0.0.1").status_code == 400
    refused = _login(client, "parkp2", PASSWORD, ip="10.0.0.1")  # even the right password of another account
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins from your address" in refused.get_data(as_text=True)
    assert client.get("/login", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200  # the form shows
    assert _login(app.test_client(), "parkp2", PASSWORD, ip="10.0.0.2").status_code == 302  # other addresses
    assert signed_in.get("/", environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200  # other pages


def test_successful_sign_ins_do_not_count_against_the_address(app, tree, sign_in_limit):
    sign_in_limit("3 per minute")  # a park's staff signing in behind one address at the start of a shift
    for _ in range(6):
        assert _login(app.test_client(), "parkp1", PASSWORD).status_code == 302
    assert _login(app.test_client(), "parkp1", WRONG).status_code == 400


# --- per username: the growing delay ------------------------------------------------------------------------

def test_wrong_passwords_in_a_row_make_the_name_wait_longer_each_time(tree, client, db, delays):
    for _ in range(3):
        assert _login(client, "parkp1", WRONG).status_code == 400
    waits = []
    for _ in range(4):
        refused = _login(client, "parkp1", PASSWORD)  # the right password, too early
        assert refused.status_code == 429
        assert _flash(refused) == _flash(_login(client, "parkp1", WRONG))  # nothing tells it was right
        waits.append(int(refused.headers["Retry-After"]))
        assert f"Try again in {waits[-1]} seconds" in _flash(refused)
        _let_the_delay_pass(db)
        assert _login(client, "parkp1", WRONG).status_code == 400  # one more guess, and a longer wait
    assert waits == [10, 20, 40, 40]  # doubling, then no more than the cap
    _let_the_delay_pass(db)
    assert _login(client, "parkp1", PASSWORD).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(SignInFailures)) == 0  # the run is over


def test_unknown_names_wait_exactly_like_known_ones(app, tree, db, delays):
    answers = {}
    for name in ("parkp1", "nobody-here"):
        client = app.test_client()
        answers[name] = [(r.status_code, r.headers.get("Retry-After"), _flash(r))
                         for r in (_login(client, name, WRONG) for _ in range(5))]
    assert answers["parkp1"] == answers["nobody-here"]
    assert answers["parkp1"][-1][0] == 429


def test_a_browser_that_signed_in_before_is_not_delayed(app, tree, db, delays):
    owner = app.test_client()
    assert _login(owner, "parkp1", PASSWORD).status_code == 302  # it becomes a known device of parkp1
    owner.post("/logout")
    attacker = app.test_client()
    for _ in range(8):
        _login(attacker, "parkp1", WRONG, ip="10.9.9.9")
    assert _login(attacker, "parkp1", PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(owner, "parkp1", PASSWORD).status_code == 302  # the owner walks in
    owner.post("/logout")
    for _ in range(4):
        assert _login(attacker, "parkp1", WRONG, ip="10.9.9.9").status_code == 429
        assert _login(owner, "parkp1", WRONG).status_code == 400  # the owner's own typos are checked at once
    assert _login(owner, "parkp1", PASSWORD).status_code == 302


def test_a_known_device_token_is_for_one_account_and_one_password(app, tree, db):
    parkp1, parkp2 = tree.staff["parkp1"], tree.staff["parkp2"]
    token = throttle.device_token(parkp1)
    assert throttle.is_known_device(token, parkp1)
    assert not throttle.is_known_device(token, parkp2) and not throttle.is_known_device(token, None)
    assert not throttle.is_known_device(token[:-2] + "xx", parkp1)  # forged
    change_password(parkp1, "brand-new-pass-1")
    assert not throttle.is_known_device(token, parkp1)


def test_a_password_reset_ends_the_wait(app, tree, client, db, delays):
    for _ in range(4):
        _login(client, "parkp1", WRONG)
    assert _login(client, "parkp1", PASSWORD).status_code == 429
    change_password(tree.staff["parkp1"], "brand-new-pass-1", actor=tree.staff["root"])
    db.session.commit()
    assert _login(client, "parkp1", "brand-new-pass-1").status_code == 302


# --- unknown names: counted, not audited ----------------------------------------------------------------------

def test_unknown_names_are_counted_per_address_and_known_ones_audited(app, tree, client, client_as, db):
    for n in range(3):
        _login(client, f"guess-{n}", WRONG, ip="10.0.0.7")
    _login(client, "guess-x", WRONG, ip="10.0.0.8")
    _login(client, "parkp1", WRONG, ip="10.0.0.7")
    counts = db.session.execute(select(UnknownSignIns.ip, UnknownSignIns.attempts).order_by(UnknownSignIns.ip)).all()
    assert counts == [("10.0.0.7", 3), ("10.0.0.8", 1)]
    failed = db.session.execute(select(AuditEntry.actor_name, AuditEntry.ip)
                                .where(AuditEntry.action == "login_failed")).all()
    assert failed == [("parkp1", "10.0.0.7")]  # a person's history stays in the audit log
    page = client_as("root").get("/audit").get_data(as_text=True)
    assert "unknown usernames in the last 24 hours: 4 from 2 addresses" in page
    assert "<code>10.0.0.7</code> (3)" in page
    assert "unknown usernames" not in client_as("citya").get("/audit").get_data(as_text=True)  # no tenant's


def test_housekeeping_forgets_old_failure_runs_and_counts(app, db):
    now = utcnow()
    db.session.add_all([
        SignInFailures(name_hash="old", failures=9, last_failed_at=now - timedelta(hours=25)),
        SignInFailures(name_hash="new", failures=9, last_failed_at=now - timedelta(hours=23)),
        UnknownSignIns(hour=now - timedelta(days=91), ip="10.0.0.1", attempts=5),
        UnknownSignIns(hour=now - timedelta(days=89), ip="10.0.0.1", attempts=5)])
    db.session.commit()
    from app.auth.tasks import sign_in_housekeeping

    assert sign_in_housekeeping.call_local() == {"sign_in_failures": 1, "unknown_sign_ins": 1}
    assert db.session.scalars(select(SignInFailures.name_hash)).all() == ["new"]
    assert db.session.scalar(select(func.count()).select_from(UnknownSignIns)) == 1


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(app):
    from flask import request

    from app import create_app

    same = {k: app.config[k] for k in ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS",
                                       "RATELIMIT_STORAGE_URI")}
    behind, direct = create_app({**same, "PROXY_FIX_X_FOR": 1}), create_app(same)
    for one in (behind, direct):
        one.add_url_rule("/whoami", "whoami", lambda: request.remote_addr)
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert behind.test_client().get("/whoami", headers=forwarded).text == "203.0.113.9"
    assert direct.test_client().get("/whoami", headers=forwarded).text == "127.0.0.1"  # not trusted by default
