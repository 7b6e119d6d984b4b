"""Retention in the task worker, daily at 03:17 (create_app imports this module): monthly partitions
created ahead, old months dropped, old rows of plain tables deleted in batches (app/core/partitions.py,
settings `RETENTION` and `PARTITIONS_AHEAD` in config.py)."""
from __future__ import annotations

import logging

from huey import crontab

from app.core.worker import huey, task_context

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="17", hour="3"), retries=0)
def retention_daily() -> dict:
    """Each step commits on its own; a run that stops half-way is finished by the next one."""
    from app.core.partitions import apply_retention

    with task_context():
        report = apply_retention()
    log.info("retention: %s", report)
    return report
