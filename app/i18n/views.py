"""The language switch in the page header: a POST (with CSRF) that saves the choice on the
signed-in person's staff row, and in the cookie session for the sign-in page."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from app.extensions import db
from app.i18n import SESSION_KEY, supported

bp = Blueprint("i18n", __name__)


@bp.route("/locale", methods=["POST"])
def switch_locale():
    form = FlaskForm()
    choice = request.form.get("locale", "")
    if not form.validate_on_submit() or choice not in supported():
        abort(400)
    session[SESSION_KEY] = choice
    if current_user.is_authenticated:
        current_user.locale = choice
        db.session.commit()
    return redirect(_back(request.form.get("next")))


def _back(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("dashboard.index") if current_user.is_authenticated else url_for("auth.login")
