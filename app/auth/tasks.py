"""Sign-in housekeeping in the task worker (`huey_consumer app.exports.worker.huey`): failure runs of
usernames nobody retried for a day, and old counts of unknown usernames, would otherwise grow forever."""
from __future__ import annotations

from huey import crontab

from app.exports.tasks import _context, huey


@huey.periodic_task(crontab(minute="41"), retries=0)
def sign_in_housekeeping() -> dict:
    from app.auth import throttle
    from app.core.types import utcnow
    from app.extensions import db

    with _context():
        counts = throttle.prune(utcnow())
        db.session.commit()
    return counts
