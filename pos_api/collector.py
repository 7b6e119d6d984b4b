"""Collector endpoints: shifts, berths, plates, orders, photos, arrears, stats, messages."""
from __future__ import annotations

from base64 import urlsafe_b64decode, urlsafe_b64encode
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import g, jsonify, request
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import joinedload

from app.berths.models import Berth
from app.core.api.models import MAX_ID, body, query
from app.core.errors import Conflict, Invalid, NotFound
from app.core.plates import normalize_plate
from app.core.types import utcnow
from app.extensions import db
from app.inbox.models import Message
from app.kerb.arrival import SENSOR_ARRIVAL
from app.kerb.board import disagrees, sensor_states
from app.orders import photos
from app.orders import services as orders
from app.orders.models import OrderState, ParkingOrder
from app.orders.records import OrderView
from app.shifts import services as shifts
from app.tenancy.models import Park
from pos_api import contract as c
from pos_api.contract import api
from pos_api.support import device_login_required, existing_id, idempotent, iso, iso_text, now_or, photo_body

COLLECTOR = "collector"


def _shift():
    """The open shift, read with the token (see device_login_required)."""
    return g.open_shift


SHIFTS, ORDERS, ARREARS, MINE = ["Shifts"], ["Orders"], ["Arrears"], ["My day"]
ORDER_EXAMPLE = {"id": 812, "state": "open", "plate": "粤B12345", "vehicle_class": "small", "park_id": 3,
                 "segment_id": 7, "berth_id": 51, "berth": "A001", "entered_at": "2026-05-01T08:00:00+08:00",
                 "left_at": None, "prepaid_fen": 0, "fee_fen": 0, "paid_fen": 0, "reduction_fen": 0,
                 "payment_method": None, "receipt_no": None, "currency": "CNY"}
SHIFT_EXAMPLE = {"id": 40, "segment_id": 7, "segment": "Renmin Rd North", "started_at": "2026-05-01T07:58:00+08:00",
                 "ended_at": None, "late": False, "left_early": None}


@api.route("/shifts", "POST", summary="Sign in to a berth segment", tags=SHIFTS, body=c.StartShift,
           answers={201: c.ShiftStarted}, idempotent=True, example={"shift": SHIFT_EXAMPLE},
           errors=("wrong_role", "segment_not_found", "shift_open"))
@device_login_required(COLLECTOR)
@idempotent
def start_shift():
    segment_id = body(c.StartShift).segment_id
    shift = shifts.start_shift(g.staff, g.park, segment_id, g.handheld_id, utcnow())
    return {"shift": _shift_dict(shift)}, 201


@api.route("/shifts/current/close", "POST", summary="Sign out of the segment; the shift's summary", tags=SHIFTS,
           body=c.CloseShift, answers={200: c.ShiftClosed}, idempotent=True,
           errors=("wrong_role", "no_open_shift", "bad_signout_password"),
           example={"shift": {**SHIFT_EXAMPLE, "ended_at": "2026-05-01T17:02:00+08:00", "left_early": False},
                    "summary": {"cars_in": 31, "cars_out": 30, "unpaid_count": 1, "unpaid_fen": 400,
                                "fee_cash_fen": 5200, "fee_electronic_fen": 3800, "fee_card_fen": 0,
                                "prepay_cash_fen": 0, "prepay_electronic_fen": 0, "refund_cash_fen": 0,
                                "refund_electronic_fen": 0, "recovery_cash_fen": 0, "recovery_electronic_fen": 0,
                                "recovery_card_fen": 0, "cash_to_hand_over_fen": 5200, "currency": "CNY"},
                    "collector": "Wang Fang", "park": "Renmin Rd"})
@device_login_required(COLLECTOR)
@idempotent
def close_shift():
    password = body(c.CloseShift).password
    shift = shifts.close_shift(g.staff, g.park, utcnow(), password)
    return {"shift": _shift_dict(shift), "summary": _summary(shifts.shift_summary(shift)),
            "collector": g.staff.display_name, "park": g.park.name}, 200


def _summary(summary) -> dict:
    return {**summary.to_dict(), "currency": "CNY"}


def _shift_dict(shift) -> dict:
    return {"id": shift.id, "segment_id": shift.segment_id, "segment": shift.segment.name,
            "started_at": iso(shift.started_at), "ended_at": iso(shift.ended_at), "late": shift.late,
            "left_early": shift.left_early}


@api.route("/berths", "GET", summary="Berths of my segment with their open orders and the fee so far",
           tags=SHIFTS, answers={200: c.Berths}, errors=("wrong_role", "not_signed_in"),
           example={"segment_id": 7, "berths": [
               {"id": 51, "number": "A001", "occupied": True, "order": {
                   "id": 812, "plate": "粤B12345", "entered_at": "2026-05-01T08:00:00+08:00", "prepaid_fen": 0,
                   "fee_so_far_fen": 400},
                "sensor": {"serial": "S-0051", "state": "occupied", "online": True, "low_battery": False,
                           "battery_mv": 3600, "since": "2026-05-01T07:58:40+08:00"}, "mismatch": False},
               {"id": 52, "number": "A002", "occupied": False, "order": None, "sensor": None, "mismatch": False}]})
@device_login_required(COLLECTOR)
def list_berths():
    shift = _shift()
    if shift is None:
        raise orders.Forbidden("not_signed_in", "Sign in to a berth segment first.")
    berths = db.session.scalars(select(Berth).where(Berth.segment_id == shift.segment_id, Berth.active.is_(True))
                                .order_by(Berth.number)).all()
    open_orders = {o.berth_id: o for o in db.session.scalars(select(ParkingOrder).where(
        ParkingOrder.segment_id == shift.segment_id, ParkingOrder.state == OrderState.OPEN.value))}
    sensors = sensor_states([b.id for b in berths])
    now = utcnow()
    return jsonify({"segment_id": shift.segment_id, "berths": [
        {"id": b.id, "number": b.number, "occupied": b.id in open_orders,
         "order": _order_brief(open_orders[b.id], now) if b.id in open_orders else None,
         "sensor": _local_sensor(sensors.get(b.id)), "mismatch": disagrees(sensors.get(b.id), b.id in open_orders)}
        for b in berths]})


def _local_sensor(sensor: dict | None) -> dict | None:
    return sensor and {**sensor, "since": iso_text(sensor["since"])}


def _order_brief(order: ParkingOrder, now) -> dict:
    quote = orders.quote_order(order, max(now, order.entered_at))
    return {"id": order.id, "plate": order.plate, "entered_at": iso(order.entered_at),
            "prepaid_fen": order.prepaid_fen, "fee_so_far_fen": quote.fee.total_fen}


@api.route("/plates/<plate>", "GET", tags=ORDERS, answers={200: c.PlateStatus}, errors=("bad_plate",),
           summary="Open orders in the city, arrears I may recover and black list status of a plate",
           example={"plate": "粤B12345", "open_orders": [], "arrears": [
               {"id": 9, "order_id": 700, "park": "Renmin Rd", "amount_fen": 600,
                "entered_at": "2026-04-28T09:00:00+08:00", "left_at": "2026-04-28T11:40:00+08:00", "berth": "A003"}],
                    "arrears_total_fen": 600, "blacklisted": False, "blacklist_reason": None})
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


@api.route("/orders", "POST", summary="Car in: open an order on a berth", tags=ORDERS, body=c.CarIn,
           answers={201: c.OrderAnswer}, idempotent=True, example={"order": ORDER_EXAMPLE},
           description="vehicle_class is one of the sign-in's vehicle_classes (only the classes the park's car types "
                       "price: a free text would be priced as the default class).",
           errors=("wrong_role", "not_signed_in", "not_on_segment", "berth_not_found", "berth_occupied",
                   "plate_parked", "plate_blacklisted", "bad_plate", "prepay_not_allowed"))
@device_login_required(COLLECTOR, plain=True)
@idempotent
def car_in():
    sent = body(c.CarIn)
    prepay = sent.prepay
    order = orders.car_in(collector=g.staff, shift=_shift(), park=g.park, berth_id=sent.berth_id, plate=sent.plate,
                          entered_at=now_or(sent.entered_at), received_at=utcnow(), vehicle_class=sent.vehicle_class,
                          prepay_fen=prepay.amount_fen if prepay else 0,
                          prepay_method=prepay.method if prepay else None, settings=g.collector_settings,
                          arrival=SENSOR_ARRIVAL)
    return {"order": order_dict(order)}, 201


def order_dict(order: OrderView) -> dict:
    return {"id": order.id, "state": order.state, "plate": order.plate, "vehicle_class": order.vehicle_class,
            "park_id": order.park_id, "segment_id": order.segment_id, "berth_id": order.berth_id,
            "berth": order.berth_number, "entered_at": iso(order.entered_at),
            "left_at": iso(order.left_at), "prepaid_fen": order.prepaid_fen, "fee_fen": order.fee_fen,
            "paid_fen": order.paid_fen, "reduction_fen": order.reduction_fen,
            "payment_method": order.payment_method, "receipt_no": order.receipt_no, "currency": "CNY"}


def quote_dict(quote: dict) -> dict:
    """A service's quote in the API's conventions: left_at in the park's offset, the currency named."""
    return {**quote, "left_at": iso_text(quote["left_at"]), "currency": "CNY"}


_MY_ORDER = select(ParkingOrder).where(
    ParkingOrder.id == bindparam("order_id"), ParkingOrder.park_id == bindparam("park_id")).options(
    joinedload(ParkingOrder.berth))


def _my_order(order_id: int) -> ParkingOrder:
    order = db.session.scalar(_MY_ORDER, {"order_id": existing_id(order_id), "park_id": g.park.id})
    if order is None:
        raise NotFound("order_not_found", "No such order in your park.")
    return order


@api.route("/orders/<int:order_id>/quote", "GET", summary="The fee if the car left at left_at, with its lines",
           tags=ORDERS, query=c.QuoteQuery, answers={200: c.Quoted}, errors=("wrong_role", "order_not_found",
                                                                           "order_not_open"),
           example={"order": ORDER_EXAMPLE, "quote": {
               "fee_fen": 400, "prepaid_fen": 0, "due_fen": 400, "refund_fen": 0,
               "left_at": "2026-05-01T09:30:00+08:00", "tariff_version_id": 5, "currency": "CNY", "lines": [
                   {"kind": "day", "label": "Day", "start": "2026-05-01T08:00:00+08:00",
                    "end": "2026-05-01T09:30:00+08:00", "minutes": 90, "units": 2, "unit_price_fen": 200,
                    "amount_fen": 400}]}})
@device_login_required(COLLECTOR, plain=True)
def quote(order_id):
    order = orders.find_order_record(existing_id(order_id), g.park)
    if order is None:
        raise NotFound("order_not_found", "No such order in your park.")
    left_at = query(c.QuoteQuery).left_at
    if order.state != OrderState.OPEN.value:
        raise Conflict("order_not_open", f"This order is already {order.state}.",
                       extra={"state": order.state, "order": order_dict(order)})
    return jsonify({"order": order_dict(order), "quote": quote_dict(orders.quote_order(
        order, now_or(left_at), g.park, order.quote_inputs).to_dict())})


@api.route("/orders/<int:order_id>/settle", "POST", summary="Car out: pay and close the order", tags=ORDERS,
           body=c.Settle, answers={200: c.Settled}, idempotent=True,
           description="amount_fen must equal the quote's due_fen for this left_at, or the answer is 409 fee_changed "
                       "with the new quote. method free needs a free reason and the pos.free_release permission.",
           errors=("wrong_role", "not_signed_in", "order_not_found", "order_not_open", "fee_changed",
                   "left_before_entry", "bad_method", "bad_free_reason", "free_release_forbidden",
                   "free_release_disabled"),
           example={"order": {**ORDER_EXAMPLE, "state": "settled", "left_at": "2026-05-01T09:30:00+08:00",
                              "fee_fen": 400, "paid_fen": 400, "payment_method": "cash",
                              "receipt_no": "R20260501-000812"},
                    "receipt": {"receipt_no": "R20260501-000812", "header": "Renmin Rd parking", "footer": None,
                                "park": "Renmin Rd", "segment": "Renmin Rd North", "berth": "A001",
                                "plate": "粤B12345", "entered_at": "2026-05-01T08:00:00+08:00",
                                "left_at": "2026-05-01T09:30:00+08:00", "duration_minutes": 90, "fee_fen": 400,
                                "prepaid_fen": 0, "collected_fen": 400, "refund_fen": 0, "method": "cash",
                                "free_reason": None, "lines": [], "collector": "Wang Fang",
                                "timezone": "Asia/Shanghai", "currency": "CNY"}})
@device_login_required(COLLECTOR, plain=True)
@idempotent
def settle(order_id):
    sent = body(c.Settle)
    with _quotes_in_api_form():
        done = orders.settle(collector=g.staff, shift=_shift(), park=g.park, order_id=existing_id(order_id),
                             left_at=sent.left_at, received_at=utcnow(), method=sent.method,
                             amount_fen=sent.amount_fen, free_reason=sent.free_reason)
    return {"order": order_dict(done.order), "receipt": _receipt(done)}, 200


@contextmanager
def _quotes_in_api_form():
    """A refusal carrying a quote (fee_changed, prepay_covers_fee) carries it as the quote endpoint does."""
    try:
        yield
    except Conflict as refusal:
        if "quote" in refusal.extra:
            refusal.extra = {**refusal.extra, "quote": quote_dict(refusal.extra["quote"])}
        raise


def _receipt(done: orders.Settlement) -> dict:
    order, settings = done.order, g.collector_settings  # settings read with the token
    minutes = int((done.quote.left_at - order.entered_at).total_seconds() // 60)
    return {"receipt_no": order.receipt_no, "header": settings.receipt_header, "footer": settings.receipt_footer,
            "park": g.park.name, "segment": order.segment_name, "berth": order.berth_number, "plate": order.plate,
            "entered_at": iso(order.entered_at), "left_at": iso(order.left_at), "duration_minutes": minutes,
            "fee_fen": order.fee_fen, "prepaid_fen": order.prepaid_fen, "collected_fen": done.collected_fen,
            "refund_fen": done.refund_fen,
            "method": order.payment_method, "free_reason": order.free_reason, "lines": order.fee_lines,
            "collector": g.staff.display_name, "timezone": g.park.timezone, "currency": "CNY"}


@api.route("/orders/<int:order_id>/escape", "POST", summary="逃单: the car left unpaid; opens an arrear",
           tags=ORDERS, body=c.Escape, answers={200: c.Escaped}, idempotent=True,
           description="The fee beyond the prepayment becomes an arrear; a prepayment covering the fee is "
                       "409 prepay_covers_fee (settle instead).",
           errors=("wrong_role", "not_signed_in", "order_not_found", "order_not_open", "prepay_covers_fee",
                   "left_before_entry"),
           example={"order": {**ORDER_EXAMPLE, "state": "unpaid", "left_at": "2026-05-01T09:30:00+08:00",
                              "fee_fen": 400},
                    "arrear": {"id": 9, "order_id": 812, "park": "Renmin Rd", "amount_fen": 400,
                               "entered_at": "2026-05-01T08:00:00+08:00", "left_at": "2026-05-01T09:30:00+08:00",
                               "berth": "A001"}})
@device_login_required(COLLECTOR)
@idempotent
def escape(order_id):
    left_at = body(c.Escape).left_at
    with _quotes_in_api_form():
        arrear = orders.escape(collector=g.staff, shift=_shift(), park=g.park, order_id=existing_id(order_id),
                               left_at=left_at, received_at=utcnow())
    return {"order": order_dict(arrear.order), "arrear": _arrear_dict(arrear)}, 200


@api.route("/orders/<int:order_id>/photos", "POST", summary="Attach a JPEG or PNG photo (at most 5 MB)",
           tags=ORDERS, form=c.OrderPhoto, answers={201: c.PhotoStored}, idempotent=True,
           errors=("wrong_role", "order_not_found", "bad_photo", "photo_too_large"),
           example={"photo": {"id": 77, "kind": "entry", "size_bytes": 183211, "content_type": "image/jpeg"}})
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


@api.route("/arrears/recover", "POST", summary="追缴: recover several debts at once, all or nothing",
           tags=ARREARS, body=c.Recover, answers={200: c.Recovered}, idempotent=True,
           description="amount_fen must equal the sum owed, or the answer is 409 arrears_changed with the total.",
           errors=("wrong_role", "not_signed_in", "arrear_not_found", "arrears_changed", "arrear_already_recovered",
                   "no_arrears"),
           example={"recovered": [{"id": 9, "order_id": 700, "park": "Renmin Rd", "amount_fen": 600,
                                   "entered_at": "2026-04-28T09:00:00+08:00",
                                   "left_at": "2026-04-28T11:40:00+08:00", "berth": "A003"}],
                    "total_fen": 600, "method": "cash", "currency": "CNY"})
@device_login_required(COLLECTOR)
@idempotent
def recover():
    sent = body(c.Recover)
    try:
        arrears = orders.recover(collector=g.staff, shift=_shift(), park=g.park, arrear_ids=sent.arrear_ids,
                                 method=sent.method, amount_fen=sent.amount_fen, at=utcnow())
    except Conflict as refusal:
        if refusal.code != "fee_changed":
            raise
        # fee_changed carries a quote everywhere; a recovery's total has its own code and shape
        raise Conflict("arrears_changed", refusal.message, refusal.fields, refusal.extra) from None
    return {"recovered": [_arrear_dict(a) for a in arrears], "total_fen": sum(a.amount_fen for a in arrears),
            "method": sent.method, "currency": "CNY"}, 200


@api.route("/orders", "GET", summary="My open orders (segment) or the orders I closed on a day, a page at a time",
           tags=ORDERS, query=c.OrdersQuery, answers={200: c.OrderPage}, errors=("wrong_role",),
           description="Open orders come oldest entry first, closed ones in the order they left. Ask again with "
                       "after=<next> until next is null.",
           example={"orders": [ORDER_EXAMPLE], "next": None})
@device_login_required(COLLECTOR)
def list_orders():
    asked = query(c.OrdersQuery)
    stmt = select(ParkingOrder).where(ParkingOrder.park_id == g.park.id)
    if asked.state == "open":
        shift = _shift()
        stmt = stmt.where(ParkingOrder.state == OrderState.OPEN.value)
        if shift is not None:
            stmt = stmt.where(ParkingOrder.segment_id == shift.segment_id)
        key: Any = ParkingOrder.entered_at
    else:
        start, end = shifts.local_day_bounds(g.park, _day(asked.date))
        stmt = stmt.where(ParkingOrder.state != OrderState.OPEN.value, ParkingOrder.exit_collector_id == g.staff.id,
                          ParkingOrder.left_at >= start, ParkingOrder.left_at < end)
        key = ParkingOrder.left_at
    if asked.after:
        at, last_id = read_cursor(asked.after)
        stmt = stmt.where(or_(key > at, and_(key == at, ParkingOrder.id > last_id)))
    rows = db.session.scalars(stmt.order_by(key, ParkingOrder.id).limit(asked.limit + 1)).all()
    page = rows[:asked.limit]
    more = len(rows) > asked.limit
    last = page[-1] if page else None
    return jsonify({"orders": [order_dict(o) for o in page],
                    "next": cursor(getattr(last, key.key), last.id) if more and last else None})


def cursor(at: datetime, last_id: int) -> str:
    """Where a page ended: opaque to the handheld (the sort time and id of its last row)."""
    return urlsafe_b64encode(f"{at.astimezone(timezone.utc).isoformat()}|{last_id}".encode()).decode()


def read_cursor(raw: str) -> tuple[datetime, int]:
    try:
        at, last_id = urlsafe_b64decode(raw.encode()).decode().split("|")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None or not 0 < int(last_id) <= MAX_ID:
            raise ValueError(raw)
        return parsed, int(last_id)
    except (ValueError, UnicodeError):
        raise Invalid("validation_failed", "after is the next cursor of a page.",
                      {"after": "the `next` of the previous page"}) from None


def _day(raw: str | None) -> date:
    if not raw:
        return utcnow().astimezone(ZoneInfo(g.park.timezone)).date()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Invalid("validation_failed", "date is YYYY-MM-DD.", {"date": "YYYY-MM-DD"}) from None
    if not 1970 <= day.year <= 9998:  # the day's bounds in the park's time must stay representable
        raise Invalid("validation_failed", "date is out of range.", {"date": "a year from 1970 to 9998"})
    return day


@api.route("/stats/today", "GET", summary="My figures of a day (today by default)", tags=MINE, query=c.DayQuery,
           answers={200: c.DayStats}, errors=("wrong_role",),
           example={"date": "2026-05-01", "summary": {
               "cars_in": 31, "cars_out": 30, "unpaid_count": 1, "unpaid_fen": 400, "fee_cash_fen": 5200,
               "fee_electronic_fen": 3800, "fee_card_fen": 0, "prepay_cash_fen": 0, "prepay_electronic_fen": 0,
               "refund_cash_fen": 0, "refund_electronic_fen": 0, "recovery_cash_fen": 0,
               "recovery_electronic_fen": 0, "recovery_card_fen": 0, "cash_to_hand_over_fen": 5200,
               "currency": "CNY"}})
@device_login_required(COLLECTOR)
def stats_today():
    start, end = shifts.local_day_bounds(g.park, _day(query(c.DayQuery).date))
    return jsonify({"date": start.astimezone(ZoneInfo(g.park.timezone)).date().isoformat(),
                    "summary": _summary(shifts.day_summary(g.staff, g.park, start, end))})


@api.route("/time", "GET", summary="The server's clock, to correct the handheld's", tags=["Session"],
           answers={200: c.ServerTime}, security=None, example={"now": "2026-05-01T00:00:00.123456+00:00"})
def server_time():
    return jsonify({"now": utcnow().isoformat()})


@api.route("/messages", "GET", summary="My inbox after a message id, oldest first", tags=MINE, query=c.MessagesQuery,
           answers={200: c.Messages}, description="Poll with the last id you saw: nothing is lost when several arrive "
                                                   "together.",
           example={"messages": [{"id": 15, "kind": "sensor_no_order", "title": "Berth A001: car present, no order",
                                  "body": "A car has been in berth A001 for 10 minutes without an order.",
                                  "payload": {"berth_id": 51, "number": "A001",
                                              "arrived_at": "2026-05-01T08:00:00+08:00"},
                                  "created_at": "2026-05-01T08:10:00+08:00"}], "last_id": 15})
@device_login_required()
def messages():
    asked = query(c.MessagesQuery)
    rows = db.session.scalars(select(Message).where(Message.recipient_id == g.staff.id, Message.id > asked.after)
                              .order_by(Message.id).limit(asked.limit)).all()
    return jsonify({"messages": [{"id": m.id, "kind": m.kind, "title": m.title, "body": m.body,
                                  "payload": _local_payload(m.payload), "created_at": iso(m.created_at)} for m in rows],
                    "last_id": rows[-1].id if rows else asked.after})


def _local_payload(payload: dict | None) -> dict | None:
    """The times a message's payload carries (`*_at`, written in UTC) in the park's offset."""
    if not payload:
        return payload
    return {k: iso_text(v) if (k == "at" or k.endswith("_at")) and isinstance(v, str) else v
            for k, v in payload.items()}
