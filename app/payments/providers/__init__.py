"""The payment providers behind one interface (base.Provider): the sandbox, WeChat Pay API v3 in service-provider
mode and Alipay. `provider_for(account)` builds the one a merchant account names."""
from __future__ import annotations

from app.payments.providers.base import (  # noqa: F401
    BadNotice,
    Created,
    Notice,
    Provider,
    ProviderError,
    RefundAnswer,
    StatementLine,
    TradeState,
)


def provider_for(account, notify_url: str | None = None) -> Provider:
    """The provider of `account` (a MerchantAccount), its secrets decrypted; `notify_url`: where it sends notices."""
    from app.payments.providers.alipay import AlipayProvider
    from app.payments.providers.sandbox import SandboxProvider
    from app.payments.providers.wechat import WechatPayProvider

    kinds: dict[str, type[Provider]] = {"sandbox": SandboxProvider, "wechat": WechatPayProvider,
                                        "alipay": AlipayProvider}
    if account.provider not in kinds:
        raise ProviderError(f"unknown provider {account.provider!r}")
    return kinds[account.provider](account, notify_url)


PROVIDERS = ("sandbox", "wechat", "alipay")
