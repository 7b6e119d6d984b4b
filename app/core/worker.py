"""The task queue (huey): SQLite storage beside the app (instance/huey.db) or Redis in production
(`REDIS_URL`). The worker process is `huey_consumer app.worker.huey` (started by `make run` beside
gunicorn); each domain registers its own tasks with `huey` in its `tasks` module, which `create_app()`
imports. Tests and `HUEY_IMMEDIATE=1` run tasks at once, in the calling process. Never threads in web
workers."""
from __future__ import annotations

import os
import tempfile
from contextlib import AbstractContextManager, nullcontext

from flask import Flask, current_app, has_app_context
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
_worker_app: Flask | None = None


def init_app(app: Flask) -> None:
    """Called by create_app(): where export and import files go, and whether tasks run at once (tests) or
    in the worker."""
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


def set_worker_app(app: Flask) -> None:
    """The app the consumer's tasks run in (app/worker.py builds it once)."""
    global _worker_app
    _worker_app = app


def task_context() -> AbstractContextManager:
    """What a task runs in: the caller's app context when it runs at once (immediate mode, a test), else
    an app context of the worker's app; leaving it removes the task's database session. An app context,
    not a request: a task has no request, and nothing it calls may pretend otherwise."""
    if has_app_context():
        return nullcontext()
    if _worker_app is None:
        raise RuntimeError("no worker app: start the consumer with `huey_consumer app.worker.huey`")
    return _worker_app.app_context()


def run_now() -> bool:
    """Whether a task queued now runs at once, in this process (tests, HUEY_IMMEDIATE=1)."""
    return bool(current_app.config.get("HUEY_IMMEDIATE"))
