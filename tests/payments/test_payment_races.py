"""Races on PostgreSQL with real connections: the same notice arriving at once on several connections books
one ledger row; a phone payment and a cash settlement at once settle the order once, and a losing phone
payment is refunded."""
import os
import threading

import pytest
from sqlalchemy import func, select

from app.orders.models import LedgerEntry, ParkingOrder
from app.payments.models import Payment, PaymentRefund
from app.payments.providers.sandbox import SandboxProvider
from tests.pos_api.conftest import ago, ref

pytestmark = pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"),
                                reason="row locks and real concurrency need PostgreSQL")


def _race(app, calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def run(i, call):
        client = app.test_client()
        barrier.wait()
        results[i] = call(client)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def _notice(account_id, delivery):
    return lambda client: client.post(f"/pay/notify/{account_id}", data=delivery.body, headers=delivery.headers,
                                      content_type="application/json")


def _paid(street, sandbox, db, duplicates):
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪B77777", entered_at=ago(minutes=50)).get_json()["order"]
    asked = street.call("POST", f"/orders/{order['id']}/payments", token, json={"client_ref": ref()})
    payment = db.session.get(Payment, asked.get_json()["payment"]["id"])
    sandbox.settings = {"duplicates": duplicates}
    deliveries = SandboxProvider(sandbox, "http://pay.test/pay/notify/1").pay(payment.out_trade_no)
    db.session.commit()
    return token, order, payment, deliveries


def _count(db, model, *where):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.parametrize("round_", range(2))
def test_concurrent_copies_of_a_notice_book_one_row(app, street, sandbox, db, round_):
    _token, order, _payment, deliveries = _paid(street, sandbox, db, duplicates=3)
    results = _race(app, [_notice(sandbox.id, d) for d in deliveries])
    assert [r.status_code for r in results] == [200] * 4
    assert _count(db, LedgerEntry, LedgerEntry.trade_no.is_not(None)) == 1
    assert db.session.get(ParkingOrder, order["id"]).state == "settled"


def test_phone_and_cash_at_once_settle_once_and_the_phone_loser_is_refunded(app, street, sandbox, db):
    token, order, payment, [delivery] = _paid(street, sandbox, db, duplicates=0)
    cash = {"client_ref": ref(), "left_at": ago(seconds=1), "method": "cash", "amount_fen": 200}
    results = _race(app, [_notice(sandbox.id, delivery),
                          lambda client: client.post(f"/pos/v1/orders/{order['id']}/settle", json=cash,
                                                     headers={"Authorization": f"Bearer {token}"})])
    assert results[0].status_code == 200 and results[1].status_code in (200, 409)
    assert _count(db, LedgerEntry, LedgerEntry.kind == "fee") == 1
    payment = db.session.get(Payment, payment.id)
    if results[1].status_code == 200:  # cash won: the phone payment goes back
        assert payment.flag == "settled_already" and _count(db, PaymentRefund) == 1
    else:  # the phone won: the collector is told the order is closed
        assert results[1].get_json()["error"]["code"] == "order_not_open" and payment.booked
