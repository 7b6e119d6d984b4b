"""The outbox's delivery in the task worker: every minute, and soon after a commit that wrote messages.

A commit that wrote messages *kicks* the worker: it queues a delivery run a second later, at most once per
KICK_INTERVAL per web process (queueing is a write to the task queue: on the kerb's hot path it must stay
rare). A kicked run lingers: it keeps delivering, polling every half second, until nothing has been due
for LINGER seconds, so the messages written between two kicks go out within about a second too."""
from __future__ import annotations

import time

from flask import current_app, has_app_context
from huey import crontab

from app.core.worker import huey, task_context

KICK_DELAY = 1.0
KICK_INTERVAL = 5.0
LINGER = KICK_INTERVAL + 2.0
POLL = 0.5
_last_kick = -KICK_INTERVAL


def run_delivery(linger: float = 0.0, max_seconds: float = 50.0) -> dict:
    from app.extensions import db
    from app.integrations.delivery import HttpDispatcher
    from app.integrations.outbox import deliver_due

    totals: dict = {}
    started = idle_since = time.monotonic()
    while True:
        counts = deliver_due(HttpDispatcher(), max_seconds=max_seconds)
        db.session.commit()
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        now = time.monotonic()
        if counts.get("batches") or counts.get("skipped"):
            idle_since = now
        if counts.get("skipped") or now - idle_since >= linger or now - started >= max_seconds:
            return totals
        time.sleep(POLL)


@huey.task(retries=0)
def deliver_outbox() -> dict:
    with task_context():
        return run_delivery(linger=LINGER)


@huey.periodic_task(crontab(minute="*"), retries=0)
def deliver_outbox_periodic() -> dict:
    with task_context():
        return run_delivery()


def kick(delay_seconds: float) -> None:
    """Queue a lingering delivery run, unless this process queued one in the last KICK_INTERVAL (that run
    is still polling). Messages due later (availability pushes) are left to the lingering and periodic runs."""
    global _last_kick
    if not has_app_context():
        return
    config = current_app.config
    if current_app.testing or not config.get("OUTBOX_KICK", True) or config.get("HUEY_IMMEDIATE"):
        return  # tests deliver by hand; immediate mode has no queue to wait in
    now = time.monotonic()
    if now - _last_kick < KICK_INTERVAL:
        return
    _last_kick = now
    deliver_outbox.schedule(delay=KICK_DELAY)


@huey.periodic_task(crontab(minute="23"), retries=0)
def prune_outbox() -> int:
    """Every hour: delivered messages older than a month are forgotten."""
    from app.extensions import db
    from app.integrations.outbox import prune

    with task_context():
        count = prune()
        db.session.commit()
    return count
