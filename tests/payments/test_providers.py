"""The providers' signatures. No published key pair with a matching notice could be found for WeChat Pay v3 or
Alipay (their documentation shows formats, not keys), so the keys here are generated for the test: the
"platform" key stands for WeChat's or Alipay's, the "merchant" key for ours. The message layouts are the
documented ones (WeChat: pay.weixin.qq.com/wiki/doc/apiv3 签名生成 / 签名验证 / 回调报文解密; Alipay: opendocs
自行实现签名): what a provider sends verifies, and a forged, tampered, late or foreign notice does not."""
import io
import json
import zipfile
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace
from urllib.parse import parse_qsl, urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa as rsa_keys

from app.payments.providers import BadNotice, ProviderError, rsa
from app.payments.providers.alipay import AlipayProvider, _raw_node, signing_text
from app.payments.providers.base import fen_of
from app.payments.providers.wechat import WechatPayProvider, encrypt_resource, parse_tradebill

NOW = datetime(2026, 5, 1, 2, 0, tzinfo=timezone.utc)
API_V3_KEY = "0123456789abcdef0123456789abcdef"


def _pair():
    key = rsa_keys.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture(scope="module")
def keys():
    merchant, platform = _pair(), _pair()
    return SimpleNamespace(merchant_private=merchant[0], merchant_public=merchant[1], platform_private=platform[0],
                           platform_public=platform[1])


def _account(provider, secrets, **fields):
    return SimpleNamespace(id=7, provider=provider, secrets=json.dumps(secrets), settings={}, **fields)


# --- WeChat Pay API v3 ---------------------------------------------------------------------------------------

def _wechat(keys, transport=None):
    account = _account("wechat", {"private_key": keys.merchant_private, "api_v3_key": API_V3_KEY,
                                  "platform_public_key": keys.platform_public}, app_id="wx8888888888888888",
                       mch_id="1900000100", sub_mch_id="1900000109", key_serial="5157F09EFDC096DE15EBE81A47057A72")
    return WechatPayProvider(account, "https://parking.example/pay/notify/7", transport)


def _wechat_notice(keys, *, total=600, at=NOW, sub_mchid="1900000109", sign_with=None):
    plain = {"sp_mchid": "1900000100", "sub_mchid": sub_mchid, "out_trade_no": "000126050110000012ab",
             "transaction_id": "4200000848202101120290526543", "trade_state": "SUCCESS",
             "success_time": "2026-05-01T09:59:58+08:00", "amount": {"total": total, "payer_total": total}}
    body = json.dumps({"id": "EV-018", "create_time": "2026-05-01T10:00:00+08:00", "event_type": "TRANSACTION.SUCCESS",
                       "resource_type": "encrypt-resource", "summary": "支付成功",
                       "resource": encrypt_resource(API_V3_KEY, plain, "fdasflkja484")}).encode()
    timestamp, nonce = str(int(at.timestamp())), "fdasfwer34rf3f"
    signature = rsa.sign(sign_with or keys.platform_private, f"{timestamp}\n{nonce}\n".encode() + body + b"\n")
    return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": signature,
            "Wechatpay-Serial": "PUB_KEY_ID_0114232134912410000000000000"}, body


def test_wechat_notice_verifies_and_decrypts(keys):
    headers, body = _wechat_notice(keys)
    notice = _wechat(keys).verify_notice(headers, body, NOW + timedelta(seconds=30))
    assert (notice.kind, notice.out_trade_no, notice.trade_no, notice.amount_fen) == (
        "paid", "000126050110000012ab", "4200000848202101120290526543", 600)
    assert notice.at == datetime(2026, 5, 1, 1, 59, 58, tzinfo=timezone.utc)


def test_wechat_forged_tampered_late_or_foreign_notices_are_refused(keys):
    provider = _wechat(keys)
    headers, body = _wechat_notice(keys, sign_with=keys.merchant_private)  # signed by someone else
    with pytest.raises(BadNotice):
        provider.verify_notice(headers, body, NOW)
    headers, body = _wechat_notice(keys)
    envelope = json.loads(body)
    envelope["summary"] = "x"
    with pytest.raises(BadNotice):
        provider.verify_notice(headers, json.dumps(envelope).encode(), NOW)
    with pytest.raises(BadNotice, match="late"):
        provider.verify_notice(headers, body, NOW + timedelta(minutes=6))
    headers, body = _wechat_notice(keys, sub_mchid="1900000999")  # another sub-merchant's payment
    with pytest.raises(BadNotice):
        provider.verify_notice(headers, body, NOW)


def test_wechat_request_is_signed_and_its_answer_verified(keys):
    sent = {}

    def transport(method, url, headers, body):
        sent.update(method=method, url=url, headers=headers, body=body)
        answer = json.dumps({"code_url": "weixin://wxpay/bizpayurl?pr=p4lpSuKzz"}).encode()
        timestamp, nonce = str(int(datetime.now(timezone.utc).timestamp())), "n0nce"
        return 200, {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce, "Wechatpay-Signature": rsa.sign(
            keys.platform_private, f"{timestamp}\n{nonce}\n".encode() + answer + b"\n")}, answer

    created = _wechat(keys, transport).create(out_trade_no="T1", amount_fen=600, subject="停车费", channel="native",
                                              expires_at=NOW)
    assert created.code_url.startswith("weixin://")
    assert sent["url"] == "https://api.mch.weixin.qq.com/v3/pay/partner/transactions/native"
    payload = json.loads(sent["body"])
    assert payload["sp_mchid"] == "1900000100" and payload["sub_mchid"] == "1900000109"
    assert payload["amount"] == {"total": 600, "currency": "CNY"}
    assert payload["notify_url"] == "https://parking.example/pay/notify/7"
    fields = dict(part.split("=", 1) for part in sent["headers"]["Authorization"].split(" ", 1)[1].split(","))
    fields = {k: v.strip('"') for k, v in fields.items()}
    message = (f"POST\n/v3/pay/partner/transactions/native\n{fields['timestamp']}\n{fields['nonce_str']}\n"
               f"{sent['body'].decode()}\n").encode()
    assert rsa.verify(keys.merchant_public, message, fields["signature"]) and fields["mchid"] == "1900000100"

    def unsigned(method, url, headers, body):
        return 200, {}, b'{"code_url": "weixin://evil"}'

    with pytest.raises(ProviderError):
        _wechat(keys, unsigned).create(out_trade_no="T1", amount_fen=600, subject="x", channel="native",
                                       expires_at=NOW)


def test_wechat_trade_bill_parses_payments_and_refunds():
    bill = ("交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
            "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
            "手续费,费率,订单金额,申请退款金额,费率备注\n"
            "`2026-05-01 09:59:58,`wx8888888888888888,`1900000100,`1900000109,`,`4200000848202101120290526543,"
            "`T1,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`OTHERS,`CNY,`6.00,`0.00,`0,`0,`0.00,`0.00,`,`,"
            "`停车费,`,`0.04,`0.60%,`6.00,`0.00,`\n"
            "`2026-05-01 11:00:00,`wx8888888888888888,`1900000100,`1900000109,`,`4200000848202101120290526543,"
            "`T1,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50000000382019052709732678859,"
            "`RT1,`2.00,`0.00,`ORIGINAL,`SUCCESS,`停车费,`,`-0.01,`0.60%,`0.00,`2.00,`\n"
            "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\n"
            "`2,`6.00,`2.00,`0.00,`0.03,`6.00,`2.00\n")
    pay, refund = parse_tradebill(bill)
    assert (pay.kind, pay.trade_no, pay.amount_fen, pay.booked_as) == ("pay", "4200000848202101120290526543", 600,
                                                                      "4200000848202101120290526543")
    assert (refund.kind, refund.amount_fen, refund.booked_as) == ("refund", -200, "RT1")


# --- Alipay ----------------------------------------------------------------------------------------------

def _alipay(keys, transport=None):
    account = _account("alipay", {"private_key": keys.merchant_private, "alipay_public_key": keys.platform_public},
                       app_id="2021000000000001", mch_id=None, sub_mch_id=None, key_serial=None)
    return AlipayProvider(account, "https://parking.example/pay/notify/7", transport)


def _alipay_notice(keys, *, notify_time="2026-05-01 10:00:00", sign_with=None, **changes):
    params = {"notify_time": notify_time, "notify_type": "trade_status_sync", "notify_id": "ac05099524730693a8b330c5",
              "app_id": "2021000000000001", "charset": "utf-8", "version": "1.0", "sign_type": "RSA2",
              "trade_no": "2026050122001456781234567890", "out_trade_no": "T1", "trade_status": "TRADE_SUCCESS",
              "total_amount": "6.00", "receipt_amount": "6.00", "gmt_payment": "2026-05-01 09:59:58", **changes}
    params["sign"] = rsa.sign(sign_with or keys.platform_private, signing_text(params).encode())
    return urlencode(params).encode()


def test_alipay_notice_verifies(keys):
    notice = _alipay(keys).verify_notice({}, _alipay_notice(keys), NOW + timedelta(seconds=10))
    assert (notice.kind, notice.trade_no, notice.amount_fen) == ("paid", "2026050122001456781234567890", 600)
    assert notice.at == datetime(2026, 5, 1, 1, 59, 58, tzinfo=timezone.utc)


def test_alipay_forged_tampered_late_or_foreign_notices_are_refused(keys):
    provider = _alipay(keys)
    with pytest.raises(BadNotice):
        provider.verify_notice({}, _alipay_notice(keys, sign_with=keys.merchant_private), NOW)
    body = _alipay_notice(keys).replace(b"total_amount=6.00", b"total_amount=0.01")
    with pytest.raises(BadNotice):
        provider.verify_notice({}, body, NOW)
    with pytest.raises(BadNotice, match="late"):
        provider.verify_notice({}, _alipay_notice(keys, notify_time="2026-05-01 09:50:00"), NOW)
    with pytest.raises(BadNotice):
        provider.verify_notice({}, _alipay_notice(keys, app_id="2021000000000002"), NOW)


def test_alipay_precreate_is_signed_and_its_answer_verified(keys):
    sent = {}

    def transport(method, url, headers, body):
        sent.update(dict(parse_qsl(body.decode())))
        node = '{"code":"10000","msg":"Success","out_trade_no":"T1","qr_code":"https://qr.alipay.com/bax03431"}'
        sign = rsa.sign(keys.platform_private, node.encode())
        return 200, {}, f'{{"alipay_trade_precreate_response":{node},"sign":"{sign}"}}'.encode()

    created = _alipay(keys, transport).create(out_trade_no="T1", amount_fen=600, subject="停车费", channel="native",
                                              expires_at=NOW)
    assert created.code_url == "https://qr.alipay.com/bax03431"
    assert sent["method"] == "alipay.trade.precreate" and json.loads(sent["biz_content"])["total_amount"] == "6.00"
    assert rsa.verify(keys.merchant_public, signing_text(sent).encode(), sent["sign"])
    assert sent["notify_url"] == "https://parking.example/pay/notify/7"


def test_alipay_wap_link_carries_a_signed_request(keys):
    link = _alipay(keys).create(out_trade_no="T2", amount_fen=1234, subject="停车费", channel="wap",
                                expires_at=NOW).code_url
    params = dict(parse_qsl(link.split("?", 1)[1]))
    assert params["method"] == "alipay.trade.wap.pay"
    assert json.loads(params["biz_content"])["product_code"] == "QUICK_WAP_WAY"
    assert rsa.verify(keys.merchant_public, signing_text(params).encode(), params["sign"])


def test_alipay_answer_node_is_read_as_sent():
    text = '{"x_response":{"a":"}\\"{","b":{"c":1}},"sign":"s"}'
    assert _raw_node(text, "x_response") == '{"a":"}\\"{","b":{"c":1}}'


def test_alipay_trade_bill_parses(keys):
    csv_text = ("#支付宝业务明细查询\n#账号：[20880000000000000156]\n"
                "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,"
                "订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,"
                "券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注\n"
                "2026050122001456781234567890,T1,交易,停车费,2026-05-01 09:59:50,2026-05-01 09:59:58,,,,,a***@x.com,"
                "6.00,6.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.04,0.00,\n"
                "2026050122001456781234567890,T1,退款,停车费,2026-05-01 09:59:50,2026-05-01 11:00:00,,,,,a***@x.com,"
                "-2.00,-2.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,RT1,0.01,0.00,\n"
                "#业务明细列表结束\n")
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("20880000000000000156_20260501_业务明细.csv", csv_text.encode("gbk"))
        archive.writestr("20880000000000000156_20260501_业务明细(汇总).csv", "#".encode("gbk"))
    from app.payments.providers.alipay import parse_trade_bill

    pay, refund = parse_trade_bill(data.getvalue())
    assert (pay.amount_fen, pay.at.date()) == (600, date(2026, 5, 1))
    assert (refund.amount_fen, refund.booked_as) == (-200, "RT1")


def test_yuan_text_to_fen_is_exact():
    assert [fen_of(t) for t in ("6.00", "`0.01", "12.5", "-2.00", "0")] == [600, 1, 1250, -200, 0]
