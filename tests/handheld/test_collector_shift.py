"""A collector's whole shift through the handheld app on a phone-sized screen, in Chinese."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from app.handheld.icons import png
from tests.handheld.conftest import PASSWORD, SERIAL, app_errors

pytestmark = pytest.mark.browser
CAMERA = png(64)  # what the camera gives: any PNG or JPEG
PHOTO = {"name": "car.png", "mimeType": "image/png", "buffer": CAMERA}
# A Bluetooth LE receipt printer as Web Bluetooth shows it: what the app writes is kept in window.printed.
FAKE_PRINTER = """(() => {
  window.printed = [];
  const device = { gatt: { connected: false } };
  const characteristic = { properties: { write: true }, service: { device },
                           writeValue: async (bytes) => { window.printed.push(...new Uint8Array(bytes)); } };
  const server = { getPrimaryServices: async () => [{ getCharacteristics: async () => [characteristic] }] };
  device.gatt.connect = async () => { device.gatt.connected = true; return server; };
  Object.defineProperty(Navigator.prototype, "bluetooth", { configurable: true,
                                                             get: () => ({ requestDevice: async () => device }) });
})();"""
COLUMNS = 32  # a 58 mm roll


def printed_line(label: str, value: str) -> bytes:
    """One receipt line as an ESC/POS printer takes it: GB18030, label left, value right, 32 columns."""
    left, right = label.encode("gb18030"), value.encode("gb18030")
    return left + b" " * (COLUMNS - len(left) - len(right)) + right + b"\n"


def require_exit_photos(live_app):
    from app.extensions import db
    from app.parks.services import settings_for
    from app.tenancy.models import Park

    with live_app.app_context():
        row = settings_for(db.session.scalar(select(Park).where(Park.name == "Central Street")))
        row.photo_required_exit = True
        db.session.add(row)
        db.session.commit()


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
    require_exit_photos(live_app)
    page.context.add_init_script(FAKE_PRINTER)
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
    page.set_input_files("#entry-photo-input", files=[PHOTO])
    page.wait_for_selector("#entry-photo-thumb:not(.hidden)")
    page.click("#car-in")
    page.wait_for_selector(f"#berths [data-berth='{free_number}'][data-state='occupied']")
    assert "京A12345" in page.inner_text(f"#berths [data-berth='{free_number}']")
    with live_app.app_context():  # the entry photo went to the order its car in made
        photo = db.session.execute(select(OrderPhoto.kind, OrderPhoto.size_bytes).join(
            ParkingOrder, ParkingOrder.id == OrderPhoto.order_id).where(ParkingOrder.plate == "京A12345")).one()
    assert photo == ("entry", len(CAMERA))

    # quote and settle in cash, after the exit photo the park requires
    cell, settled_number = berth(page, "occupied", besides=[free_number])
    settled_plate = cell.locator("span").nth(1).inner_text()
    cell.click()
    due = page.inner_text("#due")
    assert due.startswith("¥") and due != "¥0.00"
    page.click("#settle-cash")
    expect(page.locator("#exit-error")).to_contain_text("出场需要拍照")
    assert page.locator("#receipt").count() == 0  # nothing settled without it
    page.set_input_files("#exit-photo-input", files=[PHOTO])
    page.click("#settle-cash")
    page.wait_for_selector("#receipt")
    assert settled_number in page.inner_text("#receipt") and due in page.inner_text("#receipt")
    # the receipt laid out for a 58 mm roll when printed, and in ESC/POS to a Bluetooth printer
    page.emulate_media(media="print")
    assert page.locator("#receipt").is_visible() and not page.locator("#bar").is_visible()
    page.emulate_media(media="screen")
    page.click("#print-bt")
    expect(page.locator("#toast")).to_have_text("小票已发送到打印机")
    printed = bytes(page.evaluate("() => window.printed"))
    assert printed.startswith(b"\x1b@\x1c&")  # reset, Chinese character mode
    assert printed_line("车牌", settled_plate) in printed and printed_line("实收", f"{due[1:]}元") in printed
    assert printed_line("泊位", settled_number) in printed and printed.endswith(b"\x1dVB\x00")  # feed and cut
    page.click("#receipt-done")

    # escape: the car left unpaid; its debt is found at its next car in and recovered on the spot
    cell, escaped_number = berth(page, "occupied", besides=[free_number])  # one parked for two hours
    escaped_plate = cell.locator("span").nth(1).inner_text()
    cell.click()
    page.set_input_files("#exit-photo-input", files=[PHOTO])
    page.click("#escape")
    page.wait_for_selector(f"#berths [data-berth='{escaped_number}'][data-state='free']")
    with live_app.app_context():
        owed = db.session.scalar(select(Arrear.amount_fen).where(Arrear.plate == escaped_plate,
                                                                 Arrear.state == "open"))
        exit_photos = db.session.scalars(select(ParkingOrder.plate).join(
            OrderPhoto, OrderPhoto.order_id == ParkingOrder.id).where(OrderPhoto.kind == "exit")).all()
    assert owed > 0 and sorted(exit_photos) == sorted([settled_plate, escaped_plate])
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


# Every character a receipt holds: provinces, plate letters and digits, and the receipt's own words.
RECEIPT_TEXT = ("京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
                "票号路段泊位车牌入场时间离场停车时长费已预付实收应退支付方式现金刷卡电子免费原因收费员分钟元·：（）")


def test_the_printer_encoder_writes_gb18030_in_32_columns(live_server, phone):
    """escpos.js run in the handheld's browser: its bytes are Python's GB18030 (what Chinese printers take)."""
    phone.goto(f"{live_server}/m/")
    phone.wait_for_selector("#signin")
    got = phone.evaluate("""(text) => import("/m/static/js/escpos.js").then((m) => ({
        text: m.encodeGb18030(text), outside: m.encodeGb18030("A😀¥"),
        line: m.labelled("车牌", "京AD12345"), wrapped: m.labelled("免费原因", "x".repeat(30)) }))""", RECEIPT_TEXT)
    assert bytes(got["text"]) == RECEIPT_TEXT.encode("gb18030")
    assert bytes(got["outside"]) == b"A??"  # beyond GBK's two-byte codes: documented in docs/handheld-app.md
    assert bytes(got["line"]) == printed_line("车牌", "京AD12345") and len(got["line"]) == COLUMNS + 1
    assert bytes(got["wrapped"]) == "免费原因".encode("gb18030") + b"\n" + b"  " + b"x" * 30 + b"\n"
    assert app_errors(phone) == []
