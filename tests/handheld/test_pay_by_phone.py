"""Paying by phone in a phone-sized Chromium, in Chinese, with the demo's sandbox provider: the collector shows
an order's QR code and the handheld sees the notice settle it; a driver opens a berth's sign, pays through the
sandbox wallet and gets the e-receipt."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.handheld.conftest import app_errors
from tests.handheld.test_collector_shift import berth, sign_in

pytestmark = pytest.mark.browser


def test_the_collector_shows_a_qr_code_and_sees_it_paid(live_app, live_server, phone):
    from app.extensions import db
    from app.orders.models import ParkingOrder
    from app.payments.models import Payment

    page = phone
    page.set_default_timeout(10_000)
    sign_in(page, live_server)
    page.click("#segments >> text=Central North")
    page.wait_for_selector("#berths")
    cell, number = berth(page, "occupied")
    cell.click()
    page.click("#settle-qr")
    page.wait_for_selector("#qr-code svg")
    assert page.inner_text("h1") == "请车主扫码支付"
    payment_id = int(page.get_attribute("#qr-code", "data-payment"))
    with live_app.app_context():
        payment = db.session.get(Payment, payment_id)
        out_trade_no, order_id = payment.out_trade_no, payment.order_id
    # the driver's wallet pays (the sandbox's page stands in for it); its notices reach the server
    assert page.request.post(f"{live_server}/pay/sandbox/{out_trade_no}", form={"outcome": "pay"},
                             max_redirects=0).status == 302
    page.wait_for_selector("#berths")
    assert "已扫码支付" in page.inner_text("#toast")
    with live_app.app_context():
        order = db.session.get(ParkingOrder, order_id)
        assert order.state == "settled" and order.payment_method == "electronic"
        assert db.session.scalar(select(Payment.booked).where(Payment.id == payment_id)) is True
    assert page.locator(f"#berths [data-berth='{number}']").get_attribute("data-state") == "free"
    assert app_errors(page) == []


def test_a_driver_pays_from_the_berth_sign(live_app, live_server, phone):
    from app.extensions import db
    from app.orders.models import ParkingOrder
    from app.payments.driver import berth_token
    from app.tenancy.models import Park

    with live_app.app_context():  # a car on Central Street (Demo City takes payments by phone; Harbor does not)
        order = db.session.scalar(select(ParkingOrder).join(Park, Park.id == ParkingOrder.park_id).where(
            ParkingOrder.state == "open", ParkingOrder.berth_id.is_not(None), Park.name == "Central Street")
            .order_by(ParkingOrder.entered_at))
        token, plate = berth_token(order.berth_id), order.plate
    page = phone
    page.set_default_timeout(10_000)
    page.goto(f"{live_server}/pay/b/{token}")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.inner_text("#masked-plate") != plate and page.inner_text("#masked-plate")[-1] == plate[-1]
    assert plate not in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone
    page.click("#pay-button")
    page.wait_for_selector("#sandbox-wallet")
    page.click("#simulate-pay")
    page.wait_for_selector("#receipt[data-state='paid']")
    assert "支付成功" in page.inner_text("#receipt-paid")
    with live_app.app_context():
        assert db.session.get(ParkingOrder, order.id).state == "settled"
