"""Set-based writes of many rows at once, for the lane uploads: on PostgreSQL the rows travel as one
JSON parameter unpacked by the server (json_to_recordset: no per-value quoting in Python, one round
trip), elsewhere as a Core executemany. Rows are plain dicts; no ORM object is made."""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.dialects import postgresql

from app.extensions import db


def _pg() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def _plain(value):
    """JSON for what json cannot write itself (times)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _record_type(table, columns) -> str:
    return _compiled_record_type(table, tuple(columns))


@lru_cache(maxsize=64)
def _compiled_record_type(table, columns: tuple) -> str:
    return ", ".join(f"{c} {table.c[c].type.compile(dialect=postgresql.dialect())}" for c in columns)


def _with_defaults(table, rows: list[dict]) -> list[str]:
    """Fill the columns' Python defaults (created_at...) that the rows leave out: a JSON insert skips them."""
    columns = list(rows[0])
    for column in table.c:
        if column.key in columns or column.default is None or column.primary_key:
            continue
        default = column.default
        value = default.arg(None) if default.is_callable else default.arg if default.is_scalar else None
        if default.is_callable or default.is_scalar:
            columns.append(column.key)
            for row in rows:
                row[column.key] = value
    return columns


def insert_ignore(table):
    """INSERT that skips a row its unique keys already hold (ON CONFLICT DO NOTHING): no savepoint needed."""
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return (postgresql.insert(table) if _pg() else sqlite_insert(table)).on_conflict_do_nothing()


def reserve_ids(table, count: int) -> list[int] | None:
    """`count` new ids of the table's sequence, ascending (PostgreSQL); None elsewhere."""
    if not count or not _pg():
        return None
    return list(db.session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                   {"t": table.name, "n": count}).scalars())


def insert_rows(table, rows: list[dict], *, returning_ids: bool = False) -> list[int] | None:
    """One INSERT for all rows (each with the same keys); the new ids in the rows' order if asked."""
    if not rows:
        return [] if returning_ids else None
    columns = _with_defaults(table, rows)
    if _pg():
        names = ", ".join(columns)
        sql = f"INSERT INTO {table.name} ({names}) SELECT {names} FROM json_to_recordset(CAST(:rows AS json)) AS v"
        if not returning_ids:
            same = all(len(r) == len(columns) for r in rows)  # the rows carry just the columns: send them as they are
            db.session.execute(text(f"{sql}({_record_type(table, columns)})"), {"rows": json.dumps(
                rows if same else [{c: r[c] for c in columns} for r in rows], default=_plain)})
            return None
        # ids come from the sequence in the SELECT's order, so ascending ids follow the rows
        return sorted(db.session.execute(text(f"{sql}({_record_type(table, columns)}, _i int) ORDER BY v._i "
                                              "RETURNING id"), {"rows": json.dumps(
            [{**{c: r[c] for c in columns}, "_i": i} for i, r in enumerate(rows)], default=_plain)}).scalars())
    if not returning_ids:
        db.session.execute(insert(table), [{c: r[c] for c in columns} for r in rows])
        return None
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.execute(stmt, [{c: r[c] for c in columns} for r in rows]).scalars())


def update_rows(table, rows: list[dict], key: str = "id") -> None:
    """One UPDATE for many rows, each dict giving `key` and the same new columns."""
    if not rows:
        return
    columns = list(rows[0])
    if _pg():
        sets = ", ".join(f"{c} = v.{c}" for c in columns if c != key)
        db.session.execute(text(f"UPDATE {table.name} AS t SET {sets} FROM json_to_recordset(CAST(:rows AS json)) "
                                f"AS v({_record_type(table, columns)}) WHERE t.{key} = v.{key}"),
                           {"rows": json.dumps([{c: r[c] for c in columns} for r in rows], default=_plain)})
        return
    stmt = update(table).where(table.c[key] == bindparam(f"b_{key}"))
    db.session.execute(stmt.values({c: bindparam(f"b_{c}") for c in columns if c != key}),
                       [{f"b_{c}": r[c] for c in columns} for r in rows])
