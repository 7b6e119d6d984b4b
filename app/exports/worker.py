"""Entry point of the background worker: `huey_consumer app.exports.worker.huey -w 2`
(started by `make run` beside gunicorn). It builds the Flask app once; each task runs in its context.
Periodic tasks: the sensor checks every minute (app.sensors.tasks), the on-site link's housekeeping every
hour (app.sync.tasks). Large member imports: app.members.import_jobs."""
from app import create_app
from app.exports.tasks import huey, set_worker_app
from app.members import import_jobs
from app.sensors import tasks as sensor_tasks
from app.sync import tasks as sync_tasks

app = create_app()
set_worker_app(app)

__all__ = ["huey", "app", "import_jobs", "sensor_tasks", "sync_tasks"]
