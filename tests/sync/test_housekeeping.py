"""The link's hourly housekeeping: acknowledged feed changes and spent request ids are dropped, and a
site whose cursor points into what was dropped gets a snapshot instead of a silent gap."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.core.types import utcnow
from app.orders.models import PlateListEntry
from app.sync.models import SyncChange, SyncNonce
from app.sync.tasks import sync_housekeeping
from tests.worker_schedule import due_at_minutes


def _black_list(db, park, n):
    db.session.add(PlateListEntry(park_id=park.id, plate=f"粤C0000{n}", kind="black", reason="r"))
    db.session.commit()


def _age_everything(db, park, days=8):
    then = utcnow() - timedelta(days=days)
    db.session.execute(update(SyncChange).values(created_at=then))
    db.session.add(SyncNonce(park_id=park.id, nonce="spent-long-ago", seen_at=then))
    db.session.commit()


def test_only_acknowledged_old_changes_go_and_a_site_behind_gets_a_snapshot(db, site):
    for n in range(3):
        _black_list(db, site.park, n)
    assert site.client.ack(2)[1] == {"acked_seq": 2}
    _age_everything(db, site.park)
    counts = sync_housekeeping.call_local()
    assert counts == {"request_ids": 1, "feed_changes": 2}
    db.session.rollback()
    assert db.session.scalars(select(SyncChange.seq)).all() == [3]  # not yet acknowledged: kept
    _status, normal = site.client.pull(2)
    assert normal["snapshot"] is False and [c["seq"] for c in normal["changes"]] == [3]
    _status, restored = site.client.pull(1)  # a site restored from an old backup of itself
    assert restored["snapshot"] is True and restored["seq"] == 3


def test_with_every_change_dropped_a_cursor_behind_still_gets_a_snapshot(db, site):
    for n in range(2):
        _black_list(db, site.park, n)
    site.client.ack(2)
    _age_everything(db, site.park)
    assert sync_housekeeping.call_local()["feed_changes"] == 2
    _status, behind = site.client.pull(1)
    assert behind["snapshot"] is True
    assert {c["payload"]["plate"] for c in behind["changes"] if c["entity"] == "plate_list"} == {"粤C00000", "粤C00001"}
    _status, current = site.client.pull(2)
    assert current["snapshot"] is False and current["changes"] == []


def test_recent_changes_stay_even_when_acknowledged(db, site):
    _black_list(db, site.park, 0)
    site.client.ack(1)
    assert sync_housekeeping.call_local()["feed_changes"] == 0


def test_the_worker_runs_the_housekeeping_hourly(tmp_path):
    at_17, at_18 = due_at_minutes(tmp_path, [17, 18])
    assert "app.sync.tasks.sync_housekeeping" in at_17 and "app.sync.tasks.sync_housekeeping" not in at_18
