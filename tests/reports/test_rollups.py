"""Rollups (issue 22): the figure functions read closed days from the daily rollups and today raw, and the
answer equals the raw query for random ranges, nodes and groupings, after car cycles, settlements,
prepay refunds, escapes, recoveries, waivers, garage uploads, pass sales, and after writes for the past
(a late lane upload, a late ledger row, a recovery and a waiver of old debts), which dirty their days
until the worker rebuilds them."""
from __future__ import annotations

import random
from datetime import datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.core.types import utcnow
from app.ledger.services import LedgerPosting, post
from app.orders.services import manager_waive
from app.reports import figures as fg
from app.reports import rollups
from app.reports.models import RollupDay, RollupDirty, RollupIncome
from tests.pos_api.conftest import ref, street  # noqa: F401  (the street fixture)
from tests.reports.test_figures_agree import TZ, _iso, _park_ids, _street_stay, history  # noqa: F401
from tests.sync.conftest import site  # noqa: F401

FIGURES = [(fg.income, fg._income_raw), (fg.cars_in, fg._cars_in_raw), (fg.cars_out, fg._cars_out_raw),
           (fg.traffic, fg._traffic_raw), (fg.closed_orders, fg._closed_raw), (fg.unpaid, fg._unpaid_raw),
           (fg.arrears, fg._arrears_raw)]
GROUPINGS = [None, "park", "collector", "day", "month", "group", ("park", "day"), ("collector", "day")]


def _today():
    return utcnow().astimezone(TZ).date()


def _settled_now():
    """A time at which yesterday is closed (built) and today is not."""
    start = datetime.combine(_today(), time.min, tzinfo=TZ).astimezone(timezone.utc)
    return max(utcnow(), start + rollups.SETTLE + timedelta(minutes=1))


def _build(db):
    today = _today()
    built = rollups.rebuild(today - timedelta(days=4), today, now=_settled_now())
    start = datetime.combine(today, time.min, tzinfo=TZ).astimezone(timezone.utc)
    assert built and not db.session.scalar(select(func.count()).select_from(RollupDirty).where(
        RollupDirty.at < start))  # the rebuilt days' marks are gone (today's stay: today is read raw)
    return built


def _same(a, b):
    if isinstance(a, fg.Income):
        return a.cells == b.cells and a.entries == b.entries
    if isinstance(a, fg.Closed):
        exact = isinstance(a.dwell_seconds, Decimal)  # PostgreSQL: numeric seconds, summed exactly
        return (a.orders, a.receivable, a.reductions) == (b.orders, b.receivable, b.reductions) and (
            a.dwell_seconds == b.dwell_seconds if exact else a.dwell_seconds == pytest.approx(b.dwell_seconds))
    return a == b


def _assert_agree(db, tree, rng, ranges=6):
    """Every figure and grouping, for random nodes and ranges of the last days, equals the raw query;
    answers how many of the calls read rollups."""
    today = _today()
    used = 0
    for _ in range(ranges):
        viewer = rng.choice(["root", "citya", "groupa1", "groupa2", "parkp1", "parkp3"])
        ids = _park_ids(db, tree, viewer)
        first = today - timedelta(days=rng.randint(1, 4))
        last = rng.choice([first, today, today - timedelta(days=1), first + timedelta(days=1)])
        f = fg.Filters(first, max(first, last))
        for by in GROUPINGS:
            if rollups.plan(ids, f.date_from, f.date_to, f.tz, by) is not None:
                used += 1
            for figure, raw in FIGURES:
                got, want = figure(ids, f, by), raw(ids, f, by)
                assert got.keys() == want.keys(), (figure.__name__, viewer, f, by)
                assert all(_same(got[k], want[k]) for k in want), (figure.__name__, viewer, f, by, got, want)
    return used


def test_closed_days_read_from_rollups_equal_the_raw_rows(history, db):  # noqa: F811
    _build(db)
    assert db.session.scalar(select(func.sum(RollupIncome.amount_fen)).where(RollupIncome.day < _today()))
    assert _assert_agree(db, history, random.Random(22), ranges=5) > 0


def test_cars_by_hour_read_the_hourly_rollup_and_equal_the_raw_rows(history, db, app):  # noqa: F811
    _build(db)
    today = _today()
    ids = _park_ids(db, history, "citya")
    f = fg.Filters(today - timedelta(days=4), today)
    for by in (("day", "hour"), "hour", ("park", "hour"), ("group", "day", "hour")):
        assert rollups.plan(ids, f.date_from, f.date_to, f.tz, by, by_hour=True) is not None, by
        for figure, raw in ((fg.cars_in, fg._cars_in_raw), (fg.cars_out, fg._cars_out_raw),
                            (fg.traffic, fg._traffic_raw)):
            got, want = figure(ids, f, by), raw(ids, f, by)
            assert got == want and any(want.values()), (figure.__name__, by)
        moved = fg.traffic(ids, f, by)  # both counts of one scan, each equal to its own figure
        assert {k: t.cars_in for k, t in moved.items() if t.cars_in} == fg.cars_in(ids, f, by)
        assert {k: t.cars_out for k, t in moved.items() if t.cars_out} == fg.cars_out(ids, f, by)
    assert rollups.plan(ids, f.date_from, f.date_to, f.tz, ("collector", "hour"), by_hour=True) is None
    from app.reports import queries as q
    from app.tenancy.scope import Scope

    scope = Scope.of(history.staff["citya"])
    rolled = q.hourly_traffic(scope, f)
    app.config["ROLLUPS_READ"] = False
    try:
        assert q.hourly_traffic(scope, f) == rolled
    finally:
        app.config["ROLLUPS_READ"] = True
    assert any(s["in"] for s in rolled["slots"] if s["day"] < today)
    assert rolled["slots"][0]["parked"] == fg._parked_at_raw(ids, f.start)  # counted back over the hours
    yesterday = fg.Filters(today - timedelta(days=3), today - timedelta(days=1))
    assert fg.parked_at_start(ids, yesterday, fg.traffic(ids, yesterday, "day")) == fg._parked_at_raw(
        ids, yesterday.start)  # a period before today: from now over the rollups


def test_cars_parked_at_an_instant_count_back_from_now_and_equal_every_order_entered_before(history, db):  # noqa: F811
    _build(db)
    ids = _park_ids(db, history, "citya")
    today = _today()
    midnights = [datetime.combine(today - timedelta(days=n), time.min, tzinfo=TZ) for n in range(5)]
    instants = midnights + [m + timedelta(hours=h, minutes=17) for m in midnights for h in (3, 9, 15, 22)]
    instants += [utcnow() - timedelta(minutes=5), utcnow() + timedelta(hours=30)]
    counts = []
    for at in instants:
        counts.append(fg.parked_at(ids, at, str(TZ)))
        assert counts[-1] == fg._parked_at_raw(ids, at), at
    assert any(counts) and len(set(counts)) > 2


def test_the_hourly_migration_queues_the_days_built_before_for_the_worker(history, db):  # noqa: F811
    """A database whose days were built before the hourly rollup existed: the migration queues them, they
    read raw (still equal), and the worker's run builds their hours."""
    from flask_migrate import downgrade, upgrade

    from app.reports.models import RollupHourly

    _build(db)
    built = set(db.session.execute(select(RollupDay.park_id, RollupDay.day)).all())
    queued = set(db.session.scalars(select(RollupDirty.id)))  # today's, written by the history's late rows
    db.session.commit()  # (the session's objects stay: they are read again after the migration)
    downgrade(revision="0017_audit_partitions")
    upgrade()
    marks = db.session.execute(select(RollupDirty.park_id, RollupDirty.at).where(RollupDirty.id.not_in(queued))).all()
    assert {(p, at.astimezone(TZ).date()) for p, at in marks} == built
    assert all(at.astimezone(TZ).hour == 12 for _p, at in marks)
    _assert_agree(db, history, random.Random(7), ranges=2)
    rollups.refresh(now=_settled_now())
    db.session.commit()
    assert not db.session.scalar(select(func.count()).select_from(RollupDirty).where(RollupDirty.id.not_in(queued)))
    assert db.session.scalar(select(func.sum(RollupHourly.cars_in)))


def test_writes_for_the_past_dirty_their_days_until_the_worker_rebuilds_them(history, street, site, db):  # noqa: F811
    a = street.login("collectorp1", "POS-P1-A")  # the history's shift is still open
    escaped = _street_stay(street, a, "A001", "R10010", 29, 28, escape=True)
    waived = _street_stay(street, a, "A002", "R10011", 27, 26, escape=True)
    _build(db)
    p1 = history.p1.id
    two_days_ago = _today() - timedelta(days=2)
    f = fg.Filters(two_days_ago, _today())
    before = fg.income([p1], f, "day")

    # a late ledger row (a refund booked for the day before yesterday), a late garage upload of a stay
    # that ended yesterday, a waiver and a recovery of old debts
    at = datetime.combine(two_days_ago, time(12), tzinfo=TZ)
    post(LedgerPosting(park_id=p1, kind="prepay_refund", method="cash", amount_fen=-123, occurred_at=at))
    db.session.commit()
    items = [{"kind": "entry", "site_id": "late", "plate": "粤B77777", "lane_id": site.entry, "at": _iso(30),
              "vehicle_class": "small"},
             {"kind": "settlement", "site_id": "late-pay", "order_site_id": "late", "at": _iso(27), "fee_fen": 700,
              "payments": [{"method": "cash", "amount_fen": 700}], "reduction_fen": 0, "free_reason": None},
             {"kind": "exit", "site_id": "late-out", "order_site_id": "late", "lane_id": site.exit, "at": _iso(26.9)}]
    status, answer = site.client.upload(items)
    assert status == 200 and all(r["status"] == "ok" for r in answer["results"]), answer
    manager_waive(history.staff["parkp1"], [waived["id"]], "ambulance", utcnow())
    db.session.commit()
    paid = street.call("POST", "/arrears/recover", a, json={"client_ref": ref(), "arrear_ids": [escaped["id"]],
                                                          "method": "cash", "amount_fen": escaped["amount_fen"]})
    assert paid.status_code == 200, paid.get_json()
    db.session.expire_all()

    marks = db.session.scalar(select(func.count()).select_from(RollupDirty))
    assert marks >= 4
    stale = fg._income_rolled([p1], "day", (two_days_ago,))
    day_of = lambda answer: answer.get(two_days_ago) or fg.Income()  # noqa: E731
    assert day_of(stale).cells != day_of(fg._income_raw([p1], f, "day")).cells  # the rollup is behind
    assert day_of(fg.income([p1], f, "day")).refunds == day_of(before).refunds - 123  # read raw while dirty
    rng = random.Random(7)
    _assert_agree(db, history, rng, ranges=3)

    counts = rollups.refresh(now=_settled_now())  # the worker's minute
    db.session.commit()
    assert counts["marks"] == marks and not db.session.scalar(select(func.count()).select_from(RollupDirty))
    assert rollups.plan([p1], two_days_ago, _today(), "Asia/Shanghai", "day").days[0] == two_days_ago
    assert _assert_agree(db, history, rng, ranges=3) > 0


def test_the_car_cycle_of_today_queues_nothing(history, street, db):  # noqa: F811
    db.session.query(RollupDirty).delete()
    db.session.commit()
    a = street.login("collectorp1", "POS-P1-A")
    _street_stay(street, a, "A001", "R10020", 0.1, 0.01, "cash")
    assert not db.session.scalar(select(func.count()).select_from(RollupDirty))


def test_the_worker_builds_closed_days_and_the_cli_rebuilds_a_range(history, app, db):  # noqa: F811
    assert rollups.refresh(now=_settled_now())["days"] > 0
    db.session.commit()
    days = {d for (d,) in db.session.execute(select(RollupDay.day).distinct())}
    today = _today()
    assert {today - timedelta(days=n) for n in (1, 2, 3)} <= {fg.as_date(d) for d in days}
    assert today not in {fg.as_date(d) for d in days}
    first = today - timedelta(days=3)
    result = app.test_cli_runner().invoke(args=["reports", "rebuild", "--from", first.isoformat(), "--to",
                                                (today - timedelta(days=2)).isoformat()])
    assert result.exit_code == 0 and "rebuilt" in result.output, result.output


