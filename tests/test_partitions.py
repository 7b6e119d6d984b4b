"""Retention and monthly partitions (issue 22): track points and sensor events are partitioned by month on
PostgreSQL (migration 0015 converts a filled database in place), the worker creates months ahead and drops
months past retention in well under a second; plain tables (SQLite, the devices' first answers) delete old
rows in batches."""
from __future__ import annotations

import time
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from app.audit.models import AuditEntry
from app.core import partitions
from app.core.idempotency import IdempotentRequest
from app.core.types import utcnow
from app.sensors.models import SensorEvent
from app.tenancy.models import Level
from app.tracks.models import TrackPoint


def _points(db, staff, park, times):
    staff_id, park_id = getattr(staff, "id", staff), getattr(park, "id", park)
    for at in times:
        db.session.add(TrackPoint(staff_id=staff_id, park_id=park_id, recorded_at=at, lat=31.2, lng=121.5))
    db.session.commit()


def _postgresql(db):
    return db.engine.dialect.name == "postgresql"


def test_retention_deletes_what_is_past_its_days_and_keeps_the_rest(app, db, tree):
    now = utcnow()
    staff, park = tree.staff["collectorp1"], tree.p1
    _points(db, staff, park, [now - timedelta(days=d) for d in (400, 300, 200, 181, 100, 1)])
    db.session.add_all([SensorEvent(park_id=park.id, sensor_id=1, kind="arrive", occurred_at=now - timedelta(days=d))
                        for d in (500, 1)])
    db.session.add_all([IdempotentRequest(actor_key=f"staff:{staff.id}", client_ref=f"ref-{d:08d}", endpoint="x",
                                          status_code=201, response={}, created_at=now - timedelta(days=d))
                        for d in (45, 31, 29, 0)])
    db.session.commit()
    if _postgresql(db):
        for month in {partitions.month_start((now - timedelta(days=d)).date()) for d in (400, 300, 200, 181)}:
            partitions.create_partition("track_points", "recorded_at", month)  # as if they were made in their time
        db.session.commit()
    report = partitions.apply_retention(now)
    db.session.expire_all()
    kept = sorted((now - at).days for at in db.session.scalars(select(TrackPoint.recorded_at)))
    if _postgresql(db):  # whole months go: a month is dropped once its last instant is past retention
        assert report["track_points"]["dropped"] and all(d < 181 + 31 for d in kept) and 100 in kept and 1 in kept
        assert report["track_points"]["seconds"] < 1.0
    else:
        assert kept == [1, 100] and report["track_points"]["deleted"] == 4
    assert [(now - at).days for at in db.session.scalars(select(SensorEvent.occurred_at))] == [1]
    kept = sorted((now - at).days for at in db.session.scalars(select(IdempotentRequest.created_at)))
    assert kept == [0, 29] and report["idempotent_requests"]["deleted"] == 2  # first answers: 30 days


def test_the_tables_are_partitioned_by_month_with_months_ahead(pg, app):
    for table in ("track_points", "sensor_events", "audit_entries", "outbox_messages", "lane_uploads"):
        assert partitions.is_partitioned(table)
        this_month = partitions.month_start(utcnow().date())
        ahead = [this_month]
        for _ in range(3):
            ahead.append(partitions.next_month(ahead[-1]))
        assert set(ahead) <= set(partitions.months(table))
    for table in ("arrears", "idempotent_requests"):
        assert not partitions.is_partitioned(table)


def test_the_worker_creates_months_ahead_and_moves_rows_caught_by_the_default(pg, tree):
    later = partitions.month_start(utcnow().date() + timedelta(days=400))
    at = datetime.combine(later + timedelta(days=3), datetime.min.time(), tzinfo=timezone.utc)
    _points(pg, tree.staff["collectorp1"], tree.p1, [at])
    assert pg.session.scalar(text("SELECT count(*) FROM track_points_default")) == 1
    made = partitions.ensure_ahead("track_points", "recorded_at", 1, later)
    pg.session.commit()
    assert made == [later, partitions.next_month(later)]
    assert pg.session.scalar(text("SELECT count(*) FROM track_points_default")) == 0
    assert pg.session.scalar(text(f"SELECT count(*) FROM {partitions.partition_name('track_points', later)}")) == 1
    assert partitions.ensure_ahead("track_points", "recorded_at", 1, later) == []  # nothing twice
    with pytest.raises(IntegrityError):  # (staff, time) is still unique across the partitioned table
        _points(pg, tree.staff["collectorp1"], tree.p1, [at])
    pg.session.rollback()


def test_dropping_a_month_of_track_points_is_a_partition_drop(pg, tree):
    month = date(2020, 1, 1)
    partitions.create_partition("track_points", "recorded_at", month)
    pg.session.commit()
    pg.session.execute(text(
        "INSERT INTO track_points (staff_id, park_id, recorded_at, received_at, lat, lng) "
        "SELECT :s, :p, timestamptz '2020-01-01' + g * interval '10 seconds', now(), 31.2, 121.5 "
        "FROM generate_series(0, 99999) g"), {"s": tree.staff["collectorp1"].id, "p": tree.p1.id})
    pg.session.commit()
    started = time.perf_counter()
    assert partitions.drop_months_before("track_points", datetime(2020, 2, 1, tzinfo=timezone.utc)) == [month]
    pg.session.commit()
    assert time.perf_counter() - started < 1.0
    assert pg.session.scalar(select(func.count()).select_from(TrackPoint)) == 0


def test_the_migration_converts_a_filled_database_in_place(pg, app, tree):
    """Down to plain tables, filled, and up again: the rows, their ids and the unique keys survive."""
    from flask_migrate import downgrade, upgrade

    staff, park, city = tree.staff["collectorp1"].id, tree.p1.id, tree.city_a.id
    pg.session.remove()
    downgrade(revision="0014_rollups")
    assert not partitions.is_partitioned("track_points")
    now = utcnow()
    _points(pg, staff, park, [now - timedelta(days=d) for d in (90, 40, 2, 0)])
    pg.session.add(SensorEvent(park_id=park, sensor_id=1, kind="arrive", occurred_at=now))
    assert not partitions.is_partitioned("audit_entries")
    pg.session.add(AuditEntry(action="test.kept", object_label="survives the conversion", at=now - timedelta(days=70),
                              level=Level.CITY.value, city_id=city))
    pg.session.commit()
    before = sorted(pg.session.execute(select(TrackPoint.id, TrackPoint.recorded_at)).all())
    audit = sorted(pg.session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.action)).all())
    pg.session.remove()
    upgrade()
    assert all(partitions.is_partitioned(t) for t in ("track_points", "sensor_events", "audit_entries"))
    assert sorted(pg.session.execute(select(TrackPoint.id, TrackPoint.recorded_at)).all()) == before
    assert sorted(pg.session.execute(select(AuditEntry.id, AuditEntry.at, AuditEntry.action)).all()) == audit
    assert partitions.month_start((now - timedelta(days=70)).date()) in partitions.months("audit_entries")
    assert partitions.month_start((now - timedelta(days=90)).date()) in partitions.months("track_points")
    _points(pg, staff, park, [now + timedelta(seconds=1)])  # the sequence goes on
    assert pg.session.scalar(select(func.max(TrackPoint.id))) == before[-1][0] + 1
    with pytest.raises(IntegrityError):
        _points(pg, staff, park, [now])
    pg.session.rollback()
