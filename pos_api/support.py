"""Plumbing shared by every endpoint: JSON bodies, bearer tokens, idempotency, device times."""
from __future__ import annotations

import re
from datetime import datetime
from functools import partial, wraps

from flask import current_app, g, jsonify, request
from sqlalchemy import String, bindparam, cast, insert, literal, select
from sqlalchemy.exc import IntegrityError

from app.core.autocommit import read_without_transaction
from app.core.bodies import MULTIPART_ENVELOPE, body_limit, json_object, request_fingerprint
from app.core.devicetime import AHEAD, NO_OFFSET, NOT_A_TIME, TOO_OLD, read_device_time
from app.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, Unauthorized
from app.core.idempotency import IdempotentRequest
from app.core.reconnect import runs_again_on_disconnect
from app.core.types import utcnow
from app.devices.models import DeviceSession, Handheld
from app.devices.services import LIVE_SESSION, LIVE_SESSION_PLAIN, identity_of, live_session_row
from app.extensions import csrf, db, execute_core, on_postgresql
from app.orders.photos import MAX_BYTES as PHOTO_MAX_BYTES
from app.parks.settings import join_settings, settings_in_row
from app.staff.models import Staff
from pos_api import bp

MAX_ID = 2**31 - 1  # ids are 32-bit in the database; anything larger cannot exist
UUIDISH = re.compile(r"^[A-Za-z0-9\-_]{8,64}$")

csrf.exempt(bp)  # devices authenticate with bearer tokens, not cookies
# the body limit of a photo upload: a multipart form with client_ref, perhaps a kind, and the file
photo_body = body_limit(PHOTO_MAX_BYTES + MULTIPART_ENVELOPE)


@bp.errorhandler(DomainError)
def domain_error(exc: DomainError):
    db.session.rollback()
    return jsonify(exc.to_dict()), exc.status, exc.headers


@bp.after_request
def finish_transaction(response):
    """One transaction per request: kept when the answer is a success, dropped otherwise."""
    if response.status_code < 400:
        session = db.session()
        # nothing to do when the write's idempotency record committed it already, or for a read
        # in autocommit
        if not g.get("autocommit") and (session.in_transaction() or session.new or session.dirty
                                        or session.deleted):
            session.commit()
    else:
        db.session.rollback()
    return response


class Body:
    """Reads a JSON object field by field, collecting every problem before answering 422."""

    def __init__(self, data=None):
        self.data, self.errors = json_object() if data is None else data, {}

    def _get(self, name, required):
        value = self.data.get(name)
        if value is None and required:
            self.errors[name] = "required"
        return value

    def str(self, name, *, required=True, max_len=64, choices=None):
        value = self._get(name, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > max_len:
            self.errors[name] = f"a text of 1 to {max_len} characters"
            return None
        if not printable(value):
            self.errors[name] = "contains control characters or invalid Unicode"
            return None
        if choices and value not in choices:
            self.errors[name] = "one of " + ", ".join(choices)
            return None
        return value.strip()

    def int(self, name, *, required=True, minimum=None, maximum=None):
        value = self._get(name, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.errors[name] = "a whole number"
            return None
        maximum = MAX_ID if maximum is None else maximum
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.errors[name] = f"between {minimum} and {maximum}"
            return None
        return value

    def int_list(self, name, *, max_items=100):
        value = self._get(name, True)
        if value is None:
            return None
        if (not isinstance(value, list) or not value or len(value) > max_items
                or not all(isinstance(v, int) and not isinstance(v, bool) and 0 < v <= MAX_ID for v in value)):
            self.errors[name] = f"a list of 1 to {max_items} ids"
            return None
        return value

    def client_ref(self):
        value = self._get("client_ref", True)
        if value is not None and (not isinstance(value, str) or not UUIDISH.match(value)):
            self.errors["client_ref"] = "a client-generated id (UUID) of 8 to 64 characters"
            return None
        return value

    def time(self, name, *, required=False):
        value = self._get(name, required)
        if value is None:
            return None
        parsed = parse_device_time(value)
        if isinstance(parsed, str):
            self.errors[name] = parsed
            return None
        return parsed

    def object(self, name):
        value = self.data.get(name)
        if value is not None and not isinstance(value, dict):
            self.errors[name] = "an object"
            return None
        return Body(value) if value is not None else None

    def check(self, *children):
        errors = dict(self.errors)
        for prefix, child in children:
            if child is not None:
                errors.update({f"{prefix}.{k}": v for k, v in child.errors.items()})
        if errors:
            raise Invalid("validation_failed", "Some fields are missing or wrong.", errors)


def printable(value: str) -> bool:
    """No NUL or other control characters, and valid UTF-8 (no lone surrogates)."""
    if any(ord(ch) < 32 and ch not in "\t" for ch in value):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def existing_id(value: int) -> int:
    """Path ids beyond the column's range are simply not found (never an overflow)."""
    if not 0 < value <= MAX_ID:
        raise NotFound("not_found", "No such object.")
    return value


def parse_device_time(value) -> datetime | str:
    """An ISO 8601 time with offset inside the device-time window (app.core.devicetime), or what is wrong."""
    parsed = read_device_time(value, utcnow())
    return _TIME_PROBLEMS[parsed] if isinstance(parsed, str) else parsed


_TIME_PROBLEMS = {
    NOT_A_TIME: "an ISO 8601 time with offset", NO_OFFSET: "a time with its UTC offset, e.g. 2026-05-01T08:00:00+08:00",
    AHEAD: "more than 2 minutes in the future: check the handheld's clock (GET /pos/v1/time)",
    TOO_OLD: "older than 48 hours"}


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
        try:
            body, status = view(*args, **kwargs)
        except DomainError:
            db.session.rollback()
            stored = _stored(key, ref)  # a concurrent retry may have won meanwhile
            if stored is not None:
                return _replay(stored, fingerprint, key, ref)
            raise
        try:
            execute_core(_REMEMBER, {"actor_key": key, "client_ref": ref, "endpoint": request.endpoint,
                                     "fingerprint": fingerprint, "status_code": status, "response": body})
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
_REMEMBER = insert(IdempotentRequest.__table__)
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


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def config(name: str):
    return current_app.config.get(name)
