"""Housekeeping of sign-in sessions in the task worker (`huey_consumer app.worker.huey`): rows of
sessions that ended or went unused a month ago would otherwise grow forever (the audit log keeps sign-ins)."""
from __future__ import annotations

from huey import crontab

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
