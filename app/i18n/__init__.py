"""The page language (zh_CN or en). Chosen per request: the person's saved choice (on their staff
row once signed in, in the cookie session before), then the browser's Accept-Language, then
DEFAULT_LOCALE. Catalogues live in translations/ (docs/i18n.md says how to update them)."""
from __future__ import annotations

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

SESSION_KEY = "locale"
# primary language subtag of an Accept-Language entry -> our catalogue; every Chinese variant
# (zh, zh-CN, zh-Hans, zh-TW…) reads the Simplified catalogue, the only Chinese one we have
_BY_PRIMARY_TAG = {"zh": "zh_CN", "en": "en"}


def supported() -> tuple[str, ...]:
    return tuple(current_app.config["LANGUAGES"])


def saved_choice() -> str | None:
    if current_user and current_user.is_authenticated and getattr(current_user, "locale", None):
        return current_user.locale
    return session.get(SESSION_KEY)


def from_header() -> str | None:
    for tag, _quality in request.accept_languages:  # already sorted best first
        locale = _BY_PRIMARY_TAG.get(tag.replace("_", "-").split("-")[0].lower())
        if locale is not None:
            return locale
    return None


def select_locale() -> str:
    """Flask-Babel's locale selector. Outside a request (CLI, the export worker) the caller forces
    the locale it needs; otherwise the default applies."""
    default = current_app.config["DEFAULT_LOCALE"]
    if not has_request_context():
        return default
    if request.path.startswith("/pay/"):  # the driver's pages: Chinese unless the driver chose otherwise
        choice = session.get(SESSION_KEY)
        return choice if choice in supported() else "zh_CN"
    if not request.path.startswith(("/pos/", "/sync/")):  # the device APIs have no session to read
        choice = saved_choice()
        if choice in supported():
            return choice
    return from_header() or default


def locale_code() -> str:
    """The current language as our catalogues and the staff column name it: zh_CN or en (Babel itself
    calls the first zh_Hans_CN)."""
    locale = get_locale()
    if locale is None:
        return current_app.config["DEFAULT_LOCALE"]
    return f"{locale.language}_{locale.territory}" if locale.territory else locale.language


def init_app(app) -> None:
    from app.i18n.views import bp

    app.register_blueprint(bp)
