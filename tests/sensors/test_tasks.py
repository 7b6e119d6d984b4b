"""The checks as a periodic task of the worker, and runs that overlap."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from app.core.types import utcnow
from app.extensions import db
from app.inbox.models import Message
from app.inspections.models import InspectionTask
from app.sensors.models import OccupancySession, Outage, Sensor
from app.sensors.services import CHECKS_LOCK, check_session, run_checks
from app.sensors.tasks import sensor_checks
from tests.worker_schedule import due_at_minutes
from tests.sensors.helpers import at, ref, sensored, street  # noqa: F401


def test_the_periodic_task_runs_the_checks_and_commits(sensored):
    s = sensored
    s.post([s.event("S-A001", "heartbeat", at(minutes=40)), s.event("S-A002", "arrive", at(minutes=2))])
    db.session.execute(update(OccupancySession).values(arrived_at=at(minutes=15)))  # time passes
    db.session.commit()
    counts = sensor_checks.call_local()
    assert counts["sensors_offline"] == 1 and counts["no_order"] == 1
    db.session.rollback()  # what the task wrote is committed, not pending in this session
    assert db.session.scalars(select(Outage.sensor_id)).all() == [s.sensors["S-A001"]]
    assert db.session.scalars(select(InspectionTask.kind)).all() == ["car_no_order"]
    assert sensor_checks.call_local()["sensors_offline"] == 0  # the next minute finds nothing new


def test_the_worker_schedules_the_checks_every_minute(tmp_path):
    """The consumer's module registers the task as periodic, due at every minute."""
    due = due_at_minutes(tmp_path, [0, 7, 59])
    assert all("app.sensors.tasks.sensor_checks" in names for names in due)
    assert all("app.reports.tasks.refresh_rollups" in names for names in due)  # the rollups' minute too


def test_an_alert_raised_meanwhile_by_another_run_is_not_raised_again(sensored):
    s = sensored
    s.street.signed_in()
    s.post([s.event("S-A001", "arrive", at(minutes=4))])
    session = db.session.scalars(select(OccupancySession)).one()  # as this run read it: no alert yet
    db.session.execute(update(OccupancySession).values(no_order_alerted_at=utcnow())
                       .execution_options(synchronize_session=False))  # another run raised it since
    check_session(session, utcnow() + timedelta(minutes=7))
    db.session.commit()
    assert db.session.scalars(select(InspectionTask)).all() == []
    assert db.session.scalars(select(Message).where(Message.kind == "sensor_no_order")).all() == []


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL advisory lock")
def test_a_run_while_another_is_running_skips(sensored):
    s = sensored
    s.post([s.event("S-A001", "heartbeat", at(minutes=40))])
    with db.engine.connect() as other:
        other.execute(select(func.pg_advisory_xact_lock(CHECKS_LOCK)))  # held until the other run ends
        assert run_checks()["skipped"] == 1
        db.session.rollback()
        other.rollback()
    assert run_checks()["sensors_offline"] == 1
    db.session.commit()
    assert not db.session.get(Sensor, s.sensors["S-A001"]).online
