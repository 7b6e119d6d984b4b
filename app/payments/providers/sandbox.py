"""The sandbox provider: behaves like a real one without money. It keeps its own books (SandboxTrade), hands
out QR codes that open the platform's "simulate paying" page, and when paid sends notices signed with
HMAC-SHA256 over `timestamp\\nnonce\\nbody\\n` (the WeChat v3 message layout) with the account's key. What it
does is controllable per account (`settings`) or per call: `duplicates` (extra copies of each notice),
`delay_seconds` (before a notice is sent), `fail` (the payment fails), `refund_pending` (refunds are
confirmed only by a later query or notice)."""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets as random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.core.types import utcnow
from app.extensions import db
from app.payments.models import SandboxTrade
from app.payments.providers.base import (
    CHINA,
    BadNotice,
    Created,
    Notice,
    Provider,
    ProviderError,
    RefundAnswer,
    StatementLine,
    TradeState,
    in_window,
)

_STATES = {"NOTPAY": "created", "SUCCESS": "paid", "CLOSED": "closed", "PAYERROR": "failed"}


@dataclass(frozen=True)
class Delivery:
    """One notice on its way: what a real provider would POST to the notice URL, and after how long."""
    headers: dict
    body: bytes
    delay_seconds: int = 0


def sign(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = f"{timestamp}\n{nonce}\n".encode() + body + b"\n"
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


class SandboxProvider(Provider):
    name = "sandbox"

    @property
    def _key(self) -> str:
        return self.secrets.get("hmac_key", "")

    def create(self, *, out_trade_no, amount_fen, subject, channel, expires_at) -> Created:
        if self.settings.get("unavailable"):
            raise ProviderError("sandbox: switched to unavailable")
        trade = db.session.scalar(select(SandboxTrade).where(SandboxTrade.out_trade_no == out_trade_no,
                                                             SandboxTrade.kind == "pay"))
        if trade is None:
            db.session.add(SandboxTrade(account_id=self.account.id, out_trade_no=out_trade_no,
                                        trade_no=f"SBX{random.token_hex(12).upper()}", amount_fen=amount_fen,
                                        state="NOTPAY"))
            db.session.flush()
        # the "wallet": the platform's simulate-paying page, at the address the notices go to
        base = self.notify_url.split("/pay/notify/")[0] if "/pay/notify/" in self.notify_url else ""
        return Created(code_url=f"{base}/pay/sandbox/{out_trade_no}")

    # --- the wallet's side: what a driver's phone would do ------------------------------------------------

    def pay(self, out_trade_no: str, *, fail: bool | None = None, amount_fen: int | None = None,
            now: datetime | None = None) -> list[Delivery]:
        """The driver pays (or the payment fails): the provider's books change and its notices leave.
        `amount_fen` pays another amount than asked (a provider fault the platform must catch)."""
        now = now or utcnow()
        trade = self._trade(out_trade_no)
        if trade.state != "NOTPAY":
            return []
        fail = self.settings.get("fail", False) if fail is None else fail
        trade.state = "PAYERROR" if fail else "SUCCESS"
        trade.paid_at = None if fail else now
        if amount_fen is not None:
            trade.amount_fen = amount_fen
        event = {"id": f"EV{random.token_hex(10)}", "event_type": "TRANSACTION.FAIL" if fail
                 else "TRANSACTION.SUCCESS", "out_trade_no": trade.out_trade_no, "trade_no": trade.trade_no,
                 "amount_fen": trade.amount_fen, "success_time": now.isoformat()}
        return self._deliveries(event, now)

    def _deliveries(self, event: dict, now: datetime) -> list[Delivery]:
        copies = 1 + int(self.settings.get("duplicates", 1))  # real providers resend until answered
        delay = int(self.settings.get("delay_seconds", 0))
        return [self.signed(event, now, delay) for _ in range(copies)]

    def signed(self, event: dict, now: datetime, delay: int = 0, key: str | None = None) -> Delivery:
        body = json.dumps(event, separators=(",", ":")).encode()
        timestamp, nonce = str(int(now.timestamp())), random.token_hex(16)
        return Delivery({"X-Sandbox-Timestamp": timestamp, "X-Sandbox-Nonce": nonce,
                         "X-Sandbox-Signature": sign(key or self._key, timestamp, nonce, body)}, body, delay)

    def _trade(self, out_trade_no: str, kind: str = "pay") -> SandboxTrade:
        trade = db.session.scalar(select(SandboxTrade).where(
            SandboxTrade.account_id == self.account.id, SandboxTrade.out_trade_no == out_trade_no,
            SandboxTrade.kind == kind))
        if trade is None:
            raise ProviderError("sandbox: no such trade")
        return trade

    # --- the platform's side ------------------------------------------------------------------------------

    def verify_notice(self, headers, body, now) -> Notice:
        got = {k.lower(): v for k, v in headers.items()}
        timestamp, nonce = got.get("x-sandbox-timestamp", ""), got.get("x-sandbox-nonce", "")
        signature = got.get("x-sandbox-signature", "")
        if not (timestamp.isdigit() and nonce and signature):
            raise BadNotice("unsigned")
        if not hmac.compare_digest(sign(self._key, timestamp, nonce, body), signature):
            raise BadNotice("bad signature")
        if not in_window(datetime.fromtimestamp(int(timestamp), tz=CHINA), now):
            raise BadNotice("late")
        try:
            event = json.loads(body)
            kind = {"TRANSACTION.SUCCESS": "paid", "TRANSACTION.FAIL": "failed",
                    "REFUND.SUCCESS": "refunded"}[event["event_type"]]
            return Notice(notice_id=event["id"], kind=kind, out_trade_no=event["out_trade_no"],
                          trade_no=event["trade_no"], amount_fen=int(event["amount_fen"]),
                          at=datetime.fromisoformat(event["success_time"]), out_refund_no=event.get("out_refund_no"))
        except (ValueError, KeyError, TypeError) as exc:
            raise BadNotice("malformed") from exc

    def notice_answer(self, ok):
        return (json.dumps({"code": "SUCCESS" if ok else "FAIL"}), 200 if ok else 400, "application/json")

    def query(self, out_trade_no) -> TradeState:
        trade = self._trade(out_trade_no)
        return TradeState(_STATES[trade.state], trade.trade_no, trade.amount_fen, trade.paid_at)

    def close(self, out_trade_no) -> None:
        trade = self._trade(out_trade_no)
        if trade.state == "NOTPAY":
            trade.state = "CLOSED"

    def refund(self, *, out_trade_no, out_refund_no, amount_fen, total_fen, reason) -> RefundAnswer:
        trade = self._trade(out_trade_no)
        refunded = sum(db.session.scalars(select(SandboxTrade.amount_fen).where(
            SandboxTrade.account_id == self.account.id, SandboxTrade.out_trade_no == out_trade_no,
            SandboxTrade.kind == "refund")))
        if trade.state != "SUCCESS" or refunded + amount_fen > trade.amount_fen:
            return RefundAnswer("failed")
        pending = bool(self.settings.get("refund_pending"))
        row = SandboxTrade(account_id=self.account.id, kind="refund", out_trade_no=out_trade_no,
                           out_refund_no=out_refund_no, trade_no=f"SBR{random.token_hex(12).upper()}",
                           amount_fen=amount_fen, state="PROCESSING" if pending else "SUCCESS",
                           paid_at=None if pending else utcnow())
        db.session.add(row)
        db.session.flush()
        return RefundAnswer("pending" if pending else "done", row.trade_no)

    def finish_refunds(self, now: datetime | None = None) -> list[Delivery]:
        """The provider completes its pending refunds and says so in notices."""
        now = now or utcnow()
        deliveries = []
        for row in db.session.scalars(select(SandboxTrade).where(
                SandboxTrade.account_id == self.account.id, SandboxTrade.state == "PROCESSING")):
            row.state, row.paid_at = "SUCCESS", now
            deliveries += self._deliveries({"id": f"EV{random.token_hex(10)}", "event_type": "REFUND.SUCCESS",
                                            "out_trade_no": row.out_trade_no, "trade_no": row.trade_no,
                                            "out_refund_no": row.out_refund_no, "amount_fen": row.amount_fen,
                                            "success_time": now.isoformat()}, now)
        return deliveries

    def refund_state(self, out_refund_no, out_trade_no) -> RefundAnswer:
        row = db.session.scalar(select(SandboxTrade).where(SandboxTrade.out_refund_no == out_refund_no,
                                                           SandboxTrade.account_id == self.account.id))
        if row is None:
            return RefundAnswer("failed")
        return RefundAnswer("done" if row.state == "SUCCESS" else "pending", row.trade_no)

    def statement(self, day: date) -> list[StatementLine]:
        start = datetime(day.year, day.month, day.day, tzinfo=CHINA)
        rows = db.session.scalars(select(SandboxTrade).where(
            SandboxTrade.account_id == self.account.id, SandboxTrade.state == "SUCCESS",
            SandboxTrade.paid_at >= start, SandboxTrade.paid_at < start + timedelta(days=1)).order_by(SandboxTrade.id))
        return [StatementLine(kind=r.kind, out_trade_no=r.out_trade_no,
                              trade_no=r.trade_no if r.kind == "pay" else self._trade(r.out_trade_no).trade_no,
                              amount_fen=r.amount_fen if r.kind == "pay" else -r.amount_fen, at=r.paid_at,
                              out_refund_no=r.out_refund_no) for r in rows]
