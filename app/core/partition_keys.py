"""Key tables: the unique rules and foreign keys a partitioned table cannot hold itself.

PostgreSQL enforces a unique index on a partitioned table only when it holds the partition key, and a
foreign key can point only at such an index. So "one open order per berth", a receipt number, or
`ledger_entries.order_id -> parking_orders.id` would be lost once orders are partitioned by their time.
They move to `<table>_keys`, a plain table kept by a trigger in the same statement as the row:

- one row per row of the table when other tables point at it (its `id` is their foreign keys' target),
  otherwise only for the rows that hold a rule;
- a column per column of a rule, set while the row holds the rule's predicate (an open order's berth)
  and null otherwise, under a unique index named after the rule with `_k`: a second open order on a
  berth fails its INSERT with a unique violation, as the partial index did;
- `at`, the row's partition time, so retention can forget the keys of dropped months (indexed unless
  the table is referenced: the rows others point at are kept).

The table keeps a plain index of each rule's name for its look-ups. The key index's comment holds the
rule's original statement, which a downgrade puts back. Knows no domain: the rules come from the
migration converting a table (app/core/partitions.py partition_in_place)."""
from __future__ import annotations

from dataclasses import dataclass, field

MOVING = "partitions.moving"  # set locally while rows move between partitions: their keys stay as they are


@dataclass(frozen=True)
class Rule:
    name: str
    columns: tuple[tuple[str, str], ...]  # (column, SQL type)
    where: str                            # over `{row}`
    lookup: str                           # the plain index the table keeps under the rule's name
    original: str                         # the statement that made the rule on the plain table


@dataclass(frozen=True)
class Held:
    table: str
    column: str
    id_type: str
    at_type: str
    guards: dict[str, Rule]

    @property
    def keys(self) -> str:
        return f"{self.table}_keys"


@dataclass
class Restore:
    """What a downgrade puts back on the plain table once it has its primary key again."""
    rules: dict[str, str] = field(default_factory=dict)   # name -> original statement
    foreign_keys: list[str] = field(default_factory=list)

    def statements(self) -> list[str]:
        return [*self.rules.values(), *self.foreign_keys]


def _columns(q, index: str) -> tuple[tuple[str, str], ...]:
    return tuple(q("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index x "
                   "JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = ANY (x.indkey) "
                   "WHERE x.indexrelid = CAST(:n AS regclass) "
                   "ORDER BY array_position(CAST(x.indkey AS int2[]), a.attnum)", n=index).all())


def _type(q, table: str, column: str) -> str:
    return q("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = CAST(:t AS regclass) "
             "AND attname = :c", t=table, c=column).scalar()


def plan(q, table: str, column: str, guards: dict[str, str]) -> Held:
    """Read what each guarded rule is, before the table is set aside."""
    rules = {}
    for name, where in guards.items():
        columns = _columns(q, name)
        constraint = q("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :n "
                       "AND conrelid = CAST(:t AS regclass)", n=name, t=table).scalar()
        if constraint:
            original = f"ALTER TABLE {table} ADD CONSTRAINT {name} {constraint}"
            lookup = f"CREATE INDEX {name} ON {table} ({', '.join(c for c, _t in columns)})"
        else:
            original = q("SELECT pg_get_indexdef(CAST(:n AS regclass))", n=name).scalar()
            lookup = original.replace("CREATE UNIQUE INDEX", "CREATE INDEX", 1)
        rules[name] = Rule(name, columns, where, lookup, original)
    seen = [c for rule in rules.values() for c, _t in rule.columns]
    if len(seen) != len(set(seen)) or {"id", "at"} & set(seen):
        raise RuntimeError(f"{table}: the guarded rules share a column; their key columns would collide")
    return Held(table, column, _type(q, table, "id"), _type(q, table, column), rules)


def _values(held: Held, row: str) -> list[str]:
    out = [f"{row}.{held.column}"]
    for rule in held.guards.values():
        where = rule.where.format(row=row)
        out += [f"{row}.{c}" if where.upper() == "TRUE" else f"CASE WHEN {where} THEN {row}.{c} END"
                for c, _t in rule.columns]
    return out


def _present(held: Held, row: str, referenced: bool) -> str:
    """Whether a row needs a key row: always when others point at it, else while it holds a rule."""
    if referenced:
        return "TRUE"
    values = iter(_values(held, row)[1:])
    return " OR ".join("(" + " AND ".join(f"{next(values)} IS NOT NULL" for _c in rule.columns) + ")"
                       for rule in held.guards.values())


def _function(held: Held, referenced: bool) -> str:
    cols = ["at", *(c for rule in held.guards.values() for c, _t in rule.columns)]
    new, old = _values(held, "NEW"), _values(held, "OLD")
    sets = ", ".join(f"{c} = {v}" for c, v in zip(cols, new))
    insert = f"INSERT INTO {held.keys} (id, {', '.join(cols)}) VALUES (NEW.id, {', '.join(new)})"
    return f"""CREATE FUNCTION {held.keys}_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('{MOVING}', true) = 'on' THEN RETURN NULL; END IF;
  IF TG_OP = 'UPDATE' AND ROW({', '.join(old)}) IS NOT DISTINCT FROM ROW({', '.join(new)}) THEN
    RETURN NULL;
  END IF;
  IF TG_OP = 'DELETE' OR NOT ({_present(held, 'NEW', referenced)}) THEN
    IF TG_OP <> 'INSERT' THEN DELETE FROM {held.keys} WHERE id = OLD.id; END IF;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE {held.keys} SET {sets} WHERE id = OLD.id;
    IF NOT FOUND THEN {insert}; END IF;
  ELSE
    {insert};
  END IF;
  RETURN NULL;
END $$"""


def create(q, held: Held, referencing) -> None:
    """Make, fill and index the key table of a table just partitioned (its rows are in), point `referencing`
    (child, name, definition) at it, and keep it with a trigger."""
    referenced = bool(referencing)
    cols = [(c, t) for rule in held.guards.values() for c, t in rule.columns]
    q(f"CREATE TABLE {held.keys} (id {held.id_type} PRIMARY KEY, at {held.at_type} NOT NULL"
      + "".join(f", {c} {t}" for c, t in cols) + ")")
    fill = (f"INSERT INTO {held.keys} (id, at{''.join(', ' + c for c, _t in cols)}) "
            f"SELECT id, {', '.join(_values(held, held.table))} FROM {held.table} "
            f"WHERE {_present(held, held.table, referenced)} ON CONFLICT (id) DO NOTHING")
    q(fill)
    q(f"COMMENT ON TABLE {held.keys} IS '{fill.replace(chr(39), chr(39) * 2)}'")
    for rule in held.guards.values():
        names = [c for c, _t in rule.columns]
        q(f"CREATE UNIQUE INDEX {rule.name}_k ON {held.keys} ({', '.join(names)}) "
          f"WHERE {' AND '.join(f'{c} IS NOT NULL' for c in names)}")
        q(f"COMMENT ON INDEX {rule.name}_k IS '{rule.original.replace(chr(39), chr(39) * 2)}'")
        q(rule.lookup)
    if not referenced:  # a referenced table's months are never dropped (the foreign keys hold its rows)
        q(f"CREATE INDEX {held.keys}_at ON {held.keys} (at)")
    for child, name, definition in referencing:
        q(f"ALTER TABLE {child} ADD CONSTRAINT {name} "
          + definition.replace(f"REFERENCES {held.table}(id)", f"REFERENCES {held.keys}(id)"))
    q(_function(held, referenced))
    q(f"CREATE TRIGGER {held.keys}_keep AFTER INSERT OR UPDATE OR DELETE ON {held.table} "
      f"FOR EACH ROW EXECUTE FUNCTION {held.keys}_keep()")


def fill(q, table: str) -> None:
    """Give the rows of a bulk load (COPY with triggers off) their keys; a row breaking a rule fails it."""
    q(q("SELECT obj_description(CAST(:k AS regclass), 'pg_class')", k=f"{table}_keys").scalar())


def exists(q, table: str) -> bool:
    return q("SELECT to_regclass(:k) IS NOT NULL", k=f"public.{table}_keys").scalar()


def drop(q, table: str) -> Restore:
    """Take the key table away (a downgrade), answering what the plain table must get back."""
    restore = Restore()
    if not exists(q, table):
        return restore
    keys = f"{table}_keys"
    for name, comment in q("SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_index x "
                           "JOIN pg_class c ON c.oid = x.indexrelid WHERE x.indrelid = CAST(:k AS regclass) "
                           "AND x.indisunique AND NOT x.indisprimary", k=keys).all():
        restore.rules[name.removesuffix("_k")] = comment
    for child, name, definition in q("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                                     "FROM pg_constraint WHERE confrelid = CAST(:k AS regclass) AND contype = 'f' "
                                     "AND conparentid = 0", k=keys).all():
        q(f"ALTER TABLE {child} DROP CONSTRAINT {name}")
        restore.foreign_keys.append(f"ALTER TABLE {child} ADD CONSTRAINT {name} "
                                    + definition.replace(f"REFERENCES {keys}(id)", f"REFERENCES {table}(id)"))
    q(f"DROP TRIGGER {keys}_keep ON {table}")
    q(f"DROP FUNCTION {keys}_keep()")
    q(f"DROP TABLE {keys}")
    return restore
