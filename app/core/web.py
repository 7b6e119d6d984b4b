"""Helpers shared by admin views: permission checks, pagination, refusals on forms. The helpers that read
the tenancy tree (node choices, the current node in the header) are in app.tenancy.web."""
from __future__ import annotations

from functools import wraps
from typing import Any, cast

from flask import abort, current_app, flash, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_required

from app.core.errors import DomainError
from app.extensions import db


def permission_required(code: str):
    """Sign-in plus one permission code; without it the page answers 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(code):
                abort(403)
            return view(*args, **kwargs)

        cast(Any, wrapped).permission = code  # read by the route walk of tests/test_tenancy_routes.py
        return wrapped

    return decorator


def client_ip() -> str | None:
    return request.remote_addr


def paginate(stmt, per_page: int | None = None):
    per_page = per_page or current_app.config["PAGE_SIZE"]
    return db.paginate(stmt, per_page=per_page, max_per_page=200, error_out=False)


def show_refusal(form, exc: DomainError) -> None:
    """A service refused the change: roll back and show its message on the field it names (`exc.field`),
    or above the form."""
    db.session.rollback()
    name = getattr(exc, "field", None)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [str(exc)]
    else:
        form.form_errors.append(str(exc))
        flash(str(exc), "danger")


class CookieSessionOutsideDeviceApi(SecureCookieSessionInterface):
    """The device API authenticates each request by bearer token and keeps no cookie session:
    its requests get the null session (nothing to verify, sign or send back)."""

    def open_session(self, app, request):
        if request.path.startswith("/pos/"):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app) -> bool:
        """Secure whenever the request came over HTTPS (behind a proxy: as ProxyFix trusts it), so that
        the demo on plain http still signs in; SESSION_COOKIE_SECURE makes it Secure always."""
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)
