"""扫码支付 at the kerb with the sandbox provider: the handheld's QR code, the provider's notice settling the
order once through app/kerb/online.py, and every notice that must book nothing."""
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.core.types import utcnow
from app.extensions import db as _db
from app.inbox.models import Message
from app.orders.models import LedgerEntry, ParkingOrder
from app.payments.models import Payment, PaymentRefund, SandboxTrade
from app.payments.providers.sandbox import SandboxProvider
from app.reports import figures
from tests.pos_api.conftest import ago, ref


def _order(street, token, plate="沪A12345", **extra):
    response = street.car_in(token, "A001", plate, entered_at=ago(hours=2, minutes=30), **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["order"]["id"]


def _ask(street, token, order_id, client_ref=None):
    return street.call("POST", f"/orders/{order_id}/payments", token, json={"client_ref": client_ref or ref()})


def _wallet(sandbox, **settings):
    sandbox.settings = {**(sandbox.settings or {}), **settings}
    return SandboxProvider(sandbox, "http://pay.test/pay/notify/1")


def _post_notice(client, account_id, delivery):
    return client.post(f"/pay/notify/{account_id}", data=delivery.body, headers=delivery.headers,
                       content_type="application/json")


def _fee_rows():
    return _db.session.execute(select(LedgerEntry.kind, LedgerEntry.method, LedgerEntry.amount_fen,
                                      LedgerEntry.provider, LedgerEntry.trade_no).order_by(LedgerEntry.id)).all()


def test_qr_notice_settles_the_order_once_and_tells_the_collector(street, sandbox, client, db):
    token = street.signed_in()
    order_id = _order(street, token)
    asked = _ask(street, token, order_id)
    assert asked.status_code == 201, asked.get_json()
    payment = asked.get_json()["payment"]
    assert payment["amount_fen"] == 600 and payment["state"] == "created" and payment["qr_svg"].startswith("<svg")
    assert "/pay/sandbox/" in payment["code_url"]
    row = db.session.get(Payment, payment["id"])
    wallet = _wallet(sandbox, duplicates=2)  # the provider sends each notice three times
    deliveries = wallet.pay(row.out_trade_no)
    db.session.commit()
    answers = [_post_notice(client, sandbox.id, d) for d in deliveries]
    assert [a.status_code for a in answers] == [200, 200, 200]
    db.session.expire_all()
    trade_no = db.session.scalar(select(SandboxTrade.trade_no).where(SandboxTrade.out_trade_no == row.out_trade_no))
    assert _fee_rows() == [("fee", "electronic", 600, "sandbox", trade_no)]
    order = db.session.get(ParkingOrder, order_id)
    assert order.state == "settled" and order.payment_method == "electronic"
    [message] = db.session.scalars(select(Message).where(Message.kind == "paid_online")).all()
    assert "沪A12345" in message.title
    polled = street.call("GET", f"/payments/{payment['id']}", token).get_json()["payment"]
    assert polled["state"] == "paid" and polled["settled"] is True and polled["qr_svg"] is None
    today = utcnow().astimezone(ZoneInfo("Asia/Shanghai")).date()  # the reports count it as electronic income
    [income] = figures.income([order.park_id], figures.Filters(today - timedelta(days=1),
                                                               today + timedelta(days=1))).values()
    assert income.by_method() == {"electronic": 600}


def test_asking_again_gives_the_same_qr_and_a_retry_the_same_answer(street, sandbox, db):
    token = street.signed_in()
    order_id = _order(street, token)
    client_ref = ref()
    first = _ask(street, token, order_id, client_ref).get_json()
    assert _ask(street, token, order_id, client_ref).get_json() == first  # a retry of the request
    assert _ask(street, token, order_id).get_json()["payment"]["id"] == first["payment"]["id"]  # a second tap
    assert db.session.scalar(select(Payment.id).where(Payment.state == "closed")) is None


def test_no_account_or_nothing_due_is_a_clear_refusal(street, db, tree):
    token = street.signed_in()
    order_id = _order(street, token)
    refused = _ask(street, token, order_id)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "no_merchant_account"


def test_forged_tampered_late_and_replayed_notices_book_nothing(street, sandbox, client, db):
    token = street.signed_in()
    order_id = _order(street, token)
    payment = db.session.get(Payment, _ask(street, token, order_id).get_json()["payment"]["id"])
    wallet = _wallet(sandbox)
    [real] = wallet.pay(payment.out_trade_no)
    db.session.commit()
    event = __import__("json").loads(real.body)
    forged = wallet.signed(event, utcnow(), key="not-the-key")
    tampered = type(real)(real.headers, real.body.replace(b'"amount_fen":600', b'"amount_fen":1'))
    late = wallet.signed(event, utcnow() - timedelta(minutes=10))
    for bad in (forged, tampered, late):
        assert _post_notice(client, sandbox.id, bad).status_code == 400
    assert _fee_rows() == []
    assert _post_notice(client, sandbox.id, real).status_code == 200
    replay = wallet.signed(event, utcnow())  # the same notice id, freshly signed: answered, not acted on
    assert _post_notice(client, sandbox.id, replay).status_code == 200
    db.session.expire_all()
    assert len(_fee_rows()) == 1


def test_an_amount_that_differs_is_refused_and_flagged(street, sandbox, client, db):
    token = street.signed_in()
    order_id = _order(street, token)
    payment = db.session.get(Payment, _ask(street, token, order_id).get_json()["payment"]["id"])
    [notice] = _wallet(sandbox).pay(payment.out_trade_no, amount_fen=1)
    db.session.commit()
    assert _post_notice(client, sandbox.id, notice).status_code == 200
    db.session.expire_all()
    assert _fee_rows() == [] and db.session.get(ParkingOrder, order_id).state == "open"
    assert db.session.get(Payment, payment.id).flag == "amount_mismatch"


def test_paid_by_cash_meanwhile_the_phone_payment_is_refunded(street, sandbox, client, db):
    token = street.signed_in()
    order_id = _order(street, token)
    payment = db.session.get(Payment, _ask(street, token, order_id).get_json()["payment"]["id"])
    settled = street.call("POST", f"/orders/{order_id}/settle", token, json={
        "client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 600})
    assert settled.status_code == 200, settled.get_json()
    [notice] = _wallet(sandbox).pay(payment.out_trade_no)
    db.session.commit()
    assert _post_notice(client, sandbox.id, notice).status_code == 200
    db.session.expire_all()
    assert _fee_rows() == [("fee", "cash", 600, None, None)]
    payment = db.session.get(Payment, payment.id)
    assert payment.flag == "settled_already" and payment.state == "refunded"
    [refund] = db.session.scalars(select(PaymentRefund)).all()
    assert refund.automatic and refund.state == "done" and refund.amount_fen == 600
    assert db.session.scalar(select(SandboxTrade.amount_fen).where(SandboxTrade.kind == "refund")) == 600


def test_a_failed_payment_books_nothing(street, sandbox, client, db):
    token = street.signed_in()
    order_id = _order(street, token)
    payment = db.session.get(Payment, _ask(street, token, order_id).get_json()["payment"]["id"])
    [notice] = _wallet(sandbox).pay(payment.out_trade_no, fail=True)
    db.session.commit()
    assert _post_notice(client, sandbox.id, notice).status_code == 200
    db.session.expire_all()
    assert db.session.get(Payment, payment.id).state == "failed" and _fee_rows() == []
