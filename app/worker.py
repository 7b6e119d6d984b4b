"""Entry point of the background worker: `huey_consumer app.worker.huey -w 2` (started by `make run`
beside gunicorn). It builds the Flask app once, which registers every domain's tasks (the exports, the
sensor checks every minute, the on-site link's housekeeping every hour); each task runs in an app context
of it (`app.core.worker.task_context`)."""
from app import create_app
from app.core.worker import huey, set_worker_app

app = create_app()
set_worker_app(app)

__all__ = ["app", "huey"]
