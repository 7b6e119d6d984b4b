"""The task queue: huey with SQLite storage beside the app (instance/huey.db) or Redis in production
(`REDIS_URL`). `make run` starts `huey_consumer app.exports.worker.huey` beside gunicorn; tests and
`HUEY_IMMEDIATE=1` run tasks at once, in the calling process. Never threads in web workers."""
from __future__ import annotations

import os
import tempfile
from contextlib import nullcontext

from flask import current_app, has_app_context, has_request_context
from huey import RedisHuey, SqliteHuey

from config import INSTANCE_DIR


def _make_huey():
    url = os.environ.get("HUEY_REDIS_URL") or os.environ.get("REDIS_URL")
    if url:
        return RedisHuey("parkingos", url=url, results=False)
    path = os.environ.get("HUEY_SQLITE_PATH") or str(INSTANCE_DIR / "huey.db")
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    return SqliteHuey("parkingos", filename=path, results=False)


huey = _make_huey()
_worker_app = None


def init_app(app) -> None:
    """Called by create_app(): where files go, and whether tasks run at once (tests) or in the worker."""
    app.config.setdefault("EXPORT_DIR", tempfile.mkdtemp(prefix="parkingos-exports-") if app.testing
                          else os.environ.get("EXPORT_DIR") or str(INSTANCE_DIR / "exports"))
    app.config.setdefault("EXPORT_INLINE_MAX_ROWS", int(os.environ.get("EXPORT_INLINE_MAX_ROWS", 5000)))
    app.config.setdefault("IMPORT_DIR", tempfile.mkdtemp(prefix="parkingos-imports-") if app.testing
                          else os.environ.get("IMPORT_DIR") or str(INSTANCE_DIR / "imports"))
    app.config.setdefault("IMPORT_INLINE_MAX_ROWS", int(os.environ.get("IMPORT_INLINE_MAX_ROWS", 1000)))
    immediate = app.config.get("HUEY_IMMEDIATE")
    if immediate is None:
        immediate = app.testing or os.environ.get("HUEY_IMMEDIATE", "").lower() in ("1", "true", "yes")
    # per app, not huey.immediate (a process-wide switch): a test run may hold a testing app and a live one
    app.config["HUEY_IMMEDIATE"] = bool(immediate)
    app.extensions["huey"] = huey


def set_worker_app(app) -> None:
    global _worker_app
    _worker_app = app


def _context():
    """Tasks need an app and a request context (forms, gettext). In immediate mode they run inside the
    caller's; in the consumer, inside the worker's app."""
    if has_request_context():
        return nullcontext()
    app = current_app._get_current_object() if has_app_context() else _worker_app
    if app is None:
        from app import create_app

        app = create_app()
        set_worker_app(app)
    return app.test_request_context("/exports/worker")


@huey.task(retries=0)
def export_task(job_id: int) -> None:
    from app.exports.services import run_job

    with _context():  # in the worker, leaving the context removes the database session
        run_job(job_id)


def enqueue_export(job_id: int) -> None:
    if current_app.config.get("HUEY_IMMEDIATE"):
        export_task.call_local(job_id)  # immediate mode: run now, in this process
    else:
        export_task(job_id)
