"""The sensor checks every minute in the task worker (`huey_consumer app.worker.huey`, started by
`make run`; create_app imports this module): the same `run_checks()` as `flask sensors check`."""
from __future__ import annotations

from huey import crontab

from app.core.worker import huey, task_context


@huey.periodic_task(crontab(minute="*"), retries=0)
def sensor_checks() -> dict:
    """Overdue alerts and silent sensors/stations, committed in one transaction. Runs that overlap (a slow
    run, a second consumer, cron) are safe: see `run_checks`."""
    from app.extensions import db
    from app.sensors.services import run_checks

    with task_context():  # the worker's app or, when called in a test, the caller's
        counts = run_checks()
        db.session.commit()
    return counts
