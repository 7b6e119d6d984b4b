"""The car cycle stays cheap (a handheld does it hundreds of times a day) and what makes it cheap
never serves stale settings."""
import re
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest

from sqlalchemy import event, insert, text

from app.berths.models import Berth, BerthSegment
from app.extensions import db as _db
from app.orders.models import ParkingOrder
from tests.pos_api.conftest import ago, ref


@contextmanager
def counted(app, connections=False):
    """The statements run meanwhile, or with connections=True the database connections they ran on."""
    statements, used = [], set()

    def count(conn, cursor, statement, *args):
        statements.append(statement)
        used.add(conn.connection.dbapi_connection)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield used if connections else statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_car_cycle_stays_within_its_query_budget(street, app, tree):
    token = street.signed_in()
    with app.app_context():  # as on a running server: what the integrations need of the park is cached
        from app.integrations.events import targets

        targets(tree.p1.id)
    with counted(app) as car_in:
        order = street.car_in(token, "A001", "沪A20001", entered_at=ago(hours=1, minutes=5)).get_json()["order"]
    with counted(app) as quote:
        due = street.call("GET", f"/orders/{order['id']}/quote", token).get_json()["quote"]["due_fen"]
    with counted(app) as settle:
        response = street.call("POST", f"/orders/{order['id']}/settle", token, json={
            "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": due})
    assert response.status_code == 200 and due == 400
    # were 12, 6 and 11 (the ledger row included), then 7, 3 and 7, then 7, 2 and 6 (sensor read apart),
    # then 6, 2 and 6, then 5, 2 and 5 (collector settings read with the token), then 4, 2 and 5 (the
    # checks with the berth's lock), then on PostgreSQL 4, 2 and 4 (the fee's ledger row riding on the
    # first answer's insert)
    riding = _db.engine.dialect.name == "postgresql"
    assert (len(car_in), len(quote), len(settle)) == (4, 2, 4 if riding else 5), (car_in, quote, settle)
    if riding:
        assert "INSERT INTO ledger_entries" in settle[-1] and "INSERT INTO idempotent_requests" in settle[-1]


def test_a_managers_settings_edit_applies_to_the_next_request(street, tree, client_as):
    token = street.signed_in()

    def settle_receipt(berth, plate):
        order = street.car_in(token, berth, plate).get_json()["order"]
        # leaving at the very time of entry: nothing is due, whatever second the clock has reached meanwhile
        response = street.call("POST", f"/orders/{order['id']}/settle", token, json={
            "client_ref": ref(), "left_at": order["entered_at"], "method": "cash", "amount_fen": 0})
        return response.get_json()["receipt"]

    assert settle_receipt("A001", "沪A30001")["header"] == "Welcome"
    manager = client_as("parkp1")
    saved = manager.post(f"/park-settings/collector/park/{tree.p1.id}", data={
        "prepay_presets": "5", "receipt_header": "Alpha says hello", "receipt_footer": "Bye",
        "refuse_blacklisted": "y", "use_sensor_time": "y", "photo_retention_days": "30"})
    assert saved.status_code == 302
    refused = street.car_in(token, "A002", "沪A30002", prepay={"amount_fen": 500, "method": "cash"})
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "prepay_not_allowed"
    assert settle_receipt("A002", "沪A30003")["header"] == "Alpha says hello"


def test_the_car_in_checks_probe_the_open_order_indexes_in_the_plan_kept_for_reuse(street, app):
    """On PostgreSQL the checks before a car in are prepared once per connection and then run on a
    generic plan. A constant sent as a parameter there (the open state, which the partial unique indexes
    name) left that plan scanning the park's orders, or made the planner plan every run afresh."""
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("prepared statements are a PostgreSQL feature")
    _past_orders(app, street, 5000)
    token = street.signed_in()
    with counted(app, connections=True) as used:
        for n in range(3):
            order = street.car_in(token, f"A00{1 + n}", f"沪B{40000 + n}", entered_at=ago(hours=1)).get_json()
            assert "order" in order, order
    plans = [_generic_plan(raw, "AS on_berth") for raw in used]
    plan = next(p for p in plans if p)
    order_scans = [line for line in plan.splitlines() if " on parking_orders" in line]
    open_only, empty = _open_order_indexes(app)
    # open orders only: the partial indexes (their copies on each month of the partitioned orders), and a
    # month without rows (next months) read whole at no cost
    assert order_scans and all(any(f" using {ix} on " in line for ix in open_only)
                               or ("Seq Scan on " in line and line.split(" on ")[1].split()[0] in empty)
                               for line in order_scans), plan
    assert sum(" using " in line for line in order_scans) >= 2, plan


def _open_order_indexes(app) -> tuple[set[str], set[str]]:
    """The open orders' partial indexes with their partitions' copies, and the months holding no order."""
    with app.app_context():
        indexes = set(_db.session.scalars(text(
            "SELECT c.relname FROM pg_class c WHERE c.relname LIKE 'uq_orders_open_%' UNION "
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname LIKE 'uq_orders_open_%'")))
        empty = {name for name in _db.session.scalars(text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST('parking_orders' AS regclass)"))
            if not _db.session.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {name})"))}
        _db.session.remove()
    return indexes, empty


def _generic_plan(raw, marker: str) -> str | None:
    """The plan PostgreSQL reuses for the statement prepared on this connection whose text has `marker`."""
    try:
        with raw.cursor() as cur:
            cur.execute("SELECT name, statement FROM pg_prepared_statements")
            found = [(name, statement) for name, statement in cur.fetchall() if marker in statement]
            if not found:
                return None
            name, statement = found[0]
            nulls = ", ".join("NULL" for _ in set(re.findall(r"\$\d+", statement)))
            cur.execute("SET plan_cache_mode = force_generic_plan")
            cur.execute(f"EXPLAIN EXECUTE {name}({nulls})")
            return "\n".join(row[0] for row in cur.fetchall())
    finally:
        # back to the pool as it came (plan_cache_mode included): a pooled connection left inside a
        # transaction fails the next checkout's ping, whichever test makes it
        raw.rollback()


def _past_orders(app, street, count):
    """`count` closed orders of three days ago on a segment of 200 berths, and fresh planner statistics."""
    with app.app_context():
        park_id = _db.session.get(Berth, street.berths["A001"]).park_id
        segment = BerthSegment(park_id=park_id, name="Old street")
        _db.session.add(segment)
        _db.session.flush()
        berths = [Berth(park_id=park_id, segment_id=segment.id, number=f"H{n:03d}") for n in range(200)]
        _db.session.add_all(berths)
        _db.session.flush()
        at = datetime.now(timezone.utc) - timedelta(days=3)
        _db.session.execute(insert(ParkingOrder.__table__), [
            {"park_id": berth.park_id, "segment_id": berth.segment_id, "berth_id": berth.id, "plate": f"沪C{n:05d}",
             "vehicle_class": "small", "state": ("settled", "unpaid", "recovered")[n % 3], "entry_method": "pos",
             "entered_at": at, "left_at": at, "entry_received_at": at, "fee_fen": 0, "prepaid_fen": 0, "paid_fen": 0,
             "reduction_fen": 0, "created_at": at} for n in range(count) for berth in [berths[n % len(berths)]]])
        _db.session.execute(text("ANALYZE parking_orders"))
        _db.session.commit()


def test_a_device_read_runs_outside_a_transaction_and_hands_its_connection_back_transactional(street, app):
    """On PostgreSQL a device GET reads in autocommit (no BEGIN and COMMIT round trips); the next request
    on that connection, a write, must get its one transaction again."""
    with app.app_context():
        if _db.engine.dialect.name != "postgresql":
            pytest.skip("autocommit reads are a PostgreSQL feature")
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪B50001", entered_at=ago(minutes=30)).get_json()["order"]
    seen = []

    def note(conn, *args):
        raw = conn.connection.dbapi_connection
        seen.append((raw, raw.autocommit))

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert street.call("GET", f"/orders/{order['id']}/quote", token).status_code == 200
        during = list(seen)
        seen.clear()
        settled = street.call("POST", f"/orders/{order['id']}/settle", token, json={
            "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 200})
        assert settled.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert during and all(autocommit for _raw, autocommit in during)
    assert seen and not any(autocommit for _raw, autocommit in seen)
    assert not any(raw.autocommit for raw, _ in during)  # back in the pool, transactional
