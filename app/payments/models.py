"""Merchant accounts (per city or operating group, secrets encrypted at rest), payments, refunds, the notices
received and the daily reconciliations."""
from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.crypto import EncryptedString
from app.core.types import UTCDateTime, utcnow
from app.extensions import db
from app.tenancy.models import AnchoredMixin, ParkScopedMixin


class EncryptedText(EncryptedString):
    """An encrypted secret too long for 512 characters (RSA keys in PEM)."""

    impl = Text()
    cache_ok = True


class PaymentState(str, enum.Enum):
    CREATED = "created"    # a QR code or pay link handed out, not paid yet
    PAID = "paid"          # the provider's verified notice says the money was taken
    CLOSED = "closed"      # closed unpaid (expired, or a newer quote replaced it)
    REFUNDED = "refunded"  # paid, then refunded in full
    FAILED = "failed"      # the provider says the payment failed


class PaymentFlag(str, enum.Enum):
    """Why a paid payment settled nothing: a manager looks at these."""
    AMOUNT_MISMATCH = "amount_mismatch"   # the notice's amount is not the payment's
    FEE_CHANGED = "fee_changed"           # paid, but the fee due when paid was another (refunded)
    SETTLED_ALREADY = "settled_already"   # the order was settled otherwise (cash) meanwhile: refunded


class MerchantAccount(AnchoredMixin, db.Model):
    """商户号: the credentials a city or an operating group takes payments with. `secrets` is a JSON object
    (private key, API v3 key, the provider's public key...) encrypted at rest and shown only when entered."""

    __tablename__ = "merchant_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))  # sandbox, wechat, alipay
    name: Mapped[str] = mapped_column(String(80))
    app_id: Mapped[str | None] = mapped_column(String(64))      # WeChat sp_appid / Alipay app_id
    mch_id: Mapped[str | None] = mapped_column(String(64))      # WeChat sp_mchid (service provider)
    sub_mch_id: Mapped[str | None] = mapped_column(String(64))  # WeChat sub_mchid / Alipay app_auth_token owner
    key_serial: Mapped[str | None] = mapped_column(String(64))  # serial of the merchant's API certificate
    settings: Mapped[dict | None] = mapped_column(JSON)         # sandbox behaviour, gateway overrides
    secrets: Mapped[str] = mapped_column(EncryptedText())
    secret_hint: Mapped[str] = mapped_column(String(12))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    secrets_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ParkPaymentAccount(ParkScopedMixin, db.Model):
    """A park's setting: which of the merchant accounts it may use (its group's or its city's) it takes
    payments with. Without one, its group's account is used, else its city's."""

    __tablename__ = "park_payment_accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("merchant_accounts.id"), index=True)


class Payment(ParkScopedMixin, db.Model):
    """One payment asked of a driver: for an order's fee or a plate's arrears, at one provider."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_order", "order_id", "state"),
                      Index("ix_payments_park_created", "park_id", "created_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("merchant_accounts.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("parking_orders.id"))
    arrear_ids: Mapped[list | None] = mapped_column(JSON)  # a recovery paid online: the debts it pays
    plate: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16), default="native")  # native (QR), wap (phone browser)
    out_trade_no: Mapped[str] = mapped_column(String(32), unique=True)
    trade_no: Mapped[str | None] = mapped_column(String(64))  # the provider's
    amount_fen: Mapped[int]
    refunded_fen: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default=PaymentState.CREATED.value)
    flag: Mapped[str | None] = mapped_column(String(24))
    flag_note: Mapped[str | None] = mapped_column(String(200))
    code_url: Mapped[str | None] = mapped_column(String(512))
    source: Mapped[str] = mapped_column(String(16), default="handheld")  # handheld, driver
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    receipt_token: Mapped[str] = mapped_column(String(32), unique=True)  # the driver's e-receipt address
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booked: Mapped[bool] = mapped_column(default=False)  # its ledger row is written (the order settled)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    account: Mapped[MerchantAccount] = relationship()


class RefundState(str, enum.Enum):
    PENDING = "pending"  # asked of the provider, not confirmed
    DONE = "done"
    FAILED = "failed"


class PaymentRefund(ParkScopedMixin, db.Model):
    """A refund of a payment, full or partial: a manager's (with a reason) or automatic (settled twice)."""

    __tablename__ = "payment_refunds"
    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"))
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    out_refund_no: Mapped[str] = mapped_column(String(64), unique=True)
    refund_no: Mapped[str | None] = mapped_column(String(64))  # the provider's
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default=RefundState.PENDING.value)
    automatic: Mapped[bool] = mapped_column(default=False)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payment: Mapped[Payment] = relationship()


class PaymentNotice(db.Model):
    """A provider's notice taken: its id is kept so a replay is answered without being acted on again."""

    __tablename__ = "payment_notices"
    __table_args__ = (Index("uq_payment_notice", "provider", "notice_id", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    notice_id: Mapped[str] = mapped_column(String(64))
    out_trade_no: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(24))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SandboxTrade(db.Model):
    """The sandbox provider's own books (what a real provider keeps on its side): its trades and refunds,
    answered to queries and written to its daily statement."""

    __tablename__ = "sandbox_trades"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("merchant_accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="pay")  # pay, refund
    out_trade_no: Mapped[str] = mapped_column(String(64), index=True)
    out_refund_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    trade_no: Mapped[str] = mapped_column(String(64), unique=True)
    amount_fen: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))  # NOTPAY, SUCCESS, CLOSED, PAYERROR; refunds SUCCESS
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Reconciliation(AnchoredMixin, db.Model):
    """对账: one account's statement of one day matched with the ledger; the differences listed."""

    __tablename__ = "reconciliations"
    __table_args__ = (Index("uq_reconciliation_day", "account_id", "day", unique=True),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("merchant_accounts.id"))
    day: Mapped[date]
    source: Mapped[str] = mapped_column(String(16))  # fetched, uploaded
    statement_lines: Mapped[int] = mapped_column(default=0)
    matched: Mapped[int] = mapped_column(default=0)
    statement_fen: Mapped[int] = mapped_column(default=0)
    ledger_fen: Mapped[int] = mapped_column(default=0)
    differences: Mapped[list] = mapped_column(JSON, default=list)  # [{kind, trade_no, park_id, ...}]
    per_park: Mapped[list] = mapped_column(JSON, default=list)     # [{park_id, statement_fen, ledger_fen}]
    made_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    account: Mapped[MerchantAccount] = relationship()
