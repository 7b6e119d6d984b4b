"""Collector endpoints: shifts, berths, plates, orders, photos, arrears, stats, messages."""
from __future__ import annotations

from datetime import date

from flask import g, jsonify, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from app.berths.models import Berth
from app.core.errors import Invalid, NotFound
from app.core.plates import normalize_plate
from app.core.types import utcnow
from app.extensions import db
from app.inbox.models import Message
from app.kerb.arrival import SENSOR_ARRIVAL
from app.orders import photos
from app.orders import services as orders
from app.orders.models import OrderState, ParkingOrder
from app.orders.records import OrderView
from app.parks.services import VEHICLE_CLASSES
from app.shifts import services as shifts
from app.tenancy.models import Park
from pos_api import bp
from pos_api.support import MAX_ID, Body, device_login_required, existing_id, idempotent, iso, now_or, photo_body

COLLECTOR = "collector"
PAY_METHODS = ("cash", "electronic", "card", "free")


def _shift():
    """The open shift, read with the token (see device_login_required)."""
    return g.open_shift


@bp.post("/shifts")
@device_login_required(COLLECTOR)
@idempotent
def start_shift():
    body = Body()
    body.client_ref()
    segment_id = body.int("segment_id", minimum=1)
    body.check()
    shift = shifts.start_shift(g.staff, g.park, segment_id, g.handheld_id, utcnow())
    return {"shift": _shift_dict(shift)}, 201


@bp.post("/shifts/current/close")
@device_login_required(COLLECTOR)
@idempotent
def close_shift():
    body = Body()
    body.client_ref()
    password = body.str("password", required=False, max_len=128)
    body.check()
    shift = shifts.close_shift(g.staff, g.park, utcnow(), password)
    return {"shift": _shift_dict(shift), "summary": shifts.shift_summary(shift).to_dict(),
            "collector": g.staff.display_name, "park": g.park.name}, 200


def _shift_dict(shift) -> dict:
    return {"id": shift.id, "segment_id": shift.segment_id, "segment": shift.segment.name,
            "started_at": iso(shift.started_at), "ended_at": iso(shift.ended_at), "late": shift.late,
            "left_early": shift.left_early}


@bp.get("/berths")
@device_login_required(COLLECTOR)
def list_berths():
    shift = _shift()
    if shift is None:
        raise orders.Forbidden("not_signed_in", "Sign in to a berth segment first.")
    berths = db.session.scalars(select(Berth).where(Berth.segment_id == shift.segment_id, Berth.active.is_(True))
                                .order_by(Berth.number)).all()
    open_orders = {o.berth_id: o for o in db.session.scalars(select(ParkingOrder).where(
        ParkingOrder.segment_id == shift.segment_id, ParkingOrder.state == OrderState.OPEN.value))}
    now = utcnow()
    return jsonify({"segment_id": shift.segment_id, "berths": [
        {"id": b.id, "number": b.number, "occupied": b.id in open_orders,
         "order": _order_brief(open_orders[b.id], now) if b.id in open_orders else None} for b in berths]})


def _order_brief(order: ParkingOrder, now) -> dict:
    quote = orders.quote_order(order, max(now, order.entered_at))
    return {"id": order.id, "plate": order.plate, "entered_at": iso(order.entered_at),
            "prepaid_fen": order.prepaid_fen, "fee_so_far_fen": quote.fee.total_fen}


@bp.get("/plates/<plate>")
@device_login_required()
def plate_status(plate):
    plate = normalize_plate(plate)
    city_parks = select(Park.id).where(Park.city_id == g.park.city_id)
    open_orders = db.session.scalars(select(ParkingOrder).where(
        ParkingOrder.plate == plate, ParkingOrder.state == OrderState.OPEN.value,
        ParkingOrder.park_id.in_(city_parks))).all()
    arrears = orders.open_arrears(plate, g.park)
    black = orders.blacklisted(g.park.id, plate, utcnow())
    return jsonify({
        "plate": plate,
        "open_orders": [{"id": o.id, "park": o.park.name, "park_id": o.park_id,
                         "berth": o.berth.number if o.berth else None, "entered_at": iso(o.entered_at)}
                        for o in open_orders],
        "arrears": [_arrear_dict(a) for a in arrears],
        "arrears_total_fen": sum(a.amount_fen for a in arrears),
        "blacklisted": black is not None, "blacklist_reason": black.reason if black else None,
    })


def _arrear_dict(a) -> dict:
    o = a.order
    return {"id": a.id, "order_id": o.id, "park": a.park.name, "amount_fen": a.amount_fen,
            "entered_at": iso(o.entered_at), "left_at": iso(o.left_at),
            "berth": o.berth.number if o.berth else None}


@bp.post("/orders")
@device_login_required(COLLECTOR, plain=True)
@idempotent
def car_in():
    body = Body()
    body.client_ref()
    berth_id = body.int("berth_id", minimum=1)
    plate = body.str("plate", max_len=16)
    # only the classes a park's car types price (车型); a free text would be priced as the default class
    vehicle_class = body.str("vehicle_class", required=False, choices=VEHICLE_CLASSES) or "small"
    entered_at = body.time("entered_at")
    prepay = body.object("prepay")
    amount = prepay.int("amount_fen", minimum=1, maximum=10_000_000) if prepay else 0
    method = prepay.str("method", choices=("cash", "electronic", "card")) if prepay else None
    body.check(("prepay", prepay))
    received = utcnow()
    order = orders.car_in(collector=g.staff, shift=_shift(), park=g.park, berth_id=berth_id, plate=plate,
                          entered_at=now_or(entered_at), received_at=received, vehicle_class=vehicle_class,
                          prepay_fen=amount or 0, prepay_method=method, settings=g.collector_settings,
                          arrival=SENSOR_ARRIVAL)
    return {"order": order_dict(order)}, 201


def order_dict(order: OrderView) -> dict:
    return {"id": order.id, "state": order.state, "plate": order.plate, "vehicle_class": order.vehicle_class,
            "park_id": order.park_id, "segment_id": order.segment_id, "berth_id": order.berth_id,
            "berth": order.berth_number, "entered_at": iso(order.entered_at),
            "left_at": iso(order.left_at), "prepaid_fen": order.prepaid_fen, "fee_fen": order.fee_fen,
            "paid_fen": order.paid_fen, "reduction_fen": order.reduction_fen,
            "payment_method": order.payment_method, "receipt_no": order.receipt_no}


_MY_ORDER = select(ParkingOrder).where(
    ParkingOrder.id == bindparam("order_id"), ParkingOrder.park_id == bindparam("park_id")).options(
    joinedload(ParkingOrder.berth))


def _my_order(order_id: int) -> ParkingOrder:
    order = db.session.scalar(_MY_ORDER, {"order_id": existing_id(order_id), "park_id": g.park.id})
    if order is None:
        raise NotFound("order_not_found", "No such order in your park.")
    return order


@bp.get("/orders/<int:order_id>/quote")
@device_login_required(COLLECTOR, plain=True)
def quote(order_id):
    order = orders.find_order_record(existing_id(order_id), g.park)
    if order is None:
        raise NotFound("order_not_found", "No such order in your park.")
    left_at = request.args.get("left_at")
    body = Body({"left_at": left_at} if left_at else {})
    parsed = body.time("left_at")
    body.check()
    if order.state != OrderState.OPEN.value:
        raise orders.Conflict("order_not_open", f"This order is already {order.state}.",
                              extra={"order": order_dict(order)})
    return jsonify({"order": order_dict(order), "quote": orders.quote_order(order, now_or(parsed), g.park,
                                                                                  order.quote_inputs).to_dict()})


@bp.post("/orders/<int:order_id>/settle")
@device_login_required(COLLECTOR, plain=True)
@idempotent
def settle(order_id):
    body = Body()
    body.client_ref()
    left_at = body.time("left_at", required=True)
    method = body.str("method", choices=PAY_METHODS)
    amount = body.int("amount_fen", minimum=0, maximum=10_000_000)
    reason = body.str("free_reason", required=False, max_len=80)
    body.check()
    done = orders.settle(collector=g.staff, shift=_shift(), park=g.park, order_id=existing_id(order_id),
                         left_at=left_at, received_at=utcnow(), method=method, amount_fen=amount, free_reason=reason)
    return {"order": order_dict(done.order), "receipt": _receipt(done)}, 200


def _receipt(done: orders.Settlement) -> dict:
    order, settings = done.order, g.collector_settings  # settings read with the token
    minutes = int((done.quote.left_at - order.entered_at).total_seconds() // 60)
    return {"receipt_no": order.receipt_no, "header": settings.receipt_header, "footer": settings.receipt_footer,
            "park": g.park.name, "segment": order.segment_name, "berth": order.berth_number, "plate": order.plate,
            "entered_at": iso(order.entered_at), "left_at": iso(order.left_at), "duration_minutes": minutes,
            "fee_fen": order.fee_fen, "prepaid_fen": order.prepaid_fen, "collected_fen": done.collected_fen,
            "refund_fen": done.refund_fen,
            "method": order.payment_method, "free_reason": order.free_reason, "lines": order.fee_lines,
            "collector": g.staff.display_name, "timezone": g.park.timezone}


@bp.post("/orders/<int:order_id>/escape")
@device_login_required(COLLECTOR)
@idempotent
def escape(order_id):
    body = Body()
    body.client_ref()
    left_at = body.time("left_at", required=True)
    body.check()
    arrear = orders.escape(collector=g.staff, shift=_shift(), park=g.park, order_id=existing_id(order_id),
                           left_at=left_at, received_at=utcnow())
    return {"order": order_dict(arrear.order), "arrear": _arrear_dict(arrear)}, 200


@bp.post("/orders/<int:order_id>/photos")
@photo_body
@device_login_required(COLLECTOR)
@idempotent(form=True)
def upload_photo(order_id):
    order = _my_order(order_id)
    kind = request.form.get("kind")
    upload = request.files.get("photo")
    if kind not in photos.KINDS or upload is None:
        raise Invalid("validation_failed", "Send kind=entry|exit|evidence and a file field 'photo'.",
                      {"kind": "entry, exit or evidence"} if kind not in photos.KINDS else {"photo": "required"})
    photo = photos.store(order, kind, upload.read(photos.MAX_BYTES + 1), g.staff)
    return {"photo": {"id": photo.id, "kind": photo.kind, "size_bytes": photo.size_bytes,
                      "content_type": photo.content_type}}, 201


@bp.post("/arrears/recover")
@device_login_required(COLLECTOR)
@idempotent
def recover():
    body = Body()
    body.client_ref()
    ids = body.int_list("arrear_ids")
    method = body.str("method", choices=("cash", "electronic", "card"))
    amount = body.int("amount_fen", minimum=1, maximum=100_000_000)
    body.check()
    arrears = orders.recover(collector=g.staff, shift=_shift(), park=g.park, arrear_ids=ids, method=method,
                             amount_fen=amount, at=utcnow())
    return {"recovered": [_arrear_dict(a) for a in arrears], "total_fen": sum(a.amount_fen for a in arrears),
            "method": method}, 200


@bp.get("/orders")
@device_login_required(COLLECTOR)
def list_orders():
    state = request.args.get("state", "open")
    if state not in ("open", "closed"):
        raise Invalid("validation_failed", "state is open or closed.", {"state": "open or closed"})
    day = _day_arg()
    stmt = select(ParkingOrder).where(ParkingOrder.park_id == g.park.id)
    if state == "open":
        shift = _shift()
        stmt = stmt.where(ParkingOrder.state == OrderState.OPEN.value)
        if shift is not None:
            stmt = stmt.where(ParkingOrder.segment_id == shift.segment_id)
        stmt = stmt.order_by(ParkingOrder.entered_at)
    else:
        start, end = shifts.local_day_bounds(g.park, day)
        stmt = stmt.where(ParkingOrder.state != OrderState.OPEN.value, ParkingOrder.exit_collector_id == g.staff.id,
                          ParkingOrder.left_at >= start, ParkingOrder.left_at < end).order_by(ParkingOrder.left_at)
    return jsonify({"orders": [order_dict(o) for o in db.session.scalars(stmt.limit(500))]})


def _day_arg() -> date:
    raw = request.args.get("date")
    if not raw:
        from zoneinfo import ZoneInfo
        return utcnow().astimezone(ZoneInfo(g.park.timezone)).date()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Invalid("validation_failed", "date is YYYY-MM-DD.", {"date": "YYYY-MM-DD"}) from None
    if not 1970 <= day.year <= 9998:  # the day's bounds in the park's time must stay representable
        raise Invalid("validation_failed", "date is out of range.", {"date": "a year from 1970 to 9998"})
    return day


@bp.get("/stats/today")
@device_login_required(COLLECTOR)
def stats_today():
    start, end = shifts.local_day_bounds(g.park, _day_arg())
    return jsonify({"date": start.date().isoformat(),
                    "summary": shifts.day_summary(g.staff, g.park, start, end).to_dict()})


@bp.get("/time")
def server_time():
    return jsonify({"now": utcnow().isoformat()})


@bp.get("/messages")
@device_login_required()
def messages():
    after = request.args.get("after", "0")
    if not after.isdigit() or int(after) > MAX_ID:
        raise Invalid("validation_failed", "after is a message id.", {"after": "a whole number"})
    rows = db.session.scalars(select(Message).where(Message.recipient_id == g.staff.id, Message.id > int(after))
                              .order_by(Message.id).limit(100)).all()
    return jsonify({"messages": [{"id": m.id, "kind": m.kind, "title": m.title, "body": m.body,
                                  "payload": m.payload, "created_at": iso(m.created_at)} for m in rows],
                    "last_id": rows[-1].id if rows else int(after)})

