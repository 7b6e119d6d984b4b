"""Housekeeping of the on-site link in the task worker (`huey_consumer app.worker.huey`): request
ids past the replay window and feed changes every site has acknowledged would otherwise grow forever."""
from __future__ import annotations

from huey import crontab

from app.core.worker import huey, task_context


@huey.periodic_task(crontab(minute="17"), retries=0)
def sync_housekeeping() -> dict:
    from app.core.types import utcnow
    from app.extensions import db
    from app.sync.feed import prune
    from app.sync.services import forget_old_nonces

    with task_context():
        now = utcnow()
        counts = {"request_ids": forget_old_nonces(now), "feed_changes": prune(db.session, now)}
        db.session.commit()
    return counts
