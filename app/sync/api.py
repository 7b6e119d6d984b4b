"""/sync/v1: the on-site system's API. Every request is signed (see app/sync/signing.py); one
transaction per request, kept on success and dropped on any refusal (app/core/api/plumbing.py, shared
with /pos/v1). The models and the document: app/sync/openapi.py."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Blueprint, g, request
from sqlalchemy.exc import IntegrityError

from app.core.api.contract import Contract
from app.core.api.models import body, query
from app.core.api.plumbing import install
from app.core.bodies import body_limit, json_object
from app.core.errors import NotFound
from app.core.types import utcnow
from app.extensions import csrf, db
from app.sync import feed, services, signing, uploads
from app.sync import openapi as c
from app.tenancy.models import Park

bp = Blueprint("sync_api", __name__, url_prefix="/sync/v1")
csrf.exempt(bp)  # sites sign each request instead of holding a cookie
install(bp)
MAX_UPLOAD_BODY = 16 * 1024 * 1024  # a batch of uploads; the other requests take MAX_CONTENT_LENGTH
api = Contract(bp=bp, **c.CONTRACT)  # type: ignore[arg-type]
api.serve()

TAGS = ["On-site link"]
NOW = "2026-05-01T08:00:00+08:00"
COMMAND_EXAMPLE = {"id": 5, "lane_id": 2, "action": "lift", "reason": "stuck", "state": "delivered",
                   "requested_at": NOW, "result_message": None}


@bp.before_request
def authenticate():
    if request.endpoint == "sync_api.openapi_json":  # the document is public: a site reads it before it has a secret
        return
    if request.method == "POST":  # the body first: a malformed one is 400, signed or not
        json_object()
    path = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    g.now = utcnow()
    g.site = services.authenticate(request.method, path, request.headers, request.get_data(cache=True), g.now)
    g.park = db.session.get(Park, g.site.park_id)


def local(value) -> str:
    """A time in the park's local offset, the one time convention of the device APIs."""
    return value.astimezone(_zone(g.park.timezone)).isoformat()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _command(command: dict) -> dict:
    return {**command, "requested_at": local(datetime.fromisoformat(command["requested_at"]))}


@api.route("/time", "GET", summary="The cloud's time and the park's timezone", tags=TAGS, security="signed",
             answers={200: c.SiteTime}, example={"now": NOW, "park_id": 3, "timezone": "Asia/Shanghai"})
def server_time():
    return {"now": local(g.now), "park_id": g.park.id, "timezone": g.park.timezone}


@api.route("/uploads", "POST", summary="A batch of lane events; one result per item, in order", tags=TAGS,
             security="signed", body=c.Upload, answers={200: c.Uploaded},
             example={"results": [{"kind": "entry", "site_id": "e-1", "status": "ok", "order_id": 812}],
                      "accepted": 1, "refused": 0})
@body_limit(MAX_UPLOAD_BODY)
def upload():
    """A batch of lane events; one answer per item, in order."""
    items = body(c.Upload).items
    try:
        results = uploads.upload(g.site, g.park, items, g.now)
        db.session.flush()
    except IntegrityError:
        # a concurrent copy of some item won: start over once, so those items answer as replays
        db.session.rollback()
        services.remember_nonce(g.site.park_id, request.headers[signing.NONCE_HEADER], g.now)
        results = uploads.upload(g.site, g.park, items, g.now)
    return {"results": results, "accepted": sum(r["status"] == "ok" for r in results),
            "refused": sum(r["status"] == "refused" for r in results)}


@api.route("/heartbeat", "POST", summary="The site is alive; the devices listed answered it", tags=TAGS,
             security="signed", body=c.Heartbeat, answers={200: c.Alive},
             example={"ok": True, "server_time": NOW, "unknown_devices": {"lane": [99]}, "feed_seq": 120})
def heartbeat():
    sent = body(c.Heartbeat)
    unknown = services.heartbeat(g.site, sent.version, sent.devices or {}, request.remote_addr, g.now)
    return {"ok": True, "server_time": local(g.now), "unknown_devices": unknown, "feed_seq": g.site.last_seq}


@api.route("/changes", "GET", tags=TAGS, security="signed", query=c.ChangesQuery, answers={200: c.Changes},
             summary="Changes after the cursor, in order, plus the barrier commands waiting",
             description="A snapshot for after=0, a pruned or a future cursor; ask again with after=seq while more.",
             example={"snapshot": False, "seq": 121, "more": False, "commands": [COMMAND_EXAMPLE], "changes": [
                 {"seq": 121, "entity": "lane", "entity_id": 2, "op": "upsert", "payload": {"id": 2, "name": "Exit"}}]})
def changes():
    """Changes after the cursor (`after`), in order, plus the barrier commands waiting."""
    asked = query(c.ChangesQuery)
    answer = feed.changes_after(db.session, g.site, asked.after, asked.limit)
    answer["commands"] = [_command(command) for command in services.pending_commands(g.site, g.now)]
    return answer


@api.route("/changes/ack", "POST", tags=TAGS, security="signed", body=c.Ack, answers={200: c.Acked},
             summary="The site applied everything up to seq (never backwards)", errors=("ack_ahead",),
             example={"acked_seq": 121})
def ack_changes():
    seq = body(c.Ack).seq
    return {"acked_seq": feed.ack(db.session, g.site, seq, g.now)}


@api.route("/commands", "GET", summary="Barrier commands not answered yet (handed out until answered)", tags=TAGS,
             security="signed", answers={200: c.Commands}, example={"commands": [COMMAND_EXAMPLE]})
def commands():
    return {"commands": [_command(command) for command in services.pending_commands(g.site, g.now)]}


@api.route("/commands/<int:command_id>/result", "POST", tags=TAGS, security="signed", body=c.CommandResult,
             answers={200: c.CommandAnswer}, errors=("command_not_found", "command_finished"),
             summary="The site's answer to a command; the same answer again is accepted, a contrary one is 409",
             example={"command": {**COMMAND_EXAMPLE, "state": "done", "result_message": "opened"}})
def command_result(command_id):
    sent = body(c.CommandResult)
    if command_id > 2**31 - 1:  # ids are 32-bit; a larger one overflows the database driver
        raise NotFound("command_not_found", "No such command for this park.")
    command = services.command_result(g.site, command_id, sent.ok, sent.message, g.now)
    return {"command": _command(services.command_dict(command))}
