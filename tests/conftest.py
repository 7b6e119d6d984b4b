"""Fixtures: the app on a migrated test database (SQLite in memory, or PostgreSQL when
TEST_DATABASE_URL is set), a clean database per test, a client, factories and log-in helpers."""
from __future__ import annotations

import os

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.pool import StaticPool

from app import create_app
from app.extensions import db as _db
from config import normalize_database_url
from tests import factories

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _overrides() -> dict:
    base = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing; the KDF itself is werkzeug's
        "SERVER_NAME": None,
        # the suite signs in hundreds of times from one address; tests/test_sign_in_throttle.py sets a limit
        "LOGIN_LIMITS_PER_ADDRESS": "",
        "RATELIMIT_STORAGE_URI": "memory://",
        # the integrations' per-park cache is cleared after each test (and by tests that change settings);
        # within a test it must not lapse, or a slow run counts its reload in a statement budget
        "INTEGRATIONS_CACHE_SECONDS": 3600,
    }
    if TEST_DATABASE_URL:
        base["SQLALCHEMY_DATABASE_URI"] = normalize_database_url(TEST_DATABASE_URL)
        base["SQLALCHEMY_ENGINE_OPTIONS"] = {"pool_pre_ping": True}
    else:
        base["SQLALCHEMY_DATABASE_URI"] = "sqlite://"
        base["SQLALCHEMY_ENGINE_OPTIONS"] = {"poolclass": StaticPool,
                                             "connect_args": {"check_same_thread": False}}
    return base


def _reset_schema() -> None:
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (fresh `g` and session), as on a real server,
    even while the test holds an app context open for its factories."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues():
    """The .mo files are build output (`make install` compiles them); a bare pytest run compiles them too."""
    from app.i18n.catalogue import compile_all, is_compiled

    if not is_compiled():
        compile_all()


@pytest.fixture(scope="session")
def app(compiled_catalogues):
    from flask_migrate import upgrade

    app = create_app(_overrides())
    app.test_client_class = IsolatedClient
    with app.app_context():
        _reset_schema()
        upgrade()  # the suite runs on the migrated schema, not on create_all()
    yield app


@pytest.fixture(autouse=True)
def _clean_db(request, app):
    yield
    from app.integrations.events import invalidate

    invalidate()  # what the integrations cached per park
    if "demo_seeded_once" not in request.fixturenames:  # that one is wiped when its module ends
        _wipe(app)


def _wipe(app) -> None:
    with app.app_context():
        _db.session.remove()
        # DELETE, children first: on PostgreSQL a TRUNCATE of every table costs ~170 ms a test, the
        # DELETEs of a test's few rows ~6 ms (ids are not restarted; no test may rely on them)
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(scope="module")
def demo_seeded_once(app, request, tmp_path_factory):
    """The demo seed, written once for a module whose tests only read it (a seed costs seconds, its
    tests milliseconds); `DEMO_HISTORY_DAYS` in the module sets the history. Every test of such a module
    must use it: another test's wipe would take the seed away from the tests after it."""
    from app.demo import seed_demo

    photo_dir = app.config.get("PHOTO_DIR")
    app.config["PHOTO_DIR"] = str(tmp_path_factory.mktemp("demo-photos"))
    with app.app_context():
        seed_demo(history_days=getattr(request.module, "DEMO_HISTORY_DAYS", 1))
        _db.session.remove()
    yield
    app.config["PHOTO_DIR"] = photo_dir
    _wipe(app)


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()


@pytest.fixture
def pg(db):
    """The database, for a test of what only PostgreSQL has (partitions, key tables)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("partitions are PostgreSQL's; SQLite keeps plain tables")
    return db


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(db):
    return factories.Factory(db)


@pytest.fixture
def tree(make):
    """Two cities; the second one's names carry the marker word 'Harbor' so leaks show."""
    return factories.build_tree(make)


@pytest.fixture
def login(app):
    def _login(client, username, password=factories.PASSWORD):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, f"login of {username} failed: {response.status_code}"
        return client

    return _login


@pytest.fixture
def client_as(app, login):
    """A fresh client signed in as `username`."""

    def _client_as(username):
        return login(app.test_client(), username)

    return _client_as


@pytest.fixture
def sign_in_limit(app, monkeypatch):
    """Turns on the per-address limit of failed sign-ins (off in the rest of the suite), counting afresh."""
    from app.extensions import limiter

    def _limit(limit="3 per minute"):
        monkeypatch.setitem(app.config, "LOGIN_LIMITS_PER_ADDRESS", limit)
        limiter.reset()

    yield _limit
    limiter.reset()


@pytest.fixture(scope="session")
def browser():
    """The system Chromium through Playwright, started once for every browser and handheld test."""
    from tests.live_support import CHROMIUM, CHROMIUM_ARGS

    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
