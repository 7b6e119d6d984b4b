"""Report reads on a replica (只读副本): with `REPORTS_DATABASE_URL` set, the SELECTs run inside
`replica_reads()` (the reports' pages and exports, app/reports.compute) go to that database, a streaming
replica of the primary, so a city's month of figures does not compete with the kerb for the primary's
CPU and cache. Writes, and every read outside the block, stay on the primary; so do reads inside it when no
replica is configured. A replica lags by the replication delay (usually under a second): the rollups and
today's live rows it serves are that old (docs/operations.md)."""
from __future__ import annotations

from contextlib import contextmanager

from flask import g, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import Select

BIND_KEY = "reports"


def binds(config: dict) -> dict:
    """The SQLALCHEMY_BINDS holding the replica, if one is configured."""
    found = dict(config.get("SQLALCHEMY_BINDS") or {})
    if config.get("REPORTS_DATABASE_URL"):
        found[BIND_KEY] = config["REPORTS_DATABASE_URL"]
    return found


@contextmanager
def replica_reads():
    """SELECTs inside the block read from the replica (when one is configured)."""
    before = g.get("replica_reads", False)
    g.replica_reads = True
    try:
        yield
    finally:
        g.replica_reads = before


class RoutingSession(Session):
    """Flask-SQLAlchemy's session, sending a SELECT made inside `replica_reads()` to the replica."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        if bind is None and isinstance(clause, Select) and has_app_context() and g.get("replica_reads"):
            engine = self._db.engines.get(BIND_KEY)
            if engine is not None:
                return engine
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kwargs)
