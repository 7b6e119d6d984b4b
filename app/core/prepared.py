"""Server-side prepared statements on PostgreSQL with psycopg2 (预备语句).

psycopg2 sends every statement as text and PostgreSQL plans it anew each time: the handheld's token
check, a six-table join, takes four times longer to plan than to run. A statement that a connection
runs a second time is PREPAREd on that connection and sent as EXECUTE from then on, as psycopg 3 does
by itself (psycopg 3 costs more Python per statement than the planning it saves here).

A statement run with the execution option `server_prepare=False` is always sent as text: the figures'
aggregates, whose one text covers today's few rows and a year's, where a plan kept for reuse (generic,
chosen once the first runs were long ranges) would scan today as if it were the year.

Turn it off with PREPARED_STATEMENTS=0 behind a pooler in transaction mode (PgBouncer), which may
hand each transaction a different server connection."""
from __future__ import annotations

import re
from weakref import WeakKeyDictionary

import psycopg2

PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")
PREPARABLE = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")
THRESHOLD = 2  # runs of a statement on one connection before it is prepared
MAX_PER_CONNECTION = 500
MAX_COUNTED = 5000  # statements counted but not yet prepared (texts that vary, e.g. IN lists)


class _Connection:
    """What one database connection has prepared, and how often it has run the others."""

    def __init__(self):
        self.prepared: dict[str, str] = {}  # statement -> its EXECUTE form
        self.counts: dict[str, int] = {}
        self.refused: set[str] = set()


def enable(engine) -> None:
    """Wrap the dialect's do_execute (an event listener would cost more Python per statement than
    the rewrite itself)."""
    dialect = engine.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg2":
        return
    plain = dialect.do_execute
    connections: WeakKeyDictionary = WeakKeyDictionary()

    def do_execute(cursor, statement, parameters, context=None):
        # a named (server-side) cursor wraps the statement in DECLARE … CURSOR FOR, which takes no EXECUTE
        if context is not None and not context.isddl and isinstance(parameters, dict) and cursor.name is None \
                and statement.lstrip()[:6].upper().startswith(PREPARABLE) \
                and context.execution_options.get("server_prepare", True):
            state = connections.get(cursor.connection)
            if state is None:
                state = connections[cursor.connection] = _Connection()
            statement = state.prepared.get(statement) or _maybe_prepare(state, cursor, statement) or statement
        plain(cursor, statement, parameters, context)

    dialect.do_execute = do_execute


def _maybe_prepare(state: _Connection, cursor, statement: str) -> str | None:
    if statement in state.refused or len(state.prepared) >= MAX_PER_CONNECTION:
        return None
    runs = state.counts.get(statement, 0) + 1
    if runs < THRESHOLD:
        if len(state.counts) >= MAX_COUNTED:
            state.counts.clear()
        state.counts[statement] = runs
        return None
    state.counts.pop(statement, None)
    name = f"parkingos_{len(state.prepared) + 1}"
    body, names = _numbered(statement)
    if not _prepare(cursor, f"PREPARE {name} AS {body}"):
        state.refused.add(statement)
        return None
    execute = f"EXECUTE {name}({', '.join(f'%({n})s' for n in names)})" if names else f"EXECUTE {name}"
    state.prepared[statement] = execute
    return execute


def _numbered(statement: str) -> tuple[str, list[str]]:
    """The statement with $1, $2… for psycopg2's %(name)s, and the names in that order."""
    names: list[str] = []

    def number(match):
        if match.group(1) is None:
            return "%"
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return PLACEHOLDER.sub(number, statement), names


def _prepare(cursor, sql: str) -> bool:
    """PREPARE inside a savepoint: a statement PostgreSQL cannot prepare (a parameter whose type it
    cannot infer) is then run as before, and the request's transaction goes on unharmed."""
    in_transaction = not cursor.connection.autocommit
    if in_transaction:
        cursor.execute("SAVEPOINT parkingos_prepare")
    try:
        cursor.execute(sql)
    except psycopg2.Error:
        if in_transaction:
            cursor.execute("ROLLBACK TO SAVEPOINT parkingos_prepare")
            cursor.execute("RELEASE SAVEPOINT parkingos_prepare")
        return False
    if in_transaction:
        cursor.execute("RELEASE SAVEPOINT parkingos_prepare")
    return True
