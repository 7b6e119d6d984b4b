import unicodedata
from urllib.parse import unquote

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from app.audit import services as audit
from app.auth import limits, services
from app.auth.forms import ChangePasswordForm, LoginForm
from app.core.web import client_ip
from app.extensions import db

bp = Blueprint("auth", __name__)

# One message for every wrong guess; what the account is (disabled, for the handheld) is told only to
# someone who gave its right password.
LOGIN_ERRORS = {
    "bad_credentials": lambda result: _("Wrong username or password."),
    "delayed": lambda result: _("Too many failed sign-ins with this username. Try again in %(seconds)s seconds.",
                                seconds=result.retry_after),
    "disabled": lambda result: _("This account is disabled. Ask your administrator."),
    "field_staff": lambda result: _("Collector and inspector accounts sign in on the handheld, not here."),
}


@bp.route("/login", methods=["GET", "POST"])
@limits.per_address
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm()
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data, ip=client_ip(),
                                       known_device=limits.known_device_token())
        if result.staff is not None:
            services.open_session(result.staff, user_agent=request.user_agent.string, ip=client_ip())
        db.session.commit()
        if result.staff is not None:
            login_user(result.staff)
            response = redirect(safe_next(request.args.get("next")))
            limits.remember_device(response, result.staff)
            return response
        flash(LOGIN_ERRORS[result.error](result), "danger")
        if result.error in ("bad_credentials", "delayed"):
            limits.count_failure()
        if result.retry_after:
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(result.retry_after)}
    return render_template("auth/login.html", form=form), (400 if request.method == "POST" else 200)


# Besides "\\" (and the full-width forms NFKC folds into "/" and "\\"): characters that look like a slash.
_SLASH_LIKE = "\\\u2215\u2044\u29f8"


def _visible(text: str) -> str:
    """Without control, format and space characters, which browsers drop or trim inside a URL."""
    return "".join(ch for ch in text if unicodedata.category(ch)[0] not in "CZ")


def safe_next(target: str | None) -> str:
    """The page to open after sign-in: a path of this site, else "/". "/<tab>/evil.com" reaches the
    browser as "//evil.com", another host: the path is cleaned first, then checked as a browser or
    proxy could read it once decoded, for a scheme or host ("//", a backslash or a slash look-alike)."""
    path = _visible(target or "")
    seen = path
    for _round in range(3):  # percent-decoded once by the browser, maybe again by a proxy
        seen = _visible(unquote(seen))
    seen = unicodedata.normalize("NFKC", seen)
    if path.startswith("/") and not seen.startswith("//") and not any(ch in seen for ch in _SLASH_LIKE):
        return path
    return "/"


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    if FlaskForm().validate_on_submit():
        staff = current_user._get_current_object()
        services.end_session(staff.signin, "logout")
        audit.record(staff, "logout", staff, ip=client_ip())
        db.session.commit()
        logout_user()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def load_user(token: str):
    """Flask-Login's user loader (the cookie carries the sign-in session's token)."""
    return services.load_session_user(token, services.SessionLimits.of(current_app.config))


def _live_sessions(staff):
    return services.active_sessions(staff, services.SessionLimits.of(current_app.config))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    staff = current_user._get_current_object()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not staff.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            services.change_password(staff, form.new_password.data, keep=staff.signin, ip=client_ip())
            db.session.commit()
            flash(_("Password changed. Your other sessions have been signed out."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form, sessions=_live_sessions(staff), current=staff.signin), \
        400 if form.errors else 200


@bp.route("/account/sessions/<int:session_id>/end", methods=["POST"])
@login_required
def end_session(session_id):
    """End one of your own sessions (a phone left signed in); another person's is 404."""
    staff = current_user._get_current_object()
    row = next((s for s in _live_sessions(staff) if s.id == session_id), None)
    if row is None:
        abort(404)
    if FlaskForm().validate_on_submit():
        services.end_session(row, "ended")
        audit.record(staff, "sessions_ended", staff, after={"sessions": 1}, ip=client_ip())
        db.session.commit()
        flash(_("The session has been signed out."), "success")
    return redirect(url_for("auth.change_password"))


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    staff = current_user._get_current_object()
    if FlaskForm().validate_on_submit():
        count = services.end_sessions(staff, "ended", keep=staff.signin)
        audit.record(staff, "sessions_ended", staff, after={"sessions": count}, ip=client_ip())
        db.session.commit()
        flash(_("Your other sessions have been signed out."), "success")
    return redirect(url_for("auth.change_password"))
