"""The database drops every connection (a restart, a failover) while handhelds work: the pooled
connections are dead, and the requests that meet one run again on a fresh connection instead of
answering 500. A real server (werkzeug, threaded) serves an app configured as in production (no
pre-ping); handhelds do car cycles and retry as a handheld does, with the same client_ref."""
import http.client
import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from app import create_app
from app.berths.models import Berth, BerthSegment
from app.extensions import db as _db
from app.staff.models import RoleKind
from config import Config, normalize_database_url

pytestmark = [pytest.mark.postgres,
              pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="terminates PostgreSQL backends")]

HANDHELDS = 4
BERTHS = 4
LOAD_SECONDS = 8
TERMINATIONS = 6
TERMINATE_OTHERS = text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@dataclass
class Server:
    port: int
    warnings: list[str]


class Warnings(logging.Handler):
    """The served app's warnings (a request that ran again says so)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def server():
    """The app under a threaded werkzeug server on a free port of 127.0.0.1, stopped after the test; its
    engine as in production (no pre-ping, unlike the test suite's)."""
    served = create_app({"TESTING": True, "SECRET_KEY": "restart-test", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                         "SQLALCHEMY_DATABASE_URI": normalize_database_url(os.environ["TEST_DATABASE_URL"]),
                         "SQLALCHEMY_ENGINE_OPTIONS": dict(Config.SQLALCHEMY_ENGINE_OPTIONS)})
    warnings = Warnings()
    served.logger.addHandler(warnings)
    httpd = make_server("127.0.0.1", 0, served, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield Server(httpd.server_port, warnings.messages)
    httpd.shutdown()
    thread.join(10)
    with served.app_context():
        _db.engine.dispose()


class Handheld:
    """One collector's handheld: every request until it has an answer, as the device does."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.answers: list[tuple[str, int]] = []  # (method path, status) of every answer the server gave
        self.car_in_refs: set[str] = set()

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        for _attempt in range(5):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                conn.request(method, "/pos/v1" + path, body=json.dumps(body) if body is not None else None,
                             headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
                response = conn.getresponse()
                status, payload = response.status, json.loads(response.read() or b"{}")
            except (OSError, http.client.HTTPException):
                time.sleep(0.05)
                continue
            finally:
                conn.close()
            self.answers.append((f"{method} {path.split('?')[0]}", status))
            if status < 500:
                return status, payload
            time.sleep(0.05)
        raise AssertionError(f"{method} {path}: no answer below 500 after 5 attempts")

    def work(self, berths: list[int], plate_prefix: str, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            berth, n = berths[n % len(berths)], n + 1
            entered = (datetime.now(timezone.utc) - timedelta(minutes=61)).isoformat()
            car_in = {"client_ref": str(uuid.uuid4()), "berth_id": berth, "plate": f"{plate_prefix}{n:05d}",
                      "entered_at": entered}
            status, body = self.call("POST", "/orders", car_in)
            assert status == 201, body
            self.car_in_refs.add(car_in["client_ref"])
            order_id = body["order"]["id"]
            left = datetime.now(timezone.utc).isoformat()
            status, body = self.call("GET", f"/orders/{order_id}/quote?left_at={left.replace('+', '%2B')}")
            assert status == 200, body
            settle = {"client_ref": str(uuid.uuid4()), "left_at": left, "method": "cash",
                      "amount_fen": body["quote"]["due_fen"]}
            status, body = self.call("POST", f"/orders/{order_id}/settle", settle)
            assert status == 200, body


def _handhelds(street, make, tree, db, port) -> list[tuple[Handheld, list[int]]]:
    out = []
    for i in range(HANDHELDS):
        segment = BerthSegment(park_id=tree.p1.id, name=f"Restart {i}")
        db.session.add(segment)
        db.session.flush()
        berths = [Berth(park_id=tree.p1.id, segment_id=segment.id, number=f"R{i}{n:02d}") for n in range(BERTHS)]
        db.session.add_all(berths)
        db.session.commit()
        make.staff(tree.p1, f"restart{i}", kind=RoleKind.COLLECTOR)
        street.segments.append(segment.id)
        token = street.signed_in(f"restart{i}", segment=len(street.segments) - 1)
        out.append((Handheld(port, token), [b.id for b in berths]))
    return out


def test_car_cycles_go_on_through_database_restarts_without_a_500(server, street, make, tree, db):
    handhelds = _handhelds(street, make, tree, db, server.port)
    db.session.remove()  # the test's own connection goes back to the pool (pre-pinged) before the restarts
    until = time.monotonic() + LOAD_SECONDS
    failures: list[BaseException] = []

    def run(handheld, berths, prefix):
        try:
            handheld.work(berths, prefix, until)
        except BaseException as exc:  # noqa: BLE001  (reported by the test thread)
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(h, berths, f"沪R{i}")) for i, (h, berths) in enumerate(handhelds)]
    for thread in threads:
        thread.start()
    killed = 0
    for _ in range(TERMINATIONS):
        time.sleep(LOAD_SECONDS / (TERMINATIONS + 1))
        with db.engine.connect() as conn:
            killed += conn.execute(TERMINATE_OTHERS).scalar()
    for thread in threads:
        thread.join(LOAD_SECONDS + 30)
    assert not failures, failures
    assert killed >= TERMINATIONS  # each round found the server's connections to drop

    answers = [answer for h, _ in handhelds for answer in h.answers]
    cycles = sum(1 for call, status in answers if call.endswith("/settle") and status == 200)
    assert cycles >= 20, answers  # the load went on around the restarts
    assert [a for a in answers if a[1] >= 500] == []
    reruns = [message for message in server.warnings if "running it again" in message]
    assert len(reruns) >= TERMINATIONS, reruns  # requests did meet dead connections, and ran again
    _assert_money_invariants(db, sum(len(h.car_in_refs) for h, _ in handhelds))


def _assert_money_invariants(db, cars_in: int) -> None:
    db.session.remove()
    rows = db.session.execute(text("SELECT count(*), count(*) FILTER (WHERE state = 'settled') "
                                   "FROM parking_orders")).one()
    assert tuple(rows) == (cars_in, cars_in)  # one order per car in, retries included, all settled
    assert db.session.scalar(text("SELECT count(*) FROM (SELECT berth_id FROM parking_orders WHERE state = 'open' "
                                  "GROUP BY berth_id HAVING count(*) > 1) AS doubled")) == 0
    assert db.session.execute(text(
        "SELECT o.id, o.paid_fen, coalesce(sum(l.amount_fen), 0) FROM parking_orders o "
        "LEFT JOIN ledger_entries l ON l.order_id = o.id GROUP BY o.id, o.paid_fen "
        "HAVING o.paid_fen <> coalesce(sum(l.amount_fen), 0)")).all() == []
    assert db.session.scalar(text("SELECT count(*) FROM ledger_entries l WHERE l.order_id IS NULL OR NOT EXISTS "
                                  "(SELECT 1 FROM parking_orders o WHERE o.id = l.order_id)")) == 0
