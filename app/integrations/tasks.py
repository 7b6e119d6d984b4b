"""The outbox's delivery in the task worker: every minute, and soon after a commit that wrote messages
(`kick`, at most about once a second per web process)."""
from __future__ import annotations

import time

from huey import crontab

from app.core.worker import huey, task_context

KICK_DELAY = 1.0
_last_kick = 0.0


def run_delivery() -> dict:
    from app.extensions import db
    from app.integrations.delivery import HttpDispatcher
    from app.integrations.outbox import deliver_due

    counts = deliver_due(HttpDispatcher())
    db.session.commit()
    return counts


@huey.task(retries=0)
def deliver_outbox() -> dict:
    with task_context():
        return run_delivery()


@huey.periodic_task(crontab(minute="*"), retries=0)
def deliver_outbox_periodic() -> dict:
    with task_context():
        return run_delivery()


def kick(delay_seconds: float) -> None:
    """Queue a delivery run a second (or the messages' delay) from now, unless one queued in the last
    moment runs late enough to include these messages."""
    global _last_kick
    now = time.monotonic()
    if delay_seconds <= KICK_DELAY and now - _last_kick < KICK_DELAY * 0.8:
        return
    if delay_seconds <= KICK_DELAY:
        _last_kick = now
    deliver_outbox.schedule(delay=max(KICK_DELAY, delay_seconds + 0.5))
