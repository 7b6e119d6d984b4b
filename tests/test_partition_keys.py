"""The rules the database enforces survive partitioning (issue 22): on PostgreSQL orders, the ledger and
occupancy sessions are partitioned by year, lane uploads and the outbox by month, and the unique rules
without a time, and the foreign keys to orders and sessions, are held by key tables
(app/core/partition_keys.py).
The same tests run on SQLite, where plain tables hold the same rules."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.berths.models import Berth, BerthSegment
from app.core import partitions
from app.core.types import utcnow
from app.ledger.models import LedgerEntry
from app.orders.models import ParkingOrder
from app.sensors.models import OccupancySession, Sensor
from app.sync.models import LaneUpload

PARTITIONED = {"parking_orders": "year", "ledger_entries": "year", "occupancy_sessions": "year",
               "lane_uploads": "month", "outbox_messages": "month", "track_points": "month",
               "sensor_events": "month", "audit_entries": "month"}


@pytest.fixture
def berths(db, tree):
    segment = BerthSegment(park_id=tree.p1.id, name="Keys Rd")
    db.session.add(segment)
    db.session.flush()
    rows = [Berth(park_id=tree.p1.id, segment_id=segment.id, number=f"K{n}") for n in range(3)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def _open(db, berth, plate, at=None, **kw):
    order = ParkingOrder(park_id=berth.park_id, segment_id=berth.segment_id, berth_id=berth.id, plate=plate,
                         entered_at=at or utcnow(), **kw)
    db.session.add(order)
    db.session.commit()
    return order


def _refused(db, write):
    with pytest.raises(IntegrityError):
        write()
    db.session.rollback()


def _postgresql(db):
    return db.engine.dialect.name == "postgresql"


def test_the_growing_tables_are_partitioned_on_postgresql(db, app):
    if not _postgresql(db):
        assert not any(partitions.is_partitioned(t) for t in PARTITIONED)
        return
    for table, period in PARTITIONED.items():
        assert partitions.is_partitioned(table), table
        assert (partitions.period_start(utcnow().date(), period), period) in partitions.periods(table)
    assert not partitions.is_partitioned("arrears")  # a small table: one row per escaped car


def test_one_open_order_per_berth_and_per_plate(db, berths):
    first = _open(db, berths[0], "沪A10001")
    _refused(db, lambda: _open(db, berths[0], "沪A10002"))          # the berth is taken
    _refused(db, lambda: _open(db, berths[1], "沪A10001"))          # the plate is parked
    first.state, first.left_at = "settled", utcnow()
    db.session.commit()
    second = _open(db, berths[0], "沪A10001")                         # both free again once settled
    assert second.id > first.id
    assert db.session.scalar(select(func.count()).select_from(ParkingOrder)
                             .where(ParkingOrder.state == "open")) == 1


def test_an_order_from_another_month_holds_the_berth_too(db, berths):
    _open(db, berths[0], "沪A20001", at=utcnow() - timedelta(days=40))  # a car parked since last month
    _refused(db, lambda: _open(db, berths[0], "沪A20002"))


def test_a_receipt_number_is_given_once(db, berths):
    a, b = _open(db, berths[0], "沪A30001"), _open(db, berths[1], "沪A30002")
    a.receipt_no = "0001-00000001"
    db.session.commit()
    b.receipt_no = "0001-00000001"
    _refused(db, db.session.commit)


def test_the_ledger_points_at_real_orders_and_books_a_trade_once(db, berths):
    order = _open(db, berths[0], "沪A40001")

    def book(order_id, trade_no=None):
        db.session.add(LedgerEntry(park_id=order.park_id, order_id=order_id, method="electronic", kind="fee",
                                   amount_fen=500, occurred_at=utcnow(), provider="wechat", trade_no=trade_no))
        db.session.commit()

    book(order.id, "T1")
    book(order.id)
    book(order.id)  # rows without a trade are not one another's duplicates
    _refused(db, lambda: book(order.id, "T1"))
    if _postgresql(db):  # (SQLite is run without its foreign keys)
        _refused(db, lambda: book(order.id + 1000))  # no such order
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)) == 3


def test_one_open_occupancy_session_per_sensor(db, berths):
    sensor = Sensor(park_id=berths[0].park_id, berth_id=berths[0].id, serial="KEY-0001")
    db.session.add(sensor)
    db.session.commit()

    def arrive():
        db.session.add(OccupancySession(park_id=sensor.park_id, berth_id=berths[0].id, sensor_id=sensor.id,
                                        arrived_at=utcnow()))
        db.session.commit()

    arrive()
    _refused(db, arrive)
    db.session.execute(OccupancySession.__table__.update().values(departed_at=utcnow()))
    db.session.commit()
    arrive()


def _upload(db, park_id, site_ref, at):
    db.session.add(LaneUpload(park_id=park_id, kind="entry", site_ref=site_ref, status="ok", response={},
                              received_at=at))
    db.session.commit()


def test_a_site_item_is_kept_once(db, tree):
    _upload(db, tree.p1.id, "e-1", utcnow() - timedelta(days=35))
    _refused(db, lambda: _upload(db, tree.p1.id, "e-1", utcnow()))  # the same item a month later
    _upload(db, tree.p2.id, "e-1", utcnow())                         # another park's own id


def test_orders_caught_by_the_default_keep_their_keys_when_their_month_is_made(pg, berths):
    later = partitions.period_start(utcnow().date() + timedelta(days=800), "year")
    at = datetime.combine(later, datetime.min.time(), tzinfo=timezone.utc) + timedelta(days=2)
    order = _open(pg, berths[0], "沪A50001", at=at)  # a device clock years off
    pg.session.add(LedgerEntry(park_id=order.park_id, order_id=order.id, method="cash", kind="prepay",
                               amount_fen=300, occurred_at=at))
    pg.session.commit()
    assert pg.session.scalar(text("SELECT count(*) FROM parking_orders_default")) == 1
    assert partitions.create_partition("parking_orders", "entered_at", later, "year")
    pg.session.commit()
    assert pg.session.scalar(text("SELECT count(*) FROM parking_orders_default")) == 0
    assert pg.session.scalar(text("SELECT berth_id FROM parking_orders_keys WHERE id = :i"), {"i": order.id}) \
        == berths[0].id
    _refused(pg, lambda: _open(pg, berths[0], "沪A50002"))


def test_retention_forgets_the_keys_of_the_months_it_drops(pg, app, tree):
    now = utcnow()
    old = now - timedelta(days=500)
    partitions.create_partition("lane_uploads", "received_at", partitions.month_start(old.date()))
    pg.session.commit()
    _upload(pg, tree.p1.id, "e-old", old)
    _upload(pg, tree.p1.id, "e-new", now)
    report = partitions.apply_retention(now)
    assert report["lane_uploads"]["dropped"] and report["lane_uploads"]["keys_deleted"] == 1
    assert pg.session.scalars(text("SELECT site_ref FROM lane_uploads_keys")).all() == ["e-new"]
    _upload(pg, tree.p1.id, "e-old", now)  # an item older than retention is a new one
    _refused(pg, lambda: _upload(pg, tree.p1.id, "e-new", now))
    assert "dropped" not in report["parking_orders"] and report["parking_orders"]["created"] == []


def test_the_migration_converts_a_database_the_demo_filled(pg, app, tmp_path):
    """Down to plain tables, filled by the demo seed, and up again: every row and id kept, the key tables
    filled, the rules held, the sequences going on."""
    from flask_migrate import downgrade, upgrade

    from app.demo import seed_demo

    pg.session.remove()
    downgrade(revision="0018_rollup_hourly")
    assert not partitions.is_partitioned("parking_orders")
    photo_dir, app.config["PHOTO_DIR"] = app.config.get("PHOTO_DIR"), str(tmp_path)
    try:
        seed_demo(history_days=3)
    finally:
        app.config["PHOTO_DIR"] = photo_dir
    tables = ("parking_orders", "ledger_entries", "occupancy_sessions", "lane_uploads", "outbox_messages")
    before = {t: pg.session.execute(text(f"SELECT count(*), coalesce(sum(id), 0) FROM {t}")).one() for t in tables}
    money = pg.session.scalar(select(func.sum(LedgerEntry.amount_fen)))
    open_berths = set(pg.session.scalars(select(ParkingOrder.berth_id).where(
        ParkingOrder.state == "open", ParkingOrder.berth_id.is_not(None))))
    pg.session.remove()
    upgrade()
    assert all(partitions.is_partitioned(t) for t in tables)
    assert {t: pg.session.execute(text(f"SELECT count(*), coalesce(sum(id), 0) FROM {t}")).one()
            for t in tables} == before
    assert before["parking_orders"][0] > 100 and pg.session.scalar(select(func.sum(LedgerEntry.amount_fen))) == money
    assert pg.session.scalar(text("SELECT count(*) FROM parking_orders_keys")) == before["parking_orders"][0]
    assert set(pg.session.scalars(text("SELECT berth_id FROM parking_orders_keys WHERE berth_id IS NOT NULL"))) \
        == open_berths
    taken = pg.session.scalars(select(ParkingOrder).where(ParkingOrder.state == "open",
                                                          ParkingOrder.berth_id.is_not(None)).limit(1)).one()
    berth = pg.session.get(Berth, taken.berth_id)
    _refused(pg, lambda: _open(pg, berth, "沪A60001"))
    newest = max(pg.session.scalars(select(ParkingOrder.id)))
    free = pg.session.scalars(select(Berth).where(Berth.park_id == taken.park_id, Berth.id.not_in(open_berths))
                              .limit(1)).one()
    assert _open(pg, free, "沪A60002").id > newest


def test_the_tables_kept_for_ever_get_a_partition_a_year(pg):
    """Orders are read by id on the kerb, and PostgreSQL starts every partition of such a statement: a year
    a partition keeps their count to the years of history, not the months."""
    made = partitions.ensure_ahead("parking_orders", "entered_at", 3, date(2031, 11, 15), "year")
    assert made == [date(2031, 1, 1), date(2032, 1, 1)]  # this year, and the next within 3 months
    assert partitions.ensure_ahead("parking_orders", "entered_at", 3, date(2031, 6, 1), "year") == []
    pg.session.commit()
    assert {(date(2031, 1, 1), "year"), (date(2032, 1, 1), "year")} <= set(partitions.periods("parking_orders"))
    assert pg.session.scalar(text("SELECT pg_get_expr(relpartbound, oid) FROM pg_class "
                                  "WHERE relname = 'parking_orders_p2031'")) \
        == "FOR VALUES FROM ('2031-01-01 00:00:00+00') TO ('2032-01-01 00:00:00+00')"
