"""The worker's former entry point (`huey_consumer app.exports.worker.huey`), kept so that a deployment
started with it goes on working: the entry point is `app.worker`."""
from app.worker import app, huey

__all__ = ["app", "huey"]
