"""扫码支付 at the kerb: the handheld asks a QR code for an order's fee due now and polls it; the provider's
verified notice settles the order (app/payments), and the collector's inbox says so."""
from __future__ import annotations

from flask import g, jsonify

from app.core.api.models import body
from app.core.types import utcnow
from app.payments import services as payments
from app.payments.models import Payment
from app.payments.qr import qr_svg
from pos_api import contract as c
from pos_api.contract import api
from pos_api.support import device_login_required, existing_id, idempotent, iso

PAY = ["Pay by phone"]
PAYMENT_EXAMPLE = {"id": 31, "order_id": 812, "state": "created", "settled": False, "flag": None, "amount_fen": 400,
                   "provider": "wechat", "code_url": "weixin://wxpay/bizpayurl?pr=abc123",
                   "qr_svg": "<svg xmlns=\"http://www.w3.org/2000/svg\" ...></svg>",
                   "expires_at": "2026-05-01T09:35:00+08:00", "paid_at": None, "currency": "CNY"}


@api.route("/orders/<int:order_id>/payments", "POST", summary="A QR code for the order's fee due now",
           tags=PAY, body=c.PayByPhone, answers={201: c.PaymentAnswer}, idempotent=True,
           example={"payment": PAYMENT_EXAMPLE},
           description="The driver scans it with WeChat or Alipay; poll GET /payments/{id} (or watch the inbox for "
                       "paid_online). The QR code is good five minutes; asking again while it is still good gives "
                       "the same one, and a changed fee a new one.",
           errors=("wrong_role", "order_not_found", "order_not_open", "nothing_due", "no_merchant_account",
                   "payment_unavailable"))
@device_login_required("collector")
@idempotent
def pay_by_phone(order_id):
    channel = body(c.PayByPhone).channel
    payment = payments.request_order_payment(park=g.park, order_id=existing_id(order_id), staff_id=g.staff.id,
                                             channel=channel, now=utcnow())
    return {"payment": payment_dict(payment)}, 201


@api.route("/payments/<int:payment_id>", "GET", summary="A payment's state", tags=PAY,
           answers={200: c.PaymentAnswer}, errors=("wrong_role", "payment_not_found"),
           example={"payment": {**PAYMENT_EXAMPLE, "state": "paid", "settled": True,
                                "paid_at": "2026-05-01T09:31:12+08:00"}})
@device_login_required("collector")
def payment_state(payment_id):
    payment = payments.find_payment(existing_id(payment_id), g.park)
    return jsonify({"payment": payment_dict(payment)})


def payment_dict(payment: Payment) -> dict:
    """A payment past its time unpaid reads as closed (the worker closes it at the provider)."""
    waiting = payment.state == "created" and payment.expires_at > utcnow()
    state = "closed" if payment.state == "created" and not waiting else payment.state
    return {"id": payment.id, "order_id": payment.order_id, "state": state, "settled": payment.booked,
            "flag": payment.flag, "amount_fen": payment.amount_fen, "provider": payment.provider,
            "code_url": payment.code_url if waiting else None,
            "qr_svg": qr_svg(payment.code_url) if waiting and payment.code_url else None,
            "expires_at": iso(payment.expires_at), "paid_at": iso(payment.paid_at), "currency": "CNY"}
