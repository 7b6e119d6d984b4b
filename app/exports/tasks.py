"""The export's task: large exports are written by the worker (`app.core.worker`)."""
from __future__ import annotations

from app.core.worker import huey, run_now, task_context


@huey.task(retries=0)
def export_task(job_id: int) -> None:
    from app.exports.services import run_job  # the services enqueue this task: import at run time

    with task_context():  # in the worker, leaving the context removes the database session
        run_job(job_id)


def enqueue_export(job_id: int) -> None:
    if run_now():
        export_task.call_local(job_id)  # immediate mode: run now, in this process
    else:
        export_task(job_id)
