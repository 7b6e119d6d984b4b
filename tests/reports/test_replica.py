"""REPORTS_DATABASE_URL: the reports' pages and exports read from the replica; writes, the kerb and the
overview stay on the primary."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, event, select
from sqlalchemy.pool import StaticPool

from app.audit.models import AuditEntry
from app.core.replica import BIND_KEY, replica_reads
from app.extensions import db as _db
from tests.pos_api.conftest import ago, ref, street  # noqa: F401  (the street fixture)


@pytest.fixture
def replica(app):
    """A second engine on the test database, registered as the reports' replica (a streaming replica holds
    the same rows); yields the statements each engine ran meanwhile."""
    with app.app_context():
        primary = _db.engine
        if primary.dialect.name == "postgresql":
            engine = create_engine(primary.url)
        else:  # the in-memory database is one connection: the replica engine shares it
            raw = primary.raw_connection().driver_connection
            engine = create_engine("sqlite://", creator=lambda: raw, poolclass=StaticPool)
        engines = _db._app_engines[app]
    seen: dict[str, list[str]] = {"primary": [], "replica": []}
    listeners = [(primary, lambda *a: seen["primary"].append(a[2])), (engine, lambda *a: seen["replica"].append(a[2]))]
    for target, listener in listeners:
        event.listen(target, "before_cursor_execute", listener)
    engines[BIND_KEY] = engine
    try:
        yield seen
    finally:
        del engines[BIND_KEY]
        for target, listener in listeners:
            event.remove(target, "before_cursor_execute", listener)
        if engine.dialect.name == "postgresql":
            engine.dispose()  # (the SQLite one shares the primary's only connection)


@contextmanager
def _fresh(seen):
    for statements in seen.values():
        statements.clear()
    yield seen


def _reads(statements, table):
    return [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH")) and table in s]


def test_a_report_page_reads_its_figures_from_the_replica(street, client_as, replica):
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪A77001", entered_at=ago(hours=1)).get_json()["order"]
    quote = street.call("GET", f"/orders/{order['id']}/quote", token).get_json()["quote"]
    street.call("POST", f"/orders/{order['id']}/settle", token, json={
        "client_ref": ref(), "left_at": quote["left_at"], "method": "cash", "amount_fen": quote["due_fen"]})
    client = client_as("citya")
    with _fresh(replica) as seen:
        page = client.get("/reports/income?by=park")
    fee = f"{quote['due_fen'] / 100:.2f}"
    assert quote["due_fen"] > 0 and page.status_code == 200 and fee in page.get_data(as_text=True)
    assert _reads(seen["replica"], "ledger_entries")
    assert not _reads(seen["primary"], "ledger_entries")
    with _fresh(replica) as seen:
        assert client.get("/").status_code == 200  # the overview is live: the primary
    assert _reads(seen["primary"], "ledger_entries") and not seen["replica"]


def test_writes_inside_replica_reads_go_to_the_primary(app, db, tree, replica):
    with app.test_request_context(), _fresh(replica) as seen, replica_reads():
        entry = AuditEntry(action="test.replica", object_label="written on the primary")
        entry.anchor_at(tree.city_a)
        db.session.add(entry)
        db.session.commit()
        assert db.session.scalar(select(AuditEntry.object_label).where(AuditEntry.action == "test.replica"))
    assert any(s.lstrip().upper().startswith("INSERT") for s in seen["primary"])
    assert not any(s.lstrip().upper().startswith("INSERT") for s in seen["replica"])
    assert _reads(seen["replica"], "audit_entries")
