"""An order paid online (app/kerb/online.py): settled as electronic at the fee due when the driver paid,
booked once with its trade number, told to the collector on duty; a wrong amount or a second notice books
nothing."""
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from app.core.errors import Conflict
from app.inbox.models import Message
from app.kerb.online import settle_paid_online
from app.orders.models import LedgerEntry, ParkingOrder
from app.orders.services import OnlinePayment
from tests.pos_api.conftest import ago


def _open_order(street, token, **extra):
    response = street.car_in(token, "A001", "沪A12345", entered_at=ago(hours=2, minutes=30), **extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["order"]["id"]


def _pay(tree, order_id, amount_fen, trade_no="T-1"):
    now = datetime.now(timezone.utc)
    payment = OnlinePayment(provider="sandbox", trade_no=trade_no, amount_fen=amount_fen,
                            paid_at=now - timedelta(seconds=1))
    return settle_paid_online(park=tree.p1, order_id=order_id, payment=payment, received_at=now)


def test_paid_online_settles_books_the_trade_and_tells_the_collector(street, tree, db):
    token = street.signed_in()
    order_id = _open_order(street, token, prepay={"amount_fen": 200, "method": "cash"})
    settlement = _pay(tree, order_id, 400)  # ¥6 for three started hours, less ¥2 prepaid
    db.session.commit()
    assert settlement.collected_fen == 400 and settlement.order.state == "settled"
    order = db.session.get(ParkingOrder, order_id)
    assert order.payment_method == "electronic" and order.paid_fen == 600 and order.exit_collector_id is None
    rows = db.session.execute(select(LedgerEntry.kind, LedgerEntry.method, LedgerEntry.amount_fen,
                                     LedgerEntry.provider, LedgerEntry.trade_no).order_by(LedgerEntry.id)).all()
    assert rows == [("prepay", "cash", 200, None, None), ("fee", "electronic", 400, "sandbox", "T-1")]
    [message] = db.session.scalars(select(Message).where(Message.kind == "paid_online")).all()
    assert "沪A12345" in message.title and message.payload["amount_fen"] == 400


def test_wrong_amount_or_second_notice_books_nothing(street, tree, db):
    token = street.signed_in()
    order_id = _open_order(street, token)
    with pytest.raises(Conflict) as wrong:
        _pay(tree, order_id, 599)
    assert wrong.value.code == "fee_changed"
    db.session.rollback()
    _pay(tree, order_id, 600)
    db.session.commit()
    with pytest.raises(Conflict) as again:
        _pay(tree, order_id, 600)
    assert again.value.code == "order_not_open"
    db.session.rollback()
    assert db.session.scalars(select(LedgerEntry.amount_fen)).all() == [600]
