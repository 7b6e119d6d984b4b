"""The driver's pages: a berth's sign opens its page (plate masked, the fee so far), paying goes through the
wallet (the sandbox's page in the demo) to an e-receipt; a plate's debts show only after the driver confirms the
last entry's time; every page is rate-limited."""
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.extensions import limiter
from app.orders.models import Arrear, LedgerEntry, ParkingOrder
from app.payments.driver import berth_token, mask_plate
from tests.pos_api.conftest import ago, ref


@pytest.fixture
def fresh_limits():
    limiter.reset()
    yield
    limiter.reset()


def test_a_berth_sign_opens_its_page_and_paying_settles_the_order(street, sandbox, db, client, fresh_limits):
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=2, minutes=30)).get_json()["order"]
    page = client.get(f"/pay/b/{berth_token(street.berths['A001'])}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "沪A1***5" in text and "沪A12345" not in text and "¥6.00" in text
    assert 'lang="zh-CN"' in text and "车位" in text  # zh_CN first
    wallet = client.post(f"/pay/b/{berth_token(street.berths['A001'])}/pay")
    assert wallet.status_code == 302 and "/pay/sandbox/" in wallet.headers["Location"]
    receipt = client.post(wallet.headers["Location"], data={"outcome": "pay"})
    assert receipt.status_code == 302 and "/pay/r/" in receipt.headers["Location"]
    shown = client.get(receipt.headers["Location"]).get_data(as_text=True)
    assert 'data-state="paid"' in shown and "¥6.00" in shown
    db.session.expire_all()
    assert db.session.get(ParkingOrder, order["id"]).payment_method == "electronic"


def test_a_forged_berth_token_finds_nothing(street, client, fresh_limits):
    token = berth_token(street.berths["A001"])
    assert client.get(f"/pay/b/{token[:-2]}xx").status_code == 404


def test_a_plates_debts_show_after_confirming_the_last_entry_and_are_paid(street, sandbox, db, client, fresh_limits):
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪D54321", entered_at=ago(hours=3)).get_json()["order"]
    escaped = street.call("POST", f"/orders/{order['id']}/escape", token, json={"client_ref": ref(),
                                                                               "left_at": ago(minutes=5)})
    assert escaped.status_code == 200
    entered = db.session.get(ParkingOrder, order["id"]).entered_at.astimezone(ZoneInfo("Asia/Shanghai"))
    wrong = client.post("/pay/arrears", data={"plate": "沪D54321", "entered_at": "2020-01-01T08:00"})
    assert 'id="arrears-wrong"' in wrong.get_data(as_text=True) and "¥6.00" not in wrong.get_data(as_text=True)
    found = client.post("/pay/arrears", data={"plate": "沪D54321", "entered_at": entered.strftime("%Y-%m-%dT%H:%M")})
    text = found.get_data(as_text=True)
    assert "沪D5***1" in text and "¥6.00" in text
    confirm = text.split('name="token" value="')[1].split('"')[0]
    wallet = client.post("/pay/arrears/pay", data={"token": confirm})
    client.post(wallet.headers["Location"], data={"outcome": "pay"})
    db.session.expire_all()
    assert db.session.scalar(select(Arrear.state)) == "recovered"
    assert db.session.execute(select(LedgerEntry.kind, LedgerEntry.method, LedgerEntry.amount_fen)
                              .where(LedgerEntry.provider == "sandbox")).all() == [("recovery", "electronic", 600)]


def test_the_pages_are_rate_limited(app, street, client, monkeypatch, fresh_limits):
    monkeypatch.setitem(app.config, "PAY_PAGE_LIMITS", "2 per minute")
    url = f"/pay/b/{berth_token(street.berths['A001'])}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_masking_keeps_the_province_letter_and_last_character():
    assert [mask_plate(p) for p in ("沪A12345", "粤B1234D5", "ABC")] == ["沪A1***5", "粤B1****5", "A**"]
