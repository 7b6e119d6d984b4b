"""The rollups' minute in the task worker (`huey_consumer app.worker.huey`; create_app imports this
module): rebuild the days late writes dirtied, build the days that closed (app/reports/rollups.py)."""
from __future__ import annotations

from huey import crontab

from app.core.worker import huey, task_context


@huey.periodic_task(crontab(minute="*"), retries=0)
def refresh_rollups() -> dict:
    """One transaction. Overlapping runs are safe: each rebuild deletes and rewrites whole (park, day)s, and
    a queue row is removed only by the run that read it before rebuilding."""
    from app.extensions import db
    from app.reports.rollups import refresh

    with task_context():
        counts = refresh()
        db.session.commit()
    return counts
