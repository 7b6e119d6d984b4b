"""ParkingOS: a multi-tenant parking cloud. `create_app()` builds the Flask application."""
from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix

from app import integrations, kerb
from app.core import reconnect, worker
from app.extensions import babel, bootstrap, csrf, db, login_manager, migrate
from config import BASE_DIR, Config


def create_app(overrides: dict | None = None) -> Flask:
    app = reconnect.Flask(__name__, template_folder=str(BASE_DIR / "templates"),
                          static_folder=str(BASE_DIR / "static"))
    app.config.update(Config.load())
    app.config.update(overrides or {})
    # first of all before_request functions (CSRF, sessions' users, the NUL check read forms): a body
    # larger than its route takes is refused before anything reads it
    app.before_request(_limit_body)
    _trust_proxies(app)
    _configure_logging(app)
    _init_extensions(app)
    worker.init_app(app)  # huey: the worker's queue (tasks run at once when testing)
    _register_tasks()
    kerb.init_app(app)  # the kerb's receivers of the sensors' signals
    integrations.init_app(app)  # the outbox's receivers of the domains' signals
    _register_blueprints(app)
    _register_errors(app)
    _register_cli(app)
    from app.core.web import CookieSessionOutsideDeviceApi

    app.session_interface = CookieSessionOutsideDeviceApi()
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
    from app.core import templating
    from app.tenancy import web as tenancy_web

    templating.init_app(app)
    tenancy_web.init_app(app)  # the current node's name in the header
    return app


def _trust_proxies(app: Flask) -> None:
    """The client's address and scheme (request.is_secure, hence the Secure cookie and HSTS) from the
    X-Forwarded-* headers of as many proxies as PROXY_FIX_X_* say; none trusted by default."""
    hops = {key: int(app.config.get(f"PROXY_FIX_X_{key.upper()}") or 0)
            for key in ("for", "proto", "host", "port", "prefix")}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **{f"x_{key}": count for key, count in hops.items()})


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _init_extensions(app: Flask) -> None:
    from app import models  # noqa: F401  (every model registered before migrations look)
    from app.core import autocommit, prepared, replica

    app.config["SQLALCHEMY_BINDS"] = replica.binds(app.config)  # the reports' replica, if any
    db.init_app(app)
    reconnect.enable()
    with app.app_context():
        autocommit.enable(db.engine)
        if app.config["PREPARED_STATEMENTS"]:
            for engine in db.engines.values():
                prepared.enable(engine)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    from app.i18n import select_locale

    babel.init_app(app, locale_selector=select_locale)
    from app.auth import limits

    limits.init_app(app)  # Flask-Limiter, on the sign-in routes only
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "basic"

    from app.auth.views import load_user

    login_manager.user_loader(load_user)


def _register_tasks() -> None:
    """Each domain registers its background tasks with the queue in its `tasks` module."""
    from app.auth import tasks as auth_tasks  # noqa: F401
    from app.core import retention_tasks  # noqa: F401
    from app.exports import tasks as export_tasks  # noqa: F401
    from app.integrations import tasks as integration_tasks  # noqa: F401
    from app.members import import_jobs  # noqa: F401
    from app.payments import tasks as payment_tasks  # noqa: F401
    from app.reports import tasks as report_tasks  # noqa: F401
    from app.sensors import tasks as sensor_tasks  # noqa: F401
    from app.sync import tasks as sync_tasks  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from app.audit.views import bp as audit_bp
    from app.auth.views import bp as auth_bp
    from app.berths.views import bp as berths_bp
    from app.dashboard.views import bp as dashboard_bp
    from app.devices.views import bp as devices_bp
    from app.members.views import bp as members_bp
    from app.orders.views import bp as orders_bp
    from app.parks.views import bp as parks_bp
    from app.shifts.views import bp as shifts_bp
    from app.staff.views import bp as staff_bp
    from app.tariffs.views import bp as tariffs_bp
    from app.tenancy.views import bp as tenancy_bp

    for bp in (auth_bp, dashboard_bp, tenancy_bp, staff_bp, audit_bp, tariffs_bp, berths_bp, devices_bp, parks_bp,
               orders_bp, shifts_bp):
        app.register_blueprint(bp)
    app.register_blueprint(members_bp)
    from app.parks.config_views import bp as park_config_bp

    app.register_blueprint(park_config_bp)
    from app.exports.views import bp as exports_bp
    from app.reports.views import bp as reports_bp

    app.register_blueprint(reports_bp)
    app.register_blueprint(exports_bp)
    from app.inspections.views import bp as inspections_bp
    from app.kerb.views import bp as kerb_bp
    from app.sensors.views import bp as sensors_bp
    from app.tracks.views import bp as tracks_bp

    for bp in (sensors_bp, inspections_bp, tracks_bp, kerb_bp):
        app.register_blueprint(bp)
    from app.i18n import init_app as init_i18n
    from app.lanes.views import bp as lanes_bp

    init_i18n(app)

    app.register_blueprint(lanes_bp)
    from app.payments.admin import bp as payments_admin_bp
    from app.payments.views import bp as pay_bp

    app.register_blueprint(pay_bp)
    app.register_blueprint(payments_admin_bp)
    from pos_api import bp as pos_api_bp

    app.register_blueprint(pos_api_bp)
    from app.sync.api import bp as sync_api_bp
    from app.sync.views import bp as sync_bp

    app.register_blueprint(sync_api_bp)
    app.register_blueprint(sync_bp)
    from app.search.views import bp as search_bp

    app.register_blueprint(search_bp)
    from app.handheld import bp as handheld_bp

    app.register_blueprint(handheld_bp)  # the handheld web app at /m/, a client of /pos/v1
    from app.integrations.views import bp as integrations_bp
    from app.integrations.views import notices_bp

    app.register_blueprint(integrations_bp)
    app.register_blueprint(notices_bp)  # the alliance's payment notices (signed; no session)


def _wants_json() -> bool:
    return (request.path.startswith(("/pos/", "/sync/", "/alliance/v1/"))
            or request.accept_mimetypes.best == "application/json")


def _register_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        db.session.rollback()
        return _error_response(400, "csrf_failed",
                               _("The form expired or was sent from elsewhere. Reload the page and try again."))

    @app.errorhandler(RateLimitExceeded)
    def too_many_sign_ins(exc):
        from app.auth.limits import retry_after

        db.session.rollback()
        seconds = retry_after()
        body, status = _error_response(
            429, "too_many_requests", _("Too many failed sign-ins from your address. Try again in %(seconds)s "
                                        "seconds.", seconds=seconds), extra={"retry_after": seconds})
        return body, status, {"Retry-After": str(seconds)}
    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc):  # a form's field or part count past werkzeug's limits, found while parsing
        db.session.rollback()
        return _too_large(None)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        code = (exc.name or "error").lower().replace(" ", "_")
        return _error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return _error_response(500, "internal_error", _("Something went wrong on our side; nothing was saved."))


def _error_response(status: int, code: str, message: str, extra: dict | None = None):
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message, "fields": {}, **(extra or {})}}), status
    return render_template("errors/error.html", status=status, message=message), status


def _limit_body():
    """413 before any work when the body is larger than its route takes (see app/core/bodies.py)."""
    from app.core.bodies import body_fits

    return None if body_fits() else _too_large(request.max_content_length)


def _too_large(limit: int | None):
    message = (_("The request is larger than this address takes (%(size)s bytes at most).", size=limit)
               if limit else _("The request is too large."))
    return _error_response(413, "payload_too_large", message)


def _refuse_nul_bytes():
    """A NUL byte in a form or query would reach the database driver and fail there (PostgreSQL
    refuses it in text): answer 400 at the door instead."""
    environ = request.environ
    query = environ.get("QUERY_STRING", "")
    # parsed only when a NUL may be in there: parsing costs a handheld's request more than the check
    values = list(request.args.values()) if "%00" in query or "\x00" in query else []
    if environ.get("CONTENT_TYPE", "").lower().startswith(_FORM_TYPES):
        values += request.form.values()
    if any("\x00" in value for value in values):
        return _error_response(400, "bad_input", _("The request contains a NUL character."))
    return None


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_SECURITY_HEADERS = (
    ("X-Content-Type-Options", "nosniff"), ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
    ("Content-Security-Policy",
     "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
     "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"))


def _security_headers(response):
    headers = response.headers
    present = {key.lower() for key, _value in headers.items()}
    headers.extend([(k, v) for k, v in _SECURITY_HEADERS if k.lower() not in present])
    if request.is_secure and "strict-transport-security" not in present:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return response


def _register_cli(app: Flask) -> None:
    from app.demo import seed_demo_command

    app.cli.add_command(seed_demo_command)
    from app.tariffs.cli import tariff_cli

    app.cli.add_command(tariff_cli)
    from app.sensors.cli import sensor_gateway_command, sensors_cli, simulate_command

    for command in (sensors_cli, sensor_gateway_command, simulate_command):
        app.cli.add_command(command)
    from app.reports.cli import reports_cli

    app.cli.add_command(reports_cli)
    from app.sync.cli import simulate_lane_command

    app.cli.add_command(simulate_lane_command)
    from app.integrations.cli import alliance_sim_command, outbox_cli

    app.cli.add_command(alliance_sim_command)
    app.cli.add_command(outbox_cli)

