"""A manager's refund goes to the provider and books a negative ledger row when the provider confirms; the
day's statement is matched with the ledger and a planted difference of each kind is found."""
from sqlalchemy import select

from app.audit.models import AuditEntry
from app.core.types import utcnow
from app.ledger.services import LedgerPosting, post
from app.orders.models import LedgerEntry
from app.payments import services as payments
from app.payments.models import Payment, PaymentRefund, Reconciliation, SandboxTrade
from app.payments.providers.base import CHINA
from app.payments.providers.sandbox import SandboxProvider
from tests.payments.conftest import make_account
from tests.pos_api.conftest import ago, ref


def _paid_order(street, sandbox, db, client, plate="沪A12345", berth="A001"):
    token = street.signed_in() if not getattr(street, "_token", None) else street._token
    street._token = token
    order = street.car_in(token, berth, plate, entered_at=ago(hours=2, minutes=30)).get_json()["order"]
    payment = db.session.get(Payment, street.call("POST", f"/orders/{order['id']}/payments", token,
                                                  json={"client_ref": ref()}).get_json()["payment"]["id"])
    for delivery in SandboxProvider(sandbox, "http://pay.test/pay/notify/1").pay(payment.out_trade_no):
        db.session.commit()
        assert client.post(f"/pay/notify/{sandbox.id}", data=delivery.body, headers=delivery.headers).status_code == 200
    db.session.expire_all()
    return db.session.get(Payment, payment.id)


def test_a_managers_partial_refund_is_booked_negative_and_audited(street, sandbox, db, client, client_as):
    payment = _paid_order(street, sandbox, db, client)
    manager = client_as("parkp1")
    page = manager.get(f"/payments/{payment.id}")
    assert page.status_code == 200 and "refund-form" in page.get_data(as_text=True)
    done = manager.post(f"/payments/{payment.id}/refund", data={"amount": "2.50", "reason": "charged twice"})
    assert done.status_code == 302, done.get_data(as_text=True)
    db.session.expire_all()
    rows = db.session.execute(select(LedgerEntry.amount_fen, LedgerEntry.method, LedgerEntry.trade_no)
                              .order_by(LedgerEntry.id)).all()
    [refund] = db.session.scalars(select(PaymentRefund)).all()
    assert [r[:2] for r in rows] == [(600, "electronic"), (-250, "electronic")] and rows[1][2] == refund.out_refund_no
    assert db.session.get(Payment, payment.id).refunded_fen == 250
    assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.object_type == "Payment")) == "refund"
    too_much = manager.post(f"/payments/{payment.id}/refund", data={"amount": "3.51", "reason": "x"})
    assert too_much.status_code == 422


def test_a_refund_the_provider_confirms_later_is_booked_then_once(street, sandbox, db, client):
    payment = _paid_order(street, sandbox, db, client)
    sandbox.settings = {"refund_pending": True, "duplicates": 1}
    row = payments.refund(payment, 600, "driver left at once", actor=None)
    db.session.commit()
    assert row.state == "pending"
    assert db.session.scalar(select(LedgerEntry.id).where(LedgerEntry.amount_fen < 0)) is None
    for delivery in SandboxProvider(sandbox, "").finish_refunds():
        db.session.commit()
        assert client.post(f"/pay/notify/{sandbox.id}", data=delivery.body, headers=delivery.headers).status_code == 200
    db.session.expire_all()
    assert db.session.scalars(select(LedgerEntry.amount_fen).where(LedgerEntry.amount_fen < 0)).all() == [-600]
    assert db.session.get(Payment, payment.id).state == "refunded"


def test_only_a_manager_with_the_permission_refunds(street, sandbox, db, client, client_as, make, tree):
    from app.staff.models import Role

    payment = _paid_order(street, sandbox, db, client)
    role = Role(name="Viewer of payments", kind="admin", target_level="park", builtin=False)
    role.anchor_at(tree.nodes["p1"])
    role.set_codes({"payments.view"})
    db.session.add(role)
    db.session.commit()
    make.staff(tree.nodes["p1"], "viewerp1", role=role)
    viewer = client_as("viewerp1")
    assert viewer.post(f"/payments/{payment.id}/refund", data={"amount": "1", "reason": "x"}).status_code == 403


def test_reconciliation_finds_a_planted_difference_of_each_kind(street, sandbox, db, client, client_as):
    good = _paid_order(street, sandbox, db, client, "沪A00001", "A001")
    unbooked = _paid_order(street, sandbox, db, client, "沪A00002", "A002")
    differs = _paid_order(street, sandbox, db, client, "沪A00003", "A003")
    # paid but not booked: the ledger row of the second trade is lost; amount differs: the provider's books say
    # another amount for the third; booked but not paid: a ledger row of a trade the provider never had
    db.session.execute(LedgerEntry.__table__.delete().where(LedgerEntry.trade_no == unbooked.trade_no))
    db.session.execute(SandboxTrade.__table__.update().where(SandboxTrade.trade_no == differs.trade_no)
                       .values(amount_fen=599))
    post(LedgerPosting(park_id=good.park_id, kind="fee", method="electronic", amount_fen=300, occurred_at=utcnow(),
                       provider="sandbox", trade_no="SBX-NEVER-PAID"))
    db.session.commit()
    day = utcnow().astimezone(CHINA).date()
    result = payments.fetch_and_reconcile(sandbox, day)
    db.session.commit()
    kinds = {d["kind"]: d["trade_no"] for d in result.differences}
    assert kinds == {"paid_not_booked": unbooked.trade_no, "amount_differs": differs.trade_no,
                     "booked_not_paid": "SBX-NEVER-PAID"}
    assert result.matched == 1 and result.statement_fen == 600 + 600 + 599
    page = client_as("citya").get(f"/payments/reconciliations/{result.id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and text.count('data-kind="') == 3
    export = client_as("citya").get(f"/payments/reconciliations/{result.id}/export")
    assert export.status_code == 200 and unbooked.trade_no in export.get_data(as_text=True)


def test_an_uploaded_statement_is_reconciled_by_a_manager(street, sandbox, db, client, client_as):
    payment = _paid_order(street, sandbox, db, client)
    day = utcnow().astimezone(CHINA).date()
    statement = f"kind,out_trade_no,trade_no,amount_fen\npay,{payment.out_trade_no},{payment.trade_no},600\n"
    import io

    answer = client_as("citya").post("/payments/reconciliations", data={
        "account_id": str(sandbox.id), "day": day.isoformat(),
        "statement": (io.BytesIO(statement.encode()), "statement.csv")}, content_type="multipart/form-data")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:2000]
    result = db.session.scalar(select(Reconciliation))
    assert result.source == "uploaded" and result.matched == 1 and result.differences == []


def test_another_citys_account_is_never_used_nor_shown(street, db, tree, client_as):
    harbor = make_account(db, tree.nodes["city_h"], name="Harbor merchant")
    token = street.signed_in()
    order = street.car_in(token, "A001", "沪C11111", entered_at=ago(minutes=30)).get_json()["order"]
    refused = street.call("POST", f"/orders/{order['id']}/payments", token, json={"client_ref": ref()})
    assert refused.get_json()["error"]["code"] == "no_merchant_account"
    viewer = client_as("citya")
    assert "Harbor merchant" not in viewer.get("/payments/accounts").get_data(as_text=True)
    assert viewer.get(f"/payments/accounts/{harbor.id}/edit").status_code == 404
