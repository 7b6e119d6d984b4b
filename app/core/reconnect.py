"""A request that meets a dead database connection runs once more on a fresh one (断线重试).

After the database restarts or fails over, every pooled connection is dead, and each one fails the first
statement a request sends on it. Checking each connection before use would cost every request a round
trip; instead the request that meets one runs again, once, when running it again cannot do anything twice:
- a read (GET, HEAD) that has not begun a commit;
- a device write with a client_ref (`runs_again_on_disconnect`): its idempotency record commits with its
  work, so a second run finds the first one's answer if that commit landed, and does the work if it did not.
Anything else (an admin form, a sign-in) answers 500 as before, and its client decides."""
from __future__ import annotations

import flask
from flask import g, request
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError

from app.extensions import db

SAFE_METHODS = frozenset(("GET", "HEAD"))
MARK = "runs_again_on_disconnect"


def runs_again_on_disconnect(view):
    """Mark a view whose second run is harmless whatever the first one committed (see the module doc)."""
    setattr(view, MARK, True)
    return view


class Flask(flask.Flask):
    def dispatch_request(self):
        before = g.__dict__.copy()  # what the request had before its view ran; the second run starts from it
        try:
            return super().dispatch_request()
        except DBAPIError as exc:
            if not exc.connection_invalidated or not _may_run_again():
                raise
        self.logger.warning("lost the database connection on %s %s; running it again on a fresh one",
                            request.method, request.path)
        db.session.remove()  # the dead connection was invalidated: the pool hands out a fresh one
        g.__dict__.clear()
        g.__dict__.update(before)
        for upload in request.files.values():
            upload.stream.seek(0)
        return super().dispatch_request()


def _may_run_again() -> bool:
    view = flask.current_app.view_functions.get(request.endpoint or "")
    if getattr(view, MARK, False):
        return True
    return request.method in SAFE_METHODS and not db.session().info.get("commit_began")


def enable() -> None:
    """Sessions note when they begin a commit: a read that did so may have written something."""
    if not event.contains(db.session, "before_commit", _note_commit):
        event.listen(db.session, "before_commit", _note_commit)


def _note_commit(session) -> None:
    session.info["commit_began"] = True
