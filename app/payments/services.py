"""Payments without request objects: ask a payment of an order's fee, take a provider's notice (the one path
that settles an order paid online: app/kerb/online.py), refund, reconcile a day's statement."""
from __future__ import annotations

import json
import logging
import secrets as random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.audit.services import record
from app.core.errors import Conflict, DomainError, Invalid, NotFound
from app.core.refs import ParkRef
from app.core.types import utcnow
from app.extensions import db, on_postgresql
from app.kerb.online import settle_paid_online
from app.ledger.models import LedgerEntry, LedgerKind
from app.ledger.services import LedgerPosting, post
from app.orders import services as orders
from app.orders.models import Arrear, OrderState, ParkingOrder
from app.orders.services import OnlinePayment
from app.payments.models import (
    MerchantAccount,
    ParkPaymentAccount,
    Payment,
    PaymentFlag,
    PaymentNotice,
    PaymentRefund,
    PaymentState,
    Reconciliation,
    RefundState,
)
from app.payments.providers import BadNotice, Notice, ProviderError, StatementLine, provider_for
from app.tenancy.models import Level, Park

log = logging.getLogger(__name__)
PAY_WINDOW = timedelta(minutes=5)  # a QR code is good this long (the fee may change after)
REUSE_MARGIN = timedelta(seconds=60)  # an unpaid QR code is handed out again if it is good this much longer
SECRET_FIELDS = {"sandbox": ("hmac_key",), "wechat": ("private_key", "api_v3_key", "platform_public_key"),
                 "alipay": ("private_key", "alipay_public_key")}


class PaymentUnavailable(DomainError):
    status = 503


# --- merchant accounts ------------------------------------------------------------------------------------

def accounts_open_to_park(park: ParkRef) -> list[MerchantAccount]:
    """The active accounts a park may take payments with: its operating group's, then its city's."""
    return list(db.session.scalars(select(MerchantAccount).where(
        MerchantAccount.active.is_(True), MerchantAccount.city_id == park.city_id,
        MerchantAccount.park_id.is_(None), MerchantAccount.area_id.is_(None),
        (MerchantAccount.group_id == park.group_id) | MerchantAccount.group_id.is_(None))
        .order_by(MerchantAccount.group_id.is_(None), MerchantAccount.id)))


def chosen_account_id(park_id: int) -> int | None:
    return db.session.scalar(select(ParkPaymentAccount.account_id).where(ParkPaymentAccount.park_id == park_id))


def account_for_park(park: ParkRef) -> MerchantAccount | None:
    """The account a park takes payments with: the one its setting names while that one is open to it, else
    its operating group's, else its city's (the first active)."""
    accounts = accounts_open_to_park(park)
    chosen = chosen_account_id(park.id)
    return next((a for a in accounts if a.id == chosen), accounts[0] if accounts else None)


def choose_account(actor, park: Park, account_id: int | None) -> None:
    """The park's setting: take payments with this account (one open to it), or None for the default.
    Audited."""
    if account_id is not None and account_id not in {a.id for a in accounts_open_to_park(park)}:
        raise Invalid("bad_account", "Choose an account of the park's operating group or city.",
                      {"account_id": "not open to this park"})
    row = db.session.scalar(select(ParkPaymentAccount).where(ParkPaymentAccount.park_id == park.id))
    before = row.account_id if row else None
    if account_id is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(ParkPaymentAccount(park_id=park.id, account_id=account_id))
    else:
        row.account_id = account_id
    db.session.flush()
    record(actor, "update", park, label=park.name, before={"payment_account": before},
           after={"payment_account": account_id})


def save_account(actor, node, *, provider: str, name: str, secrets: dict, account: MerchantAccount | None = None,
                 **fields) -> MerchantAccount:
    """A new account at a city or group (`node`), or new credentials for one: the secrets are encrypted at
    rest and never shown again (a hint of the first secret is kept). Audited without the secrets."""
    if node is None or node.level not in (Level.CITY, Level.GROUP):
        raise Invalid("bad_node", "Merchant accounts belong to a city or an operating group.",
                      {"node": "city or group"})
    missing = [key for key in SECRET_FIELDS.get(provider, ()) if not (secrets.get(key) or "").strip()]
    if provider not in SECRET_FIELDS or (account is None and missing):
        raise Invalid("bad_secrets", "Enter every secret of the provider.", {k: "required" for k in missing})
    creating = account is None
    if account is None:
        account = MerchantAccount(provider=provider)
        db.session.add(account)
    elif secrets and not missing:
        account.secrets_changed_at = utcnow()
    account.anchor_at(node)
    account.name = name
    for key, value in fields.items():
        setattr(account, key, value or None)
    if secrets and not missing:
        account.secrets = json.dumps(secrets)
        first = secrets[SECRET_FIELDS[provider][0]].strip()
        account.secret_hint = first[-4:] if len(first) > 8 else "****"
    db.session.flush()
    record(actor, "create" if creating else "update", account, label=f"{provider}: {name}",
           after={"provider": provider, "name": name, **{k: v for k, v in fields.items() if v},
                  "secrets": "changed" if secrets and not missing else "kept"})
    return account


def notify_url(account: MerchantAccount) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/pay/notify/{account.id}"


def provider_of(account: MerchantAccount):
    return provider_for(account, notify_url(account))


# --- asking for a payment ---------------------------------------------------------------------------------

def request_order_payment(*, park: ParkRef, order_id: int, staff_id: int | None, channel: str = "native",
                          source: str = "handheld", now: datetime | None = None) -> Payment:
    """A QR code (or pay link) for the order's fee due now. An unpaid one of the same amount still good is
    handed out again (a retry, a second tap); an older one of another amount is closed."""
    now = now or utcnow()
    order = orders.find_order_record(order_id, park)
    if order is None:
        raise NotFound("order_not_found", "No such order in your park.")
    if order.state != OrderState.OPEN.value:
        raise Conflict("order_not_open", f"This order is already {order.state}.", extra={"state": order.state})
    due = orders.quote_order(order, now, park, order.quote_inputs).due_fen
    if due <= 0:
        raise Invalid("nothing_due", "Nothing is due: settle the order instead.", {"order_id": "nothing due"})
    return _payment_for(park, order_id=order.id, plate=order.plate, amount_fen=due, subject=f"停车费 {order.plate}",
                        channel=channel, source=source, staff_id=staff_id, now=now)


def request_arrears_payment(*, park: ParkRef, plate: str, arrear_ids: list[int], channel: str = "wap",
                            now: datetime | None = None) -> Payment:
    """A payment of a plate's open debts (those of `arrear_ids` still open), booked at their parks when paid."""
    now = now or utcnow()
    arrears = db.session.scalars(select(Arrear).where(Arrear.id.in_(arrear_ids), Arrear.plate == plate,
                                                      Arrear.state == "open").order_by(Arrear.id)).all()
    if not arrears:
        raise Invalid("no_arrears", "Nothing to pay: the debts are paid.", {"plate": "no debts"})
    return _payment_for(park, order_id=None, plate=plate, amount_fen=sum(a.amount_fen for a in arrears),
                        subject=f"停车欠费 {plate}", channel=channel, source="driver", staff_id=None, now=now,
                        arrear_ids=[a.id for a in arrears])


def _payment_for(park: ParkRef, *, order_id: int | None, plate: str, amount_fen: int, subject: str, channel: str,
                 source: str, staff_id: int | None, now: datetime, arrear_ids: list[int] | None = None) -> Payment:
    account = account_for_park(park)
    if account is None:
        raise Conflict("no_merchant_account", "This park takes no payments by phone (no merchant account).")
    stmt = select(Payment).where(Payment.park_id == park.id, Payment.state == PaymentState.CREATED.value,
                                 Payment.channel == channel)
    stmt = stmt.where(Payment.order_id == order_id) if order_id else stmt.where(Payment.plate == plate,
                                                                                Payment.order_id.is_(None))
    for earlier in db.session.scalars(stmt.with_for_update() if on_postgresql() else stmt):
        if (earlier.amount_fen == amount_fen and earlier.expires_at > now + REUSE_MARGIN
                and earlier.account_id == account.id and (earlier.arrear_ids or None) == (arrear_ids or None)):
            return earlier
        _close(earlier, now)
    payment = Payment(park_id=park.id, account_id=account.id, order_id=order_id, arrear_ids=arrear_ids, plate=plate,
                      provider=account.provider, channel=channel, amount_fen=amount_fen, source=source,
                      requested_by_id=staff_id, created_at=now, expires_at=now + PAY_WINDOW,
                      out_trade_no=f"{park.id:04d}{now:%y%m%d%H%M%S}{random.token_hex(5)}",
                      receipt_token=random.token_urlsafe(16))
    db.session.add(payment)
    db.session.flush()
    try:
        created = provider_of(account).create(out_trade_no=payment.out_trade_no, amount_fen=amount_fen,
                                              subject=subject, channel=channel, expires_at=payment.expires_at)
    except ProviderError as exc:
        log.warning("payment %s: provider refused to create: %s", payment.out_trade_no, exc)
        raise PaymentUnavailable("payment_unavailable", "The payment provider cannot be reached; try again or "
                                                        "take the fee otherwise.") from exc
    payment.code_url = created.code_url
    return payment


def _close(payment: Payment, now: datetime) -> None:
    try:
        provider_of(payment.account).close(payment.out_trade_no)
    except ProviderError:
        log.info("payment %s: close refused; it expires anyway", payment.out_trade_no)
    payment.state, payment.closed_at = PaymentState.CLOSED.value, now


def find_payment(payment_id: int, park: ParkRef) -> Payment:
    payment = db.session.scalar(select(Payment).where(Payment.id == payment_id, Payment.park_id == park.id))
    if payment is None:
        raise NotFound("payment_not_found", "No such payment in your park.")
    return payment


def refresh(payment: Payment, now: datetime | None = None) -> Payment:
    """A payment still waiting: past its time it is closed (if the provider says it was not paid meanwhile; a
    notice settles a paid one)."""
    now = now or utcnow()
    if payment.state == PaymentState.CREATED.value and payment.expires_at <= now:
        try:
            state = provider_of(payment.account).query(payment.out_trade_no)
        except ProviderError:
            return payment
        if state.state in ("created", "closed"):
            _close(payment, now)
    return payment


# --- notices -----------------------------------------------------------------------------------------------

def receive_notice(account_id: int, headers: dict, body: bytes, now: datetime | None = None) -> tuple[str, int, str]:
    """A provider's notice, as it arrived: verified, acted on once, answered as the provider expects. A forged,
    tampered, late or foreign notice, or one of an unknown trade, is refused and acts on nothing."""
    now = now or utcnow()
    account = db.session.get(MerchantAccount, account_id)
    if account is None:
        return json.dumps({"code": "FAIL"}), 404, "application/json"
    provider = provider_of(account)
    try:
        notice = provider.verify_notice(headers, body, now)
    except BadNotice as refusal:
        log.warning("notice refused for account %s: %s", account_id, refusal)
        return provider.notice_answer(False)
    payment = _locked(Payment.out_trade_no == notice.out_trade_no, Payment.account_id == account.id)
    if payment is None:
        log.warning("notice of an unknown trade %s for account %s", notice.out_trade_no, account_id)
        return provider.notice_answer(False)
    try:
        with db.session.begin_nested():
            db.session.add(PaymentNotice(provider=account.provider, notice_id=notice.notice_id,
                                         out_trade_no=notice.out_trade_no, outcome=notice.kind, received_at=now))
    except IntegrityError:
        return provider.notice_answer(True)  # a replay of a notice taken: answered, not acted on again
    if notice.kind == "refunded":
        refund = db.session.scalar(select(PaymentRefund).where(PaymentRefund.out_refund_no == notice.out_refund_no,
                                                               PaymentRefund.payment_id == payment.id))
        if refund is not None:
            confirm_refund(refund, notice.trade_no, notice.at)
    else:
        apply_outcome(payment, notice, now)
    return provider.notice_answer(True)


def _locked(*where) -> Payment | None:
    stmt = select(Payment).where(*where)
    return db.session.scalar(stmt.with_for_update() if on_postgresql() else stmt)


def apply_outcome(payment: Payment, notice: Notice, now: datetime) -> None:
    """What a verified notice (or a query's answer) says of a locked payment, acted on once."""
    if payment.state not in (PaymentState.CREATED.value, PaymentState.CLOSED.value):
        return  # known already (a second notice of the trade, or a concurrent one that won the lock)
    if notice.kind == "failed":
        payment.state = PaymentState.FAILED.value
        return
    payment.state, payment.trade_no, payment.paid_at = PaymentState.PAID.value, notice.trade_no, notice.at
    if notice.amount_fen != payment.amount_fen:
        _flag(payment, PaymentFlag.AMOUNT_MISMATCH, f"paid {notice.amount_fen} fen, asked {payment.amount_fen}")
        return
    if payment.order_id is None:
        _recover(payment, now)
        return
    park = db.session.get_one(Park, payment.park_id)
    online = OnlinePayment(provider=payment.provider, trade_no=notice.trade_no, amount_fen=notice.amount_fen,
                           paid_at=notice.at)
    try:
        with db.session.begin_nested():
            settle_paid_online(park=park, order_id=payment.order_id, payment=online, received_at=now)
        payment.booked = True
    except IntegrityError:  # booked already by another path (the ledger's unique trade index)
        payment.booked = True
    except Conflict as refusal:
        flag = PaymentFlag.FEE_CHANGED if refusal.code == "fee_changed" else PaymentFlag.SETTLED_ALREADY
        _flag(payment, flag, refusal.message)
        refund(payment, payment.amount_fen, _auto_reason(flag), actor=None, automatic=True, now=now)


def _recover(payment: Payment, now: datetime) -> None:
    park = db.session.get_one(Park, payment.park_id)
    online = OnlinePayment(provider=payment.provider, trade_no=payment.trade_no or "", amount_fen=payment.amount_fen,
                           paid_at=payment.paid_at or now)
    try:
        with db.session.begin_nested():
            orders.recover_online(park=park, arrear_ids=list(payment.arrear_ids or []), payment=online)
        payment.booked = True
    except IntegrityError:
        payment.booked = True
    except (Conflict, NotFound) as refusal:
        _flag(payment, PaymentFlag.SETTLED_ALREADY, refusal.message)
        refund(payment, payment.amount_fen, _auto_reason(PaymentFlag.SETTLED_ALREADY), actor=None, automatic=True,
               now=now)


def _auto_reason(flag: PaymentFlag) -> str:
    return {PaymentFlag.FEE_CHANGED: "fee changed before paying: refunded automatically",
            PaymentFlag.SETTLED_ALREADY: "paid otherwise meanwhile: refunded automatically"}.get(flag, flag.value)


def _flag(payment: Payment, flag: PaymentFlag, note: str) -> None:
    payment.flag, payment.flag_note = flag.value, note[:200]
    log.warning("payment %s flagged %s: %s", payment.out_trade_no, flag.value, note)


# --- refunds -----------------------------------------------------------------------------------------------

def refund(payment: Payment, amount_fen: int, reason: str, *, actor, automatic: bool = False,
           now: datetime | None = None) -> PaymentRefund:
    """Give back part or all of a paid payment through its provider; booked (a negative ledger row) when the
    provider confirms, at once or by a later notice or query."""
    now = now or utcnow()
    if payment.state not in (PaymentState.PAID.value, PaymentState.REFUNDED.value):
        raise Conflict("payment_not_paid", "Only a paid payment can be refunded.")
    pending = sum(r.amount_fen for r in db.session.scalars(select(PaymentRefund).where(
        PaymentRefund.payment_id == payment.id, PaymentRefund.state == RefundState.PENDING.value)))
    left = payment.amount_fen - payment.refunded_fen - pending
    if not 0 < amount_fen <= left:
        raise Invalid("bad_amount", f"Refund between 0.01 and {left / 100:.2f} yuan.", {"amount_fen": "out of range"})
    if not (reason or "").strip():
        raise Invalid("bad_reason", "Say why the money goes back.", {"reason": "required"})
    row = PaymentRefund(park_id=payment.park_id, payment_id=payment.id, amount_fen=amount_fen, reason=reason.strip(),
                        automatic=automatic, requested_by_id=getattr(actor, "id", None), created_at=now,
                        out_refund_no=f"R{payment.out_trade_no}{random.token_hex(3)}")
    db.session.add(row)
    db.session.flush()
    try:
        answer = provider_of(payment.account).refund(out_trade_no=payment.out_trade_no, out_refund_no=row.out_refund_no,
                                                     amount_fen=amount_fen, total_fen=payment.amount_fen,
                                                     reason=row.reason)
    except ProviderError as exc:
        log.warning("refund %s: provider refused: %s", row.out_refund_no, exc)
        answer = None
    if answer is None or answer.state == "failed":
        row.state = RefundState.FAILED.value
    elif answer.state == "done":
        confirm_refund(row, answer.refund_no, now)
    if actor is not None:
        record(actor, "refund", payment, label=f"{payment.out_trade_no} {payment.plate}",
               after={"amount_fen": amount_fen, "reason": row.reason, "state": row.state})
    return row


def confirm_refund(row: PaymentRefund, refund_no: str | None, at: datetime) -> None:
    """The provider says the refund is done: the payment's refunded sum grows and, if the payment was booked,
    a negative ledger row is written under the refund's number (once: the ledger's trade index)."""
    if row.state == RefundState.DONE.value:
        return
    row.state, row.refund_no, row.done_at = RefundState.DONE.value, refund_no, at
    payment = row.payment
    payment.refunded_fen += row.amount_fen
    if payment.refunded_fen >= payment.amount_fen:
        payment.state = PaymentState.REFUNDED.value
    if not payment.booked:
        return  # nothing was booked (a flagged payment): the money only goes back
    order = db.session.get(ParkingOrder, payment.order_id) if payment.order_id else None
    post(LedgerPosting(park_id=payment.park_id, kind=(LedgerKind.FEE if order else LedgerKind.RECOVERY).value,
                       method="electronic", amount_fen=-row.amount_fen, occurred_at=at,
                       order_id=payment.order_id, segment_id=order.segment_id if order else None,
                       berth_id=order.berth_id if order else None, provider=payment.provider,
                       trade_no=row.out_refund_no))


def check_pending_refunds(now: datetime | None = None) -> int:
    """Ask the providers about refunds still pending (the worker, every few minutes)."""
    now, done = now or utcnow(), 0
    for row in db.session.scalars(select(PaymentRefund).where(PaymentRefund.state == RefundState.PENDING.value)):
        try:
            answer = provider_of(row.payment.account).refund_state(row.out_refund_no, row.payment.out_trade_no)
        except ProviderError:
            continue
        if answer.state == "done":
            confirm_refund(row, answer.refund_no, now)
            done += 1
        elif answer.state == "failed":
            row.state = RefundState.FAILED.value
    return done


# --- reconciliation ----------------------------------------------------------------------------------------

DIFFERENCE_KINDS = ("paid_not_booked", "booked_not_paid", "amount_differs")


@dataclass(frozen=True)
class _Booked:
    amount_fen: int
    park_id: int
    order_id: int | None


def reconcile(account: MerchantAccount, day: date, lines: list[StatementLine], source: str = "fetched",
              actor=None) -> Reconciliation:
    """Match a day's statement with the ledger rows of the account's provider in its parks, by trade number
    and amount: a difference of each kind is listed with the park and the payment it concerns."""
    zone = ZoneInfo(_zone_of(account))
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    parks = select(Park.id).where(Park.city_id == account.city_id)
    if account.group_id:
        parks = parks.where(Park.group_id == account.group_id)
    ledger: dict[str, _Booked] = {}
    for row in db.session.execute(select(
            LedgerEntry.trade_no, LedgerEntry.amount_fen, LedgerEntry.park_id, LedgerEntry.order_id).where(
            LedgerEntry.provider == account.provider, LedgerEntry.trade_no.is_not(None),
            LedgerEntry.park_id.in_(parks), LedgerEntry.occurred_at >= start,
            LedgerEntry.occurred_at < start + timedelta(days=1)).order_by(LedgerEntry.id)):
        trade = row.trade_no.split("/")[0]  # a recovery of several debts books <trade>, <trade>/2...
        earlier = ledger.get(trade)
        ledger[trade] = _Booked(row.amount_fen + (earlier.amount_fen if earlier else 0), row.park_id, row.order_id)
    payments = {p.out_trade_no: p for p in db.session.scalars(select(Payment).where(
        Payment.account_id == account.id, Payment.out_trade_no.in_([line.out_trade_no for line in lines])))}
    differences, matched, per_park = [], 0, {}
    for line in lines:
        payment = payments.get(line.out_trade_no)
        park_id = payment.park_id if payment else None
        totals = per_park.setdefault(park_id, {"park_id": park_id, "statement_fen": 0, "ledger_fen": 0})
        totals["statement_fen"] += line.amount_fen
        booked = ledger.pop(line.booked_as, None)
        if booked is None:
            differences.append(_difference("paid_not_booked", line, payment, None))
        elif booked.amount_fen != line.amount_fen:
            differences.append(_difference("amount_differs", line, payment, booked.amount_fen))
            totals["ledger_fen"] += booked.amount_fen
        else:
            matched += 1
            totals["ledger_fen"] += booked.amount_fen
    for trade_no, booked in ledger.items():
        totals = per_park.setdefault(booked.park_id, {"park_id": booked.park_id, "statement_fen": 0, "ledger_fen": 0})
        totals["ledger_fen"] += booked.amount_fen
        differences.append({"kind": "booked_not_paid", "trade_no": trade_no, "out_trade_no": None,
                            "park_id": booked.park_id, "order_id": booked.order_id, "payment_id": None,
                            "statement_fen": None, "ledger_fen": booked.amount_fen, "flag": None})
    result = db.session.scalar(select(Reconciliation).where(Reconciliation.account_id == account.id,
                                                            Reconciliation.day == day))
    if result is None:
        result = Reconciliation(account_id=account.id, day=day)
        db.session.add(result)
    result.level, result.city_id, result.group_id = account.level, account.city_id, account.group_id
    result.area_id = result.park_id = None
    result.source, result.made_at = source, utcnow()
    result.statement_lines, result.matched = len(lines), matched
    result.statement_fen = sum(line.amount_fen for line in lines)
    result.ledger_fen = sum(t["ledger_fen"] for t in per_park.values())
    result.differences, result.per_park = differences, sorted(per_park.values(), key=lambda t: t["park_id"] or 0)
    db.session.flush()
    if actor is not None:
        record(actor, "reconcile", result, label=f"{account.name} {day.isoformat()}",
               after={"source": source, "differences": len(differences)})
    return result


def _difference(kind: str, line: StatementLine, payment: Payment | None, ledger_fen: int | None) -> dict:
    return {"kind": kind, "trade_no": line.booked_as, "out_trade_no": line.out_trade_no,
            "park_id": payment.park_id if payment else None, "order_id": payment.order_id if payment else None,
            "payment_id": payment.id if payment else None, "statement_fen": line.amount_fen, "ledger_fen": ledger_fen,
            "flag": payment.flag if payment else None}


def _zone_of(account: MerchantAccount) -> str:
    from app.tenancy.models import City

    city = db.session.get(City, account.city_id)
    return city.timezone if city else "Asia/Shanghai"


def fetch_and_reconcile(account: MerchantAccount, day: date) -> Reconciliation:
    """The worker's daily run: the provider's statement of `day`, reconciled."""
    return reconcile(account, day, provider_of(account).statement(day), "fetched")


def parse_uploaded_statement(text: str) -> list[StatementLine]:
    """A manager's upload: CSV with columns kind (pay/refund), out_trade_no, trade_no, amount_fen and, for a
    refund, out_refund_no (the platform's own format; the providers' files are fetched by the worker)."""
    import csv
    import io

    lines = []
    for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
        try:
            kind = row["kind"].strip()
            if kind not in ("pay", "refund"):
                raise ValueError(kind)
            lines.append(StatementLine(kind, row["out_trade_no"].strip(), row["trade_no"].strip(),
                                       int(row["amount_fen"]), None, (row.get("out_refund_no") or "").strip() or None))
        except (KeyError, ValueError, AttributeError, TypeError):
            raise Invalid("bad_statement", f"Line {number} is not kind,out_trade_no,trade_no,amount_fen"
                                           "[,out_refund_no].", {"file": f"line {number}"}) from None
    return lines
