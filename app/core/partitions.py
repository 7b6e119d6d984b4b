"""Time partitions and retention for the tables that only grow (docs/operations.md).

On PostgreSQL a table named in `RETENTION` with `partitioned` is declaratively partitioned on its time
column: a partition `<table>_pYYYYMM` per UTC month, or `<table>_pYYYY` per year for a table kept for ever
and read by id on the kerb (PostgreSQL 15 starts every partition of a statement that cannot prune, so the
month count of years would weigh on each car in), created `PARTITIONS_AHEAD` months ahead by the worker,
and `<table>_default` catching a row outside every partition (a device clock years off); a month past
retention is dropped whole (a catalogue change, not a DELETE). A unique rule without the time, which a
partitioned table cannot enforce, is held by the table's key table (app/core/partition_keys.py). SQLite,
and the tables kept plain, delete old rows by time in batches, oldest ids first.

Knows no domain: the tables and their time columns come from the config (`RETENTION`), the rules from the
migrations."""
from __future__ import annotations

import re
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import current_app
from sqlalchemy import CursorResult, text

from app.core import partition_keys
from app.core.partition_keys import MOVING
from app.core.types import utcnow
from app.extensions import db

_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Retained:
    table: str
    column: str            # the time placing a row (timestamptz)
    days: int | None       # kept this long; None: forever
    partitioned: bool      # time partitions on PostgreSQL
    period: str = "month"  # of a partition: month, or year for a table kept for ever (fewer partitions)

    def __post_init__(self):
        if not (_NAME.match(self.table) and _NAME.match(self.column)):
            raise ValueError(f"not a table and column name: {self.table}.{self.column}")


def retained() -> list[Retained]:
    return [Retained(name, spec["column"], spec.get("days"), bool(spec.get("partitioned")), spec.get("period", "month"))
            for name, spec in current_app.config.get("RETENTION", {}).items()]


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def period_start(day: date, period: str = "month") -> date:
    return day.replace(month=1, day=1) if period == "year" else month_start(day)


def period_end(start: date, period: str = "month") -> date:
    return start.replace(year=start.year + 1) if period == "year" else next_month(start)


def _utc(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=timezone.utc)


def _at(day: date) -> str:
    return _utc(day).isoformat()


def _run(sql: str, **params):
    return db.session.execute(text(sql), params)


def partition_name(table: str, start: date, period: str = "month") -> str:
    return f"{table}_p{start:%Y}" if period == "year" else f"{table}_p{start:%Y%m}"


_PARTITION = re.compile(r"^[a-z_][a-z0-9_]*_(p\d{4}|p\d{6}|default)$")

KEYED = "partition_keys"
"""`info` flag on a model's unique rule that a key table holds on PostgreSQL (app/core/partition_keys.py),
and on a model's table whose key table the foreign keys pointing at it reference there."""


def _keyed() -> tuple[set[str], set[str]]:
    tables = db.metadata.tables.values()
    rules = {getattr(item, "name", "") for t in tables for item in [*t.indexes, *t.constraints]
             if item.info.get(KEYED)}
    return rules, {t.name for t in tables if t.info.get(KEYED)}


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Alembic's filter: the partitions (and their indexes) are not tables of the models, nor the key tables;
    the rules and foreign keys a key table holds on PostgreSQL differ there from the models' by design, and
    are left out of the comparison on both databases (tests/test_partition_keys.py checks them)."""
    if type_ == "table" and reflected and compare_to is None and name and (
            _PARTITION.match(name) or name.endswith("_keys")):
        return False
    if type_ == "index" and reflected and compare_to is None and _PARTITION.match(getattr(obj.table, "name", "")):
        return False
    if type_ in ("index", "unique_constraint") and name in _keyed()[0]:
        return False
    if type_ == "foreign_key_constraint":
        target = obj.referred_table.name
        return not (target.endswith("_keys") or target in _keyed()[1])
    return True


# ------------------------------------------------------------------------------------------------ catalogue

def is_partitioned(table: str) -> bool:
    if not _postgresql():
        return False
    return bool(db.session.execute(text(
        "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
        "WHERE c.relname = :t AND c.relnamespace = 'public'::regnamespace"), {"t": table}).first())


def periods(table: str) -> list[tuple[date, str]]:
    """The time partitions of `table` (start, period), oldest first."""
    names = db.session.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t AND p.relnamespace = 'public'::regnamespace"),
        {"t": table})
    out = []
    for name in names:
        found = re.fullmatch(re.escape(table) + r"_p(\d{4})(\d{2})?", name)
        if found:
            month = found.group(2)
            out.append((date(int(found.group(1)), int(month or 1), 1), "month" if month else "year"))
    return sorted(out)


def months(table: str) -> list[date]:
    """The starts of `table`'s partitions (a month's, or a year's), oldest first."""
    return [start for start, _period in periods(table)]


def create_partition(table: str, column: str, start: date, period: str = "month") -> bool:
    """Create the partition of one month (or year) (False: it exists). Rows of it already caught by the
    default partition move into it in the same transaction."""
    name, a, b = partition_name(table, start, period), _at(start), _at(period_end(start, period))
    if start in months(table):
        return False
    default = f"{table}_default"
    stranded = db.session.execute(text(
        f"SELECT 1 FROM {default} WHERE {column} >= :a AND {column} < :b LIMIT 1"), {"a": a, "b": b}).first()
    if stranded:
        db.session.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS)"))
        db.session.execute(text(f"SET LOCAL {MOVING} = 'on'"))  # the rows keep their keys (partition_keys)
        db.session.execute(text(
            f"WITH moved AS (DELETE FROM {default} WHERE {column} >= :a AND {column} < :b RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved"), {"a": a, "b": b})
        db.session.execute(text(f"SET LOCAL {MOVING} = 'off'"))
        db.session.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{a}') TO ('{b}')"))
    else:
        db.session.execute(text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ('{a}') TO ('{b}')"))
    return True


def ensure_ahead(table: str, column: str, ahead: int, today: date | None = None, period: str = "month") -> list[date]:
    """The partitions from this month (year) to the one holding `ahead` months later, created where missing."""
    today = today or utcnow().date()
    last = today
    for _ in range(ahead):
        last = next_month(last)
    start, made = period_start(today, period), []
    while start <= last:
        if create_partition(table, column, start, period):
            made.append(start)
        start = period_end(start, period)
    return made


# ------------------------------------------------------------------------------------------------ retention

def drop_months_before(table: str, cutoff: datetime) -> list[date]:
    """Drop the partitions wholly older than `cutoff` (a month goes once its last instant passed)."""
    dropped = []
    for start, period in periods(table):
        if _utc(period_end(start, period)) <= cutoff:
            db.session.execute(text(f"DROP TABLE {partition_name(table, start, period)}"))
            dropped.append(start)
    return dropped


def delete_before(table: str, column: str, cutoff: datetime, batch: int = 5000, commit: bool = True) -> int:
    """Delete rows older than `cutoff` in batches of `batch`, oldest ids first (each batch commits on its
    own, so neither a long lock nor a long transaction)."""
    total = 0
    while True:
        result: CursorResult = db.session.execute(text(  # type: ignore[assignment]
            f"DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE {column} < :cut ORDER BY id LIMIT :n)"),
            {"cut": cutoff if _postgresql() else cutoff.replace(tzinfo=None).isoformat(sep=" "), "n": batch})
        n = result.rowcount
        total += n
        if commit:
            db.session.commit()
        if n < batch:
            return total


def apply_retention(now: datetime | None = None) -> dict:
    """The worker's daily run over `RETENTION`: partitions created ahead, old months dropped, old rows of
    plain tables (and of default partitions) deleted in batches. Answers what it did, with timings."""
    now = now or utcnow()
    ahead = int(current_app.config.get("PARTITIONS_AHEAD", 3))
    report: dict = {}
    for spec in retained():
        entry: dict = {}
        partitioned = spec.partitioned and is_partitioned(spec.table)
        if partitioned:
            entry["created"] = [m.isoformat() for m in ensure_ahead(spec.table, spec.column, ahead, now.date(),
                                                                            spec.period)]
            db.session.commit()
        if spec.days is not None:
            cutoff = now - timedelta(days=spec.days)
            started = clock.perf_counter()
            if partitioned:
                dropped = drop_months_before(spec.table, cutoff)
                entry["dropped"] = [m.isoformat() for m in dropped]
                db.session.commit()
                if dropped and partition_keys.exists(_run, spec.table):  # the keys of the rows dropped
                    gone = _utc(period_end(max(dropped), spec.period))
                    entry["keys_deleted"] = delete_before(f"{spec.table}_keys", "at", gone)
                entry["deleted"] = delete_before(f"{spec.table}_default", spec.column, cutoff)
            else:
                entry["deleted"] = delete_before(spec.table, spec.column, cutoff)
            entry["seconds"] = round(clock.perf_counter() - started, 3)
        report[spec.table] = entry
    return report


# ------------------------------------------------------------------------------------------------ conversion

def _catalogue(q, table: str) -> dict:
    """What a conversion must carry over: the table's own keys, indexes and triggers, and the foreign keys
    pointing at it."""
    return {
        "constraints": q("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                         "WHERE conrelid = CAST(:t AS regclass) AND contype IN ('p', 'u', 'f') AND conparentid = 0 "
                         "ORDER BY contype DESC", t=table).all(),
        "indexes": q("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                     "WHERE x.indrelid = CAST(:t AS regclass) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                     "WHERE c.conindid = x.indexrelid)", t=table).all(),
        "triggers": q("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) "
                      "AND NOT tgisinternal AND tgparentid = 0", t=table).all(),
        "referencing": q("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                         "WHERE confrelid = CAST(:t AS regclass) AND contype = 'f' AND conparentid = 0 "
                         "AND conrelid <> confrelid", t=table).all(),
        "sequence": q("SELECT pg_get_serial_sequence(:t, 'id')", t=table).scalar(),
    }


def _set_aside(q, table: str, old: str, found: dict, keep_triggers: tuple[str, ...] = ()) -> None:
    """Rename `table` to `old` and strip it of what the new table will carry (names are reused)."""
    for child, name, _definition in found["referencing"]:
        q(f"ALTER TABLE {child} DROP CONSTRAINT {name}")
    for name, _definition in found["triggers"]:
        q(f"DROP TRIGGER {name} ON {table}")
    q(f"ALTER TABLE {table} RENAME TO {old}")
    for name, _kind, _definition in found["constraints"]:
        q(f"ALTER TABLE {old} DROP CONSTRAINT {name}")
    for name, _definition in found["indexes"]:
        q(f"DROP INDEX {name}")


def _on(definition: str, old: str, table: str) -> str:
    return (definition.replace(f" ON ONLY public.{old} ", f" ON public.{table} ")
            .replace(f" ON public.{old} ", f" ON public.{table} ").replace(f" ON {old} ", f" ON {table} "))


def _finish(q, table: str, old: str, found: dict) -> None:
    for _name, definition in found["triggers"]:
        q(definition)
    if found["sequence"]:
        q(f"ALTER SEQUENCE {found['sequence']} OWNED BY {table}.id")
    q(f"DROP TABLE {old} CASCADE")


def partition_in_place(conn, table: str, column: str, ahead: int = 3, today: date | None = None,
                       guards: dict[str, str] | None = None, period: str = "month") -> None:
    """Convert a plain PostgreSQL table into one partitioned by month (or year) on `column`, keeping its rows, its
    sequence, its keys, indexes and triggers, and the foreign keys of other tables pointing at it; the
    primary key gains `column`.

    A unique rule without `column` cannot be enforced by a partitioned table: it must be named in `guards`
    (index or constraint name -> the predicate a row holds it under, over `{row}`), and moves to the table's
    key table (app/core/partition_keys.py), where the foreign keys pointing at the table move too; the
    table keeps a plain index of the same name for its look-ups. Any other such rule is refused. Runs on a
    Connection (the migration's)."""
    guards = guards or {}
    old = f"{table}_unpartitioned"
    q = lambda sql, **kw: conn.execute(text(sql), kw)  # noqa: E731
    found = _catalogue(q, table)
    unique = {name: definition for name, kind, definition in found["constraints"] if kind == "u"}
    unique |= {name: definition for name, definition in found["indexes"] if definition.startswith("CREATE UNIQUE")}
    for name, definition in unique.items():
        if column not in re.findall(r"\w+", definition.split("(", 1)[1]) and name not in guards:
            raise RuntimeError(f"{table}.{name} does not hold {column}: it cannot be enforced once partitioned")
    held = partition_keys.plan(q, table, column, {n: w for n, w in guards.items() if n in unique})
    _set_aside(q, table, old, found)
    q(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS) PARTITION BY RANGE ({column})")
    q(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    first = q(f"SELECT min({column}) FROM {old}").scalar()
    start = period_start((first or datetime.now(timezone.utc)).astimezone(timezone.utc).date(), period)
    last = today or datetime.now(timezone.utc).date()
    for _ in range(ahead):
        last = next_month(last)
    while start <= last:
        q(f"CREATE TABLE {partition_name(table, start, period)} PARTITION OF {table} "
          f"FOR VALUES FROM ('{_at(start)}') TO ('{_at(period_end(start, period))}')")
        start = period_end(start, period)
    q(f"INSERT INTO {table} SELECT * FROM {old}")
    for name, kind, definition in found["constraints"]:
        if kind == "p":
            definition = definition.replace("PRIMARY KEY (id)", f"PRIMARY KEY (id, {column})")
        if name not in held.guards:
            q(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for name, definition in found["indexes"]:
        if name not in held.guards:
            q(_on(definition, old, table))
    if held.guards or found["referencing"]:
        partition_keys.create(q, held, found["referencing"])
    _finish(q, table, old, found)


def unpartition_in_place(conn, table: str, column: str) -> None:
    """The downgrade: back to one plain table with the primary key on id alone, its key table's rules and
    the foreign keys pointing at it back on it."""
    old = f"{table}_partitioned"
    q = lambda sql, **kw: conn.execute(text(sql), kw)  # noqa: E731
    restore = partition_keys.drop(q, table)
    found = _catalogue(q, table)
    _set_aside(q, table, old, found)
    q(f"CREATE TABLE {table} (LIKE {old} INCLUDING DEFAULTS)")
    q(f"INSERT INTO {table} SELECT * FROM {old}")
    for name, kind, definition in found["constraints"]:
        if kind == "p":
            definition = definition.replace(f"PRIMARY KEY (id, {column})", "PRIMARY KEY (id)")
        q(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for name, definition in found["indexes"]:
        if name not in restore.rules:
            q(_on(definition, old, table))
    for statement in restore.statements():
        q(statement)
    _finish(q, table, old, found)
