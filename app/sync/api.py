"""/sync/v1: the on-site system's API. Every request is signed (see app/sync/signing.py); one
transaction per request, kept on success and dropped on any refusal."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from sqlalchemy.exc import IntegrityError

from app.core.bodies import body_limit, json_object
from app.core.errors import DomainError, Invalid, NotFound
from app.core.types import storable_text, utcnow
from app.extensions import csrf, db
from app.sync import feed, services, signing, uploads
from app.tenancy.models import Park

bp = Blueprint("sync_api", __name__, url_prefix="/sync/v1")
csrf.exempt(bp)  # sites sign each request instead of holding a cookie
MAX_UPLOAD_BODY = 16 * 1024 * 1024  # a batch of uploads; the other requests take MAX_CONTENT_LENGTH
MAX_PULL = 1000


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    db.session.rollback()
    return jsonify(exc.to_dict()), exc.status


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


@bp.after_request
def finish_transaction(response):
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def _storable(text) -> bool:
    return isinstance(text, str) and storable_text(text)


@bp.get("/time")
def server_time():
    return {"now": g.now.isoformat(), "park_id": g.park.id, "timezone": g.park.timezone}


@bp.post("/uploads")
@body_limit(MAX_UPLOAD_BODY)
def upload():
    """A batch of lane events; one answer per item, in order."""
    items = json_object().get("items")
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


@bp.post("/heartbeat")
def heartbeat():
    data = json_object()
    version, devices = data.get("version"), data.get("devices") or {}
    errors = {}
    if version is not None and (not _storable(version) or len(version) > 40):
        errors["version"] = "a text of up to 40 characters"
    if not isinstance(devices, dict) or any(
            k not in services.DEVICE_KINDS or not isinstance(v, list) or len(v) > 1000
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31 for i in v)
            for k, v in devices.items()):
        errors["devices"] = "{kind: [ids]} with kind in " + ", ".join(services.DEVICE_KINDS)
    if errors:
        raise Invalid("validation_failed", "Some fields are missing or wrong.", errors)
    unknown = services.heartbeat(g.site, version, devices, request.remote_addr, g.now)
    return {"ok": True, "server_time": g.now.isoformat(), "unknown_devices": unknown,
            "feed_seq": g.site.last_seq}


@bp.get("/changes")
def changes():
    """Changes after the cursor (`after`), in order, plus the barrier commands waiting."""
    after, limit = request.args.get("after", "0"), request.args.get("limit", "200")
    # ASCII digits only and bounded lengths: int() refuses "²" and numbers of over 4300 digits
    if not (after.isascii() and after.isdigit() and len(after) <= 12 and limit.isascii() and limit.isdigit()
            and len(limit) <= 12) or not 1 <= int(limit) <= MAX_PULL:
        raise Invalid("validation_failed", "Bad cursor.", {"after": "a whole number >= 0",
                                                           "limit": f"1 to {MAX_PULL}"})
    answer = feed.changes_after(db.session, g.site, int(after), int(limit))
    answer["commands"] = services.pending_commands(g.site, g.now)
    return answer


@bp.post("/changes/ack")
def ack_changes():
    seq = services.check_ack(json_object().get("seq"))
    return {"acked_seq": feed.ack(db.session, g.site, seq, g.now)}


@bp.get("/commands")
def commands():
    return {"commands": services.pending_commands(g.site, g.now)}


@bp.post("/commands/<int:command_id>/result")
def command_result(command_id):
    data = json_object()
    ok, message = data.get("ok"), data.get("message")
    if not isinstance(ok, bool) or (message is not None and not _storable(message)):
        raise Invalid("validation_failed", "Some fields are missing or wrong.",
                      {"ok": "true or false", "message": "a text"})
    if command_id > 2**31 - 1:  # ids are 32-bit; a larger one overflows the database driver
        raise NotFound("command_not_found", "No such command for this park.")
    command = services.command_result(g.site, command_id, ok, message, g.now)
    return {"command": services.command_dict(command)}


from app.sync import openapi  # noqa: E402,F401  (registers GET /sync/v1/openapi.json on this blueprint)
