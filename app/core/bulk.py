"""Set-based writes of many rows at once (lane uploads, sensor batches, the ledger's set-based path): on
PostgreSQL the rows travel as one JSON parameter unpacked by the server (json_to_recordset: no per-value
quoting in Python, one round trip), elsewhere as a Core executemany. Rows are plain dicts; no ORM object
is made."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from operator import itemgetter

from sqlalchemy import any_, bindparam, insert, text, update
from sqlalchemy.dialects import postgresql

from app.core.types import UTCDateTime
from app.extensions import db, execute_core, on_postgresql

_TIME_TYPES = (UTCDateTime,)
COMPACT = (",", ":")  # no blanks: the server parses every byte


def one_of(column, values, item_type=None):
    """`column IN values`; on PostgreSQL `= ANY(array)`: one statement text whatever the number of values
    (so that it is planned, or prepared, once). `item_type`: the array's, if not the column's."""
    if on_postgresql():
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(item_type or column.type)))
    return column.in_(list(values))


def _plain(value):
    """JSON for what json cannot write itself (times)."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _record_type(table, columns) -> str:
    return _compiled_record_type(table, tuple(columns))


@lru_cache(maxsize=256)
def _compiled_record_type(table, columns: tuple) -> str:
    return ", ".join(f"{c} {table.c[c].type.compile(dialect=postgresql.dialect())}" for c in columns)


def _pg_type(table, column: str) -> str:
    return _compiled_record_type(table, (column,)).split(" ", 1)[1]


def _defaults(table, columns, constants: dict) -> dict:
    """The columns' Python defaults (created_at...) that the rows leave out (a JSON insert skips them),
    added to the constants: one value for the whole batch, as the ORM would give a flush."""
    for column in table.c:
        if column.key in columns or column.key in constants or column.default is None or column.primary_key:
            continue
        default = column.default
        if default.is_callable:
            constants[column.key] = default.arg(None)
        elif default.is_scalar:
            constants[column.key] = default.arg
    return constants


_SCALARS = (type(None), str, int, bool, datetime)


def _split(columns: list[str], rows: list[dict], constants: dict) -> dict[str, Sequence]:
    """Moves into `constants` the columns holding the same plain value in every row (the park, the batch's
    time, nulls...), which travel once as parameters; returns the others' values by column, which travel
    in each row's JSON: less to encode here and to parse there."""
    varying: dict[str, Sequence] = {}
    for c in columns:
        values = list(map(itemgetter(c), rows))
        first = values[0]
        if len(values) > 1 and type(first) in _SCALARS and values.count(first) == len(values):
            constants[c] = first
        else:
            varying[c] = values
    if not varying:  # json_to_recordset needs a column
        c = columns[0]
        varying[c] = [constants.pop(c)] * len(rows)
    return varying


def insert_ignore(table):
    """INSERT that skips a row its unique keys already hold (ON CONFLICT DO NOTHING): no savepoint needed."""
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return (postgresql.insert(table) if on_postgresql() else sqlite_insert(table)).on_conflict_do_nothing()


def reserve_ids(table, count: int) -> list[int] | None:
    """`count` new ids of the table's sequence, ascending (PostgreSQL); None elsewhere."""
    if not count or not on_postgresql():
        return None
    return list(db.session.execute(text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
                                   {"t": table.name, "n": count}).scalars())


def _pg_insert(table, columns: list[str], rows: list[dict], constants: dict, returning_ids: bool):
    by_column = _split(columns, rows, constants)
    for c, values in by_column.items():
        if isinstance(table.c[c].type, _TIME_TYPES):  # written here: cheaper than json calling back for each
            by_column[c] = [None if v is None else v.isoformat() for v in values]
    names = list(by_column)
    keys = [f"c{i}" for i in range(len(names))]  # short keys: the server parses every byte of every row
    record = ", ".join(f"{k} {_pg_type(table, c)}" for k, c in zip(keys, names))
    if returning_ids:
        keys.append("_i")
        by_column["_i"] = range(len(rows))
        record += ", _i int"
    params = {f"p{i}": value for i, value in enumerate(constants.values())}
    params["rows"] = json.dumps([dict(zip(keys, values)) for values in zip(*by_column.values())], default=_plain,
                                separators=COMPACT)
    selected = ", ".join([f"v.{k}" for k in keys[:len(names)]] +
                         [f"CAST(:p{i} AS {_pg_type(table, c)})" for i, c in enumerate(constants)])
    sql = (f"INSERT INTO {table.name} ({', '.join(names + list(constants))}) SELECT {selected} "
           f"FROM json_to_recordset(CAST(:rows AS json)) AS v({record})")
    if not returning_ids:
        db.session.execute(text(sql), params)
        return None
    # ids come from the sequence in the SELECT's order, so ascending ids follow the rows
    return sorted(db.session.execute(text(sql + " ORDER BY v._i RETURNING id"), params).scalars())


def insert_rows(table, rows: list[dict], *, returning_ids: bool = False, columns: list[str] | None = None,
                constants: dict | None = None) -> list[int] | None:
    """One INSERT for all rows; the new ids in the rows' order if asked. `columns`: the keys of the rows
    to write (default: all the keys of the first row); `constants`: values of further columns, the same
    for every row."""
    if not rows:
        return [] if returning_ids else None
    columns = list(columns or rows[0])
    constants = _defaults(table, columns, dict(constants or {}))
    if on_postgresql():
        return _pg_insert(table, columns, rows, constants, returning_ids)
    data = [{**{c: r[c] for c in columns}, **constants} for r in rows]
    if not returning_ids:
        db.session.execute(insert(table), data)
        return None
    stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    return list(db.session.execute(stmt, data).scalars())


def update_rows(table, rows: list[dict], key: str = "id", only_null: tuple = ()) -> None:
    """One UPDATE for many rows, each dict giving `key` and the same new columns. Rows where a column named
    in `only_null` is set already are left alone."""
    if not rows:
        return
    columns = list(rows[0])
    if on_postgresql():
        sets = ", ".join(f"{c} = v.{c}" for c in columns if c != key)
        where = " AND ".join([f"t.{key} = v.{key}"] + [f"t.{c} IS NULL" for c in only_null])
        db.session.execute(text(f"UPDATE {table.name} AS t SET {sets} FROM json_to_recordset(CAST(:rows AS json)) "
                                f"AS v({_record_type(table, columns)}) WHERE {where}"),
                           {"rows": json.dumps([{c: r[c] for c in columns} for r in rows], default=_plain,
                                               separators=COMPACT)})
        return
    stmt = update(table).where(table.c[key] == bindparam(f"b_{key}"), *(table.c[c].is_(None) for c in only_null))
    db.session.execute(stmt.values({c: bindparam(f"b_{c}") for c in columns if c != key}),
                       [{f"b_{c}": r[c] for c in columns} for r in rows])


# --- rows riding on a device write's closing insert ------------------------------------------------------
# A device write ends with one insert (its first answer, app.core.idempotency). Rows that other layers add
# to the same transaction meanwhile (outbox messages) can travel in that statement, as data-modifying WITH
# clauses on PostgreSQL: one round trip and one statement less on the kerb's hot path.
_RIDERS = "bulk_riders"


def collect_riders() -> None:
    """From now until `insert_with_riders` (or a rollback), rows passed to `ride` wait for it (PostgreSQL)."""
    if on_postgresql():
        db.session.info[_RIDERS] = {}
    else:
        db.session.info.pop(_RIDERS, None)


def drop_riders() -> None:
    db.session.info.pop(_RIDERS, None)


def ride(table, rows: list[dict]) -> bool:
    """Queue rows (dicts with the same keys) for the closing insert; False when nothing collects them now
    (or inside a savepoint, whose rollback must take them along): the caller writes them itself."""
    riders = db.session.info.get(_RIDERS)
    if riders is None or db.session().in_nested_transaction():
        return False
    riders.setdefault(table, []).extend(rows)
    return True


def insert_with_riders(table, row: dict) -> None:
    """Insert one row into `table`, and the queued riders in the same statement."""
    riders = db.session.info.pop(_RIDERS, None)
    if not riders:
        execute_core(insert(table).inline(), row)
        return
    parts = []
    for t, rows in [*riders.items(), (table, [row])]:
        defaults = _defaults(t, list(rows[0]), {})  # created_at...: the columns' Python defaults, as a flush
        rows = [{**defaults, **r} for r in rows] if defaults else rows
        parts.append((t, list(rows[0]), rows))
    sql = _riding_sql(tuple((t, tuple(columns)) for t, columns, _ in parts))
    db.session.execute(text(sql), {f"r{i}": json.dumps(rows, default=_plain, separators=COMPACT)
                                   for i, (_, _, rows) in enumerate(parts)})


@lru_cache(maxsize=64)
def _riding_sql(parts: tuple) -> str:
    inserts = [f"INSERT INTO {t.name} ({', '.join(columns)}) SELECT {', '.join(columns)} "
               f"FROM json_to_recordset(CAST(:r{i} AS json)) AS v({_record_type(t, columns)})"
               for i, (t, columns) in enumerate(parts)]
    return "WITH " + ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(inserts[:-1])) + " " + inserts[-1]
