"""A collector's whole shift through the handheld app on a phone-sized screen, in Chinese."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.handheld.icons import png
from tests.handheld.conftest import PASSWORD, SERIAL, app_errors

pytestmark = pytest.mark.browser
CAMERA = png(64)  # what the camera gives: any PNG or JPEG


def sign_in(page, base, username="collector1", serial=SERIAL):
    page.goto(f"{base}/m/")
    page.wait_for_selector("#signin")
    if page.locator("#serial").count():  # asked once per handheld
        page.fill("#serial", serial)
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#signin-submit")


def type_plate(page, plate):
    for ch in plate:
        page.click(f"#plate-keys [data-key='{ch}']")
    assert page.inner_text("#plate") == plate


def berth(page, state, besides=()):
    """The first berth in a state (free, occupied, pending) other than `besides`, and its number."""
    others = "".join(f":not([data-berth='{number}'])" for number in besides)
    cell = page.locator(f"#berths [data-state='{state}']{others}").first
    return cell, cell.get_attribute("data-berth")


def test_a_collector_works_a_shift_and_the_summary_equals_the_ledger(live_app, live_server, phone):
    from app.extensions import db
    from app.inbox.models import send
    from app.ledger.models import LedgerEntry
    from app.orders.models import Arrear, OrderPhoto, ParkingOrder
    from app.shifts.models import Shift
    from app.shifts.services import shift_summary
    from app.staff.models import Staff

    page = phone
    page.set_default_timeout(10_000)
    sign_in(page, live_server)
    page.click("#segments >> text=Central North")
    page.wait_for_selector("#berths")
    assert page.locator("#nav-queue").inner_text().startswith("待发送")  # Chinese first

    # car in with a plate from the keyboard and a prepay preset
    cell, free_number = berth(page, "free")
    cell.click()
    assert page.locator("#car-in").inner_text() == "确认入场"
    type_plate(page, "京A12345")
    page.click("#prepay [data-value='500']")
    page.set_input_files("#entry-photo-input", files=[{"name": "car.png", "mimeType": "image/png", "buffer": CAMERA}])
    page.wait_for_selector("#entry-photo-thumb:not(.hidden)")
    page.click("#car-in")
    page.wait_for_selector(f"#berths [data-berth='{free_number}'][data-state='occupied']")
    assert "京A12345" in page.inner_text(f"#berths [data-berth='{free_number}']")
    with live_app.app_context():  # the entry photo went to the order its car in made
        photo = db.session.execute(select(OrderPhoto.kind, OrderPhoto.size_bytes).join(
            ParkingOrder, ParkingOrder.id == OrderPhoto.order_id).where(ParkingOrder.plate == "京A12345")).one()
    assert photo == ("entry", len(CAMERA))

    # quote and settle in cash: the receipt, laid out for a 58 mm roll when printed
    cell, settled_number = berth(page, "occupied", besides=[free_number])
    cell.click()
    due = page.inner_text("#due")
    assert due.startswith("¥") and due != "¥0.00"
    page.click("#settle-cash")
    page.wait_for_selector("#receipt")
    assert settled_number in page.inner_text("#receipt") and due in page.inner_text("#receipt")
    page.emulate_media(media="print")
    assert page.locator("#receipt").is_visible() and not page.locator("#bar").is_visible()
    page.emulate_media(media="screen")
    page.click("#receipt-done")

    # escape: the car left unpaid; its debt is found at its next car in and recovered on the spot
    cell, escaped_number = berth(page, "occupied", besides=[free_number])  # one parked for two hours
    escaped_plate = cell.locator("span").nth(1).inner_text()
    cell.click()
    page.click("#escape")
    page.wait_for_selector(f"#berths [data-berth='{escaped_number}'][data-state='free']")
    with live_app.app_context():
        owed = db.session.scalar(select(Arrear.amount_fen).where(Arrear.plate == escaped_plate,
                                                                 Arrear.state == "open"))
    assert owed > 0
    cell, again_number = berth(page, "free")
    cell.click()
    type_plate(page, escaped_plate)
    page.wait_for_selector("#arrears-panel")
    assert f"¥{owed / 100:.2f}" in page.inner_text("#arrears-panel")
    page.click("#recover-cash")
    page.wait_for_selector("#arrears-result.ok")
    page.click("#car-in")
    page.wait_for_selector(f"#berths [data-berth='{again_number}'][data-state='occupied']")

    # inbox
    with live_app.app_context():
        collector_id = db.session.scalar(select(Staff.id).where(Staff.username == "collector1"))
        send(collector_id, "alert", "A003 地磁报警")
        db.session.commit()
    page.click("#nav-inbox")
    page.wait_for_selector("#inbox >> text=A003 地磁报警")

    # sign out of the segment: the summary is the ledger's
    page.click("#nav-shift")
    page.click("#close-shift")
    page.wait_for_selector("#summary")
    shown = {el.get_attribute("data-key"): int(el.get_attribute("data-value"))
             for el in page.locator("#summary dd").all()}
    with live_app.app_context():
        shift = db.session.scalar(select(Shift).where(Shift.collector_id == collector_id)
                                  .order_by(Shift.id.desc()).limit(1))
        assert shift.ended_at is not None
        assert shown == shift_summary(shift).to_dict()
        cash = db.session.scalar(select(func.sum(LedgerEntry.amount_fen)).where(LedgerEntry.shift_id == shift.id,
                                                                                LedgerEntry.method == "cash"))
        settled = db.session.scalar(select(ParkingOrder).where(ParkingOrder.exit_shift_id == shift.id,
                                                               ParkingOrder.state == "settled"))
    assert shown["cash_to_hand_over_fen"] == cash == 500 + settled.paid_fen + owed
    assert (shown["cars_in"], shown["cars_out"], shown["unpaid_count"]) == (2, 2, 1)
    assert f"¥{cash / 100:.2f}" in page.inner_text("#summary")

    # sign out of the handheld: next time only the person's name and password are asked
    page.click("#sign-out")
    page.wait_for_selector("#signin")
    assert SERIAL in page.inner_text("#device") and page.locator("#serial").count() == 0
    assert page.inner_text("#signin-submit") == "登录"
    page.click("#lang")  # the switch to English, kept for the next start
    assert page.inner_text("#signin-submit") == "Sign in"
    page.reload()
    page.wait_for_selector("#signin")
    assert page.inner_text("#signin-submit") == "Sign in" and page.get_attribute("html", "lang") == "en"
    assert app_errors(page) == []
