"""The sensor checks every minute in the task worker (`huey_consumer app.exports.worker.huey`, started by
`make run`; the worker imports this module): the same `run_checks()` as `flask sensors check`."""
from __future__ import annotations

from huey import crontab

from app.exports.tasks import _context, huey


@huey.periodic_task(crontab(minute="*"), retries=0)
def sensor_checks() -> dict:
    """Overdue alerts and silent sensors/stations, committed in one transaction. Runs that overlap (a slow
    run, a second consumer, cron) are safe: see `run_checks`."""
    from app.extensions import db
    from app.sensors.services import run_checks

    with _context():  # the worker's app (built by the app factory) or, when called in a test, the caller's
        counts = run_checks()
        db.session.commit()
    return counts
