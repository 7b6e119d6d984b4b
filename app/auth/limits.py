"""The web side of sign-in throttling: Flask-Limiter's per-address limit on the two sign-in routes (the admin
form and the handheld's POST /pos/v1/session), the known-device cookie, and the wait a 429 announces.
The per-username delay lives in app/auth/throttle.py."""
from __future__ import annotations

import time
from functools import wraps

from flask import current_app, g, request

from app.auth import throttle
from app.extensions import limiter

SIGN_IN_ENDPOINTS = frozenset({"auth.login", "pos_api.sign_in"})
KNOWN_DEVICE_COOKIE = "known_device"

# Failed sign-ins per address, one budget for both routes. Only failures count (a park's collectors signing
# in behind one address at the start of a shift are no attack); the limit is read per request, so an
# operator or a test can change it, and "" turns it off.
per_address = limiter.shared_limit(lambda: current_app.config["LOGIN_LIMITS_PER_ADDRESS"], scope="sign-in",
                                   methods=["POST"], deduct_when=lambda _response: g.get("sign_in_failed", False))


def init_app(app) -> None:
    limiter.init_app(_SignInRoutesOnly(app))


def count_failure() -> None:
    """This request was a failed sign-in (a wrong password, or a name still waiting): it counts against the
    address."""
    g.sign_in_failed = True


def retry_after() -> int:
    """Seconds until the breached per-address window lets this address try again."""
    limit = limiter.current_limit
    return max(1, int(limit.reset_at - time.time())) if limit else 60  # reset_at is rounded up


def known_device_token() -> str | None:
    return request.cookies.get(KNOWN_DEVICE_COOKIE)


def remember_device(response, staff) -> None:
    """After a successful sign-in: this browser is a known device of the account from now on."""
    config = current_app.config
    response.set_cookie(KNOWN_DEVICE_COOKIE, throttle.device_token(staff), path="/login", httponly=True,
                        samesite="Lax", secure=config["SESSION_COOKIE_SECURE"],
                        max_age=config["LOGIN_KNOWN_DEVICE_DAYS"] * 86400)


class _SignInRoutesOnly:
    """The app as Flask-Limiter's init_app sees it: the request hooks it adds run for the sign-in routes only.
    There is no limit anywhere else, and on every other request (a handheld's car cycle above all) the hooks
    would cost about a hundred Python calls for nothing."""

    def __init__(self, app):
        self._app = app

    def __getattr__(self, name):
        return getattr(self._app, name)

    def before_request(self, hook):
        return self._app.before_request(_on_sign_in_routes(hook))

    def after_request(self, hook):
        return self._app.after_request(_on_sign_in_routes(hook))

    def teardown_request(self, hook):
        return self._app.teardown_request(_on_sign_in_routes(hook))


def _on_sign_in_routes(hook):
    @wraps(hook)
    def hook_on_sign_in_routes(*args):
        if request.endpoint in SIGN_IN_ENDPOINTS:
            return hook(*args)
        return args[0] if args else None  # an after_request hook hands the response on unchanged

    return hook_on_sign_in_routes
