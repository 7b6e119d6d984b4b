"""The demo's payments by phone: Demo City takes them through a sandbox merchant account; a driver on Central
South has paid by phone (the collector told in the inbox), the group manager refunded part of it, a driver on
Market Road paid by phone after the collector had taken cash (refunded automatically), and today's statement is
reconciled, listing that refunded payment's lines as differences."""
from __future__ import annotations

import secrets as random
from datetime import timedelta

from sqlalchemy import select

from app.berths.models import BerthSegment
from app.core.types import utcnow
from app.extensions import db
from app.orders import services as orders
from app.orders.models import OrderState, ParkingOrder
from app.payments import services as payments
from app.payments.models import MerchantAccount
from app.payments.providers.base import CHINA
from app.payments.providers.sandbox import SandboxProvider
from app.sensors.services import on_duty
from app.shifts import services as shifts
from app.staff.models import Staff
from app.tenancy.models import City, Park

LEFT_AGO = timedelta(minutes=20)  # the cars paid for have left a while ago


def _open_order(park_name: str, segment_name: str) -> tuple[Park, ParkingOrder] | None:
    """The segment's longest-parked car with a fee due when it left: whatever the hour of the demo, not a stay
    still within its free minutes or prepaid in full (a fee only grows, so it is due a moment later too)."""
    park = db.session.scalar(select(Park).where(Park.name == park_name))
    if park is None:
        return None
    left = utcnow() - LEFT_AGO
    for order in db.session.scalars(select(ParkingOrder).join(BerthSegment, BerthSegment.id == ParkingOrder.segment_id)
                                    .where(ParkingOrder.park_id == park.id, BerthSegment.name == segment_name,
                                           ParkingOrder.state == OrderState.OPEN.value,
                                           ParkingOrder.entered_at < left - LEFT_AGO)
                                    .order_by(ParkingOrder.entered_at)):
        if orders.quote_order(order, left, park).due_fen > 0:
            return park, order
    return None


def _on_duty(park: Park, order: ParkingOrder, collector: Staff | None) -> None:
    """Someone on duty on the order's segment to be told of the payment, whatever the hour of the demo (at
    night the seeded shifts have ended): the collector starts a late shift there, as a night patrol."""
    if collector is None or collector.park_id != park.id or order.segment_id is None:
        return
    if on_duty([order.segment_id]).get(order.segment_id) or shifts.open_shift(collector) is not None:
        return
    shifts.start_shift(collector, park, order.segment_id, None, utcnow() - 3 * LEFT_AGO)


def _paid_by_phone(account: MerchantAccount, park: Park, order: ParkingOrder, collector: Staff | None):
    _on_duty(park, order, collector)
    now = utcnow() - LEFT_AGO
    payment = payments.request_order_payment(park=park, order_id=order.id, staff_id=collector.id if collector else None,
                                             now=now)
    for delivery in SandboxProvider(account, payments.notify_url(account)).pay(payment.out_trade_no, now=now):
        payments.receive_notice(account.id, delivery.headers, delivery.body, now)
    return payment


def seed_payments() -> None:
    city = db.session.scalar(select(City).where(City.name == "Demo City"))
    if city is None or db.session.scalar(select(MerchantAccount.id).where(MerchantAccount.city_id == city.id)):
        return
    manager = db.session.scalar(select(Staff).where(Staff.username == "group1"))
    collector = db.session.scalar(select(Staff).where(Staff.username == "collector1"))
    account = payments.save_account(manager or collector, city, provider="sandbox", name="Demo City sandbox",
                                    secrets={"hmac_key": random.token_urlsafe(24)})
    account.settings = {"duplicates": 1}  # each notice comes twice, as real providers resend them
    db.session.flush()
    paid = _open_order("Central Street", "Central South")
    if paid is not None:
        payment = _paid_by_phone(account, *paid, collector)
        db.session.refresh(payment)
        if payment.booked and manager is not None:
            payments.refund(payment, min(100, payment.amount_fen), "驾驶员对停车时长有异议，部分退款", actor=manager)
    twice = _open_order("Market Road", "Market East")
    if twice is not None and manager is not None:
        park, order = twice
        at = utcnow() - LEFT_AGO
        asked = payments.request_order_payment(park=park, order_id=order.id, staff_id=None, now=at)
        orders.manual_settle(manager, order, orders.quote_order(order, at, park).due_fen, "cash", None, at)
        for delivery in SandboxProvider(account, payments.notify_url(account)).pay(asked.out_trade_no,
                                                                                   now=at + timedelta(seconds=30)):
            payments.receive_notice(account.id, delivery.headers, delivery.body, at + timedelta(seconds=31))
    db.session.flush()
    payments.fetch_and_reconcile(account, utcnow().astimezone(CHINA).date())
