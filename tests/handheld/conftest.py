"""The handheld app in a phone-sized Chromium (390x844, zh-CN) against a live server on the demo data,
trimmed so each test starts the same way: no open shift, and the cars parked on Central North have stood
two hours (so they owe a fee whatever the hour of the run)."""
from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.live_support import serving

SERIAL, PASSWORD = "DEMO-POS-0001", "parkingos-demo"
CSP_PROBE = """document.addEventListener('securitypolicyviolation',
  (e) => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));"""


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory) -> Path:
    """The demo seed, migrated and trimmed once; each test module works on a copy of the file."""
    from flask_migrate import upgrade

    from app.berths.models import BerthSegment
    from app.core.types import utcnow
    from app.demo import seed_demo
    from app.extensions import db
    from app.orders.models import ParkingOrder
    from app.shifts.models import Shift

    db_file = Path(tmp_path_factory.mktemp("handheld")) / "seeded.db"
    app = _app(db_file)
    with app.app_context():
        upgrade()
        seed_demo(history_days=1)
        now = utcnow()
        db.session.execute(update(Shift).where(Shift.ended_at.is_(None)).values(ended_at=now))
        north = db.session.query(BerthSegment).filter_by(name="Central North").one()
        db.session.execute(update(ParkingOrder).where(ParkingOrder.segment_id == north.id,
                                                      ParkingOrder.state == "open")
                           .values(entered_at=now - timedelta(hours=2), entry_received_at=now - timedelta(hours=2),
                                   prepaid_fen=0))
        db.session.commit()
        db.engine.dispose()
    return db_file


def _app(db_file: Path):
    from app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_file}", "SECRET_KEY": "live-test",
                       "PHOTO_DIR": str(db_file.parent / "photos"),
                       "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000", "SQLALCHEMY_ENGINE_OPTIONS": {},
                       "LOGIN_LIMITS_PER_ADDRESS": "", "RATELIMIT_STORAGE_URI": "memory://"})


@pytest.fixture(scope="module")
def live_app(seeded_file, tmp_path_factory):
    db_file = Path(tmp_path_factory.mktemp("handheld")) / "live.db"
    shutil.copyfile(seeded_file, db_file)
    return _app(db_file)


@pytest.fixture(scope="module")
def live_server(live_app):
    """A server of this module's own copy of the trimmed demo (the browser tests' server has the full one)."""
    with serving(live_app) as url:
        yield url


@pytest.fixture
def phone(browser):
    """A page in a phone's context, with every console error (CSP violations included) collected."""
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                  device_scale_factor=2, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.add_init_script(CSP_PROBE)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: m.type == "error" and page.errors.append(m.text))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    yield page
    context.close()


def app_errors(page) -> list[str]:
    """Console errors other than the browser's own log of a failed request (offline, or a 4xx the app shows)."""
    return [e for e in page.errors if not e.startswith("Failed to load resource")]
