"""Plumbing shared by every endpoint: JSON bodies, bearer tokens, idempotency, device times."""
from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache, partial, wraps
from zoneinfo import ZoneInfo

from flask import current_app, g, jsonify, request
from sqlalchemy import String, bindparam, cast, literal, select
from sqlalchemy.exc import IntegrityError

from app.core import bulk
from app.core.api.models import CLIENT_REF_PATTERN, MAX_ID
from app.core.api.plumbing import install
from app.core.autocommit import read_without_transaction
from app.core.bodies import MULTIPART_ENVELOPE, body_limit, json_object, request_fingerprint
from app.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized
from app.core.idempotency import IdempotentRequest
from app.core.reconnect import runs_again_on_disconnect
from app.core.types import utcnow
from app.devices.models import DeviceSession, Handheld
from app.devices.services import LIVE_SESSION, LIVE_SESSION_PLAIN, identity_of, live_session_row
from app.extensions import csrf, db, on_postgresql
from app.orders.photos import MAX_BYTES as PHOTO_MAX_BYTES
from app.parks.settings import join_settings, settings_in_row
from app.staff.models import Staff
from pos_api import bp

UUIDISH = re.compile(CLIENT_REF_PATTERN)

csrf.exempt(bp)  # devices authenticate with bearer tokens, not cookies
# the body limit of a photo upload: a multipart form with client_ref, perhaps a kind, and the file
photo_body = body_limit(PHOTO_MAX_BYTES + MULTIPART_ENVELOPE)


install(bp)  # one error answer and one transaction finish with /sync/v1 (app/core/api/plumbing.py)


def existing_id(value: int) -> int:
    """Path ids beyond the column's range are simply not found (never an overflow)."""
    if not 0 < value <= MAX_ID:
        raise NotFound("not_found", "No such object.")
    return value


def device_login_required(*kinds: str, plain: bool = False):
    """Bearer token of a field staff member; `kinds` limits the role kind (collector, inspector). With
    plain=True the view gets g.staff and g.park as plain records (DeviceStaff, DevicePark), not objects:
    for the car cycle's endpoints, which a handheld calls all day. A write (`idempotent`) runs again if it
    meets a dead database connection (app/core/reconnect.py).

    A write's body is read before the token, so a malformed one is 400 with a token or without."""

    def decorator(view):
        writes = getattr(view, "looks_up_first_answer", False)
        form = getattr(view, "reads_form", False)
        reads_with = LIVE_SESSION_PLAIN if plain else LIVE_SESSION
        writes_with = _PLAIN_AND_FIRST_ANSWER if plain else _LIVE_SESSION_AND_FIRST_ANSWER

        @wraps(view)
        def wrapped(*args, **kwargs):
            session = db.session()
            session.expire_on_commit = False  # the answer is built before the commit; nothing reads after
            if request.method == "GET" and on_postgresql():
                g.autocommit = read_without_transaction(session)
            ref = _client_ref(form) if writes else None
            header = request.headers.get("Authorization", "")
            token = header[7:].strip() if header.lower().startswith("bearer ") else ""
            if not token:
                row = None
            elif ref is None:  # a read, or a write without a usable client_ref (refused by `idempotent`)
                row = live_session_row(token, reads_with, plain=plain)
            else:  # the write's first answer, if any, comes with the session (one round trip, not two)
                row = live_session_row(token, writes_with, plain=plain, ref=ref)
                if row is not None:
                    g.collector_settings = settings_in_row(row)
            if row is None:
                raise Unauthorized("invalid_token", "Sign in again: the token is missing, expired or revoked.")
            if writes:
                g.first_answer = (ref, row if ref is not None and row.status_code is not None else None)
            g.staff, g.park, g.open_shift = identity_of(row, plain=plain)
            if kinds and row.role_kind not in kinds:
                raise Forbidden("wrong_role", "Your role cannot use this endpoint.")
            g.device_session_id, g.handheld_id = row.session_id, row.handheld_id
            return view(*args, **kwargs)

        return runs_again_on_disconnect(wrapped) if writes else wrapped

    return decorator


def idempotent(view=None, *, form: bool = False):
    """Run a device write once per (person, client_ref); later calls with the same request (method, path,
    body) get the stored first answer, with another request 409 client_ref_reused. form=True: the body is
    a multipart form (a photo) rather than a JSON object."""
    if view is None:
        return partial(idempotent, form=form)

    @wraps(view)
    def wrapped(*args, **kwargs):
        ref, stored = g.pop("first_answer")  # read with the token
        if ref is None:
            raise Invalid("validation_failed", "Some fields are missing or wrong.",
                          {"client_ref": "a client-generated id (UUID) of 8 to 64 characters"})
        key, fingerprint = f"{ACTOR_PREFIX}{g.staff.id}", request_fingerprint(form=form)
        if stored is not None:
            return _replay(stored, fingerprint, key, ref)
        bulk.collect_riders()  # the outbox's rows travel with the first answer's insert
        try:
            body, status = view(*args, **kwargs)
        except DomainError:
            bulk.drop_riders()
            db.session.rollback()
            stored = _stored(key, ref)  # a concurrent retry may have won meanwhile
            if stored is not None:
                return _replay(stored, fingerprint, key, ref)
            raise
        try:
            bulk.insert_with_riders(IdempotentRequest.__table__, {
                "actor_key": key, "client_ref": ref, "endpoint": request.endpoint, "fingerprint": fingerprint,
                "status_code": status, "response": body})
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            return _replay(_stored(key, ref), fingerprint, key, ref)
        return jsonify(body), status

    wrapped.looks_up_first_answer = True
    wrapped.reads_form = form  # type: ignore[attr-defined]
    return wrapped


def _client_ref(form: bool) -> str | None:
    ref = (request.form if form else json_object()).get("client_ref")
    return ref if isinstance(ref, str) and UUIDISH.match(ref) else None


_HANDHELD_PARK = Handheld.__table__.c.park_id
ACTOR_PREFIX = "staff:"  # first answers are kept per person: actor_key "staff:<id>"
_FIRST = IdempotentRequest.__table__.c
_STORED = select(_FIRST.endpoint, _FIRST.fingerprint, _FIRST.status_code, _FIRST.response).where(
    _FIRST.actor_key == bindparam("key"), _FIRST.client_ref == bindparam("ref"))


def _first_answer(column):
    return select(column).where(_FIRST.actor_key == literal(ACTOR_PREFIX) + cast(DeviceSession.staff_id, String),
                                _FIRST.client_ref == bindparam("ref")).scalar_subquery().label(column.key)


# A write reads with the token its first answer, if any (scalar subqueries rather than one more table in
# the join: PostgreSQL plans each apart, cheaper than searching the orders of a larger join), and the
# collector settings of the person's role at the park, which car in and the receipt need.
def _with_first_answer(statement):
    return join_settings(statement.add_columns(
        *(_first_answer(column) for column in (_FIRST.fingerprint, _FIRST.status_code, _FIRST.response))),
        _HANDHELD_PARK, Staff.role_id)


_LIVE_SESSION_AND_FIRST_ANSWER = _with_first_answer(LIVE_SESSION)
_PLAIN_AND_FIRST_ANSWER = _with_first_answer(LIVE_SESSION_PLAIN)


def _stored(key: str, ref: str):
    """The first answer (endpoint, fingerprint, status_code, response) of this client_ref, if any."""
    return db.session.execute(_STORED, {"key": key, "ref": ref}).first()


def _replay(stored, fingerprint: str, key: str, ref: str):
    if stored.fingerprint is None:  # kept before requests had fingerprints (migration 0008): the endpoint
        same = _stored(key, ref).endpoint == request.endpoint  # is all there is to compare
    else:
        same = stored.fingerprint == fingerprint
    if not same:
        raise Conflict("client_ref_reused", "This client_ref was already used for a different request "
                                            "(another endpoint, order or body).", {"client_ref": "reused"})
    response = jsonify(stored.response)
    response.status_code = stored.status_code
    response.headers["Idempotent-Replay"] = "true"
    return response


def now_or(value: datetime | None) -> datetime:
    return value or utcnow()


def iso(value: datetime | None, zone: str | None = None) -> str | None:
    """The time in ISO 8601 in the park's local offset (the one time convention of the device API):
    `zone` or the signed-in person's park's."""
    if value is None:
        return None
    return value.astimezone(_zone(zone or g.park.timezone)).isoformat()


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def iso_text(value: str | None) -> str | None:
    """A time already written as ISO 8601 (by a service) in the park's local offset."""
    return iso(datetime.fromisoformat(value)) if value else None


def config(name: str):
    return current_app.config.get(name)
