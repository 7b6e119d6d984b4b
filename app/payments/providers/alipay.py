"""Alipay open platform (RSA2), implemented on the documented signing rather than an SDK (see docs/payments.md):
a request's parameters, sorted, as `k=v&k=v` (without sign and empty values), signed RSA-SHA256 with the app's
private key; an answer's `<method>_response` object verified with Alipay's public key over its raw JSON text;
an asynchronous notice (a form POST) verified over its sorted parameters without sign and sign_type.
A service provider (服务商) acts for a park's merchant with that merchant's `app_auth_token`.

Secrets: private_key (the app's, PEM or bare base64), alipay_public_key, app_auth_token (optional)."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date, datetime
from urllib.parse import parse_qsl, urlencode

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
    yuan,
)

GATEWAY = "https://openapi.alipay.com/gateway.do"
_TRADE_STATES = {"WAIT_BUYER_PAY": "created", "TRADE_SUCCESS": "paid", "TRADE_FINISHED": "paid",
                 "TRADE_CLOSED": "closed"}


def signing_text(params: dict) -> str:
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in ("sign", "sign_type")
                    and params[k] not in (None, ""))


def _local(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)


class AlipayProvider(Provider):
    name = "alipay"

    @property
    def gateway(self) -> str:
        return self.settings.get("gateway", GATEWAY)

    def signed_params(self, method: str, biz: dict, *, notify: bool = True) -> dict:
        params = {"app_id": self.account.app_id, "method": method, "format": "JSON", "charset": "utf-8",
                  "sign_type": "RSA2", "timestamp": datetime.now(CHINA).strftime("%Y-%m-%d %H:%M:%S"),
                  "version": "1.0", "biz_content": json.dumps(biz, separators=(",", ":"), ensure_ascii=False)}
        if notify and self.notify_url:
            params["notify_url"] = self.notify_url
        if self.secrets.get("app_auth_token"):
            params["app_auth_token"] = self.secrets["app_auth_token"]
        params["sign"] = rsa.sign(self.secrets["private_key"], signing_text(params).encode())
        return params

    def _call(self, method: str, biz: dict) -> dict:
        body = urlencode(self.signed_params(method, biz)).encode()
        status, _headers, answer = self.transport(
            "POST", self.gateway, {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}, body)
        if status >= 300:
            raise ProviderError(f"alipay {method}: {status}")
        text = answer.decode("utf-8")
        node = method.replace(".", "_") + "_response"
        raw = _raw_node(text, node)
        parsed = json.loads(text)
        if raw is None or not rsa.verify(self.secrets["alipay_public_key"], raw.encode(), parsed.get("sign", "")):
            raise ProviderError(f"alipay {method}: the answer's signature does not verify")
        result = parsed[node]
        if result.get("code") != "10000":
            raise ProviderError(f"alipay {method}: {result.get('sub_code') or result.get('code')}")
        return result

    def create(self, *, out_trade_no, amount_fen, subject, channel, expires_at) -> Created:
        biz = {"out_trade_no": out_trade_no, "total_amount": yuan(amount_fen), "subject": subject[:256],
               "time_expire": expires_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")}
        if channel == "wap":  # the phone's browser is sent to the gateway with the signed request
            biz["product_code"] = "QUICK_WAP_WAY"
            return Created(f"{self.gateway}?{urlencode(self.signed_params('alipay.trade.wap.pay', biz))}")
        return Created(self._call("alipay.trade.precreate", biz)["qr_code"])

    def verify_notice(self, headers, body, now) -> Notice:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        if not rsa.verify(self.secrets.get("alipay_public_key", ""), signing_text(params).encode(),
                          params.get("sign", "")):
            raise BadNotice("bad signature")
        if params.get("app_id") != self.account.app_id:
            raise BadNotice("not this merchant's")
        try:
            if not in_window(_local(params["notify_time"]), now):
                raise BadNotice("late")
            status = params["trade_status"]
            refund = params.get("out_biz_no") and params.get("refund_fee")
            if refund:
                return Notice(notice_id=params["notify_id"], kind="refunded", out_trade_no=params["out_trade_no"],
                              trade_no=params["trade_no"], amount_fen=fen_of(params["refund_fee"]),
                              at=_local(params.get("gmt_refund", params["notify_time"])[:19]),
                              out_refund_no=params["out_biz_no"])
            paid = status in ("TRADE_SUCCESS", "TRADE_FINISHED")
            return Notice(notice_id=params["notify_id"], kind="paid" if paid else "failed",
                          out_trade_no=params["out_trade_no"], trade_no=params["trade_no"],
                          amount_fen=fen_of(params["total_amount"]),
                          at=_local(params["gmt_payment"]) if paid else now)
        except (KeyError, ValueError) as exc:
            raise BadNotice("malformed") from exc

    def notice_answer(self, ok):
        return ("success" if ok else "failure", 200, "text/plain")

    def query(self, out_trade_no) -> TradeState:
        try:
            answer = self._call("alipay.trade.query", {"out_trade_no": out_trade_no})
        except ProviderError as exc:
            if "TRADE_NOT_EXIST" in str(exc):  # the QR code not scanned yet: Alipay knows no trade
                return TradeState("created")
            raise
        paid_at = answer.get("send_pay_date")
        return TradeState(_TRADE_STATES.get(answer.get("trade_status", ""), "created"), answer.get("trade_no"),
                          fen_of(answer["total_amount"]) if answer.get("total_amount") else None,
                          _local(paid_at) if paid_at else None)

    def close(self, out_trade_no) -> None:
        try:
            self._call("alipay.trade.close", {"out_trade_no": out_trade_no})
        except ProviderError as exc:
            if "TRADE_NOT_EXIST" not in str(exc):
                raise

    def refund(self, *, out_trade_no, out_refund_no, amount_fen, total_fen, reason) -> RefundAnswer:
        answer = self._call("alipay.trade.refund", {"out_trade_no": out_trade_no, "refund_amount": yuan(amount_fen),
                                                    "out_request_no": out_refund_no, "refund_reason": reason[:256]})
        return RefundAnswer("done" if answer.get("fund_change") == "Y" else "pending", answer.get("trade_no"))

    def refund_state(self, out_refund_no, out_trade_no) -> RefundAnswer:
        answer = self._call("alipay.trade.fastpay.refund.query",
                            {"out_trade_no": out_trade_no, "out_request_no": out_refund_no})
        return RefundAnswer("done" if answer.get("refund_status") == "REFUND_SUCCESS" else "pending",
                            answer.get("trade_no"))

    def statement(self, day: date) -> list[StatementLine]:
        url = self._call("alipay.data.dataservice.bill.downloadurl.query",
                         {"bill_type": "trade", "bill_date": day.isoformat()})["bill_download_url"]
        status, _headers, data = self.transport("GET", url, {}, None)
        if status >= 300:
            raise ProviderError(f"alipay statement download: {status}")
        return parse_trade_bill(data)


def _raw_node(text: str, node: str) -> str | None:
    """The answer node's JSON exactly as sent (what Alipay signed): from after `"node":` to its closing brace."""
    start = text.find(f'"{node}"')
    if start < 0:
        return None
    start = text.index("{", start)
    depth, quoted, escaped = 0, False, False
    for i in range(start, len(text)):
        ch = text[i]
        if quoted:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                quoted = False
            continue
        if ch == '"':
            quoted = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[start:i + 1]
    return None


def parse_trade_bill(data: bytes) -> list[StatementLine]:
    """The trade bill: a zip holding the details CSV (GBK), '#' comment lines around a header row whose
    columns include 支付宝交易号, 商户订单号, 业务类型 (交易/退款), 完成时间, 订单金额（元）, 退款批次号/请求号."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = next(n for n in archive.namelist() if "汇总" not in n)
        text = archive.read(name).decode("gbk")
    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    header = [h.strip() for h in rows[0]]
    lines = []
    for row in rows[1:]:
        if len(row) < len(header):
            continue
        values = {h: v.strip() for h, v in zip(header, row, strict=False)}
        at = _local(values["完成时间"]) if values.get("完成时间") else None
        amount = fen_of(values["订单金额（元）"])
        if values["业务类型"] == "退款":
            lines.append(StatementLine("refund", values["商户订单号"], values["支付宝交易号"], -abs(amount), at,
                                       values.get("退款批次号/请求号")))
        elif values["业务类型"] == "交易":
            lines.append(StatementLine("pay", values["商户订单号"], values["支付宝交易号"], amount, at))
    return lines
