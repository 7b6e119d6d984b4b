"""Server-side sign-in sessions (issue 14, part 3): signing out, expiry, and ending sessions from the
password page or the staff page end them on the server, whatever copy of the cookie is still around."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEntry
from app.auth import services as auth_services
from app.auth.models import SignInSession
from app.auth.tasks import signin_housekeeping
from app.core.types import utcnow
from tests.factories import PASSWORD
from tests.worker_schedule import due_at_minutes


@pytest.fixture
def clock(monkeypatch):
    """The sessions' clock, moved by the test instead of sleeping."""

    class Clock:
        offset = timedelta()

        def now(self):
            return utcnow() + self.offset

        def advance(self, **kw):
            self.offset += timedelta(**kw)

    clock = Clock()
    monkeypatch.setattr(auth_services, "utcnow", clock.now)
    return clock


def _sign_in(app, username="parkp1", browser="Laptop/1.0", ip="10.0.0.1"):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": PASSWORD},
                           headers={"User-Agent": browser}, environ_base={"REMOTE_ADDR": ip})
    assert response.status_code == 302
    return client


def _copy(app, client):
    """Another browser holding a copy of the client's session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def _signed_in(client) -> bool:
    response = client.get("/staff")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _sessions(db, username="parkp1"):
    db.session.expire_all()
    return db.session.scalars(select(SignInSession).join(SignInSession.staff)
                              .where(SignInSession.staff.has(username=username)).order_by(SignInSession.id)).all()


def test_a_cookie_copied_before_sign_out_is_signed_out_after(app, tree, db):
    client = _sign_in(app)
    copy = _copy(app, client)
    assert _signed_in(copy)
    assert client.post("/logout").status_code == 302
    assert not _signed_in(copy)
    assert not _signed_in(client)
    [row] = _sessions(db)
    assert row.ended_at is not None and row.end_reason == "logout"


def test_the_cookie_carries_a_token_the_database_keeps_only_hashed(app, tree, db):
    client = _sign_in(app)
    cookie = app.session_interface.get_signing_serializer(app).loads(client.get_cookie("session").value)
    token = cookie["_user_id"]
    assert token != str(tree.staff["parkp1"].id) and len(token) >= 40
    [row] = _sessions(db)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest() != token


def test_an_idle_session_ends_after_two_hours(app, tree, clock):
    client = _sign_in(app)
    for _ in range(3):  # in use: six hours, never two without a request
        clock.advance(minutes=119)
        assert _signed_in(client)
    clock.advance(minutes=121)
    assert not _signed_in(client)
    assert _signed_in(_sign_in(app))  # signing in again works


def test_the_idle_limit_is_a_setting(app, tree, clock, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_IDLE_MINUTES", 5)
    client = _sign_in(app)
    clock.advance(minutes=4)
    assert _signed_in(client)
    clock.advance(minutes=6)
    assert not _signed_in(client)


def test_a_session_ends_after_twelve_hours_however_busy(app, tree, clock, monkeypatch):
    client = _sign_in(app)
    for _ in range(7):
        clock.advance(minutes=100)
        assert _signed_in(client)
    clock.advance(minutes=21)  # 12 h 01 min after signing in, 21 min after the last request
    assert not _signed_in(client)
    monkeypatch.setitem(app.config, "SESSION_ABSOLUTE_HOURS", 24)
    assert _signed_in(client)  # the limit is read from the settings


def test_last_seen_is_written_at_most_once_a_minute(app, tree, db, clock):
    client = _sign_in(app)
    first = _sessions(db)[0].last_seen_at
    clock.advance(seconds=30)
    assert _signed_in(client)
    assert _sessions(db)[0].last_seen_at == first
    clock.advance(seconds=31)
    assert _signed_in(client)
    assert _sessions(db)[0].last_seen_at > first


def test_the_password_page_lists_your_sessions_and_ends_the_others(app, tree, db):
    laptop = _sign_in(app, browser="Laptop/1.0", ip="10.0.0.1")
    phone = _sign_in(app, browser="PhoneBrowser/2.0", ip="10.9.8.7")
    other_person = _sign_in(app, "parkp2", browser="SomeoneElse/3.0")
    page = laptop.get("/account/password").get_data(as_text=True)
    assert "PhoneBrowser/2.0" in page and "10.9.8.7" in page and "Laptop/1.0" in page
    assert page.count("this session") == 1 and "SomeoneElse" not in page
    assert laptop.post("/account/sessions/end-others").status_code == 302
    assert not _signed_in(phone)
    assert _signed_in(laptop) and _signed_in(other_person)
    page = laptop.get("/account/password").get_data(as_text=True)
    assert "PhoneBrowser/2.0" not in page
    assert db.session.scalar(select(AuditEntry.after).where(AuditEntry.action == "sessions_ended")) == {"sessions": 1}


def test_ending_one_session_from_the_password_page(app, tree, db):
    laptop, phone, tablet = (_sign_in(app, browser=b) for b in ("Laptop/1.0", "Phone/1.0", "Tablet/1.0"))
    phone_row = next(s for s in _sessions(db) if s.user_agent == "Phone/1.0")
    assert laptop.post(f"/account/sessions/{phone_row.id}/end").status_code == 302
    assert not _signed_in(phone)
    assert _signed_in(laptop) and _signed_in(tablet)


def test_nobody_ends_another_persons_session(app, tree, db):
    victim = _sign_in(app, "parkp2")
    [row] = _sessions(db, "parkp2")
    for attacker in ("parkp1", "groupa1"):  # even a manager above them: that is the staff page's button
        assert _sign_in(app, attacker).post(f"/account/sessions/{row.id}/end").status_code == 404
    assert _signed_in(victim)


def test_an_expired_session_is_not_listed(app, tree, clock):
    laptop = _sign_in(app, browser="Laptop/1.0")
    _sign_in(app, browser="ForgottenPhone/1.0")
    clock.advance(minutes=100)
    assert _signed_in(laptop)
    clock.advance(minutes=30)  # the phone has been idle for 130 minutes, the laptop for 30
    page = laptop.get("/account/password").get_data(as_text=True)
    assert "Laptop/1.0" in page and "ForgottenPhone" not in page


def test_a_manager_signs_someone_out_everywhere(app, tree, db):
    victim_laptop, victim_phone = _sign_in(app, "parkp2"), _sign_in(app, "parkp2", browser="Phone/1.0")
    manager = _sign_in(app, "groupa1")
    staff_id = tree.staff["parkp2"].id
    assert "2 session(s)" in manager.get(f"/staff/{staff_id}/edit").get_data(as_text=True)
    assert manager.post(f"/staff/{staff_id}/sessions/end").status_code == 302
    assert not _signed_in(victim_laptop) and not _signed_in(victim_phone)
    assert _signed_in(manager)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "sessions_ended"))
    assert entry.actor_name == "groupa1" and entry.object_id == staff_id and entry.after == {"sessions": 2}
    assert {s.end_reason for s in _sessions(db, "parkp2")} == {"manager"}


def test_your_own_account_goes_through_the_password_page(app, tree, db):
    client = _sign_in(app, "groupa1")
    me = tree.staff["groupa1"].id
    assert client.get(f"/staff/{me}/password").headers["Location"] == "/account/password"
    response = client.post(f"/staff/{me}/password", data={"new_password": "no-current-99", "confirm": "no-current-99"})
    assert response.headers["Location"] == "/account/password"
    assert client.post(f"/staff/{me}/sessions/end").headers["Location"] == "/account/password"
    assert _signed_in(client)
    assert _sign_in(app, "groupa1")  # the password did not change


@pytest.mark.parametrize("how", ["own change", "reset", "disable"])
def test_password_changes_and_disabling_end_the_sessions(app, tree, db, how):
    target = tree.staff["parkp2"].id
    laptop, phone = _sign_in(app, "parkp2"), _sign_in(app, "parkp2", browser="Phone/1.0")
    copy = _copy(app, phone)
    if how == "own change":
        laptop.post("/account/password", data={"current_password": PASSWORD, "new_password": "brand-new-pass-1",
                                               "confirm": "brand-new-pass-1"})
        assert _signed_in(laptop)  # the one that changed it goes on
    elif how == "reset":
        _sign_in(app, "groupa1").post(f"/staff/{target}/password", data={"new_password": "reset-pass-99",
                                                                         "confirm": "reset-pass-99"})
        assert not _signed_in(laptop)
    else:
        _sign_in(app, "groupa1").post(f"/staff/{target}/active")
        assert not _signed_in(laptop)
    assert not _signed_in(phone) and not _signed_in(copy)


def test_housekeeping_forgets_sessions_a_month_after_they_ended(app, tree, db):
    now = utcnow()
    staff_id = tree.staff["parkp1"].id
    rows = {
        "ended long ago": dict(created_at=now - timedelta(days=40), last_seen_at=now - timedelta(days=40),
                               ended_at=now - timedelta(days=31)),
        "unused long ago": dict(created_at=now - timedelta(days=35), last_seen_at=now - timedelta(days=31)),
        "ended yesterday": dict(created_at=now - timedelta(days=2), last_seen_at=now - timedelta(days=1),
                                ended_at=now - timedelta(days=1)),
        "live": dict(created_at=now, last_seen_at=now),
    }
    for label, times in rows.items():
        db.session.add(SignInSession(token_hash=label.ljust(64, "x"), staff_id=staff_id, user_agent=label, **times))
    db.session.commit()
    assert signin_housekeeping.call_local() == 2
    left = db.session.scalars(select(SignInSession.user_agent).order_by(SignInSession.user_agent)).all()
    assert left == ["ended yesterday", "live"]


def test_the_worker_runs_the_housekeeping_hourly(tmp_path):
    at_43, at_44 = due_at_minutes(tmp_path, [43, 44])
    assert "app.auth.tasks.signin_housekeeping" in at_43
    assert "app.auth.tasks.signin_housekeeping" not in at_44


def test_failed_sign_ins_open_no_session(app, tree, db):
    app.test_client().post("/login", data={"username": "parkp1", "password": "wrong-password-1"})
    assert db.session.scalar(select(func.count()).select_from(SignInSession)) == 0
