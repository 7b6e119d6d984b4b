from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from app.auth import limits, services
from app.auth.forms import ChangePasswordForm, LoginForm
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
        result = services.authenticate(form.username.data, form.password.data, ip=request.remote_addr,
                                       known_device=limits.known_device_token())
        db.session.commit()
        if result.staff is not None:
            login_user(result.staff)
            response = redirect(_safe_next(request.args.get("next")))
            limits.remember_device(response, result.staff)
            return response
        flash(LOGIN_ERRORS[result.error](result), "danger")
        if result.error in ("bad_credentials", "delayed"):
            limits.count_failure()
        if result.retry_after:
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(result.retry_after)}
    return render_template("auth/login.html", form=form), (400 if request.method == "POST" else 200)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.index")


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = FlaskForm()
    if form.validate_on_submit():
        from app.audit import services as audit
        audit.record(current_user, "logout", current_user._get_current_object(), ip=request.remote_addr)
        db.session.commit()
        logout_user()
        flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            staff = current_user._get_current_object()
            services.change_password(staff, form.new_password.data, ip=request.remote_addr)
            db.session.commit()
            login_user(staff)  # keep this session; the others now carry a stale token
            flash(_("Password changed. Your other sessions have been signed out."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200
