"""Helpers shared by admin views: permission checks, pagination, node choices."""
from __future__ import annotations

from functools import wraps

from flask import abort, current_app, flash, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user, login_required

from app.core.errors import DomainError
from app.core.labels import label
from app.extensions import db
from app.tenancy.models import NODE_MODELS, Level
from app.tenancy.scope import Scope, node_label


def permission_required(code: str):
    """Sign-in plus one permission code; without it the page answers 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(code):
                abort(403)
            return view(*args, **kwargs)

        wrapped.permission = code
        return wrapped

    return decorator


def client_ip() -> str | None:
    return request.remote_addr


def paginate(stmt, per_page: int | None = None):
    per_page = per_page or current_app.config["PAGE_SIZE"]
    return db.paginate(stmt, per_page=per_page, max_per_page=200, error_out=False)


def node_key(node) -> str:
    return "platform" if node is None else f"{node.level.value}:{node.id}"


def node_choices(scope: Scope, levels=None) -> list[tuple[str, str]]:
    """Every node of the scope (its own and below), as choices keyed 'level:id'."""
    levels = levels or scope.lower_levels()
    choices = []
    if Level.PLATFORM in levels and scope.level == Level.PLATFORM:
        choices.append(("platform", label(Level.PLATFORM, "level")))
    for level in levels:
        if level == Level.PLATFORM:
            continue
        for node in scope.nodes(level):
            choices.append((node_key(node), f"{label(level, 'level')}: {node_label(node)}"))
    return choices


def node_from_key(scope: Scope, key: str):
    """Resolve a submitted node key inside the scope; anything outside is None (refused)."""
    if key == "platform":
        return None if scope.level == Level.PLATFORM else False
    level_name, _, node_id = (key or "").partition(":")
    try:
        level = Level(level_name)
        model = NODE_MODELS[level]
    except (ValueError, KeyError):
        return False
    if not node_id.isdigit() or level.is_above(scope.level):
        return False
    return scope.get(model, int(node_id)) or False


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
