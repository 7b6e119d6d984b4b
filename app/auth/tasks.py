"""Sign-in housekeeping in the task worker (`huey_consumer app.worker.huey`): sessions that ended or went
unused a month ago, failure runs of usernames nobody retried for a day and old counts of unknown usernames
would otherwise grow forever (the audit log keeps sign-ins)."""
from __future__ import annotations

from huey import crontab

from app.auth import throttle
from app.auth.services import forget_old_sessions
from app.core.types import utcnow
from app.core.worker import huey, task_context
from app.extensions import db


@huey.periodic_task(crontab(minute="43"), retries=0)
def signin_housekeeping() -> int:
    with task_context():
        count = forget_old_sessions(utcnow())
        db.session.commit()
    return count


@huey.periodic_task(crontab(minute="41"), retries=0)
def sign_in_housekeeping() -> dict:
    with task_context():
        counts = throttle.prune(utcnow())
        db.session.commit()
    return counts
