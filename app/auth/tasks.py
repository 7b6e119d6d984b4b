"""Housekeeping of sign-in sessions in the task worker (`huey_consumer app.exports.worker.huey`): rows of
sessions that ended or went unused a month ago would otherwise grow forever (the audit log keeps sign-ins)."""
from __future__ import annotations

from huey import crontab

from app.exports.tasks import _context, huey


@huey.periodic_task(crontab(minute="43"), retries=0)
def signin_housekeeping() -> int:
    from app.auth.services import forget_old_sessions
    from app.core.types import utcnow
    from app.extensions import db

    with _context():
        count = forget_old_sessions(utcnow())
        db.session.commit()
    return count
