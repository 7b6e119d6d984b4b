"""Which requests run again when they meet a dead database connection (app/core/reconnect.py): reads that
began no commit, and writes marked safe to run again; once, from the state the request had before its
view ran. (The real thing, on PostgreSQL under load: tests/pos_api/test_database_restart.py.)"""
import io

import pytest
from flask import g, request
from sqlalchemy.exc import OperationalError

from app import create_app
from app.core.reconnect import runs_again_on_disconnect
from app.extensions import csrf, db


def _lost(invalidated=True):
    return OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"),
                            connection_invalidated=invalidated)


@pytest.fixture(scope="module")
def flaky():
    """An app whose test routes fail the first `fail[0]` runs with a lost connection."""
    app = create_app({"TESTING": True, "SECRET_KEY": "reconnect-test", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    runs, fail = [], [1]

    def failing(label, before=None, invalidated=True):
        runs.append((label, g.get("seen"), g.get("ready")))
        g.seen = "by the first run"
        if before:
            before()
        if len(runs) <= fail[0]:
            raise _lost(invalidated)
        return {"runs": len(runs)}

    app.before_request(lambda: setattr(g, "ready", "before the view"))
    app.add_url_rule("/t/read", "read", lambda: failing("read"))
    app.add_url_rule("/t/read-that-wrote", "read_that_wrote", lambda: failing("read", db.session.commit))
    app.add_url_rule("/t/other-error", "other_error", lambda: failing("read", invalidated=False))
    app.add_url_rule("/t/form", "form", lambda: failing("form"), methods=["POST"])
    upload = runs_again_on_disconnect(lambda: {"size": len(request.files["photo"].read())} | failing("upload"))
    app.add_url_rule("/t/upload", "upload", upload, methods=["POST"])
    csrf.exempt(app.view_functions["form"])
    csrf.exempt(app.view_functions["upload"])
    app.flaky_runs, app.flaky_fail = runs, fail
    return app


@pytest.fixture
def client(flaky):
    flaky.flaky_runs.clear()
    flaky.flaky_fail[0] = 1
    return flaky.test_client()


def test_a_read_runs_again_from_where_it_started(client, flaky):
    response = client.get("/t/read")
    assert response.status_code == 200 and response.get_json() == {"runs": 2}
    # the second run had what the request set before its view, and nothing the first run set
    assert flaky.flaky_runs == [("read", None, "before the view"), ("read", None, "before the view")]


def test_a_device_write_marked_safe_runs_again_with_its_upload_from_the_start(client, flaky):
    response = client.post("/t/upload", data={"photo": (io.BytesIO(b"x" * 1000), "p.jpg")})
    assert response.status_code == 200 and response.get_json() == {"runs": 2, "size": 1000}  # not 0


def test_a_read_that_began_a_commit_is_not_run_again(client, flaky):
    response = client.get("/t/read-that-wrote")
    assert response.status_code == 500 and len(flaky.flaky_runs) == 1


def test_a_write_not_marked_safe_is_not_run_again(client, flaky):
    assert client.post("/t/form").status_code == 500 and len(flaky.flaky_runs) == 1


def test_only_once(client, flaky):
    flaky.flaky_fail[0] = 2
    assert client.get("/t/read").status_code == 500 and len(flaky.flaky_runs) == 2


def test_other_database_errors_are_not_run_again(client, flaky):
    assert client.get("/t/other-error").status_code == 500 and len(flaky.flaky_runs) == 1
