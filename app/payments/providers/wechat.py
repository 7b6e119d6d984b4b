"""WeChat Pay API v3, service-provider mode (服务商模式: sp_mchid + sub_mchid), implemented on the documented
signing rather than an SDK (see docs/payments.md):

- every request carries `Authorization: WECHATPAY2-SHA256-RSA2048 mchid=..,nonce_str=..,timestamp=..,
  serial_no=..,signature=..`, the signature RSA-SHA256 over `METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n` with the
  merchant's API private key;
- a notice is verified with the platform's public key over `TIMESTAMP\\nNONCE\\nBODY\\n` (headers Wechatpay-*),
  refused outside five minutes, and its resource decrypted with AEAD_AES_256_GCM under the API v3 key.

Secrets (MerchantAccount.secrets): private_key (PEM), api_v3_key (32 characters), platform_public_key (PEM:
the platform certificate's or the "wechatpay public key"), platform_serial (optional: refused if it differs)."""
from __future__ import annotations

import base64
import csv
import io
import json
import secrets as random
from datetime import date, datetime, timezone
from urllib.parse import quote, urlsplit

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.payments.providers import rsa
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
    fen_of,
    in_window,
)

GATEWAY = "https://api.mch.weixin.qq.com"
_TRADE_STATES = {"SUCCESS": "paid", "REFUND": "paid", "NOTPAY": "created", "USERPAYING": "created",
                 "CLOSED": "closed", "REVOKED": "closed", "PAYERROR": "failed"}


def decrypt_resource(api_v3_key: str, resource: dict) -> dict:
    """A notice's resource: AEAD_AES_256_GCM, key = the API v3 key, the tag at the ciphertext's end."""
    if resource.get("algorithm") != "AEAD_AES_256_GCM":
        raise BadNotice("unknown algorithm")
    try:
        plain = AESGCM(api_v3_key.encode()).decrypt(
            resource["nonce"].encode(), base64.b64decode(resource["ciphertext"]),
            (resource.get("associated_data") or "").encode() or None)
        return json.loads(plain)
    except (InvalidTag, KeyError, ValueError) as exc:
        raise BadNotice("resource cannot be decrypted") from exc


def encrypt_resource(api_v3_key: str, plain: dict, nonce: str, associated_data: str = "transaction") -> dict:
    """The platform's side of decrypt_resource (for tests and the documentation)."""
    data = AESGCM(api_v3_key.encode()).encrypt(nonce.encode(), json.dumps(plain).encode(), associated_data.encode())
    return {"algorithm": "AEAD_AES_256_GCM", "ciphertext": base64.b64encode(data).decode(), "nonce": nonce,
            "associated_data": associated_data, "original_type": "transaction"}


class WechatPayProvider(Provider):
    name = "wechat"

    @property
    def gateway(self) -> str:
        return self.settings.get("gateway", GATEWAY)

    def _authorization(self, method: str, path: str, body: str, timestamp: str, nonce: str) -> str:
        message = f"{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n".encode()
        signature = rsa.sign(self.secrets["private_key"], message)
        return (f'WECHATPAY2-SHA256-RSA2048 mchid="{self.account.mch_id}",nonce_str="{nonce}",'
                f'timestamp="{timestamp}",serial_no="{self.account.key_serial}",signature="{signature}"')

    def _call(self, method: str, path: str, payload: dict | None = None, *, raw: bool = False):
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False) if payload is not None else ""
        url = path if path.startswith("http") else self.gateway + path
        split = urlsplit(url)
        signed_path = split.path + (f"?{split.query}" if split.query else "")
        timestamp, nonce = str(int(datetime.now(timezone.utc).timestamp())), random.token_hex(16)
        headers = {"Authorization": self._authorization(method, signed_path, body, timestamp, nonce),
                   "Accept": "application/json", "Content-Type": "application/json",
                   "User-Agent": "ParkingOS"}
        status, answer_headers, answer = self.transport(method, url, headers, body.encode() if body else None)
        if status >= 300:
            raise ProviderError(f"wechat {method} {split.path}: {status} {answer[:200]!r}")
        if raw:
            return answer
        if not self._signed_by_platform(answer_headers, answer):
            raise ProviderError("wechat: the answer's signature does not verify")
        return json.loads(answer) if answer else {}

    def _signed_by_platform(self, headers: dict, body: bytes) -> bool:
        got = {k.lower(): v for k, v in headers.items()}
        timestamp, nonce = got.get("wechatpay-timestamp", ""), got.get("wechatpay-nonce", "")
        signature = got.get("wechatpay-signature", "")
        if not (timestamp and nonce and signature):
            return False
        serial = self.secrets.get("platform_serial")
        if serial and got.get("wechatpay-serial") not in (None, serial):
            return False
        return rsa.verify(self.secrets["platform_public_key"], f"{timestamp}\n{nonce}\n".encode() + body + b"\n",
                          signature)

    def _merchant(self) -> dict:
        return {"sp_mchid": self.account.mch_id, "sub_mchid": self.account.sub_mch_id}

    def create(self, *, out_trade_no, amount_fen, subject, channel, expires_at) -> Created:
        payload = {"sp_appid": self.account.app_id, **self._merchant(), "description": subject[:127],
                   "out_trade_no": out_trade_no, "time_expire": expires_at.astimezone(CHINA).isoformat(
                       timespec="seconds"), "notify_url": self.notify_url,
                   "amount": {"total": amount_fen, "currency": "CNY"}}
        if channel == "wap":
            payload["scene_info"] = {"payer_client_ip": "127.0.0.1", "h5_info": {"type": "Wap"}}
            return Created(self._call("POST", "/v3/pay/partner/transactions/h5", payload)["h5_url"])
        return Created(self._call("POST", "/v3/pay/partner/transactions/native", payload)["code_url"])

    def verify_notice(self, headers, body, now) -> Notice:
        got = {k.lower(): v for k, v in headers.items()}
        if not self._signed_by_platform(headers, body):
            raise BadNotice("bad signature")
        if not in_window(datetime.fromtimestamp(int(got["wechatpay-timestamp"]), tz=timezone.utc), now):
            raise BadNotice("late")
        try:
            envelope = json.loads(body)
            plain = decrypt_resource(self.secrets["api_v3_key"], envelope["resource"])
            if plain.get("sp_mchid") != self.account.mch_id or plain.get("sub_mchid") != self.account.sub_mch_id:
                raise BadNotice("not this merchant's")
            if envelope["event_type"].startswith("REFUND."):
                return Notice(notice_id=envelope["id"], kind="refunded" if plain["refund_status"] == "SUCCESS"
                              else "failed", out_trade_no=plain["out_trade_no"], trade_no=plain["transaction_id"],
                              amount_fen=int(plain["amount"]["refund"]),
                              at=datetime.fromisoformat(plain.get("success_time") or now.isoformat()),
                              out_refund_no=plain["out_refund_no"])
            paid = plain["trade_state"] == "SUCCESS"
            return Notice(notice_id=envelope["id"], kind="paid" if paid else "failed",
                          out_trade_no=plain["out_trade_no"], trade_no=plain.get("transaction_id", ""),
                          amount_fen=int(plain["amount"]["total"]),
                          at=datetime.fromisoformat(plain["success_time"]) if paid else now)
        except (KeyError, ValueError, TypeError) as exc:
            raise BadNotice("malformed") from exc

    def notice_answer(self, ok):
        if ok:
            return ("", 204, "application/json")
        return (json.dumps({"code": "FAIL", "message": "refused"}), 400, "application/json")

    def query(self, out_trade_no) -> TradeState:
        answer = self._call("GET", f"/v3/pay/partner/transactions/out-trade-no/{quote(out_trade_no)}"
                                   f"?sp_mchid={self.account.mch_id}&sub_mchid={self.account.sub_mch_id}")
        paid_at = answer.get("success_time")
        return TradeState(_TRADE_STATES.get(answer.get("trade_state", ""), "created"), answer.get("transaction_id"),
                          (answer.get("amount") or {}).get("total"),
                          datetime.fromisoformat(paid_at) if paid_at else None)

    def close(self, out_trade_no) -> None:
        self._call("POST", f"/v3/pay/partner/transactions/out-trade-no/{quote(out_trade_no)}/close", self._merchant())

    def refund(self, *, out_trade_no, out_refund_no, amount_fen, total_fen, reason) -> RefundAnswer:
        answer = self._call("POST", "/v3/refund/domestic/refunds", {
            "sub_mchid": self.account.sub_mch_id, "out_trade_no": out_trade_no, "out_refund_no": out_refund_no,
            "reason": reason[:80], "notify_url": self.notify_url,
            "amount": {"refund": amount_fen, "total": total_fen, "currency": "CNY"}})
        return _refund_answer(answer)

    def refund_state(self, out_refund_no, out_trade_no) -> RefundAnswer:
        return _refund_answer(self._call("GET", f"/v3/refund/domestic/refunds/{quote(out_refund_no)}"
                                                f"?sub_mchid={self.account.sub_mch_id}"))

    def statement(self, day: date) -> list[StatementLine]:
        bill = self._call("GET", f"/v3/bill/tradebill?bill_date={day.isoformat()}"
                                 f"&sub_mchid={self.account.sub_mch_id}&bill_type=ALL")
        return parse_tradebill(self._call("GET", bill["download_url"], raw=True).decode("utf-8-sig"))


def _refund_answer(answer: dict) -> RefundAnswer:
    status = answer.get("status", "PROCESSING")
    return RefundAnswer({"SUCCESS": "done", "CLOSED": "failed", "ABNORMAL": "failed"}.get(status, "pending"),
                        answer.get("refund_id"))


def parse_tradebill(text: str) -> list[StatementLine]:
    """The trade bill (交易账单, bill_type ALL): a header row, one row per trade with every field behind a
    backtick, then totals. A refunded row is a payment line plus a refund line."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    lines = []
    for row in rows[1:]:
        if len(row) != len(header):
            break  # the totals' header: the trades are over
        values = dict(zip(header, (v.strip().lstrip("`") for v in row), strict=True))
        at = datetime.fromisoformat(values["交易时间"]).replace(tzinfo=CHINA)
        if values["交易状态"] == "REFUND":
            lines.append(StatementLine("refund", values["商户订单号"], values["微信订单号"],
                                       -fen_of(values["退款金额"]), at, values["商户退款单号"]))
        elif values["交易状态"] == "SUCCESS":
            lines.append(StatementLine("pay", values["商户订单号"], values["微信订单号"],
                                       fen_of(values["应结订单金额"]), at))
    return lines
