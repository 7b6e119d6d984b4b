"""POST/DELETE /pos/v1/session: handheld sign-in and sign-out."""
from flask import g, jsonify, request
from sqlalchemy import select

from app.auth import limits
from app.berths.models import BerthSegment
from app.core.api.models import body
from app.core.errors import DomainError
from app.devices import services
from app.extensions import db
from app.parks.models import FreeReason
from app.parks.services import VEHICLE_CLASSES, active_car_types
from app.parks.settings import collector_settings
from app.shifts.services import open_shift
from pos_api import contract as c
from pos_api.contract import api
from pos_api.support import device_login_required, iso

SESSION = ["Session"]
SESSION_EXAMPLE = {
    "token": "q8Xn…", "expires_at": "2026-05-01T21:58:00+08:00", "device_key": "k3Lr…",
    "user": {"id": 12, "username": "wangfang", "name": "Wang Fang", "role": "collector"},
    "park": {"id": 3, "name": "Renmin Rd", "timezone": "Asia/Shanghai", "kind": "street"},
    "segments": [{"id": 7, "name": "Renmin Rd North", "address": "Renmin Rd 1-99", "latitude": 22.54,
                  "longitude": 114.05}],
    "settings": {"photo_required_entry": False, "photo_required_exit": False, "prepay_allowed": True,
                 "prepay_presets_fen": [500, 1000], "receipt_header": "Renmin Rd parking", "receipt_footer": None,
                 "hide_amounts": False, "signout_password_required": False,
                 "free_reasons": ["Police", "Resident"]},
    "vehicle_classes": ["small", "large"], "car_types": [{"code": "1", "name": "Small car", "vehicle_class": "small"}],
    "open_shift": None}


@api.route("/session", "POST", summary="Sign in on a handheld", tags=SESSION, body=c.SignIn,
           answers={201: c.Session}, security=None, example=SESSION_EXAMPLE,
           description="Only collectors and inspectors, only on an approved handheld of their park. A new sign-in "
                       "revokes the person's previous token.",
           errors=("bad_credentials", "device_pending", "device_revoked", "device_other_park", "account_disabled",
                   "not_field_staff", "too_many_pending_devices", "too_many_requests", "too_many_new_devices"))
@limits.per_address
def sign_in():
    sent = body(c.SignIn)
    try:
        new = services.sign_in(sent.username, sent.password, sent.device_serial, ip=request.remote_addr,
                               device_key=sent.device_key)
    except DomainError as refusal:
        db.session.commit()  # keep the failure counter and the pending device for the manager
        if refusal.code in ("bad_credentials", "too_many_requests"):
            limits.count_failure()
        raise
    db.session.commit()
    staff = new.session.staff
    zone = new.park.timezone
    return jsonify({"token": new.token, "expires_at": iso(new.session.expires_at, zone), "device_key": new.device_key,
                    "user": {"id": staff.id, "username": staff.username, "name": staff.display_name,
                             "role": staff.role.kind},
                    "park": park_dict(new.park), "segments": segments_of(new.park),
                    "settings": settings_dict(new.park, staff),
                    "vehicle_classes": list(VEHICLE_CLASSES), "car_types": car_types_of(new.park),
                    "open_shift": shift_ref(open_shift(staff), zone)}), 201


@api.route("/session", "DELETE", summary="Sign out: revokes the token", tags=SESSION, answers={200: c.SignedOut},
           example={"signed_out": True})
@device_login_required()
def sign_out():
    services.sign_out(g.device_session_id)
    return jsonify({"signed_out": True})


def park_dict(park) -> dict:
    return {"id": park.id, "name": park.name, "timezone": park.timezone, "kind": park.kind}


def segments_of(park) -> list[dict]:
    rows = db.session.scalars(select(BerthSegment).where(BerthSegment.park_id == park.id,
                                                         BerthSegment.active.is_(True)).order_by(BerthSegment.name))
    return [{"id": s.id, "name": s.name, "address": s.address, "latitude": s.latitude, "longitude": s.longitude}
            for s in rows]


def car_types_of(park) -> list[dict]:
    """What car in's vehicle_class accepts is one of `vehicle_classes`; the car types name them for the
    collector (a park without car types offers the classes themselves)."""
    return [{"code": t.code, "name": t.name, "vehicle_class": t.vehicle_class} for t in active_car_types(park.id)]


def settings_dict(park, staff) -> dict:
    s = collector_settings(park, staff.role_id)
    return {"photo_required_entry": s.photo_required_entry, "photo_required_exit": s.photo_required_exit,
            "prepay_allowed": s.prepay_allowed, "prepay_presets_fen": s.presets,
            "receipt_header": s.receipt_header, "receipt_footer": s.receipt_footer,
            "hide_amounts": s.hide_amounts, "signout_password_required": bool(s.signout_password_hash),
            "free_reasons": free_reasons_of(park)}


def free_reasons_of(park) -> list[str]:
    """The reasons settle's `free_reason` accepts (免费原因), so a handheld can offer them."""
    return list(db.session.scalars(select(FreeReason.name).where(FreeReason.park_id == park.id,
                                                                 FreeReason.active.is_(True)).order_by(FreeReason.name)))


def shift_ref(shift, zone: str) -> dict | None:
    if shift is None:
        return None
    return {"id": shift.id, "segment_id": shift.segment_id, "started_at": iso(shift.started_at, zone),
            "late": shift.late}
