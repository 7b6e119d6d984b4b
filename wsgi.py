"""Entry point for gunicorn: `gunicorn wsgi:app`."""
import gc

from app import create_app

app = create_app()
# The app's modules, models and compiled statements live as long as the worker: move them out of
# the collector's reach so that each full collection walks only what requests allocate.
gc.freeze()
