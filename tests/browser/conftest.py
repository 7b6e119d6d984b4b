"""A live server on a seeded SQLite file, and Playwright driving the system Chromium."""
import os
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


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


@contextmanager
def serving(app):
    """The app on a free local port, in a thread, for as long as the block runs."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture(scope="session")
def live_server(live_app):
    with serving(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    yield page
    context.close()
