"""POST/DELETE /pos/v1/session: handheld sign-in and sign-out."""
from flask import g, jsonify, request
from sqlalchemy import select

from app.auth import limits
from app.berths.models import BerthSegment
from app.core.errors import DomainError
from app.devices import services
from app.extensions import db
from app.parks.models import FreeReason
from app.parks.services import VEHICLE_CLASSES, active_car_types
from app.parks.settings import collector_settings
from app.shifts.services import open_shift
from pos_api import bp
from pos_api.support import Body, device_login_required, iso


@bp.post("/session")
@limits.per_address
def sign_in():
    body = Body()
    username, password = body.str("username"), body.str("password", max_len=128)
    serial = body.str("device_serial")
    device_key = body.str("device_key", required=False, max_len=200)
    body.check()
    try:
        new = services.sign_in(username, password, serial, ip=request.remote_addr, device_key=device_key)
    except DomainError as refusal:
        db.session.commit()  # keep the failure counter and the pending device for the manager
        if refusal.code in ("bad_credentials", "too_many_requests"):
            limits.count_failure()
        raise
    db.session.commit()
    staff = new.session.staff
    return jsonify({"token": new.token, "expires_at": iso(new.session.expires_at), "device_key": new.device_key,
                    "user": {"id": staff.id, "username": staff.username, "name": staff.display_name,
                             "role": staff.role.kind},
                    "park": park_dict(new.park), "segments": segments_of(new.park),
                    "settings": settings_dict(new.park, staff),
                    "vehicle_classes": list(VEHICLE_CLASSES), "car_types": car_types_of(new.park),
                    "open_shift": shift_ref(open_shift(staff))}), 201


@bp.delete("/session")
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


def shift_ref(shift) -> dict | None:
    if shift is None:
        return None
    return {"id": shift.id, "segment_id": shift.segment_id, "started_at": iso(shift.started_at), "late": shift.late}
