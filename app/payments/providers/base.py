"""What every provider does, in the platform's terms (integer fen, tz-aware UTC, our out_trade_no)."""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from urllib import request as urlrequest
from urllib.error import HTTPError, URLError

NOTICE_WINDOW = timedelta(minutes=5)  # a notice signed longer ago (or ahead) than this is refused as late


class ProviderError(Exception):
    """The provider could not be reached or refused the call; nothing changed on our side."""


class BadNotice(Exception):
    """A notice that is forged, tampered with, late or not for this merchant: acted on never."""


@dataclass(frozen=True)
class Created:
    code_url: str  # what the QR code holds (native) or where the phone's browser goes (wap)


@dataclass(frozen=True)
class Notice:
    """A verified notice: a payment's outcome or a refund's."""
    notice_id: str
    kind: str  # paid, failed, refunded
    out_trade_no: str
    trade_no: str
    amount_fen: int
    at: datetime  # when the money moved, UTC
    out_refund_no: str | None = None


@dataclass(frozen=True)
class TradeState:
    state: str  # created, paid, closed, failed (PaymentState values)
    trade_no: str | None = None
    amount_fen: int | None = None
    paid_at: datetime | None = None


@dataclass(frozen=True)
class RefundAnswer:
    state: str  # pending, done, failed (RefundState values)
    refund_no: str | None = None


@dataclass(frozen=True)
class StatementLine:
    """One line of a provider's daily statement: a payment (positive) or a refund (negative)."""
    kind: str  # pay, refund
    out_trade_no: str
    trade_no: str
    amount_fen: int
    at: datetime | None = None
    out_refund_no: str | None = None

    @property
    def booked_as(self) -> str:
        """The trade number our ledger books it under: the provider's trade, or our refund number."""
        return self.trade_no if self.kind == "pay" else (self.out_refund_no or self.trade_no)


Transport = Callable[[str, str, dict, bytes | None], tuple[int, dict, bytes]]


def http(method: str, url: str, headers: dict, body: bytes | None) -> tuple[int, dict, bytes]:
    """The real network (urllib): status, headers, body; a provider's adapter may be given another."""
    req = urlrequest.Request(url, data=body, method=method, headers=headers)
    try:
        with urlrequest.urlopen(req, timeout=10) as answer:  # noqa: S310 (the provider's https gateway)
            return answer.status, dict(answer.headers), answer.read()
    except HTTPError as answer:
        return answer.code, dict(answer.headers), answer.read()
    except (URLError, TimeoutError) as exc:
        raise ProviderError(f"provider unreachable: {exc}") from exc


class Provider(ABC):
    """One merchant account at one provider. Adapters raise ProviderError when a call fails and BadNotice for
    a notice that must not be acted on."""
    name: str = ""

    def __init__(self, account, notify_url: str | None = None, transport: Transport | None = None):
        self.account = account
        self.secrets = json.loads(account.secrets or "{}")
        self.settings = account.settings or {}
        self.notify_url = notify_url or ""
        self.transport = transport or http

    @abstractmethod
    def create(self, *, out_trade_no: str, amount_fen: int, subject: str, channel: str,
               expires_at: datetime) -> Created:
        """A native QR code (channel native) or a phone browser's pay link (channel wap)."""

    @abstractmethod
    def verify_notice(self, headers: dict, body: bytes, now: datetime) -> Notice:
        """The notice, verified (signature, merchant, time window) and decoded; BadNotice otherwise."""

    @abstractmethod
    def notice_answer(self, ok: bool) -> tuple[str, int, str]:
        """What the provider expects back: body, status, content type."""

    @abstractmethod
    def query(self, out_trade_no: str) -> TradeState:
        """The trade as the provider knows it."""

    @abstractmethod
    def close(self, out_trade_no: str) -> None:
        """No more paying of this trade."""

    @abstractmethod
    def refund(self, *, out_trade_no: str, out_refund_no: str, amount_fen: int, total_fen: int,
               reason: str) -> RefundAnswer:
        """Give back `amount_fen` of a paid trade; done at once or pending (confirmed later by query or notice)."""

    @abstractmethod
    def refund_state(self, out_refund_no: str, out_trade_no: str) -> RefundAnswer:
        """Whether a pending refund is done."""

    @abstractmethod
    def statement(self, day: date) -> list[StatementLine]:
        """The day's statement (the provider's day: China time), payments and refunds."""


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def fen_of(yuan_text: str) -> int:
    """'6.00' -> 600, exactly (no float)."""
    text = yuan_text.strip().lstrip("`¥")
    negative = text.startswith("-")
    whole, _, part = text.lstrip("-").partition(".")
    fen = int(whole or 0) * 100 + int((part + "00")[:2])
    return -fen if negative else fen


CHINA = timezone(timedelta(hours=8))


def in_window(signed_at: datetime, now: datetime) -> bool:
    return abs(now - signed_at) <= NOTICE_WINDOW
