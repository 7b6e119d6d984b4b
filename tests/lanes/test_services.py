"""Heartbeats (mark_seen), the online window, and the demo seed."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from app.devices.models import SimCard
from app.lanes.demo import seed_lanes
from app.lanes.models import Booth, Camera, Lane
from app.lanes.services import LaneError, is_online, mark_seen

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def lanes(tree, db):
    seed_lanes(tree.p3)
    db.session.commit()
    return list(db.session.scalars(select(Lane).where(Lane.park_id == tree.p3.id).order_by(Lane.id)))


def test_mark_seen_moves_only_that_parks_devices_forward(tree, db, make, lanes):
    other = make.park(tree.a1, "Alpha Lot Four", kind="off_street")
    seed_lanes(other)
    db.session.commit()
    foreign = db.session.scalar(select(Lane.id).where(Lane.park_id == other.id))
    entry, exit_ = lanes
    missing = mark_seen(tree.p3.id, "lane", [entry.id, exit_.id, foreign, 999999], T0 + timedelta(days=400))
    assert missing == sorted([foreign, 999999])
    db.session.expire_all()
    assert entry.last_seen_at == exit_.last_seen_at == T0 + timedelta(days=400)
    assert db.session.get(Lane, foreign).last_seen_at < T0 + timedelta(days=400)
    # a late (older) heartbeat does not move the time back
    assert mark_seen(tree.p3.id, "lane", [entry.id], T0) == []
    db.session.expire_all()
    assert entry.last_seen_at == T0 + timedelta(days=400)
    # a camera id is not a lane id
    camera = db.session.scalar(select(Camera).where(Camera.park_id == tree.p3.id))
    assert mark_seen(tree.p3.id, "camera", [camera.id], T0 + timedelta(days=401)) == []
    with pytest.raises(LaneError):
        mark_seen(tree.p3.id, "printer", [1], T0)
    assert mark_seen(tree.p3.id, "booth", [], T0) == []


def test_online_window_is_five_minutes():
    assert is_online(T0, T0 + timedelta(minutes=5))
    assert not is_online(T0, T0 + timedelta(minutes=5, seconds=1))
    assert not is_online(None, T0)


def test_seed_lanes_is_idempotent_and_skips_on_street_parks(tree, db, lanes):
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Booth, Lane, Camera, SimCard)]
    seed_lanes(tree.p3)
    seed_lanes(tree.p1)
    assert [db.session.scalar(select(func.count()).select_from(m)) for m in (Booth, Lane, Camera, SimCard)] == counts
    assert counts == [1, 2, 2, 1]
    assert [lane.direction for lane in lanes] == ["entry", "exit"]
    assert all(lane.booth.park_id == tree.p3.id for lane in lanes)


def test_a_name_taken_behind_the_check_is_a_refusal_not_a_crash(tree, db, lanes, monkeypatch):
    from app.lanes import services

    monkeypatch.setattr(services, "_check_unique_name", lambda *a: None)  # as if a concurrent request won
    with pytest.raises(LaneError, match="just taken"):
        services.save_device(None, Lane(), tree.p3, {"name": "Entry 1", "direction": "entry"})
    assert db.session.scalar(select(func.count()).select_from(Lane)) == 2
