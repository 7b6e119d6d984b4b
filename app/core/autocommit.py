"""Reads outside a transaction on PostgreSQL (自动提交读).

psycopg2 opens a transaction with a BEGIN round trip before the first statement and ends it with a
COMMIT or ROLLBACK round trip: for a handheld's read (a token check and one query) that doubles the
round trips. A read-only request switches its connection to autocommit instead; the connection goes
back to the pool transactional whatever happened in the request."""
from __future__ import annotations

from psycopg2.extensions import TRANSACTION_STATUS_IDLE
from sqlalchemy import event


def enable(engine) -> None:
    if engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg2":
        event.listen(engine, "checkin", _transactional)


def _transactional(dbapi_connection, _record) -> None:
    if dbapi_connection is not None and dbapi_connection.autocommit:
        dbapi_connection.autocommit = False


def read_without_transaction(session) -> bool:
    """Switch the session's connection to autocommit if it has not begun a transaction yet; whether it did."""
    dbapi_connection = session.connection().connection.dbapi_connection
    if dbapi_connection.info.transaction_status != TRANSACTION_STATUS_IDLE:
        return False
    dbapi_connection.autocommit = True
    return True
