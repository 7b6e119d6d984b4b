"""Jinja filters every page uses: local times, money, the page language (the menu is
app/tenancy/navigation.py: it reads the scope)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app

from app.i18n import locale_code

# the language switch shows each language in its own words, never translated
LANGUAGE_NAMES = (("zh_CN", "中文"), ("en", "English"))

def localtime(value, zone: str | None = None, fmt: str = "%Y-%m-%d %H:%M"):
    if value is None:
        return "—"
    tz = ZoneInfo(zone or current_app.config["DEFAULT_TIMEZONE"])
    return value.astimezone(tz).strftime(fmt)


def yuan(fen) -> str:
    """Integer fen shown as yuan with two decimals (for inputs and sentences that say "yuan")."""
    if fen is None:
        return "—"
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def money(fen) -> str:
    """Integer fen shown as an amount of money in a table or card: ¥12.50."""
    if fen is None:
        return "—"
    text = yuan(fen)
    return f"-¥{text[1:]}" if text.startswith("-") else f"¥{text}"


def html_lang() -> str:
    """The page's lang attribute (BCP 47, zh-CN): browsers pick fonts and date formats by it."""
    return locale_code().replace("_", "-")


def init_app(app) -> None:
    from app.core.labels import label, role_name

    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["yuan"] = yuan
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["role_name"] = role_name

    @app.context_processor
    def inject():
        return {"html_lang": html_lang, "locale_code": locale_code, "languages": LANGUAGE_NAMES}
