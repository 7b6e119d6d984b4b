"""A live server on a seeded SQLite file, and Playwright driving the system Chromium."""
from pathlib import Path

import pytest

from tests.live_support import serving


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """The app behind the live server, on a migrated SQLite file with the demo seed: seeded once for
    every browser test (the seed is the slow part)."""
    from flask_migrate import upgrade

    from app import create_app
    from app.demo import seed_demo

    db_file = Path(tmp_path_factory.mktemp("live")) / "live.db"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "SECRET_KEY": "live-test",
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SQLALCHEMY_ENGINE_OPTIONS": {},
                      # the browser keeps Bootstrap and the app's css/js instead of asking again on every page
                      "SEND_FILE_MAX_AGE_DEFAULT": 3600})
    with app.app_context():
        upgrade()
        seed_demo()
    return app


@pytest.fixture(scope="session")
def live_server(live_app):
    with serving(live_app) as url:
        yield url


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
